import { aggregateLoss, applyMask, tf } from "@tokenrl/core";
import type { TrainingBatch } from "@tokenrl/core";
import { epsilon } from "./config.js";
import { SEQUENCE_LOG_RATIO_MAX, gspoKernel } from "./host/gspo.kernel.js";
import { seqMeanRatioHost } from "./host/loss.js";
import { aggregateOptions, defineObjective, logProbsOf } from "./objective.js";
import type { ObjectiveContext, ObjectiveResult } from "./objective.js";
import { clippedSurrogate, maskedFraction, ppoKl, stopGradient } from "./ops.js";

/**
 * GSPO, group sequence policy optimisation (Zheng et al. 2025, arXiv
 * 2507.18071; verl `compute_policy_loss_gspo`): the sequence ratio
 * `s_i = exp(mean_t (logp - oldLogp))` over the response's valid tokens; per
 * token `s_it = sg(s_i) iota_t` (value s_i, gradient through the token's own
 * log-prob), clipped to [1 - clipLow, 1 + clipHigh] as PPO does.
 *
 * As in verl: only the sequence log-ratio is clamped, from above at 10 (no
 * [-20, 20] token clamp), and the loss is always aggregated
 * seq-mean-token-mean whatever the trainer's mode, so there is no
 * aggregation option.
 */
export interface GspoOptions {
  /** 3e-4 (the paper's epsilon_left). */
  clipLow: number;
  /** 4e-4 (the paper's epsilon_right). */
  clipHigh: number;
}

export const GSPO_DEFAULTS: Readonly<GspoOptions> = Object.freeze({ clipLow: 3e-4, clipHigh: 4e-4 });

/** The op-chain implementation (any backend; autograd gives the gradient). */
export function gspoOpChain(batch: TrainingBatch, o: GspoOptions, context: ObjectiveContext = {}): ObjectiveResult {
  return tf.tidy(() => {
    const mask = batch.responseMask;
    const logProbs = logProbsOf(batch, "gspo");
    const logRatio = tf.sub(logProbs, batch.oldLogProbs!);
    const length = tf.maximum(tf.sum(mask, -1, true), 1);
    const sequenceLogRatio = stopGradient(tf.div(tf.sum(applyMask(logRatio, mask), -1, true), length));
    const tokenLogRatio = tf.add(tf.sub(logProbs, stopGradient(logProbs)), sequenceLogRatio);
    const ratio = tf.exp(tf.minimum(tokenLogRatio, SEQUENCE_LOG_RATIO_MAX));
    const surrogate = clippedSurrogate(ratio, batch.advantages!, o.clipLow, o.clipHigh);
    return {
      loss: aggregateLoss(surrogate.loss, mask, "seq-mean-token-mean", aggregateOptions({}, context)),
      metrics: { clipFraction: maskedFraction(surrogate.clipped, mask), ppoKl: ppoKl(logRatio, mask) },
    };
  });
}

export const gspo = defineObjective<GspoOptions>({
  name: "gspo",
  description: "GSPO: sequence-level ratio exp(mean log-ratio), per-token sg(s) iota, PPO clip, seq-mean-token-mean",
  requires: ["logProbs", "oldLogProbs", "advantages"],
  defaults: GSPO_DEFAULTS,
  validate: { clipLow: epsilon, clipHigh: epsilon },
  opChain: gspoOpChain,
  hostKernel: seqMeanRatioHost("gspo", gspoKernel),
});

/** `gspo.compute`: resolves the options, validates the batch, runs the implementation of the kernel path. */
export const gspoLoss = gspo.compute;
