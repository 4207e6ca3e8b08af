import { tf } from "@tokenrl/core";
import type { Tensor } from "@tokenrl/core";
import { type CausalLM, createPolicy, makeConfig } from "../src/index.js";
import type { ModelConfigInput } from "../src/index.js";

/** A tiny GQA model (4 query heads share 2 kv heads) with Qwen3's q/k norm: exercises every code path. */
export const TINY: ModelConfigInput = {
  modelType: "qwen3",
  vocabSize: 23,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 8,
  ropeTheta: 10000,
  rmsNormEps: 1e-6,
  eosTokenId: 2,
  bosTokenId: 1,
  padTokenId: 0,
  // A large init spreads the logits, so comparisons are not between near-uniform numbers.
  initializerRange: 0.3,
};

export function tinyModel(overrides: Partial<ModelConfigInput> = {}, seed = 7): CausalLM {
  return createPolicy(makeConfig({ ...TINY, ...overrides }), { seed });
}

export function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function ids2d(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0]!.length], "int32");
}
