// Throughput of @tokenrl/reward-math on the Math-Verify fixture pairs: verifications
// per second with a worker pool over all cores, and single-threaded verifySync for
// reference. Needs a build (pnpm build); reads the vendored Math-Verify pairs.
// Usage: pnpm bench [-- --rounds N]
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
const pairs = readFileSync(file, "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l));
const work = Array.from({ length: rounds }, () => pairs).flat();

// Single thread, no timeout: the cost of the verifier itself.
let t = performance.now();
for (const p of pairs) verifySync(p.gold, p.prediction);
const syncRate = pairs.length / ((performance.now() - t) / 1000);

const cores = availableParallelism();
const pool = new VerifierPool({ concurrency: cores, timeoutMs: 5000 });
await pool.verifyBatch(pairs.slice(0, cores * 2)); // start and warm the workers
t = performance.now();
const results = await pool.verifyBatch(work);
const secs = (performance.now() - t) / 1000;
await pool.close();
const timeouts = results.filter((r) => r.error === "timeout").length;
console.log(
  JSON.stringify({
    pairs: work.length,
    cores,
    poolVerificationsPerSec: Math.round(work.length / secs),
    poolSeconds: Number(secs.toFixed(3)),
    syncVerificationsPerSec: Math.round(syncRate),
    timeouts,
    node: process.version,
  }),
);
