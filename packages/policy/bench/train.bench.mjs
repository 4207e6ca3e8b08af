// Training throughput of a ~10M-parameter Llama-style model on the current backend
// (wasm unless TOKENRL_BACKEND says otherwise), next to the backend's own matmul rate.
// Run: pnpm build && pnpm bench   (from packages/policy)
import { initBackend, tf } from "@tokenrl/core";
import { createPolicy, makeConfig, parameterCount } from "../dist/index.js";

const B = Number(process.env.BENCH_BATCH ?? 8);
const L = Number(process.env.BENCH_LEN ?? 128);
const STEPS = Number(process.env.BENCH_STEPS ?? 5);

const info = await initBackend();
const config = makeConfig({
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
const model = createPolicy(config, { seed: 0 });
const N = parameterCount(config);
const nonEmbedding = N - config.vocabSize * config.hiddenSize; // the LM head counts, the lookup does not

function time(fn, reps) {
  fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t0) / reps / 1000;
}

function matmulRate(m, k, n) {
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  const s = time(() => tf.tidy(() => tf.matMul(a, b).dataSync()), 10);
  tf.dispose([a, b]);
  return (2 * m * k * n) / s / 1e9;
}

const P = 16;
const T = L - P;
const ids = (rows, cols, seed) => tf.tidy(() => tf.cast(tf.randomUniform([rows, cols], 3, config.vocabSize, "float32", seed), "int32"));
const input = {
  promptIds: ids(B, P, 1),
  promptMask: tf.ones([B, P]),
  responseIds: ids(B, T, 2),
  responseMask: tf.ones([B, T]),
};
const vars = model.trainableVariables();
const optimizer = tf.train.adam(1e-4);
const step = () => {
  const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(model.scoreResponses(input).logProbs)), vars);
  optimizer.applyGradients(grads);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
const stepSeconds = time(step, STEPS);
const tokens = B * L;
// PaLM-style model FLOPs: 6 N per token for the matmuls (forward + backward), plus attention scores and mixing 12 * layers * H * L
const flopsPerToken = 6 * nonEmbedding + 12 * config.numLayers * config.numHeads * config.headDim * L;
const trainRate = (flopsPerToken * tokens) / stepSeconds / 1e9;

const forwardSeconds = time(() => tf.tidy(() => model.scoreResponses(input).logProbs.dataSync()), STEPS);

const mmProj = matmulRate(B * L, config.hiddenSize, config.intermediateSize);
const mmSquare = matmulRate(512, 512, 512);
const best = Math.max(mmProj, mmSquare);

console.log(`backend ${info.name} (${info.threads} thread${info.threads === 1 ? "" : "s"}); model ${(N / 1e6).toFixed(2)}M params (${config.numLayers} layers, H ${config.hiddenSize}, I ${config.intermediateSize}, ${config.numHeads}/${config.numKvHeads} heads, V ${config.vocabSize}); batch ${B} x ${L} tokens`);
console.log(`train step (forward + backward + Adam): ${(stepSeconds * 1000).toFixed(0)} ms = ${(tokens / stepSeconds).toFixed(0)} tokens/s, ${trainRate.toFixed(2)} GFLOP/s model FLOPs`);
console.log(`forward only (scoreResponses): ${(forwardSeconds * 1000).toFixed(0)} ms = ${(tokens / forwardSeconds).toFixed(0)} tokens/s`);
console.log(`tf.matMul [${B * L}x${config.hiddenSize}]x[${config.hiddenSize}x${config.intermediateSize}]: ${mmProj.toFixed(2)} GFLOP/s; [512x512]x[512x512]: ${mmSquare.toFixed(2)} GFLOP/s`);
console.log(`training achieves ${((100 * trainRate) / best).toFixed(1)}% of the best measured matmul rate (target >= 35%)`);
tf.dispose(Object.values(input));
optimizer.dispose();
model.dispose();
