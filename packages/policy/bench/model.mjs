// The ~10M-parameter model the training benchmark and the profiler both measure,
// defined once so that a profile always explains the benchmark's numbers.
import { makeConfig } from "../dist/index.js";

export const BENCH_MODEL_CONFIG = makeConfig({
  modelType: "qwen3",
  vocabSize: 8192,
  hiddenSize: 256,
  intermediateSize: 768,
  numLayers: 8,
  numHeads: 8,
  numKvHeads: 4,
  headDim: 32,
  eosTokenId: 2,
});
