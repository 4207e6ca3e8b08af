import { aggregateLoss, tf } from "@tokenrl/core";
import type { TrainingBatch } from "@tokenrl/core";
import { positive } from "./config.js";
import { seqMeanRatioHost } from "./host/loss.js";
import { sapoKernel } from "./host/sapo.kernel.js";
import { aggregateOptions, defineObjective, logProbsOf } from "./objective.js";
import type { ObjectiveContext, ObjectiveResult } from "./objective.js";
import { clampedLogRatio, ppoKl } from "./ops.js";

/**
 * SAPO, soft adaptive policy optimisation (Qwen 2025, arXiv 2511.20347; verl
 * `compute_policy_loss_sapo`): a smooth gate instead of a hard clip,
 *
 *   L = -(4 / tau) sigmoid(tau (r - 1)) A,   tau = tauPos for A > 0, tauNeg otherwise,
 *
 * which equals -A r to first order at r = 1 and fades the gradient
 * smoothly off-policy. Like verl, always aggregated seq-mean-token-mean.
 */
export interface SapoOptions {
  /** Gate temperature for positive advantages (1.0). */
  tauPos: number;
  /** Gate temperature for non-positive advantages (1.05: negative updates fade faster). */
  tauNeg: number;
}

export const SAPO_DEFAULTS: Readonly<SapoOptions> = Object.freeze({ tauPos: 1.0, tauNeg: 1.05 });

/** The op-chain implementation (any backend; autograd gives the gradient). */
export function sapoOpChain(batch: TrainingBatch, o: SapoOptions, context: ObjectiveContext = {}): ObjectiveResult {
  return tf.tidy(() => {
    const mask = batch.responseMask;
    const A = batch.advantages!;
    const logRatio = clampedLogRatio(logProbsOf(batch, "sapo"), batch.oldLogProbs!);
    const ratio = tf.exp(logRatio);
    const tau = tf.where(tf.greater(A, 0), tf.fill(A.shape, o.tauPos), tf.fill(A.shape, o.tauNeg));
    const gate = tf.div(tf.mul(tf.sigmoid(tf.mul(tau, tf.sub(ratio, 1))), 4), tau);
    const loss = tf.neg(tf.mul(gate, A));
    return {
      loss: aggregateLoss(loss, mask, "seq-mean-token-mean", aggregateOptions({}, context)),
      metrics: { ppoKl: ppoKl(logRatio, mask) },
    };
  });
}

export const sapo = defineObjective<SapoOptions>({
  name: "sapo",
  description: "SAPO: soft gate -(4/tau) sigmoid(tau (r - 1)) A, tau 1.0 (A > 0) / 1.05 (A <= 0), seq-mean-token-mean",
  requires: ["logProbs", "oldLogProbs", "advantages"],
  defaults: SAPO_DEFAULTS,
  validate: { tauPos: positive, tauNeg: positive },
  opChain: sapoOpChain,
  hostKernel: seqMeanRatioHost("sapo", sapoKernel),
});

/** `sapo.compute`: resolves the options, validates the batch, runs the implementation of the kernel path. */
export const sapoLoss = sapo.compute;
