import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { tf, useBackend } from "@tokenrl/core";
import { matMul } from "../src/matmul.js";
import { maxAbsDiff } from "./helpers.js";

/** Reference product and gradients in float64 from the definitions, for loss = sum(w * (op(a) @ op(b))). */
function reference(a: number[][][], b: number[][][], w: number[][][], ta: boolean, tb: boolean) {
  const T = (m: number[][]) => m[0]!.map((_, j) => m.map((r) => r[j]!));
  const mm = (x: number[][], y: number[][]) =>
    x.map((r) => y[0]!.map((_, j) => r.reduce((s, v, k) => s + v * y[k]![j]!, 0)));
  const out = a.map((ag, g) => mm(ta ? T(ag) : ag, tb ? T(b[g]!) : b[g]!));
  // d/d op(a) = w @ op(b)^T; d/d op(b) = op(a)^T @ w; undo the op for the raw input
  const da = a.map((_ag, g) => {
    const d = mm(w[g]!, T(tb ? T(b[g]!) : b[g]!));
    return ta ? T(d) : d;
  });
  const db = a.map((ag, g) => {
    const d = mm(T(ta ? T(ag) : ag), w[g]!);
    return tb ? T(d) : d;
  });
  return { out: out.flat(2), da: da.flat(2), db: db.flat(2) };
}

const rand = (seed: number, shape: number[]) => {
  let s = seed;
  const next = () => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647) * 2 - 1;
  };
  const build = (d: number): unknown =>
    Array.from({ length: shape[d]! }, () => (d === shape.length - 1 ? next() : build(d + 1)));
  return build(0) as number[][][];
};

describe.each(TEST_BACKENDS)("matMul on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])("2-D and batched products and their gradients match the definition (transposeA %s, transposeB %s)", (ta, tb) => {
    for (const G of [1, 3]) {
      const [M, K, N] = [4, 5, 3];
      const a = rand(1 + G, [G, ...(ta ? [K, M] : [M, K])]);
      const b = rand(7 + G, [G, ...(tb ? [N, K] : [K, N])]);
      const w = rand(13, [G, M, N]);
      const want = reference(a, b, w, ta, tb);
      const rank2 = G === 1;
      const at = rank2 ? tf.tensor(a[0]!) : tf.tensor(a);
      const bt = rank2 ? tf.tensor(b[0]!) : tf.tensor(b);
      const wt = rank2 ? tf.tensor(w[0]!) : tf.tensor(w);
      const out = matMul(at, bt, ta, tb);
      expect(out.shape).toEqual(rank2 ? [M, N] : [G, M, N]);
      expect(maxAbsDiff(out.dataSync(), want.out)).toBeLessThan(1e-5);
      const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul(x, y, ta, tb), wt)))([at, bt]);
      expect(maxAbsDiff(da!.dataSync(), want.da)).toBeLessThan(1e-5);
      expect(maxAbsDiff(db!.dataSync(), want.db)).toBeLessThan(1e-5);
      tf.dispose([at, bt, wt, out, da!, db!]);
    }
  });
});
