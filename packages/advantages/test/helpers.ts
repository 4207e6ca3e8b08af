import { batchFromArrays, disposeBatch, tf } from "@tokenrl/core";
import type { BatchArrays } from "@tokenrl/core";
import type { AdvantageBatch, AdvantageResult } from "../src/index.js";

/** Runs an estimator on plain arrays and returns plain arrays, freeing every tensor. */
export function run(
  estimator: (batch: AdvantageBatch, params?: never) => AdvantageResult,
  arrays: BatchArrays & { responseMask: number[][] },
  params?: object,
): { advantages: number[][]; returns: number[][] } {
  const batch = batchFromArrays(arrays);
  try {
    const out = estimator(batch, params as never);
    const result = { advantages: out.advantages.arraySync(), returns: out.returns.arraySync() };
    tf.dispose([out.advantages, out.returns]);
    return result;
  } finally {
    disposeBatch(batch);
  }
}

/** Element-wise closeness of two matrices (float32 results against hand computations). */
export function expectClose(got: number[][], want: number[][], digits = 5): void {
  const tol = 10 ** -digits;
  const bad: string[] = [];
  if (got.length !== want.length) throw new Error(`rows: got ${got.length}, want ${want.length}`);
  want.forEach((row, i) =>
    row.forEach((w, t) => {
      const g = got[i]![t]!;
      if (!(Math.abs(g - w) <= tol)) bad.push(`[${i}][${t}] got ${g} want ${w}`);
    }),
  );
  if (bad.length) throw new Error(`not close:\n${bad.join("\n")}`);
}

export function allFinite(m: number[][]): boolean {
  return m.every((row) => row.every(Number.isFinite));
}
