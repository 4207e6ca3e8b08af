import { ConfigError, aggregateLoss, kernelPath, tf } from "@tokenrl/core";
import type { AggregationMode, Scalar, Tensor, Tensor2D } from "@tokenrl/core";
import { klKernel } from "./host/kl.kernel.js";
import { hostData, hostLoss } from "./host/loss.js";

/**
 * KL estimators to a reference policy (Schulman's k1/k2/k3; verl `kl_penalty`),
 * `x = logp - refLogp`:
 *
 * - `k1`: x (unbiased, high variance; verl "kl");
 * - `abs`: |x|;
 * - `k2`: x^2 / 2 (verl "mse");
 * - `k3`: exp(-x) - 1 + x (verl "low_var_kl"), with verl's clamps: -x to
 *   [-20, 20] before exp, the result to [-10, 10].
 *
 * Returns the per-token estimate `[B, T]`, unmasked (as verl's `kl_penalty`);
 * `klLoss` aggregates it over the mask. Differentiable in `logProbs`.
 */
export const KL_ESTIMATORS = ["k1", "abs", "k2", "k3"] as const;
export type KlEstimator = (typeof KL_ESTIMATORS)[number];

export function assertKlEstimator(name: string, path = "kl.estimator"): KlEstimator {
  if (!(KL_ESTIMATORS as readonly string[]).includes(name)) {
    throw new ConfigError(path, `unknown KL estimator "${name}"; expected one of ${KL_ESTIMATORS.join(", ")}`);
  }
  return name as KlEstimator;
}

export function klPenalty(logProbs: Tensor, refLogProbs: Tensor, estimator: KlEstimator = "k3"): Tensor2D {
  assertKlEstimator(estimator);
  return tf.tidy(() => {
    switch (estimator) {
      case "k1":
        return tf.sub(logProbs, refLogProbs) as Tensor2D;
      case "abs":
        return tf.abs(tf.sub(logProbs, refLogProbs)) as Tensor2D;
      case "k2":
        return tf.mul(tf.square(tf.sub(logProbs, refLogProbs)), 0.5) as Tensor2D;
      default: {
        const negX = tf.clipByValue(tf.sub(refLogProbs, logProbs), -20, 20);
        return tf.clipByValue(tf.sub(tf.sub(tf.exp(negX), negX), 1), -10, 10) as Tensor2D;
      }
    }
  });
}

/**
 * The KL penalty aggregated over the mask (verl's `kl_loss` with `use_kl_loss`),
 * differentiable in `logProbs`. On wasm / cpu a fused host kernel (one pass,
 * analytic gradient); elsewhere the op chain (see core's `kernelPath`).
 */
export function klLoss(
  logProbs: Tensor,
  refLogProbs: Tensor,
  mask: Tensor,
  estimator: KlEstimator = "k3",
  aggregation: AggregationMode = "token-mean",
): Scalar {
  assertKlEstimator(estimator);
  if (kernelPath() === "host") {
    return hostLoss(logProbs as Tensor2D, mask as Tensor2D, aggregation, {}, (io) =>
      klKernel(io, hostData(refLogProbs), estimator),
    ).loss;
  }
  return tf.tidy(() => aggregateLoss(klPenalty(logProbs, refLogProbs, estimator), mask, aggregation));
}
