import { tf } from "./tf.js";
import type { Tensor } from "./tf.js";

/**
 * Masked reductions with verl's `torch_functional` semantics: values outside the
 * mask never reach the result, even when they are NaN or Inf (padding often
 * holds garbage log-probs), and means divide by `count + 1e-8` so that an empty
 * mask gives 0 rather than NaN.
 */
const MEAN_EPS = 1e-8;

/** Zero where mask is 0 (NaN-safe), values * mask elsewhere. */
export function applyMask(values: Tensor, mask: Tensor): Tensor {
  return tf.tidy(() => {
    const zeros = tf.zerosLike(values);
    return tf.mul(tf.where(tf.greater(mask, 0), values, zeros), mask);
  });
}

/** sum(values * mask) over `axis` (all axes when omitted). */
export function maskedSum(values: Tensor, mask: Tensor, axis?: number | number[]): Tensor {
  return tf.tidy(() => tf.sum(applyMask(values, mask), axis));
}

/** sum(values * mask) / (sum(mask) + 1e-8) over `axis`. */
export function maskedMean(values: Tensor, mask: Tensor, axis?: number | number[]): Tensor {
  return tf.tidy(() => tf.div(maskedSum(values, mask, axis), tf.add(tf.sum(mask, axis), MEAN_EPS)));
}

/**
 * A valid element of `values` (the masked maximum; 0 when there is none or it
 * is not finite). Statistics are computed on `values - shift`: the same
 * numbers in exact arithmetic, and in float32 a constant input becomes exactly
 * 0 before anything is summed, so its variance and whitened values are exactly
 * 0 (unshifted, the rounded mean of a constant differs from it and the
 * residue, divided by sqrt(1e-8), came back as +-3e-4). It also keeps the
 * round-off of nearly constant inputs small (the shifted-data algorithm).
 */
function maskedShift(values: Tensor, mask: Tensor): Tensor {
  return tf.tidy(() => {
    const valid = tf.where(tf.greater(mask, 0), values, tf.fill(values.shape, Number.NEGATIVE_INFINITY));
    const m = tf.max(valid);
    return tf.where(tf.isFinite(m), m, tf.zerosLike(m));
  });
}

/** Masked variance about the mean of already shifted values (see maskedShift). */
function shiftedVar(shifted: Tensor, mask: Tensor, unbiased: boolean): { mean: Tensor; variance: Tensor } {
  const mean = maskedMean(shifted, mask);
  const variance = maskedMean(tf.square(tf.sub(shifted, mean)), mask);
  if (!unbiased) return { mean, variance };
  const count = tf.sum(mask);
  const bessel = tf.where(tf.greater(count, 1), tf.div(count, tf.maximum(tf.sub(count, 1), 1)), tf.onesLike(count));
  return { mean, variance: tf.mul(variance, bessel) };
}

/**
 * Masked variance over all elements. `unbiased` applies Bessel's correction
 * count/(count-1) as verl does; with fewer than two valid elements the
 * correction is skipped (verl raises there; tokenrl never produces NaN).
 * A constant input has variance exactly 0.
 */
export function maskedVar(values: Tensor, mask: Tensor, unbiased = true): Tensor {
  return tf.tidy(() => shiftedVar(tf.sub(values, maskedShift(values, mask)), mask, unbiased).variance);
}

/**
 * (values - mean) / sqrt(var + 1e-8) with masked statistics over all elements
 * (verl `masked_whiten`, unbiased variance). With `shiftMean: false` the mean is
 * added back. The result is not re-masked: callers multiply by the mask.
 * A constant input whitens to exactly 0.
 */
export function maskedWhiten(values: Tensor, mask: Tensor, options: { shiftMean?: boolean } = {}): Tensor {
  return tf.tidy(() => {
    const shift = maskedShift(values, mask);
    const shifted = tf.sub(values, shift);
    const { mean, variance } = shiftedVar(shifted, mask, true);
    const whitened = tf.mul(tf.sub(shifted, mean), tf.rsqrt(tf.add(variance, 1e-8)));
    return options.shiftMean === false ? tf.add(whitened, tf.add(mean, shift)) : whitened;
  });
}
