import { maskedMean, tf } from "@tokenrl/core";
import type { Scalar, Tensor, Tensor2D } from "@tokenrl/core";

/**
 * Shared tensor pieces of the objectives. Internal: not exported from the package.
 */

/** Every reference clamps the log-ratio to [-20, 20] before exp (zero gradient beyond). */
export const LOG_RATIO_CLAMP = 20;

/** `logp - oldLogp` clamped to [-20, 20]: verl's `negative_approx_kl`. */
export function clampedLogRatio(logProbs: Tensor, oldLogProbs: Tensor): Tensor {
  return tf.clipByValue(tf.sub(logProbs, oldLogProbs), -LOG_RATIO_CLAMP, LOG_RATIO_CLAMP);
}

/**
 * `sg(x)` / `x.detach()`: the same values, cut from the gradient tape. tfjs
 * has no stop-gradient op; a custom-gradient op given no inputs records a
 * tape node that nothing differentiable reaches, and its forward runs with
 * the tape off, so everything computed from the result (comparisons
 * included, which have no gradient in tfjs) stays off the backward pass.
 */
export function stopGradient<T extends Tensor>(x: T): T {
  // biome-ignore lint/suspicious/noExplicitAny: tfjs types custom-gradient inputs as Tensor | GradSaveFunc
  const detach = tf.customGrad((() => ({ value: tf.clone(x), gradFunc: () => [] })) as any);
  return (detach as () => T)();
}

/** `iota = exp(logp - sg(logp))`: value 1, gradient d logp. */
export function iota(logProbs: Tensor): Tensor {
  return tf.exp(tf.sub(logProbs, stopGradient(logProbs)));
}

/** Fraction of valid tokens where `condition` holds (verl's clip-fraction metrics; core's `maskedMean` is verl's `masked_mean`). */
export function maskedFraction(condition: Tensor, mask: Tensor): Scalar {
  return maskedMean(tf.cast(condition, "float32"), mask) as Scalar;
}

/** verl `ppo_kl`: masked mean of `oldLogp - logp`. */
export function ppoKl(logRatio: Tensor, mask: Tensor): Scalar {
  return maskedMean(tf.neg(logRatio), mask) as Scalar;
}

/** Max over valid entries (-Infinity when there is none replaced by 0). */
export function maskedMax(values: Tensor, mask: Tensor): Scalar {
  return tf.tidy(() => {
    const masked = tf.where(tf.greater(mask, 0), values, tf.fill(values.shape, Number.NEGATIVE_INFINITY));
    const m = tf.max(masked);
    return tf.where(tf.isFinite(m), m, tf.zerosLike(m)) as Scalar;
  });
}

/**
 * The PPO clipped surrogate per token, `max(-A r, -A clip(r, 1-eps_low, 1+eps_high))`,
 * and whether the clipped term was taken (verl `pg_clipfrac`: strictly greater).
 */
export function clippedSurrogate(
  ratio: Tensor,
  advantages: Tensor,
  clipLow: number,
  clipHigh: number,
): { loss: Tensor2D; clipped: Tensor } {
  const unclipped = tf.mul(tf.neg(advantages), ratio);
  const clippedTerm = tf.mul(tf.neg(advantages), tf.clipByValue(ratio, 1 - clipLow, 1 + clipHigh));
  return {
    loss: tf.maximum(unclipped, clippedTerm) as Tensor2D,
    clipped: tf.greater(clippedTerm, unclipped),
  };
}

/**
 * Dual clip (Ye et al. 2020; verl `clip_ratio_c`): for A < 0 the loss is capped
 * at `-A c`. Returns the capped loss and where the cap was taken
 * (verl `pg_clipfrac_lower`). `c = null` switches it off.
 */
export function dualClip(loss: Tensor, advantages: Tensor, c: number | null): { loss: Tensor2D; lower: Tensor } {
  if (c === null) return { loss: loss as Tensor2D, lower: tf.zerosLike(loss) };
  const cap = tf.mul(tf.neg(advantages), c);
  const negative = tf.less(advantages, 0);
  return {
    loss: tf.where(negative, tf.minimum(cap, loss), loss) as Tensor2D,
    lower: tf.logicalAnd(tf.greater(loss, cap), negative),
  };
}
