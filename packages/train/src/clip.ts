import { tf } from "@tokenrl/core";
import type { Tensor } from "@tokenrl/core";

/** The global L2 norm of all gradients together, `sqrt(sum_i ||g_i||^2)` (read back once). */
export function globalNorm(grads: readonly Tensor[]): number {
  if (grads.length === 0) return 0;
  const norm = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))));
  const value = norm.dataSync()[0]!;
  norm.dispose();
  return value;
}

/**
 * The factor torch's `clip_grad_norm_` (verl, OpenRLHF, TRL) multiplies every
 * gradient by: `min(1, maxNorm / (norm + 1e-6))`; `maxNorm <= 0` disables clipping.
 */
export function clipCoefficient(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0)) return 1;
  return Math.min(1, maxNorm / (norm + 1e-6));
}

/**
 * Global-norm clipping: new gradient tensors scaled by `clipCoefficient`, and the
 * norm before clipping. The caller disposes the returned gradients.
 */
export function clipByGlobalNorm(grads: readonly Tensor[], maxNorm: number): { grads: Tensor[]; norm: number } {
  const norm = globalNorm(grads);
  const coef = clipCoefficient(norm, maxNorm);
  return { grads: grads.map((g) => (coef === 1 ? tf.clone(g) : tf.mul(g, coef))), norm };
}
