import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { maskedMean, maskedSum, maskedVar, maskedWhiten, tf, useBackend } from "../src/index.js";

const X = [
  [1, 2, 3],
  [4, Number.NaN, 6],
];
const M = [
  [1, 1, 0],
  [1, 0, 1],
];
// Valid values: 1, 2, 4, 6 -> sum 13, mean 3.25, population var 3.6875, unbiased 3.6875 * 4/3.

function read(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

const results: Record<string, number[][]> = {};
function record(backend: string, ...rows: number[][]): void {
  results[backend] = [...(results[backend] ?? []), ...rows];
}

describe.each(TEST_BACKENDS)("masked reductions on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("sums and averages only valid entries, ignoring NaN under the mask", () => {
    const out = tf.tidy(() => {
      const x = tf.tensor2d(X);
      const m = tf.tensor2d(M);
      return [maskedSum(x, m), maskedMean(x, m), maskedSum(x, m, 1), maskedMean(x, m, 1)];
    });
    const [sum, mean, rowSum, rowMean] = out.map(read);
    expect(sum![0]).toBeCloseTo(13, 5);
    expect(mean![0]).toBeCloseTo(3.25, 5);
    expect(rowSum).toEqual([3, 10]);
    expect(rowMean![0]).toBeCloseTo(1.5, 5);
    expect(rowMean![1]).toBeCloseTo(5, 5);
    record(backend, sum!, mean!, rowSum!, rowMean!);
  });

  it("computes the unbiased variance and whitens to zero mean, unit variance", () => {
    const [pop, unb, white] = tf
      .tidy(() => {
        const x = tf.tensor2d(X);
        const m = tf.tensor2d(M);
        return [maskedVar(x, m, false), maskedVar(x, m, true), maskedWhiten(x, m)];
      })
      .map(read);
    expect(pop![0]).toBeCloseTo(3.6875, 4);
    expect(unb![0]).toBeCloseTo((3.6875 * 4) / 3, 4);
    const sd = Math.sqrt((3.6875 * 4) / 3 + 1e-8);
    expect(white![0]).toBeCloseTo((1 - 3.25) / sd, 4);
    expect(white![5]).toBeCloseTo((6 - 3.25) / sd, 4);
    record(
      backend,
      pop!,
      unb!,
      white!.filter((_, i) => [0, 1, 3, 5].includes(i)),
    );
  });

  it("never produces NaN on an empty mask or a single valid element", () => {
    const [emptyMean, emptyVar, oneVar, oneWhite] = tf
      .tidy(() => {
        const x = tf.tensor2d([[5, 7]]);
        const none = tf.zeros([1, 2]);
        const one = tf.tensor2d([[1, 0]]);
        return [maskedMean(x, none), maskedVar(x, none), maskedVar(x, one), maskedWhiten(x, one)];
      })
      .map(read);
    expect(emptyMean).toEqual([0]);
    expect(emptyVar).toEqual([0]);
    expect(oneVar![0]).toBeCloseTo(0, 5);
    expect(oneWhite!.every(Number.isFinite)).toBe(true);
  });

  it("a constant input has variance exactly 0 and whitens to exactly 0 (no float32 residue / sqrt(1e-8))", () => {
    // -0.37 is not a float32: the float32 sum of seven of them over 7 rounds away from fround(-0.37);
    // unshifted, the residue divided by sqrt(1e-8) came back as 2.98e-4 on every token (wasm and cpu).
    const [variance, white, kept] = tf
      .tidy(() => {
        const x = tf.fill([1, 8], -0.37);
        const m = tf.tensor2d([[1, 1, 1, 1, 1, 1, 1, 0]]);
        return [maskedVar(x, m), maskedWhiten(x, m), maskedWhiten(x, m, { shiftMean: false })];
      })
      .map(read);
    expect(variance).toEqual([0]);
    expect(white!.slice(0, 7)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(kept!.slice(0, 7).every((v) => v === Math.fround(-0.37))).toBe(true);
  });
});

describe("backend parity", () => {
  it.skipIf(!TEST_BACKENDS.includes("wasm") || !TEST_BACKENDS.includes("cpu"))(
    "wasm and cpu agree within float32 tolerance (needs both in TOKENRL_TEST_BACKENDS)",
    () => {
      expect(results.wasm!.length).toBe(results.cpu!.length);
      results.wasm!.forEach((row, i) => {
        row.forEach((v, j) => expect(Math.abs(v - results.cpu![i]![j]!)).toBeLessThan(1e-5 * (1 + Math.abs(v))));
      });
    },
  );
});
