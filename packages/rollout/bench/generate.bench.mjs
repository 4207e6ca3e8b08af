// Generation throughput of @tokenrl/rollout on a ~10M-parameter policy.
//   pnpm --filter @tokenrl/rollout bench        (build first: pnpm turbo run build --filter @tokenrl/rollout...)
// Env: TOKENRL_BACKEND (default: the first that loads, wasm here), BENCH_QUICK=1 for a short smoke run,
// BENCH_SKIP_NOCACHE=1 to skip the (slow) full-recompute comparison.
import { initBackend, tf } from "@tokenrl/core";
import { createPolicy, parameterCount } from "@tokenrl/policy";
import { BENCH_MODEL_CONFIG as config } from "./model.mjs";
import { generate } from "../dist/index.js";

const quick = process.env.BENCH_QUICK === "1";
const info = await initBackend({ log: null });
const model = createPolicy(config, { seed: 0 });
const params = parameterCount(config);
const out = (line) => process.stdout.write(`${line}\n`);
out(
  `backend ${info.name} (${info.threads} thread${info.threads === 1 ? "" : "s"}); policy ${(params / 1e6).toFixed(2)}M parameters (H ${config.hiddenSize}, ${config.numLayers} layers, V ${config.vocabSize}, GQA ${config.numHeads}/${config.numKvHeads})`,
);

function matmulGflops(m, k, n, reps) {
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  tf.matMul(a, b).dataSync(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  }
  const s = (performance.now() - t0) / 1000;
  tf.dispose([a, b]);
  return (2 * m * k * n * reps) / s / 1e9;
}

const H = config.hiddenSize;
const D = config.headDim;
// Matmul FLOPs per token: 2 x (q/k/v/o + MLP weights per layer + LM head); attention adds 4 x layers x heads x D x context.
const weightFlops =
  2 *
  (config.numLayers *
    (H * (config.numHeads + 2 * config.numKvHeads) * D + config.numHeads * D * H + 3 * H * config.intermediateSize) +
    H * config.vocabSize);
const attnFlops = (ctx) => 4 * config.numLayers * config.numHeads * D * ctx;

function prompts(batch, len) {
  return Array.from({ length: batch }, (_, b) =>
    Array.from({ length: len }, (_, j) => 4 + ((b * 31 + j * 7) % (config.vocabSize - 4))),
  );
}

async function timeGenerate(batch, promptLen, newTokens, useCache) {
  const ps = prompts(batch, promptLen);
  await generate(model, ps, { maxTokens: 2, ignoreEos: true, useCache }); // warm-up (kernels, shapes)
  const t0 = performance.now();
  const r = await generate(model, ps, { maxTokens: newTokens, ignoreEos: true, seed: 1, useCache, topP: 0.95 });
  const s = (performance.now() - t0) / 1000;
  const tokens = r.stats.generatedTokens;
  // Context of new token t is promptLen + t; average over the run.
  const avgCtx = promptLen + (newTokens - 1) / 2;
  const flops =
    tokens * (weightFlops + attnFlops(avgCtx)) + batch * promptLen * (weightFlops + attnFlops(promptLen / 2));
  return {
    s,
    tokens,
    tps: tokens / s,
    gflops: flops / s / 1e9,
    prefillMs: r.stats.prefillMs,
    decodeMs: r.stats.decodeMs,
  };
}

const mm512 = matmulGflops(512, 512, 512, quick ? 3 : 10);
const mmDecode = matmulGflops(64, H, config.intermediateSize, quick ? 20 : 100);
out(
  `tf.matMul: 512x512x512 ${mm512.toFixed(1)} GFLOP/s; 64x${H}x${config.intermediateSize} (a batch-64 decode MLP shape) ${mmDecode.toFixed(1)} GFLOP/s`,
);

for (const batch of [1, 64]) {
  const newTokens = quick ? 32 : batch === 1 ? 128 : 64;
  const r = await timeGenerate(batch, 16, newTokens, true);
  out(
    `generate batch ${batch}, prompt 16, ${newTokens} new tokens, KV cache: ${r.tps.toFixed(1)} tokens/s (${r.s.toFixed(2)} s; prefill ${r.prefillMs.toFixed(0)} ms), ${r.gflops.toFixed(2)} GFLOP/s achieved`,
  );
}

const long = quick ? 64 : 256;
if (process.env.BENCH_SKIP_NOCACHE === "1") {
  model.dispose();
  process.exit(0);
}
const cached = await timeGenerate(1, 16, long, true);
const uncached = await timeGenerate(1, 16, long, false);
out(
  `batch 1, ${long} new tokens: KV cache ${cached.s.toFixed(2)} s, full recompute ${uncached.s.toFixed(2)} s: speed-up ${(uncached.s / cached.s).toFixed(1)}x`,
);
model.dispose();
