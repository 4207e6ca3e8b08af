// The ~10M-parameter policy the generation benchmark and the decode profiler
// both use, defined once so that a profile always explains the benchmark.
import { makeConfig } from "@tokenrl/policy";

export const BENCH_MODEL_CONFIG = makeConfig({
  modelType: "qwen3",
  vocabSize: 6000,
  hiddenSize: 256,
  intermediateSize: 1024,
  numLayers: 8,
  numHeads: 8,
  numKvHeads: 4,
  headDim: 32,
  tieWordEmbeddings: true,
  eosTokenId: 2,
  padTokenId: 0,
});
