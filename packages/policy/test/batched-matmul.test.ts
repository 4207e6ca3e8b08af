import { describe, expect, it } from "vitest";
import { tf, useBackend } from "@tokenrl/core";
import { kernelBatchedMatMul } from "../src/batched-matmul.js";
import { matMul } from "../src/matmul.js";
import { maxAbsDiff } from "./helpers.js";

/** f64 reference of op(a) op(b). */
function reference(a: number[][][], b: number[][][], ta: boolean, tb: boolean): number[] {
  const out: number[] = [];
  a.forEach((ag, g) => {
    const A = ta ? ag[0]!.map((_, i) => ag.map((r) => r[i]!)) : ag;
    const bg = b[g]!;
    const B = tb ? bg[0]!.map((_, i) => bg.map((r) => r[i]!)) : bg;
    for (const row of A) for (let n = 0; n < B[0]!.length; n++) out.push(row.reduce((s, x, k) => s + x * B[k]![n]!, 0));
  });
  return out;
}

const shapes: [number, number, number, number][] = [
  [3, 9, 5, 13], // every remainder: 9 rows = 2 blocks of 4 + 1, 13 columns = 8 + 4 + 1
  [2, 4, 16, 8], // exact blocks
  [1, 1, 7, 3], // scalar paths only
  [4, 6, 1, 10], // K = 1
];

describe("the batched-matmul kernel on wasm", () => {
  it("computes op(a) @ op(b) for every transpose and remainder", async () => {
    await useBackend("wasm");
    for (const [G, M, K, N] of shapes)
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const a = tf.randomNormal(ta ? [G, K, M] : [G, M, K], 0, 1, "float32", 1) as tf.Tensor3D;
          const b = tf.randomNormal(tb ? [G, N, K] : [G, K, N], 0, 1, "float32", 2) as tf.Tensor3D;
          const c = kernelBatchedMatMul(a, b, ta, tb)!;
          expect(c.shape).toEqual([G, M, N]);
          const ref = reference((await a.array()) as number[][][], (await b.array()) as number[][][], ta, tb);
          expect(maxAbsDiff(await c.data(), ref)).toBeLessThan(1e-5 * K);
          tf.dispose([a, b, c]);
        }
  });

  it("gives an element the same bits whichever block computes it (rows and columns do not depend on the shape)", async () => {
    await useBackend("wasm");
    const a = tf.randomNormal([2, 11, 20], 0, 1, "float32", 3) as tf.Tensor3D;
    const b = tf.randomNormal([2, 20, 19], 0, 1, "float32", 4) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    const products = [kernelBatchedMatMul(a, b)!];
    // Row 9 alone (the scalar-row path) and columns 16..18 alone (the lane and scalar tails).
    const row = tf.slice(a, [0, 9, 0], [2, 1, 20]);
    const cols = tf.slice(b, [0, 0, 16], [2, 20, 3]);
    products.push(kernelBatchedMatMul(row, b)!, kernelBatchedMatMul(a, cols)!);
    const [whole, r, c] = (await Promise.all(products.map((p) => p.array()))) as number[][][][];
    for (let g = 0; g < 2; g++) {
      expect(r![g]![0]).toEqual(whole![g]![9]);
      expect(c![g]).toEqual(whole![g]!.map((x) => x.slice(16)));
    }
    tf.dispose([row, cols, ...products]);
    expect(tf.memory().numTensors).toBe(before);
    // A transposed b is transposed for the kernel and freed after it: only the product is left.
    const bt = tf.randomNormal([2, 19, 20], 0, 1, "float32", 9) as tf.Tensor3D;
    const viaT = kernelBatchedMatMul(a, bt, false, true)!;
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([a, b, bt, viaT]);
  });

  it("leaves what it cannot take to the caller, and matMul's gradient through it matches tf.matMul's", async () => {
    await useBackend("wasm");
    const a = tf.randomNormal([2, 5, 6], 0, 1, "float32", 5) as tf.Tensor3D;
    const b = tf.randomNormal([3, 6, 4]) as tf.Tensor3D;
    expect(kernelBatchedMatMul(a, b)).toBeUndefined(); // batch sizes differ
    const inner = tf.randomNormal([2, 5, 4]) as tf.Tensor3D;
    expect(kernelBatchedMatMul(a, inner)).toBeUndefined(); // inner sizes differ
    inner.dispose();
    for (const [ta, tb] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      const x = tf.randomNormal(ta ? [2, 6, 5] : [2, 5, 6], 0, 1, "float32", 6) as tf.Tensor3D;
      const y = tf.randomNormal(tb ? [2, 7, 6] : [2, 6, 7], 0, 1, "float32", 7) as tf.Tensor3D;
      const w = tf.randomNormal([2, 5, 7], 0, 1, "float32", 8);
      const loss = (f: (p: tf.Tensor, q: tf.Tensor) => tf.Tensor) => (p: tf.Tensor, q: tf.Tensor) =>
        tf.sum(tf.mul(f(p, q), w)) as tf.Scalar;
      const ours = tf.grads(loss((p, q) => matMul(p, q, ta, tb)))([x, y]);
      const theirs = tf.grads(loss((p, q) => tf.matMul(p as tf.Tensor3D, q as tf.Tensor3D, ta, tb)))([x, y]);
      for (let i = 0; i < 2; i++) expect(maxAbsDiff(await ours[i]!.data(), await theirs[i]!.data())).toBeLessThan(1e-4);
      tf.dispose([x, y, w, ...ours, ...theirs]);
    }
    tf.dispose([a, b]);
  });
});
