// The main job's throughput: runs tokenrl-train with the defaults (the demo's
// config) into a fresh folder and prints RL steps/s, tokens/s and the time of
// every phase from its summary.json (or reads an existing run folder).
//
//   node apps/trainer/bench/main-job.mjs [--out DIR] [--steps N] [--workers N] [--read DIR]
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    steps: { type: "string" },
    workers: { type: "string" },
    read: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  process.stdout.write(
    "usage: node apps/trainer/bench/main-job.mjs [--out DIR] [--steps N] [--workers N] [--read RUN_DIR]\n",
  );
  process.exit(0);
}
let out = values.read;
const load = loadavg()[0];
if (!out) {
  out = values.out ?? join(tmpdir(), `tokenrl-main-job-${process.pid}`);
  const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
  const args = [cli, "--out", out, "--fresh", "--quiet"];
  if (values.steps) args.push("--steps", values.steps);
  if (values.workers) args.push("--workers", values.workers);
  const r = spawnSync(process.execPath, args, { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const s = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
const f = (x, d = 2) => (typeof x === "number" ? x.toFixed(d) : "n/a");
console.log(`run ${out} (load average at start ${load.toFixed(1)}; workers ${s.config.workers ?? "auto"})`);
console.log(
  `RL: ${s.steps.rl} steps, ${f(s.throughput.rlStepsPerSecond, 3)} steps/s, ${f(s.throughput.tokensPerSecond, 0)} tokens/s (prompt + response tokens trained on)`,
);
console.log(
  "seconds per phase:",
  Object.entries(s.timeS)
    .map(([k, v]) => `${k} ${f(v, 1)}`)
    .join(", "),
);
console.log(
  `held-out pass@1: start ${f(s.heldOut.start, 3)}, after warm-up ${f(s.heldOut.afterWarmup, 3)}, final ${f(s.heldOut.final, 3)}`,
);
