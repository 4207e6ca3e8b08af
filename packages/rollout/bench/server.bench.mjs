// The completions server under 64 concurrent requests: throughput with requests batched into the
// engine (default scheduler) against one row per generate call (how a server without batching serves),
// and /health latency while they run. Run after building: node bench/server.bench.mjs
import { initBackend } from "@tokenrl/core";
import { CharTokenizer, createPolicy } from "@tokenrl/policy";
import { createCompletionsServer } from "../dist/node.js";
import { BENCH_MODEL_CONFIG } from "./model.mjs";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 64);
const MAX_TOKENS = Number(process.env.BENCH_MAX_TOKENS ?? 32);

await initBackend({ log: null });
// A character tokenizer as large as the model's vocabulary: printable ASCII, then CJK characters.
const ascii = `\n\t${Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("")}`;
const cjk = Array.from({ length: BENCH_MODEL_CONFIG.vocabSize - 4 - ascii.length }, (_, i) =>
  String.fromCharCode(0x4e00 + i),
).join("");
const tokenizer = new CharTokenizer(ascii + cjk);
const model = createPolicy(BENCH_MODEL_CONFIG, { seed: 1 });

async function run(label, options) {
  const server = createCompletionsServer({ model, tokenizer, ...options });
  const url = await server.listen();
  const health = [];
  let running = true;
  const probe = (async () => {
    while (running) {
      const t = performance.now();
      await fetch(`${url}/health`).then((r) => r.json());
      health.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const started = performance.now();
  const answers = await Promise.all(
    Array.from({ length: REQUESTS }, (_, i) =>
      fetch(`${url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          prompt: `question ${String(i).padStart(4, "0")}:`,
          max_tokens: MAX_TOKENS,
          ignore_eos: true,
          seed: i,
        }),
      }).then((r) => r.json()),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  running = false;
  await probe;
  const tokens = answers.reduce((n, a) => n + a.usage.completion_tokens, 0);
  health.sort((a, b) => a - b);
  const stats = server.stats();
  await server.close();
  console.log(
    `${label}: ${REQUESTS} requests x ${MAX_TOKENS} tokens in ${seconds.toFixed(1)} s = ${(tokens / seconds).toFixed(1)} tokens/s; ` +
      `${stats.batches} batches (largest ${stats.largestBatchRows} rows); /health p50 ${health[Math.floor(health.length / 2)].toFixed(0)} ms, max ${health[health.length - 1].toFixed(0)} ms (${health.length} probes)`,
  );
}

await run("batched (default)", {});
await run("one row per call", { maxBatchRows: 1, maxConcurrentBatches: 1 });
model.dispose();
