// Throughput of @tokenrl/reward-math: verifications per second with a worker
// pool over all cores (pairs sent one at a time per worker, and pipelined as by
// default), and single-threaded verifySync for reference, on two sets: the
// vendored Math-Verify fixture pairs (MATH-style answers) and short answers as
// the arith-chain task's responses give them (a derivation, then \boxed{n}),
// where a verification costs about what a message round trip does.
// Needs a build (pnpm build). Usage: pnpm bench [-- --rounds N]
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { VerifierPool, verifySync } from "../dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const file = join(here, "../test/fixtures/math-verify/pairs.jsonl");
if (!existsSync(file)) {
  console.error(`benchmark: ${file} not found`);
  process.exit(1);
}
const roundsArg = process.argv.indexOf("--rounds");
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 20;
const fixture = readFileSync(file, "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l));
// 256 arith-chain-like answers (one RL step's verifications): "a:3+4=7 b:7-2=5 \boxed{5}" against a gold n.
const short = Array.from({ length: 256 }, (_, i) => {
  const a = i % 9;
  const b = (i * 7) % 9;
  const c = a + b;
  const gold = i % 3 === 0 ? c : c + 1;
  return { gold: `\\boxed{${gold}}`, prediction: `a:${a}+${b}=${c} b:${c}-1=${c - 1} \\boxed{${c}}` };
});

const cores = availableParallelism();

function syncRate(pairs) {
  for (const p of pairs.slice(0, 32)) verifySync(p.gold, p.prediction); // warm
  const t = performance.now();
  for (const p of pairs) verifySync(p.gold, p.prediction);
  return pairs.length / ((performance.now() - t) / 1000);
}

/** `batches` one after another through a pool warmed on `pairs`: the fixture as one batch, the short set as one batch per RL step. */
async function poolRate(pairs, pipelineDepth, batches) {
  const pool = new VerifierPool({ concurrency: cores, timeoutMs: 5000, pipelineDepth });
  try {
    await pool.verifyBatch(pairs.slice(0, cores * 8)); // start and warm the workers
    let timeouts = 0;
    const t = performance.now();
    for (const batch of batches)
      timeouts += (await pool.verifyBatch(batch)).filter((r) => r.error === "timeout").length;
    const secs = (performance.now() - t) / 1000;
    return {
      perSec: Math.round(batches.reduce((n, b) => n + b.length, 0) / secs),
      seconds: Number(secs.toFixed(3)),
      timeouts,
    };
  } finally {
    await pool.close();
  }
}

const sets = {
  mathVerifyFixture: { pairs: fixture, batches: [Array.from({ length: rounds }, () => fixture).flat()] },
  arithChainShort: { pairs: short, batches: Array.from({ length: rounds }, () => short) },
};
const out = { cores, node: process.version, rounds };
for (const [name, { pairs, batches }] of Object.entries(sets)) {
  out[name] = {
    pairs: batches.reduce((n, b) => n + b.length, 0),
    syncVerificationsPerSec: Math.round(syncRate(pairs)),
    poolOneAtATime: await poolRate(pairs, 1, batches),
    poolPipelined: await poolRate(pairs, undefined, batches),
  };
}
console.log(JSON.stringify(out, null, 2));
