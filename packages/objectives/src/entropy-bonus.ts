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
  return tf.tidy(() => entropyBonusTerms(entropy, mask, coef, aggregation).loss);
}

/** The aggregated entropy (the `entropy/value` metric) and the bonus term `-coef * entropy`. */
export function entropyBonusTerms(
  entropy: Tensor,
  mask: Tensor,
  coef: number,
  aggregation: AggregationMode = "token-mean",
): { entropy: Scalar; loss: Scalar } {
  const value = aggregateLoss(entropy, mask, aggregation);
  return { entropy: value, loss: tf.mul(value, -coef) as Scalar };
}
