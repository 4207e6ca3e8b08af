import { ConfigError } from "@tokenrl/base/errors";
import { applyMask } from "./masked.js";
import { tf } from "./tf.js";
import type { Scalar, Tensor } from "./tf.js";

/**
 * The five ways a `[B, T]` loss matrix becomes a scalar (ALGORITHMS.md section 2,
 * verl `agg_loss`):
 * - `token-mean`: sum(L M) / sum(M) (DAPO; the default);
 * - `token-sum`: sum(L M);
 * - `seq-mean-token-sum`: mean over non-empty rows of each row's sum;
 * - `seq-mean-token-mean`: mean over non-empty rows of each row's mean (original GRPO);
 * - `seq-mean-token-sum-norm`: sum(L M) / (#non-empty rows * C) with C =
 *   `lossScaleFactor`, default T (Dr.GRPO).
 */
export const AGGREGATION_MODES = [
  "token-mean",
  "token-sum",
  "seq-mean-token-sum",
  "seq-mean-token-mean",
  "seq-mean-token-sum-norm",
] as const;
export type AggregationMode = (typeof AGGREGATION_MODES)[number];

export interface AggregateOptions {
  /** C in `seq-mean-token-sum-norm`; default: T, the mask's second dimension. */
  lossScaleFactor?: number | null;
  /**
   * Denominator of `token-mean` over the whole mini-batch when this call sees
   * one micro-batch of it (gradient accumulation): summing the micro-batch
   * results then equals the full-batch token-mean exactly. Default: this mask's count.
   */
  globalTokenCount?: number;
  /** Likewise for the seq-mean modes: the number of non-empty rows in the whole mini-batch. */
  globalSequenceCount?: number;
}

export function isAggregationMode(mode: string): mode is AggregationMode {
  return (AGGREGATION_MODES as readonly string[]).includes(mode);
}

export function assertAggregationMode(mode: string, path = "aggregation"): AggregationMode {
  if (!isAggregationMode(mode)) {
    throw new ConfigError(path, `unknown aggregation mode "${mode}"; expected one of ${AGGREGATION_MODES.join(", ")}`);
  }
  return mode;
}

/**
 * Aggregates a per-token loss matrix. Rows with an empty mask are left out of
 * every seq-mean, and a batch with no valid token aggregates to 0 in every mode
 * (never NaN). Differentiable with respect to `loss`.
 */
export function aggregateLoss(
  loss: Tensor,
  mask: Tensor,
  mode: AggregationMode = "token-mean",
  options: AggregateOptions = {},
): Scalar {
  assertAggregationMode(mode);
  return tf.tidy(() => {
    const masked = applyMask(loss, mask);
    switch (mode) {
      case "token-sum":
        return tf.sum(masked) as Scalar;
      case "token-mean": {
        const denom = options.globalTokenCount ?? tf.sum(mask);
        return tf.div(tf.sum(masked), tf.maximum(denom, 1e-8)) as Scalar;
      }
      default: {
        const rowTokens = tf.sum(mask, -1);
        const rowNonEmpty = tf.cast(tf.greater(rowTokens, 0), "float32");
        const rows = options.globalSequenceCount ?? tf.sum(rowNonEmpty);
        const rowSums = tf.sum(masked, -1);
        if (mode === "seq-mean-token-sum") return tf.div(tf.sum(rowSums), tf.maximum(rows, 1)) as Scalar;
        if (mode === "seq-mean-token-mean") {
          const rowMeans = tf.div(rowSums, tf.add(rowTokens, 1e-8));
          return tf.div(tf.sum(tf.mul(rowMeans, rowNonEmpty)), tf.maximum(rows, 1)) as Scalar;
        }
        const scale = options.lossScaleFactor ?? (loss.shape[loss.rank - 1] as number);
        return tf.div(tf.sum(rowSums), tf.mul(tf.maximum(rows, 1), scale)) as Scalar;
      }
    }
  });
}
