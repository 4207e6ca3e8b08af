// The main job's step with 1 and with N policy workers, in this one process:
// the trainer's defaults (`pnpm demo`: arith-chain, the 64-wide 2-layer model,
// 16 prompts x G = 8 with dynamic sampling, HTPO, 2 mini-batches), run through
// `train()` itself. One shared warm-start (the demo's SFT, rl.steps 0), then
// the same RL steps from it with each worker count, and SFT steps from scratch
// with each. Same seeds, so every configuration samples the same tokens at the
// first RL step (checked below) and does the same work. Prints seconds per
// phase from the runs' own `timing_s/*` metrics and the ratios.
//
// The configurations run in lockstep (`beforeStep`): step k of each, in turn,
// then step k + 1, so that a shared machine's drift (tens of percent within a
// minute here) falls on all of them alike instead of on whichever ran in a
// slow minute.
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
// printed, are what this machine gives. Each repeat is a fresh set of runs.
//
// Each repeat is bracketed by probes of the machine's own 2-core scaling of
// the same kinds of work (`decodeHeadroom`, `trainHeadroom`: the demo model's
// decode steps and 32-row training passes, split over 2 bare threads): on a
// VM whose vCPUs share execution units and caches with neighbours these move
// from 1.0x to 2.0x within minutes, and a phase's ratio is read against them.
//
//   node apps/trainer/bench/workers.bench.mjs [--steps 10] [--warmup 2] [--sft-steps 12] [--warmstart-steps 120] [--workers 2] [--repeats 2] [--out DIR]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
// The pool's own bench folder holds the headroom probe (as packages/train/bench reads policy's bench model).
import { decodeHeadroom, headroom, trainHeadroom } from "../../../packages/train/bench/headroom.mjs";
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
      "  The configurations take turns step by step (the machine's drift falls on all alike). --repeats R (default 2)\n" +
      "  runs fresh sets R times; the means and ratios are over every timed step, with the median of the same-step\n" +
      "  ratios, then a projection to 4-16 cores. Before and after each repeat's RL runs it probes the machine's own\n" +
      "  ceiling for the same kinds of work (decode steps and 32-row training passes of the demo's model, 2 threads\n" +
      "  against 1), printed beside that repeat's ratios. --keep leaves the run folders.\n",
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
const x = (v) => `${v.toFixed(2)}x`;
const quiet = { eval: { examples: 0, every: 0 }, checkpoint: { every: 0, keepLast: 1 } };

async function run(name, layers, options = {}) {
  const out = join(root, name);
  const config = resolveConfig(...layers, { out });
  const t0 = performance.now();
  await train(config, { progress: false, ...options });
  return { out, wall: (performance.now() - t0) / 1000 };
}

/**
 * Runs the given runs' steps in turn, one step at a time across all of them
 * (run 0's step k, run 1's step k, ..., then step k + 1): `train()` awaits
 * `beforeStep`, and a run's gate opens only when every other live run waits at
 * its own. This machine's speed drifts by tens of percent within a minute (the
 * same 200 ms decode unit ran 169-294 ms from one unit to the next); run one after another, a
 * configuration's 10 steps met a different minute from the next one's, and the
 * ratios moved with it. Taking turns, step k of every configuration falls in
 * the same few seconds, and each does the same work at step k (same seeds).
 */
async function lockstep(specs, first = 0) {
  const waiting = new Map();
  const live = new Set(specs.map((_, i) => i));
  let next = first % specs.length;
  const release = () => {
    if (live.size === 0 || [...live].some((i) => !waiting.has(i))) return;
    let i = next;
    while (!live.has(i)) i = (i + 1) % specs.length;
    next = (i + 1) % specs.length;
    const open = waiting.get(i);
    waiting.delete(i);
    open();
  };
  // Every run ends (and closes its pool) before a failure is thrown: a failed run leaves the turns to the rest.
  const settled = await Promise.allSettled(
    specs.map(async ({ name, layers, options }, i) => {
      try {
        return await run(name, layers, {
          ...options,
          beforeStep: () =>
            new Promise((resolve) => {
              waiting.set(i, resolve);
              release();
            }),
        });
      } finally {
        live.delete(i);
        release();
      }
    }),
  );
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((r) => r.value);
}

const h0 = await headroom();
const d0 = await decodeHeadroom();
const t0 = await trainHeadroom();
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}; parallel headroom ${h0.toFixed(2)}x (2 threads of pure JS vs 1; 2.0 = 2 idle cores), ` +
    `${d0.toFixed(2)}x for decode work (batch-64 decode steps split over 2 threads: a split rollout's ceiling), ` +
    `${t0.toFixed(2)}x for training work (32-row forward and backward passes: the data-parallel update's ceiling)`,
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

// Each repeat runs the three RL configurations (1, N, N one task at a time) in lockstep, then the two SFT
// ones, each from a fresh run (new worker threads). Means are over every timed step of every repeat; the
// ratios are of those means, and the median of the ratios of the same step in neighbouring seconds.
const PHASES = ["gen", "old_log_prob", "update"];
const EXCLUSIVE = `${N}x1`;
// The configurations that run their tasks concurrently (and take SFT steps), then all three.
const CONCURRENT = ["1", String(N)];
const KEYS = [...CONCURRENT, EXCLUSIVE];
const label = (key) =>
  key === EXCLUSIVE ? `${N} workers, one task at a time` : `${key} worker${key === "1" ? "" : "s"}`;
const workersOf = (key) => (key === EXCLUSIVE ? N : Number(key));
// Per configuration: the timed RL step records of every repeat (tagged with it), the SFT step times, and
// per repeat the exclusive run's means (its queued and overlapped phases).
const steps = Object.fromEntries(KEYS.map((k) => [k, []]));
const sftSteps = Object.fromEntries(CONCURRENT.map((k) => [k, []]));
const firsts = {};
const alone = [];
// Per repeat: the machine's ceilings for the rollout's and the update's work, probed just before and
// just after its RL runs (this machine's 2-core scaling of the same kind of work moves from minute to minute).
const ceilings = [];
const probeCeilings = async () => ({ decode: await decodeHeadroom(), train: await trainHeadroom() });
for (let rep = 0; rep < REPEATS; rep++) {
  const before = await probeCeilings();
  // Who goes first rotates with the repeat: no configuration always follows the same one.
  const rl = await lockstep(
    KEYS.map((key) => ({
      name: `rl-w${key}-r${rep}`,
      layers: [
        { model: { path: checkpoint }, sft: { steps: 0 }, rl: { steps: STEPS }, ...quiet, workers: workersOf(key) },
      ],
      options: { exclusiveWorkers: key === EXCLUSIVE },
    })),
    rep,
  );
  KEYS.forEach((key, i) => {
    const rs = records(rl[i].out, "rl");
    if (rep === 0) firsts[key] = rs[0];
    for (const r of rs.slice(WARMUP)) if (!r.skipped) steps[key].push({ ...r, rep });
  });
  const after = await probeCeilings();
  ceilings.push({ before, after });
  const of = (key) => steps[key].filter((r) => r.rep === rep);
  for (const key of KEYS)
    if (of(key).length === 0) {
      process.stderr.write(
        `workers bench: no timed RL step for ${label(key)}: every step after --warmup ${WARMUP} was skipped (dynamic sampling found no group with both right and wrong answers; a longer warm-start, --warmstart-steps, or more --steps)\n`,
      );
      process.exit(1);
    }
  const sft = await lockstep(
    CONCURRENT.map((key) => ({
      name: `sft-w${key}-r${rep}`,
      layers: [{ sft: { steps: SFT_STEPS }, rl: { steps: 0 }, ...quiet, workers: Number(key) }],
    })),
    rep,
  );
  CONCURRENT.forEach((key, i) => {
    for (const r of records(sft[i].out, "sft").slice(1))
      sftSteps[key].push({ step: r.step, rep, s: r["timing_s/step"] });
  });
  const m = (key, name) => mean(of(key).map((r) => r[name] ?? 0));
  const sftOf = (key) => mean(sftSteps[key].filter((r) => r.rep === rep).map((r) => r.s));
  for (const key of CONCURRENT)
    console.log(
      `repeat ${rep + 1}, ${label(key)}: rollout ${m(key, "timing_s/gen").toFixed(3)} s, old log-probs ${m(key, "timing_s/old_log_prob").toFixed(3)}, update ${m(key, "timing_s/update").toFixed(3)}, RL step ${m(key, "timing_s/step").toFixed(3)}, SFT step ${sftOf(key).toFixed(3)}`,
    );
  const ratio = (name) => m("1", name) / m(String(N), name);
  const c = ceilings[rep];
  console.log(
    `repeat ${rep + 1}, against the machine's ceiling in the same minutes (before / after the RL runs): ` +
      `rollout ${x(ratio("timing_s/gen"))} of ${x(c.before.decode)} / ${x(c.after.decode)} for decode work, ` +
      `update ${x(ratio("timing_s/update"))} of ${x(c.before.train)} / ${x(c.after.train)} for training work, ` +
      `RL step ${x(ratio("timing_s/step"))}`,
  );
  // With the tasks of each fan-out overlapped instead of queued: only the slowest counts.
  const phase = (k) => m(EXCLUSIVE, `timing_s/${k}`);
  const busy = (k) => m(EXCLUSIVE, `workers/busy_s/${k}`);
  const critical = (k) => m(EXCLUSIVE, `workers/critical_s/${k}`);
  const overlapped = (k) => phase(k) - busy(k) + critical(k);
  const r = {
    ...Object.fromEntries(PHASES.map((k) => [k, overlapped(k)])),
    // The step's other parts (rewards, advantages, bookkeeping) ran on the main thread either way.
    step: phase("step") - PHASES.reduce((acc, k) => acc + phase(k) - overlapped(k), 0),
    busy: Object.fromEntries(PHASES.map((k) => [k, busy(k)])),
    critical: Object.fromEntries(PHASES.map((k) => [k, critical(k)])),
    wall: Object.fromEntries(PHASES.map((k) => [k, phase(k)])),
    stepWall: phase("step"),
    concurrentBusy: Object.fromEntries(PHASES.map((k) => [k, m(String(N), `workers/busy_s/${k}`)])),
  };
  alone.push(r);
  console.log(
    `repeat ${rep + 1}, ${label(EXCLUSIVE)}: as if overlapped on cores that do not slow each other: rollout ${r.gen.toFixed(3)} s, old log-probs ${r.old_log_prob.toFixed(3)}, update ${r.update.toFixed(3)}, RL step ${r.step.toFixed(3)}`,
  );
}

// Same seed, same starting weights: the first RL step samples the same tokens with any worker count.
const same = ["response_length/mean", "critic/score/mean", "perf/total_num_tokens"].every(
  (k) => firsts["1"][k] === firsts[String(N)][k] && firsts["1"][k] === firsts[EXCLUSIVE][k],
);
console.log(
  `first RL step, 1 vs ${N} workers (concurrent and one task at a time): ${same ? "the same tokens (length, score, token count)" : "DIFFERENT tokens"}`,
);
const COLUMNS = [
  ["rollout", "timing_s/gen"],
  ["old log-probs", "timing_s/old_log_prob"],
  ["update", "timing_s/update"],
  ["RL step", "timing_s/step"],
];
const meanOf = (key, name) => mean(steps[key].map((r) => r[name] ?? 0));
const sftMean = (key) => mean(sftSteps[key].map((r) => r.s));
const f = (v) => v.toFixed(3).padStart(8);
console.log(
  `\nseconds per step (mean of ${steps["1"].length} RL and ${sftSteps["1"].length} SFT steps)   rollout  old-logp   update  RL step      SFT   tokens/step`,
);
for (const key of CONCURRENT)
  console.log(
    `${label(key).padEnd(50)}${COLUMNS.map(([, name]) => f(meanOf(key, name))).join("")}${f(sftMean(key))}   ${meanOf(key, "perf/total_num_tokens").toFixed(0)}`,
  );
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
console.log(
  `${N} workers / 1, ratio of the means: ${COLUMNS.map(([title, name]) => `${title} ${x(meanOf("1", name) / meanOf(String(N), name))}`).join(", ")}, SFT step ${x(sftMean("1") / sftMean(String(N)))}`,
);
// The same step of the same repeat, run seconds apart: the drift of the machine cancels in each ratio.
const sameStepRatios = (one, many, value) => {
  const byStep = new Map(many.map((r) => [`${r.rep}/${r.step}`, r]));
  return one
    .flatMap((r) => {
      const o = byStep.get(`${r.rep}/${r.step}`);
      return o ? [value(r) / value(o)] : [];
    })
    .filter(Number.isFinite);
};
const rlRatios = COLUMNS.map(([title, name]) => [title, sameStepRatios(steps["1"], steps[N], (r) => r[name])]);
const sftRatios = sameStepRatios(sftSteps["1"], sftSteps[N], (r) => r.s);
console.log(
  `${N} workers / 1, median of the same-step ratios (${rlRatios.at(-1)[1].length} RL, ${sftRatios.length} SFT): ${rlRatios.map(([title, rs]) => `${title} ${x(median(rs))}`).join(", ")}, SFT step ${x(median(sftRatios))}`,
);
// Within each exclusive run: the phase with its tasks queued (the work of 1 worker, plus the pool's own
// costs) against the same run's tasks overlapped, so no other minute of the machine enters.
const self = (k) => x(median(alone.map((r) => (k === "step" ? r.stepWall / r.step : r.wall[k] / r[k]))));
console.log(
  `${N} workers on cores that do not slow each other, an upper bound (one task at a time, overlapped against queued): rollout ${self("gen")}, old log-probs ${self("old_log_prob")}, update ${self("update")}, RL step ${self("step")}`,
);
console.log(
  `the machine's ceiling for the same work in the same minutes (2 threads against 1, median over the repeats' probes): ` +
    `decode work ${x(median(ceilings.flatMap((c) => [c.before.decode, c.after.decode])))}, ` +
    `training work ${x(median(ceilings.flatMap((c) => [c.before.train, c.after.train])))}`,
);
const slower = (k) => x(median(alone.map((r) => r.concurrentBusy[k] / r.busy[k])));
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
  const cells = NS.map((n) => x(median(alone.map((r) => project(r, n)[k]))).padStart(8)).join("");
  const detail =
    k === "step"
      ? ""
      : `   ${median(alone.map((r) => r.wall[k] - r.busy[k])).toFixed(3)}, ${median(
          alone.map((r) => r.busy[k]),
        ).toFixed(3)}, ${median(alone.map((r) => (N * r.critical[k]) / r.busy[k])).toFixed(2)}`;
  console.log(`${(k === "step" ? "RL step" : k).padEnd(16)}${cells}${detail}`);
}
console.log(
  `parallel headroom at the end ${(await headroom()).toFixed(2)}x, ${(await decodeHeadroom()).toFixed(2)}x for decode work, ${(await trainHeadroom()).toFixed(2)}x for training work`,
);
if (!args.keep && !args.out) rmSync(root, { recursive: true, force: true });
else console.log(`run folders: ${root}`);
