// Time of each estimator on a DAPO-sized step (B = 512 responses = 32 prompts x 16, T = 4096 tokens),
// best of 3 after one warm-up. Usage: pnpm build && node bench/advantages.bench.mjs [wasm|cpu]
import { createRng, disposeBatch, initBackend, tf } from "@tokenrl/core";
import { advantageEstimators } from "../dist/index.js";

const backend = process.argv[2] ?? process.env.TOKENRL_BACKEND ?? "wasm";
await initBackend({ backend });
const B = 512;
const T = 4096;
const G = 16;
const rng = createRng(7);
const mask = new Float32Array(B * T);
const rewards = new Float32Array(B * T);
const values = new Float32Array(B * T);
const groupIds = new Int32Array(B);
for (let i = 0; i < B; i++) {
  groupIds[i] = Math.floor(i / G) * 31 + 5;
  const len = 1 + rng.int(T);
  for (let t = 0; t < len; t++) {
    mask[i * T + t] = 1;
    values[i * T + t] = rng.normal();
  }
  rewards[i * T + len - 1] = rng.next() < 0.4 ? 1 : 0;
}
const batch = {
  responseMask: tf.tensor2d(mask, [B, T]),
  tokenRewards: tf.tensor2d(rewards, [B, T]),
  values: tf.tensor2d(values, [B, T]),
  groupIds: tf.tensor1d(groupIds, "int32"),
};
console.log(
  `advantage estimators, B=${B} T=${T} (${((B * T) / 1e6).toFixed(2)}M tokens), backend ${backend}, best of 3`,
);
for (const name of advantageEstimators.list()) {
  const estimator = advantageEstimators.get(name);
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < 4; run++) {
    const start = performance.now();
    const { advantages, returns } = estimator(batch, {});
    advantages.dataSync();
    const ms = performance.now() - start;
    tf.dispose([advantages, returns]);
    if (run > 0) best = Math.min(best, ms);
  }
  console.log(`${name.padEnd(30)} ${best.toFixed(1)} ms`);
}
disposeBatch(batch);
