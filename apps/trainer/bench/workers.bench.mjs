// The main job's step with 1 and with N policy workers, in this one process:
// the trainer's defaults (`pnpm demo`: arith-chain, the 64-wide 2-layer model,
// 16 prompts x G = 8 with dynamic sampling, HTPO, 2 mini-batches), run through
// `train()` itself. One shared warm-start (the demo's SFT, rl.steps 0), then
// the same RL steps from it with each worker count, and SFT steps from scratch
// with each. Same seeds, so every configuration samples the same tokens at the
// first RL step (checked below) and does the same work. Prints seconds per
// phase from the runs' own `timing_s/*` metrics and the ratios.
//
// The first --warmup steps of each run are left out: a run's workers are new
// threads that compile everything again (their first two RL steps ran 1.3-2x
// the later ones), while the in-process configuration runs on this thread,
// already warm from the runs before it; leaving out only one step charged the
// pool its warm-up and measured rollout at 1.00x where the steps after it ran 1.2x.
//
// A third configuration runs the N workers one task at a time (`exclusive`):
// each task's time is then its cost with no other worker running, and a phase's
// time with the tasks overlapped is its wall time minus the non-slowest tasks
// (`workers/busy_s` - `workers/critical_s`). Queued against overlapped, within
// that one run, is an upper bound of the design's speed-up on N cores that do
// not slow each other (the one running worker's V8 helper threads still have a
// free core); the concurrent run's tasks, each slower than alone by the factor
// printed, are what this machine gives. Each repeat runs 1 worker, N workers,
// then N one task at a time; the medians are of ratios within a repeat.
//
//   node apps/trainer/bench/workers.bench.mjs [--steps 10] [--warmup 2] [--sft-steps 12] [--warmstart-steps 120] [--workers 2] [--repeats 2] [--out DIR]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
// The pool's own bench folder holds the headroom probe (as packages/train/bench reads policy's bench model).
import { decodeHeadroom, headroom } from "../../../packages/train/bench/headroom.mjs";
import { DEFAULT_CONFIG, resolveConfig, train } from "../dist/index.js";

const { values: args } = parseArgs({
  options: {
    steps: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    "sft-steps": { type: "string", default: "12" },
    "warmstart-steps": { type: "string" },
    workers: { type: "string", default: String(Math.max(2, availableParallelism())) },
    repeats: { type: "string", default: "2" },
    out: { type: "string" },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  process.stdout.write(
    "usage: node apps/trainer/bench/workers.bench.mjs [--steps N] [--warmup N] [--sft-steps N] [--warmstart-steps N] [--workers N] [--repeats R] [--out DIR] [--keep]\n" +
      "  the main job's RL step (rollout, old log-probs, update) and SFT step with 1 and N workers, in one process;\n" +
      "  the first --warmup steps of each run (default 2; SFT: 1) are left out of the means (new worker threads compile\n" +
      "  everything again, this thread is already warm). A third run has the N workers take one task at a time: the\n" +
      "  speed-up on cores that do not slow each other, and how much slower each task ran concurrently here.\n" +
      "  --repeats R runs the three in turn R times (default 2) and reports each one's best mean and the medians\n" +
      "  of the ratios within a repeat, then a projection to 4-16 cores. --keep leaves the run folders.\n",
  );
  process.exit(0);
}
const STEPS = Number(args.steps);
const WARMUP = Number(args.warmup);
if (!Number.isInteger(WARMUP) || WARMUP < 0 || WARMUP >= STEPS) {
  process.stderr.write(`--warmup: an integer from 0 to --steps - 1 (${STEPS - 1}), got ${args.warmup}\n`);
  process.exit(2);
}
const SFT_STEPS = Number(args["sft-steps"]);
const N = Number(args.workers);
if (!Number.isInteger(N) || N < 2) {
  process.stderr.write(`--workers: an integer >= 2 (compared with 1 worker), got ${args.workers}\n`);
  process.exit(2);
}
const REPEATS = Number(args.repeats);
const root = args.out ?? mkdtempSync(join(tmpdir(), "tokenrl-workers-bench-"));

const records = (out, phase) =>
  readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((r) => r.phase === phase);
const mean = (xs) => xs.reduce((a, x) => a + x, 0) / xs.length;
const quiet = { eval: { examples: 0, every: 0 }, checkpoint: { every: 0, keepLast: 1 } };

async function run(name, layers, options = {}) {
  const out = join(root, name);
  const config = resolveConfig(...layers, { out });
  const t0 = performance.now();
  await train(config, { progress: false, ...options });
  return { out, wall: (performance.now() - t0) / 1000 };
}

const h0 = await headroom();
const d0 = await decodeHeadroom();
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}; parallel headroom ${h0.toFixed(2)}x (2 threads of pure JS vs 1; 2.0 = 2 idle cores), ` +
    `${d0.toFixed(2)}x for decode work (batch-64 decode steps split over 2 threads: a split rollout's ceiling)`,
);
const d = DEFAULT_CONFIG;
console.log(
  `main job: ${d.task.name}, model ${d.model.hiddenSize} x ${d.model.numLayers} layers, ${d.rl.promptsPerStep} prompts x G = ${d.rl.groupSize}, ` +
    `up to ${d.rl.maxGenerationBatches} generation batches, ${d.rl.miniBatches} mini-batches, preset ${d.preset}; ` +
    `${STEPS} RL steps and ${SFT_STEPS} SFT steps per worker count, the first ${WARMUP} RL step(s) and first SFT step of each left out`,
);

// One warm-start for every RL measurement: the demo's SFT (its weights are what RL starts from in `pnpm demo`).
const wsSteps = args["warmstart-steps"] !== undefined ? Number(args["warmstart-steps"]) : d.sft.steps;
const ws = await run("warmstart", [{ sft: { steps: wsSteps }, rl: { steps: 0 }, ...quiet, workers: N }]);
const latest = readFileSync(join(ws.out, "checkpoints", "latest_checkpointed_iteration.txt"), "utf8").trim();
const checkpoint = join(ws.out, "checkpoints", latest);
console.log(`warm-start: ${wsSteps} SFT steps with ${N} workers in ${ws.wall.toFixed(1)} s`);

// Repeats in turn (1, N, N one at a time, 1, ...): a shared machine's spare capacity drifts; the best mean
// of each configuration is the least disturbed one, and ratios within a repeat compare neighbouring minutes.
// Every repeat's numbers are printed too.
const PHASES = ["gen", "old_log_prob", "update"];
const EXCLUSIVE = `${N}x1`;
const all = { 1: [], [N]: [], [EXCLUSIVE]: [] };
const label = (key) =>
  key === EXCLUSIVE ? `${N} workers, one task at a time` : `${key} worker${key === "1" ? "" : "s"}`;
for (let rep = 0; rep < REPEATS; rep++) {
  for (const key of ["1", String(N), EXCLUSIVE]) {
    const exclusive = key === EXCLUSIVE;
    const workers = exclusive ? N : Number(key);
    const rl = await run(
      `rl-w${key}-r${rep}`,
      [{ model: { path: checkpoint }, sft: { steps: 0 }, rl: { steps: STEPS }, ...quiet, workers }],
      { exclusiveWorkers: exclusive },
    );
    const steps = records(rl.out, "rl");
    const timed = steps.slice(WARMUP).filter((r) => !r.skipped);
    const metric = (name) => mean(timed.map((r) => r[name] ?? 0));
    const phase = (k) => metric(`timing_s/${k}`);
    const busy = (k) => metric(`workers/busy_s/${k}`);
    const critical = (k) => metric(`workers/critical_s/${k}`);
    // With the tasks of each fan-out overlapped instead of queued: only the slowest counts.
    const overlapped = (k) => phase(k) - busy(k) + critical(k);
    if (exclusive) {
      const r = {
        gen: overlapped("gen"),
        oldLogProb: overlapped("old_log_prob"),
        update: overlapped("update"),
        // The step's other parts (rewards, advantages, bookkeeping) ran on the main thread either way.
        step: phase("step") - PHASES.reduce((a, k) => a + phase(k) - overlapped(k), 0),
        busy: Object.fromEntries(PHASES.map((k) => [k, busy(k)])),
        critical: Object.fromEntries(PHASES.map((k) => [k, critical(k)])),
        wall: Object.fromEntries(PHASES.map((k) => [k, phase(k)])),
        stepWall: phase("step"),
        first: steps[0],
      };
      all[key].push(r);
      console.log(
        `repeat ${rep + 1}, ${label(key)}: as if overlapped on cores that do not slow each other: rollout ${r.gen.toFixed(3)} s, old log-probs ${r.oldLogProb.toFixed(3)}, update ${r.update.toFixed(3)}, RL step ${r.step.toFixed(3)}`,
      );
      continue;
    }
    const sft = await run(`sft-w${key}-r${rep}`, [{ sft: { steps: SFT_STEPS }, rl: { steps: 0 }, ...quiet, workers }]);
    const r = {
      sft: mean(
        records(sft.out, "sft")
          .slice(1)
          .map((x) => x["timing_s/step"]),
      ),
      gen: phase("gen"),
      reward: phase("reward"),
      oldLogProb: phase("old_log_prob"),
      update: phase("update"),
      step: phase("step"),
      tokens: mean(timed.map((x) => x["perf/total_num_tokens"] ?? 0)),
      busy: Object.fromEntries(PHASES.map((k) => [k, busy(k)])),
      first: steps[0],
    };
    all[key].push(r);
    console.log(
      `repeat ${rep + 1}, ${label(key)}: rollout ${r.gen.toFixed(3)} s, old log-probs ${r.oldLogProb.toFixed(3)}, update ${r.update.toFixed(3)}, RL step ${r.step.toFixed(3)}, SFT step ${r.sft.toFixed(3)}`,
    );
  }
}
const best = (rs) => ({
  ...Object.fromEntries(
    ["sft", "gen", "reward", "oldLogProb", "update", "step"]
      .filter((k) => rs[0][k] !== undefined)
      .map((k) => [k, Math.min(...rs.map((r) => r[k]))]),
  ),
  busy: Object.fromEntries(PHASES.map((k) => [k, Math.min(...rs.map((r) => r.busy[k]))])),
  tokens: rs[0].tokens,
  first: rs[0].first,
});
const results = { 1: best(all[1]), [N]: best(all[N]) };
const alone = all[EXCLUSIVE][0];

const one = results[1];
const many = results[N];
// Same seed, same starting weights: the first RL step samples the same tokens with any worker count.
const same = ["response_length/mean", "critic/score/mean", "perf/total_num_tokens"].every(
  (k) => one.first[k] === many.first[k] && one.first[k] === alone.first[k],
);
console.log(
  `first RL step, 1 vs ${N} workers (concurrent and one task at a time): ${same ? "the same tokens (length, score, token count)" : "DIFFERENT tokens"}`,
);
const f = (x) => x.toFixed(3).padStart(8);
console.log(
  `\nseconds per step (best of ${REPEATS} repeats of the mean)   rollout  old-logp   update  RL step      SFT   tokens/step`,
);
for (const [w, r] of Object.entries(results))
  console.log(
    `${`${w} worker${w === "1" ? "" : "s"}`.padEnd(50)}${f(r.gen)}${f(r.oldLogProb)}${f(r.update)}${f(r.step)}${f(r.sft)}   ${r.tokens.toFixed(0)}`,
  );
const ratio = (k) => `${(one[k] / many[k]).toFixed(2)}x`;
console.log(
  `${N} workers / 1: rollout ${ratio("gen")}, old log-probs ${ratio("oldLogProb")}, update ${ratio("update")}, RL step ${ratio("step")}, SFT step ${ratio("sft")}`,
);
// Medians over the repeats of ratios within a repeat (runs minutes apart, not the bests of different minutes).
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const KEYS = { gen: "gen", old_log_prob: "oldLogProb", update: "update" };
const x = (v) => `${v.toFixed(2)}x`;
const paired = (k) => x(median(all[1].map((r, i) => r[k] / all[N][i][k])));
console.log(
  `${N} workers / 1, median of the ${REPEATS} repeats' ratios: rollout ${paired("gen")}, old log-probs ${paired("oldLogProb")}, update ${paired("update")}, RL step ${paired("step")}, SFT step ${paired("sft")}`,
);
// Within each exclusive run: the phase with its tasks queued (the work of 1 worker, plus the pool's own
// costs) against the same run's tasks overlapped, so no other minute of the machine enters.
const self = (k) => x(median(all[EXCLUSIVE].map((r) => (k === "step" ? r.stepWall / r.step : r.wall[k] / r[KEYS[k]]))));
console.log(
  `${N} workers on cores that do not slow each other, an upper bound (one task at a time, overlapped against queued): rollout ${self("gen")}, old log-probs ${self("old_log_prob")}, update ${self("update")}, RL step ${self("step")}`,
);
const slower = (k) => x(median(all[N].map((r, i) => r.busy[k] / all[EXCLUSIVE][i].busy[k])));
console.log(
  `each worker task's time, ${N} at once / alone (this machine's cores slowing each other): rollout ${slower("gen")}, old log-probs ${slower("old_log_prob")}, update ${slower("update")}`,
);
// How it goes to more cores, from each exclusive run: a phase is the main thread's own time
// (wall - busy: batching, publishing weights, merging results) plus the workers' work (busy, the
// weights' reload in each task included), which n workers share as evenly as the N did
// (slowest / mean = N x critical / busy); the rest of the step (rewards, advantages) stays on the main thread.
const project = (r, n) => {
  const at = (k) => r.wall[k] - r.busy[k] + (N * r.critical[k]) / n;
  const other = r.stepWall - PHASES.reduce((a, k) => a + r.wall[k], 0);
  return {
    ...Object.fromEntries(PHASES.map((k) => [k, r.wall[k] / at(k)])),
    step: r.stepWall / (other + PHASES.reduce((a, k) => a + at(k), 0)),
  };
};
const NS = [...new Set([N, 4, 8, 16])].sort((a, b) => a - b);
console.log(
  `\nprojected speed-up on n cores that do not slow each other, an upper bound (median over the exclusive runs; main thread + ${N} x slowest task / n):`,
);
console.log(
  `${"".padEnd(16)}${NS.map((n) => `n=${n}`.padStart(8)).join("")}   main thread s, workers' work s, slowest task / mean`,
);
for (const k of [...PHASES, "step"]) {
  const cells = NS.map((n) => x(median(all[EXCLUSIVE].map((r) => project(r, n)[k]))).padStart(8)).join("");
  const detail =
    k === "step"
      ? ""
      : `   ${median(all[EXCLUSIVE].map((r) => r.wall[k] - r.busy[k])).toFixed(3)}, ${median(
          all[EXCLUSIVE].map((r) => r.busy[k]),
        ).toFixed(3)}, ${median(all[EXCLUSIVE].map((r) => (N * r.critical[k]) / r.busy[k])).toFixed(2)}`;
  console.log(`${(k === "step" ? "RL step" : k).padEnd(16)}${cells}${detail}`);
}
console.log(
  `parallel headroom at the end ${(await headroom()).toFixed(2)}x, ${(await decodeHeadroom()).toFixed(2)}x for decode work`,
);
if (!args.keep && !args.out) rmSync(root, { recursive: true, force: true });
else console.log(`run folders: ${root}`);
