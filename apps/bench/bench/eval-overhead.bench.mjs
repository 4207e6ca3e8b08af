// The evaluator's own cost: `evaluate` of MATH-500 (n samples per problem) against a scripted
// OpenAI-compatible server that answers instantly, so the time is request handling, answer
// extraction and Math-Verify equivalence in the verifier pool, metrics and samples.jsonl.
// usage: node bench/eval-overhead.bench.mjs [--n 16] [--concurrency 8]
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { builtinBenchmarkPath, evaluate } from "../dist/index.js";

const { values } = parseArgs({ options: { n: { type: "string" }, concurrency: { type: "string" } } });
const n = Number(values.n ?? 16);
const concurrency = Number(values.concurrency ?? 8);
const problems = readFileSync(builtinBenchmarkPath("math500"), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l));

// Sample j of a problem is right when j is even: the gold LaTeX answer boxed in a short derivation.
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => {
    body += c;
  });
  req.on("end", () => {
    const r = JSON.parse(body);
    const p = problems.find((q) => r.prompt.startsWith(q.problem));
    const choices = Array.from({ length: r.n }, (_, j) => ({
      index: j,
      text: `We simplify step by step.\nSo the answer is $\\boxed{${j % 2 === 0 ? p.answer : `${j}+x`}}$.`,
      finish_reason: "stop",
    }));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ choices }));
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const out = mkdtempSync(join(tmpdir(), "eval-overhead-"));
const started = performance.now();
const { results } = await evaluate({
  benchmark: "math500",
  baseUrl: `http://127.0.0.1:${server.address().port}`,
  model: "scripted",
  n,
  ks: [1, 4, 16].filter((k) => k <= n),
  temperature: 0.6,
  topP: 0.95,
  seed: 0,
  concurrency,
  out,
  quiet: true,
});
const seconds = (performance.now() - started) / 1000;
server.close();
const samples = problems.length * n;
console.log(
  `MATH-500 x n=${n} (${samples} samples), concurrency ${concurrency}, ${availableParallelism()} cores: ` +
    `${seconds.toFixed(1)} s, ${(samples / seconds).toFixed(0)} samples/s; mean@${n} ${(results.metrics[`mean@${n}`] * 100).toFixed(1)}% (expected 50.0% if every gold answer verifies against itself)`,
);
