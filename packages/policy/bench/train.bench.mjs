// Training throughput of a ~10M-parameter Llama/Qwen3-style model on the current
// backend (wasm unless TOKENRL_BACKEND says otherwise), next to the backend's own
// tf.matMul rate measured in the same process.
// Run: pnpm build && pnpm bench   (from packages/policy)
import { initBackend, tf } from "@tokenrl/core";
import { createPolicy, parameterCount } from "../dist/index.js";
import { BENCH_MODEL_CONFIG as config } from "./model.mjs";

const B = Number(process.env.BENCH_BATCH ?? 8);
const L = Number(process.env.BENCH_LEN ?? 128);
const STEPS = Number(process.env.BENCH_STEPS ?? 5);

const info = await initBackend();
const model = createPolicy(config, { seed: 0 });
const N = parameterCount(config);
// The LM head's matmul counts; the embedding lookup does not.
const matmulParams = N - config.vocabSize * config.hiddenSize;

/** Best and median seconds of `reps` timed calls after one warm-up (the machine is shared: best is the least disturbed). */
function time(fn, reps) {
  fn();
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return { best: times[0], median: times[Math.floor(times.length / 2)] };
}

function matmulRate(m, k, n) {
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  // Not tf.tidy(() => ....dataSync()): tidy scans a returned typed array element by element.
  const { best } = time(() => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  }, 10);
  tf.dispose([a, b]);
  return (2 * m * k * n) / best / 1e9;
}

const shapes = [
  [B * L, config.hiddenSize, 2 * config.intermediateSize],
  [512, 512, 512],
];
const mmBefore = shapes.map(([m, k, n]) => matmulRate(m, k, n));

const P = 16;
const T = L - P;
const ids = (rows, cols, seed) =>
  tf.tidy(() => tf.cast(tf.randomUniform([rows, cols], 3, config.vocabSize, "float32", seed), "int32"));
const input = {
  promptIds: ids(B, P, 1),
  promptMask: tf.ones([B, P]),
  responseIds: ids(B, T, 2),
  responseMask: tf.ones([B, T]),
};
const vars = model.trainableVariables();
const optimizer = tf.train.adam(1e-4);
const step = () => {
  const { value, grads } = tf.variableGrads(() => {
    const { logProbs, entropy } = model.scoreResponses(input);
    return tf.sub(tf.neg(tf.mean(logProbs)), tf.mul(1e-3, tf.mean(entropy)));
  }, vars);
  optimizer.applyGradients(grads);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
const train = time(step, STEPS);
const forward = time(() => {
  const logProbs = tf.tidy(() => model.scoreResponses(input).logProbs);
  logProbs.dataSync();
  logProbs.dispose();
}, STEPS);
const mmAfter = shapes.map(([m, k, n]) => matmulRate(m, k, n));
const mm = shapes.map((_, i) => Math.max(mmBefore[i], mmAfter[i]));
const mmBest = Math.max(...mm);

const tokens = B * L;
// PaLM-style model FLOPs per trained token: 6 x matmul parameters (forward + backward), plus the attention
// score and mixing products, 12 x layers x (heads x headDim) x L (counting the full L x L, as the code computes it).
const flopsPerToken = 6 * matmulParams + 12 * config.numLayers * config.numHeads * config.headDim * L;
const rate = (s) => (flopsPerToken * tokens) / s / 1e9;

const lines = [
  `backend ${info.name} (${info.threads} thread${info.threads === 1 ? "" : "s"}); model ${(N / 1e6).toFixed(2)}M parameters (${config.modelType}, ${config.numLayers} layers, hidden ${config.hiddenSize}, MLP ${config.intermediateSize}, ${config.numHeads} query / ${config.numKvHeads} kv heads of ${config.headDim}, vocab ${config.vocabSize}); batch ${B} x ${L} tokens (prompt ${P} + response ${T})`,
  `train step (forward + backward + Adam): best ${(train.best * 1000).toFixed(0)} ms (median ${(train.median * 1000).toFixed(0)}) = ${(tokens / train.best).toFixed(0)} tokens/s, ${rate(train.best).toFixed(2)} GFLOP/s model FLOPs`,
  `forward only (scoreResponses): best ${(forward.best * 1000).toFixed(0)} ms = ${(tokens / forward.best).toFixed(0)} tokens/s`,
  `tf.matMul ${shapes.map(([m, k, n], i) => `[${m}x${k}]x[${k}x${n}] ${mm[i].toFixed(2)}`).join(", ")} GFLOP/s (best before/after training)`,
  `training achieves ${((100 * rate(train.best)) / mmBest).toFixed(1)}% of the best measured matmul rate (target >= 35%)`,
];
for (const line of lines) console.log(line);
tf.dispose(Object.values(input));
optimizer.dispose();
model.dispose();
