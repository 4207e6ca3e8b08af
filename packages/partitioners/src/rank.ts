import { tf } from "@tokenrl/core";
import type { Tensor, Tensor1D, Tensor2D } from "@tokenrl/core";

/**
 * Per-row order statistics of a `[B, T]` matrix over its valid entries, on the
 * device. One descending sort per row serves every rank query: invalid
 * entries sort last (as -Infinity), so the r-th largest valid value of row i
 * is `sorted[i][r - 1]` whenever r <= n_i.
 */
export function sortValidDescending(values: Tensor2D, valid: Tensor2D): Tensor2D {
  return tf.tidy(() => {
    const T = values.shape[1];
    const masked = tf.where(tf.greater(valid, 0), values, tf.fill(values.shape, Number.NEGATIVE_INFINITY));
    return tf.topk(masked, T, true).values as Tensor2D;
  });
}

/**
 * `sorted[i][index[i]]` for each row, as `[B, 1]`, with `index` a float
 * tensor of (integral) positions clamped into [0, T-1]. A flat 1-D gather:
 * tfjs-backend-wasm 4.22's gather with batchDims reads out of bounds.
 */
export function pickPerRow(sorted: Tensor2D, index: Tensor1D): Tensor2D {
  return tf.tidy(() => {
    const [B, T] = sorted.shape;
    const column = tf.clipByValue(tf.floor(index), 0, T - 1);
    const flatIndex = tf.cast(tf.add(tf.mul(tf.range(0, B, 1, "float32"), T), column), "int32");
    return tf.reshape(tf.gather(tf.reshape(sorted, [B * T]), flatIndex), [B, 1]) as Tensor2D;
  });
}

/**
 * `max(floor(ratio * n), 1)` per row, as the references compute it in float64
 * (`max(int(ratio * n), 1)`). The product is taken in float32 here, where
 * e.g. 0.02 rounds down to 0.0199999996; the tiny relative nudge keeps
 * floor(0.02 * 50) at 1 as in float64.
 */
export function countAtRatio(n: Tensor, ratio: number): Tensor {
  return tf.tidy(() => tf.maximum(tf.floor(tf.mul(n, ratio * (1 + 1e-6))), 1));
}
