import { aggregateLoss, tf } from "@tokenrl/core";
import type { AggregationMode, Scalar, Tensor } from "@tokenrl/core";

/**
 * Entropy bonus as a loss term: `-coef * aggregate(entropy)` (verl
 * `entropy_coeff`). Minimising it raises the policy's entropy; the gradient
 * flows through `entropy`, which the policy computes from its logits.
 */
export function entropyBonus(
  entropy: Tensor,
  mask: Tensor,
  coef: number,
  aggregation: AggregationMode = "token-mean",
): Scalar {
  return tf.tidy(() => tf.mul(aggregateLoss(entropy, mask, aggregation), -coef) as Scalar);
}
