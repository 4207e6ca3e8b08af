import { ShapeError, gatherRows, tf } from "@tokenrl/core";
import type { Tensor, Tensor2D } from "@tokenrl/core";

/**
 * Embedding lookup `table[ids]` whose gradient does not need
 * `UnsortedSegmentSum`, which the wasm backend lacks (tfjs's `gather` gradient
 * uses it). Forward: core's `gatherRows` (row copies on wasm, whose Gather
 * kernel is ~40 ns per element). Backward: `scatterND(ids, dy, [V, H])`, which
 * sums rows of repeated ids (a kernel on wasm, cpu and tensorflow), so each
 * row of dy lands on its token's row once per occurrence: O(N H) work, where
 * the one-hot matmul formulation cost O(N V H).
 *
 * `ids` is any-shape int32; returns `[...ids.shape, H]`.
 */
export function embedLookup(table: Tensor, ids: Tensor): Tensor {
  if (table.rank !== 2) throw new ShapeError("table", "[V, H]", table.shape);
  const [V, H] = table.shape as [number, number];
  // No gradient is being recorded (generation): the gather alone, without the
  // customGrad scope, whose bookkeeping was 5% of a batch-64 decode step here.
  if (tf.engine().state.gradientDepth === 0) return gatherRows(table, ids);
  const flat = tf.reshape(ids, [-1]);
  const lookup = tf.customGrad((t, save) => {
    // save() keeps the ids alive until the backward pass, after the caller's tidy freed `flat`.
    (save as tf.GradSaveFunc)([flat]);
    const value = gatherRows(t as Tensor2D, flat);
    const gradFunc = (dy: Tensor, saved: Tensor[]) =>
      tf.tidy(() => tf.scatterND(tf.reshape(saved[0]!, [-1, 1]), tf.reshape(dy, [-1, H]), [V, H]));
    return { value, gradFunc };
  });
  const rows = lookup(table) as Tensor2D;
  return tf.reshape(rows, [...ids.shape, H]);
}
