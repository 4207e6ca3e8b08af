import { oneOf, tf } from "@tokenrl/core";
import type { Tensor1D, Tensor2D, TrainingBatch } from "@tokenrl/core";
import { definePartitioner, makePartition, ratio } from "./partition.js";
import type { Partition } from "./partition.js";
import { countAtRatio, pickPerRow, sortValidDescending } from "./rank.js";

/**
 * The high-entropy minority split ("Beyond the 80/20 rule", Wang et al. 2025,
 * arXiv 2506.01939): the top `ratio` (0.2) of valid tokens by entropy are the
 * "forking" tokens, `k = max(floor(ratio n), 1)`, `tau` the k-th largest,
 * high = `H >= tau` (ties included). `scope: "batch"` ranks over every valid
 * token of the batch (the paper), `"response"` within each response (as HTPO does).
 */
export interface EntropyQuantileOptions {
  ratio: number;
  scope: "batch" | "response";
}

export const ENTROPY_QUANTILE_DEFAULTS: Readonly<EntropyQuantileOptions> = Object.freeze({
  ratio: 0.2,
  scope: "batch",
});
export const ENTROPY_QUANTILE_CELLS = ["high", "low"] as const;
export type EntropyQuantileCell = (typeof ENTROPY_QUANTILE_CELLS)[number];

function entropyQuantileTensor(batch: TrainingBatch, o: EntropyQuantileOptions): Partition<EntropyQuantileCell> {
  const masks = tf.tidy(() => {
    const valid = tf.cast(tf.greater(batch.responseMask, 0), "float32") as Tensor2D;
    const [B, T] = valid.shape;
    const entropy = batch.entropy!;
    // Batch scope is the response rule applied to the batch flattened into one row.
    const rows = o.scope === "batch" ? 1 : B;
    const values = tf.reshape(entropy, [rows, -1]) as Tensor2D;
    const validRows = tf.reshape(valid, [rows, -1]) as Tensor2D;
    const n = tf.sum(validRows, 1);
    const tau = pickPerRow(
      sortValidDescending(values, validRows),
      tf.sub(tf.minimum(countAtRatio(n, o.ratio), n), 1) as Tensor1D,
    );
    const high = tf.reshape(tf.mul(validRows, tf.cast(tf.greaterEqual(values, tau), "float32")), [B, T]) as Tensor2D;
    return { high, low: tf.sub(valid, high) as Tensor2D };
  });
  return makePartition("entropy-quantile", masks);
}

export const entropyQuantilePartitioner = definePartitioner<EntropyQuantileOptions, EntropyQuantileCell>({
  name: "entropy-quantile",
  description: "80/20 rule: the top `ratio` of valid tokens by entropy (per batch or per response) vs the rest",
  requires: ["entropy"],
  defaults: ENTROPY_QUANTILE_DEFAULTS,
  validate: { ratio: ratio(), scope: oneOf("batch", "response") },
  cells: ENTROPY_QUANTILE_CELLS,
  tensor: entropyQuantileTensor,
});

export function entropyQuantilePartition(
  batch: TrainingBatch,
  options: Partial<EntropyQuantileOptions> = {},
): Partition<EntropyQuantileCell> {
  return entropyQuantilePartitioner.partition(batch, options);
}
