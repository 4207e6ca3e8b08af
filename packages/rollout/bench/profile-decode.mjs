// Per-kernel time of decode steps (tf.profile), batch B (env B, default 1), for finding hot ops.
//   node bench/profile-decode.mjs            B=64 node bench/profile-decode.mjs
import { initBackend, tf } from "@tokenrl/core";
import { createPolicy } from "@tokenrl/policy";
import { BENCH_MODEL_CONFIG as config } from "./model.mjs";
import { generate } from "../dist/index.js";

await initBackend({ log: null });
const B = +(process.env.B ?? 1);
const model = createPolicy(config, { seed: 0 });
const ps = Array.from({ length: B }, (_, b) =>
  Array.from({ length: 16 }, (_, j) => 4 + ((b * 31 + j * 7) % (config.vocabSize - 4))),
);
const N = +(process.env.N ?? 16);
await generate(model, ps, { maxTokens: 2, ignoreEos: true });
const t0 = performance.now();
let res;
const prof = await tf.profile(async () => {
  res = await generate(model, ps, { maxTokens: N, ignoreEos: true, seed: 1, topP: 0.95 });
});
const wall = performance.now() - t0;
const by = new Map();
for (const k of prof.kernels) {
  const e = by.get(k.name) ?? { ms: 0, n: 0 };
  e.ms += k.kernelTimeMs;
  e.n++;
  by.set(k.name, e);
}
const rows = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms);
const total = rows.reduce((s, [, e]) => s + e.ms, 0);
console.log(
  `B ${B}, ${N} tokens: wall ${wall.toFixed(0)} ms (profiled), kernels ${total.toFixed(0)} ms, ${prof.kernels.length} kernel calls; prefill ${res.stats.prefillMs.toFixed(0)} ms decode ${res.stats.decodeMs.toFixed(0)} ms`,
);
for (const [name, e] of rows.slice(0, 25))
  console.log(`${name.padEnd(22)} ${e.ms.toFixed(1).padStart(8)} ms ${String(e.n).padStart(6)} calls`);
model.dispose();
