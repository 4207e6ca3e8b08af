import { aggregateLoss, tf } from "@tokenrl/core";
import type { TrainingBatch } from "@tokenrl/core";
import { AGGREGATION_CHECKS, epsilon } from "./config.js";
import { cispoKernel } from "./host/cispo.kernel.js";
import { hostRatioLoss } from "./host/loss.js";
import { aggregateOptions, defineObjective, logProbsOf } from "./objective.js";
import type { AggregationOptions, ObjectiveContext, ObjectiveResult } from "./objective.js";
import { clampedLogRatio, maskedFraction, ppoKl, stopGradient } from "./ops.js";

/**
 * CISPO, clipped importance-sampling-weight policy optimisation (MiniMax-M1,
 * arXiv 2506.13585; verl `compute_policy_loss_cispo`):
 *
 *   L = -sg(clip(r, 1 - clipLow, 1 + clipHigh)) A logp
 *
 * The weight is clipped, not the token: every token keeps a gradient.
 * clipFraction counts tokens whose ratio lies outside the clip range.
 */
export interface CispoOptions extends AggregationOptions {
  /** 0.2; MiniMax-M1 effectively removes the lower bound (clipLow >= 1). */
  clipLow: number;
  /** 0.2; raise for longer trust regions (M1 tunes epsilon_high). */
  clipHigh: number;
}

export const CISPO_DEFAULTS: Readonly<CispoOptions> = Object.freeze({
  clipLow: 0.2,
  clipHigh: 0.2,
  aggregation: "token-mean",
  lossScaleFactor: null,
});

/** The op-chain implementation (any backend; autograd gives the gradient). */
export function cispoOpChain(batch: TrainingBatch, o: CispoOptions, context: ObjectiveContext = {}): ObjectiveResult {
  return tf.tidy(() => {
    const mask = batch.responseMask;
    const logProbs = logProbsOf(batch, "cispo");
    const logRatio = clampedLogRatio(logProbs, batch.oldLogProbs!);
    const ratio = tf.exp(stopGradient(logRatio));
    const weight = tf.clipByValue(ratio, 1 - o.clipLow, 1 + o.clipHigh);
    const loss = tf.mul(tf.neg(tf.mul(weight, batch.advantages!)), logProbs);
    const outside = tf.logicalOr(tf.less(ratio, 1 - o.clipLow), tf.greater(ratio, 1 + o.clipHigh));
    return {
      loss: aggregateLoss(loss, mask, o.aggregation, aggregateOptions(o, context)),
      metrics: { clipFraction: maskedFraction(outside, mask), ppoKl: ppoKl(logRatio, mask) },
    };
  });
}

export const cispo = defineObjective<CispoOptions>({
  name: "cispo",
  description: "CISPO: -sg(clip(r)) A logp, the IS weight clipped, every token keeps its gradient",
  requires: ["logProbs", "oldLogProbs", "advantages"],
  defaults: CISPO_DEFAULTS,
  validate: { clipLow: epsilon, clipHigh: epsilon, ...AGGREGATION_CHECKS },
  opChain: cispoOpChain,
  hostKernel: (batch, o, context) =>
    hostRatioLoss(logProbsOf(batch, "cispo"), batch, o.aggregation, aggregateOptions(o, context), cispoKernel, o),
});

/** `cispo.compute`: resolves the options, validates the batch, runs the implementation of the kernel path. */
export const cispoLoss = cispo.compute;
