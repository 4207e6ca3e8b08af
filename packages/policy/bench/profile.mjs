import { initBackend, tf } from "@tokenrl/core";
import { createPolicy } from "../dist/index.js";
import { BENCH_MODEL_CONFIG as config } from "./model.mjs";
await initBackend({ log: null });
const B = +process.env.B || 8,
  L = +process.env.L || 128;
const model = createPolicy(config, { seed: 0 });
const P = 16,
  T = L - P;
const ids = (r, c, s) => tf.tidy(() => tf.cast(tf.randomUniform([r, c], 3, config.vocabSize, "float32", s), "int32"));
const input = {
  promptIds: ids(B, P, 1),
  promptMask: tf.ones([B, P]),
  responseIds: ids(B, T, 2),
  responseMask: tf.ones([B, T]),
};
const vars = model.trainableVariables();
const mode = process.env.MODE || "train";
const run = () => {
  if (mode === "fwd") {
    // Read outside tf.tidy: tidy walks a returned typed array element by element.
    const { logProbs, entropy } = model.scoreResponses(input);
    logProbs.dataSync();
    tf.dispose([logProbs, entropy]);
    return;
  }
  const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(model.scoreResponses(input).logProbs)), vars);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
run();
const t0 = performance.now();
run();
console.log(mode, "step ms", (performance.now() - t0).toFixed(0));
const prof = await tf.profile(run);
const agg = {};
for (const k of prof.kernels) {
  const key = k.name;
  agg[key] = agg[key] || { ms: 0, n: 0 };
  agg[key].ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
  agg[key].n++;
}
const rows = Object.entries(agg)
  .sort((a, b) => b[1].ms - a[1].ms)
  .slice(0, 30);
for (const [k, v] of rows) console.log(k.padEnd(20), v.ms.toFixed(1).padStart(8), "ms", String(v.n).padStart(5));
console.log(
  "total kernels",
  prof.kernels.length,
  "sum ms",
  Object.values(agg)
    .reduce((a, v) => a + v.ms, 0)
    .toFixed(0),
);
const mm = {};
for (const k of prof.kernels) {
  if (k.name !== "BatchMatMul" && k.name !== "_FusedMatMul") continue;
  const key = JSON.stringify(k.inputShapes) + JSON.stringify(k.outputShapes);
  mm[key] = mm[key] || { ms: 0, n: 0 };
  mm[key].ms += k.kernelTimeMs;
  mm[key].n++;
}
for (const [k, v] of Object.entries(mm)
  .sort((a, b) => b[1].ms - a[1].ms)
  .slice(0, 16))
  console.log(k.padEnd(70), v.ms.toFixed(1).padStart(8), v.n);
