// Core benchmark: the machine's tensor limits (matmul GFLOP/s per backend) and
// loss aggregation throughput at B x T = 64 x 2048. Run: pnpm --filter @tokenrl/core bench
import { AGGREGATION_MODES, aggregateLoss, tf, useBackend } from "../dist/index.js";

// Not tf.tidy(() => t.dataSync()): tidy walks a returned typed array element
// by element looking for tensors, which costs more than a 512 matmul.
function readAndDispose(t) {
  t.dataSync();
  t.dispose();
}

function timeIt(fn, { warmup = 3, minMs = 1500 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    fn();
    n++;
  }
  return (performance.now() - t0) / n;
}

const backends = (process.env.TOKENRL_BENCH_BACKENDS ?? "wasm,cpu").split(",");
const rows = [];
for (const backend of backends) {
  await useBackend(backend);
  for (const n of backend === "cpu" ? [256] : [256, 512, 1024]) {
    const a = tf.randomNormal([n, n]);
    const b = tf.randomNormal([n, n]);
    const ms = timeIt(() => readAndDispose(tf.matMul(a, b)), { minMs: 1000 });
    rows.push({ backend, what: `matmul ${n}x${n}x${n}`, value: (2 * n ** 3) / ms / 1e6, unit: "GFLOP/s" });
    tf.dispose([a, b]);
  }
  const [B, T] = [64, 2048];
  const loss = tf.randomNormal([B, T]);
  const mask = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([B, T]), 0.2), "float32"));
  for (const mode of AGGREGATION_MODES) {
    const ms = timeIt(() => readAndDispose(aggregateLoss(loss, mask, mode)), {
      minMs: backend === "cpu" ? 500 : 1000,
    });
    rows.push({ backend, what: `aggregate ${mode} ${B}x${T}`, value: (B * T) / ms / 1e3, unit: "M tokens/s" });
  }
  tf.dispose([loss, mask]);
}
console.log("| backend | what | throughput |\n|---|---|---|");
for (const r of rows) console.log(`| ${r.backend} | ${r.what} | ${r.value.toFixed(2)} ${r.unit} |`);
