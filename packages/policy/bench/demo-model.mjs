// The demo's model (the trainer's default: Qwen3-style, hidden 64, 2 layers,
// 4 query / 2 kv heads of 16, vocab 40), for the benchmarks that measure the
// main job's own shapes. A plain object with no imports, so a script can load
// it beside any build of the package.
export const DEMO_MODEL_CONFIG = {
  modelType: "qwen3",
  vocabSize: 40,
  hiddenSize: 64,
  intermediateSize: 128,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  maxPositionEmbeddings: 256,
};
