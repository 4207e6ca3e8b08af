// Decode-step time of the demo model (the trainer's default: hidden 64, 2
// layers, 4 query / 2 kv heads of 16, vocab 40) on the host path (the default
// on wasm and cpu: `hostDecodeStep` with the WebAssembly attention kernel) and
// on the tensor path (every op a tfjs kernel), at several batch sizes: 60
// decode steps after a 40-token prefill, the configurations alternated
// `--repeats` times and each one's best reported (a shared machine's speed drifts).
//   pnpm build && node packages/policy/bench/decode.bench.mjs [--batches 1,8,32,64,128] [--repeats 5]
import { parseArgs } from "node:util";
import { initBackend, setKernelPath, tf } from "@tokenrl/core";
import { createPolicy } from "../dist/index.js";
import { DEMO_MODEL_CONFIG } from "./demo-model.mjs";

const { values: args } = parseArgs({
  options: {
    batches: { type: "string", default: "1,8,32,64,128" },
    repeats: { type: "string", default: "5" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  process.stdout.write("usage: node bench/decode.bench.mjs [--batches 1,8,32,64,128] [--repeats 5]\n");
  process.exit(0);
}
await initBackend({ backend: "wasm", log: null });
const model = createPolicy(DEMO_MODEL_CONFIG, { seed: 1 });
const P = 40;
const T = 60;

/** ms per decode step at batch B (mask and positions passed, as @tokenrl/rollout does). */
function run(B) {
  const ids = tf.tensor2d(
    Array.from({ length: B * P }, (_, i) => 4 + (i % 30)),
    [B, P],
    "int32",
  );
  const pre = model.forward(ids, { cache: model.createCache(B, P + T), logits: "last" });
  ids.dispose();
  pre.logits.dispose();
  let cache = pre.cache;
  const t0 = performance.now();
  for (let t = 0; t < T; t++) {
    const S = cache.length + 1;
    const input = tf.tensor2d(new Int32Array(B).fill(5 + (t % 30)), [B, 1], "int32");
    const mask = tf.ones([B, S]);
    const positions = tf.tensor2d(new Int32Array(B).fill(S - 1), [B, 1], "int32");
    const out = model.forward(input, { cache, attentionMask: mask, positionIds: positions, logits: "last" });
    cache = out.cache;
    out.logits.dataSync();
    tf.dispose([input, mask, positions, out.logits]);
  }
  const ms = (performance.now() - t0) / T;
  cache.dispose();
  return ms;
}

const batches = args.batches.split(",").map(Number);
const repeats = Number(args.repeats);
const best = { host: {}, tensor: {} };
for (let r = 0; r <= repeats; r++)
  for (const path of ["host", "tensor"]) {
    setKernelPath(path === "host" ? "auto" : "tensor");
    for (const B of batches) {
      const ms = run(B);
      if (r > 0) best[path][B] = Math.min(best[path][B] ?? Number.POSITIVE_INFINITY, ms);
    }
  }
setKernelPath("auto");
console.log(`decode ms per step, best of ${repeats} (demo model, ${P}-token prompt, ${T} steps)`);
console.log(`batch      ${batches.map((B) => String(B).padStart(8)).join("")}`);
for (const path of ["host", "tensor"])
  console.log(`${path.padEnd(11)}${batches.map((B) => best[path][B].toFixed(2).padStart(8)).join("")}`);
console.log(`tensor/host${batches.map((B) => `${(best.tensor[B] / best.host[B]).toFixed(2)}x`.padStart(8)).join("")}`);
