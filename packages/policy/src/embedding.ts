import { ShapeError, tf } from "@tokenrl/core";
import { matMul } from "./matmul.js";
import type { Tensor, Tensor2D } from "@tokenrl/core";

/**
 * Embedding lookup `table[ids]` whose gradient is a matmul instead of
 * `UnsortedSegmentSum`, which the wasm backend lacks (tfjs's `gather` gradient
 * needs it). Forward: `gather` (exists everywhere). Backward:
 * `dTable = oneHot(ids)^T @ dy`, a [V, N] x [N, H] matmul: the same FLOPs as
 * the LM head, fast on every backend, and exactly the scatter-add (each row
 * of dy lands on its token's row once per occurrence).
 *
 * `ids` is any-shape int32; returns `[...ids.shape, H]`.
 */
export function embedLookup(table: Tensor, ids: Tensor): Tensor {
  if (table.rank !== 2) throw new ShapeError("table", "[V, H]", table.shape);
  const [V, H] = table.shape as [number, number];
  const flat = tf.reshape(ids, [-1]);
  const lookup = tf.customGrad((t, save) => {
    // save() keeps the ids alive until the backward pass, after the caller's tidy freed `flat`.
    (save as tf.GradSaveFunc)([flat]);
    const value = tf.gather(t as Tensor2D, flat);
    const gradFunc = (dy: Tensor, saved: Tensor[]) =>
      tf.tidy(() => {
        const oneHot = tf.cast(tf.oneHot(saved[0]!, V), "float32");
        // (dy^T @ oneHot)^T: transposes the small [N, H] and [H, V] operands rather than the [N, V] one-hot.
        return tf.transpose(matMul(tf.transpose(tf.reshape(dy, [-1, H])), oneHot));
      });
    return { value, gradFunc };
  });
  const rows = lookup(table) as Tensor2D;
  return tf.reshape(rows, [...ids.shape, H]);
}
