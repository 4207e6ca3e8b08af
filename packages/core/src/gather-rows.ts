import { InvalidInputError } from "@tokenrl/base/errors";
import { type HostArray, type HostDtype, hostView, kernelPath, writeTensor } from "./placement.js";
import { tf } from "./tf.js";
import type { Tensor } from "./tf.js";

/** Row indices: a host array or an int32 tensor of any shape (read flat). */
export type RowIndices = readonly number[] | Int32Array | Tensor;

/**
 * `t[rows]` along axis 0 (`tf.gather(t, rows)`): shape `[rows.length, ...t.shape[1:]]`,
 * or `[...rows.shape, ...t.shape[1:]]` for a tensor of indices. Repeats allowed.
 *
 * On the host path (wasm, cpu) the rows are copied as whole contiguous blocks
 * from one read of `t`: tfjs-backend-wasm 4.22's Gather computes every output
 * element's source index on its own, ~40 ns per element here, so selecting 59
 * of 64 rows of one layer's KV cache `[64, 2, 100, 16]` took 8.0 ms against
 * 0.34 ms for the block copy. Elsewhere `tf.gather`. No gradient: a
 * differentiable caller wraps it (see @tokenrl/policy's `embedLookup`).
 * An index outside `[0, t.shape[0])` throws (on the tensor path, for host indices).
 */
export function gatherRows(t: Tensor, rows: RowIndices): Tensor {
  if (t.rank === 0) throw new InvalidInputError("gatherRows: needs a tensor of rank >= 1, got a scalar");
  const n = t.shape[0]!;
  const tail = t.shape.slice(1);
  const idxShape = rows instanceof tf.Tensor ? rows.shape : [rows.length];
  if (rows instanceof tf.Tensor && rows.dtype !== "int32")
    throw new InvalidInputError(`gatherRows: row indices must be int32, got ${rows.dtype}`);
  if (kernelPath() !== "host" || t.dtype === "string" || t.dtype === "complex64") {
    const idx = rows instanceof tf.Tensor ? rows : tf.tensor1d(rows as number[], "int32");
    try {
      // A tensor of indices is not read back here (on a GPU that would be a sync); tf.gather checks it where it can.
      if (!(rows instanceof tf.Tensor)) checkRange(rows as ArrayLike<number>, n);
      return tf.tidy(() => tf.reshape(tf.gather(t, tf.reshape(idx, [-1])), [...idxShape, ...tail]));
    } finally {
      if (idx !== rows) idx.dispose();
    }
  }
  checkRange(rows instanceof tf.Tensor ? (hostView(rows) as Int32Array) : (rows as ArrayLike<number>), n);
  const per = tail.reduce((a, b) => a * b, 1);
  return writeTensor([...idxShape, ...tail], t.dtype as HostDtype, copyRows, { t, rows, per });
}

function copyRows(out: HostArray, { t, rows, per }: { t: Tensor; rows: RowIndices; per: number }): void {
  const index = rows instanceof tf.Tensor ? (hostView(rows) as Int32Array) : (rows as ArrayLike<number>);
  const src = hostView(t);
  for (let i = 0; i < index.length; i++) {
    const r = index[i]!;
    out.set(src.subarray(r * per, (r + 1) * per), i * per);
  }
}

function checkRange(index: ArrayLike<number>, n: number): void {
  for (let i = 0; i < index.length; i++) {
    const r = index[i]!;
    if (!Number.isInteger(r) || r < 0 || r >= n)
      throw new InvalidInputError(`gatherRows: row ${r} is outside [0, ${n})`);
  }
}
