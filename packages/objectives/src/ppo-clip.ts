import { aggregateLoss, tf } from "@tokenrl/core";
import type { TrainingBatch } from "@tokenrl/core";
import { PPO_CLIP_CHECKS } from "./config.js";
import { hostRatioLoss } from "./host/loss.js";
import { ppoClipKernel } from "./host/ppo-clip.kernel.js";
import { aggregateOptions, defineObjective, logProbsOf } from "./objective.js";
import type { AggregationOptions, ObjectiveContext, ObjectiveResult } from "./objective.js";
import { clampedLogRatio, clippedSurrogate, dualClip, maskedFraction, ppoKl } from "./ops.js";

/**
 * PPO clipped surrogate with clip-higher and dual clip (verl `vanilla`,
 * `compute_policy_loss_vanilla`; Schulman et al. 2017, DAPO's clip-higher,
 * Ye et al. 2020's dual clip):
 *
 *   r = exp(clamp(logp - oldLogp, -20, 20))
 *   L = max(-A r, -A clip(r, 1 - clipLow, 1 + clipHigh));  for A < 0: L = min(L, -A dualClip)
 *
 * Metrics: clipFraction, clipFractionLower, ppoKl (FORMAT.md names).
 */
export interface PpoClipOptions extends AggregationOptions {
  /** eps_low: the ratio is clipped below at 1 - clipLow (0.2). */
  clipLow: number;
  /** eps_high: the ratio is clipped above at 1 + clipHigh (0.2; DAPO's clip-higher uses 0.28). */
  clipHigh: number;
  /** Dual-clip constant c for A < 0 (3.0, verl `clip_ratio_c`); null switches it off. */
  dualClip: number | null;
}

export const PPO_CLIP_DEFAULTS: Readonly<PpoClipOptions> = Object.freeze({
  clipLow: 0.2,
  clipHigh: 0.2,
  dualClip: 3,
  aggregation: "token-mean",
  lossScaleFactor: null,
});

/** The op-chain implementation (any backend; autograd gives the gradient). */
export function ppoClipOpChain(
  batch: TrainingBatch,
  o: PpoClipOptions,
  context: ObjectiveContext = {},
): ObjectiveResult {
  return tf.tidy(() => {
    const mask = batch.responseMask;
    const A = batch.advantages!;
    const logRatio = clampedLogRatio(logProbsOf(batch, "ppo-clip"), batch.oldLogProbs!);
    const ratio = tf.exp(logRatio);
    const surrogate = clippedSurrogate(ratio, A, o.clipLow, o.clipHigh);
    const capped = dualClip(surrogate.loss, A, o.dualClip);
    return {
      loss: aggregateLoss(capped.loss, mask, o.aggregation, aggregateOptions(o, context)),
      metrics: {
        clipFraction: maskedFraction(surrogate.clipped, mask),
        clipFractionLower: maskedFraction(capped.lower, mask),
        ppoKl: ppoKl(logRatio, mask),
      },
    };
  });
}

/** The fused host kernel (wasm / cpu): same numbers, one pass, analytic gradient. */
export function ppoClipHost(batch: TrainingBatch, o: PpoClipOptions, context: ObjectiveContext = {}): ObjectiveResult {
  return hostRatioLoss(
    logProbsOf(batch, "ppo-clip"),
    batch,
    o.aggregation,
    aggregateOptions(o, context),
    ppoClipKernel,
    o,
  );
}

export const ppoClip = defineObjective<PpoClipOptions>({
  name: "ppo-clip",
  description: "PPO clip with clip-higher and dual clip (verl vanilla): max(-A r, -A clip(r)), min(., -A c) for A < 0",
  requires: ["logProbs", "oldLogProbs", "advantages"],
  defaults: PPO_CLIP_DEFAULTS,
  validate: PPO_CLIP_CHECKS,
  opChain: ppoClipOpChain,
  hostKernel: ppoClipHost,
});

/** `ppoClip.compute`: resolves the options, validates the batch, runs the implementation of the kernel path. */
export const ppoClipLoss = ppoClip.compute;
