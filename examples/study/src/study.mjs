import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "@tokenrl/base/errors";
import { compare } from "@tokenrl/bench";
import { readMetricsJsonl, writeReport } from "@tokenrl/report/node";
import { createTask } from "@tokenrl/tasks";
import { ARMS, COMPARISONS, availableArms, recipeFile } from "./arms.mjs";
import { averageRuns, cellEntropies, cellShares, dynamicsCharts, hasCells } from "./dynamics.mjs";
import { resultsMarkdown } from "./markdown.mjs";
import { benchCli, readJson, readJsonl, runNode, trainerCli } from "./run.mjs";
import { armDifference, armStatistic, metricGrid, metricNames } from "./stats.mjs";
import { warmStartStatistics } from "./task-stats.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const BUDGETS_DIR = join(here, "..", "budgets");

/** The budget of the full study (budgets/full.json) or of `--quick` (budgets/quick.json), or a file. */
export function loadBudget({ quick = false, file } = {}) {
  const path = file ?? join(BUDGETS_DIR, quick ? "quick.json" : "full.json");
  if (!existsSync(path)) throw new ConfigError("--budget", `no budget file ${path}`);
  const b = JSON.parse(readFileSync(path, "utf8"));
  for (const key of ["seeds", "task", "warmStart", "train", "heldOut"])
    if (!(key in b)) throw new ConfigError(`${path}: ${key}`, "missing (see budgets/full.json)");
  return { ...b, file: path };
}

const json = (v) => JSON.stringify(v);
const minutes = (ms) => Math.round(ms / 600) / 100;

/** The checkpoint a trainer run ended with (verl's layout: checkpoints/<latest_checkpointed_iteration.txt>). */
function latestCheckpoint(runDir) {
  const latest = join(runDir, "checkpoints", "latest_checkpointed_iteration.txt");
  if (!existsSync(latest)) throw new ConfigError("warm-start", `${runDir} has no finished checkpoint (${latest})`);
  return join(runDir, "checkpoints", readFileSync(latest, "utf8").trim());
}

/** The held-out evaluation flags, the same for the warm-start as compare uses for every run. */
function evalArgs(model, benchmark, h, out) {
  const ks = Array.from({ length: h.n }, (_, i) => i + 1).join(",");
  return [
    benchCli(),
    "eval",
    "--model",
    model,
    "--benchmark",
    benchmark,
    "--limit",
    String(h.problems),
    "--n",
    String(h.n),
    "--k",
    ks,
    "--temperature",
    String(h.temperature),
    "--top-p",
    "1",
    "--seed",
    "0",
    "--concurrency",
    "1",
    "--no-chat-template",
    "--out",
    out,
    "--quiet",
  ];
}

/**
 * The shared warm-start: one supervised run on the task's reference
 * derivations (rl.steps 0), the policy every arm and seed starts RL from, as
 * every recipe in the papers starts from one base model. Then its held-out
 * evaluation (the RL starting point, sampled as every arm is) and the
 * per-token entropies of some of its samples.
 */
async function warmStart(out, budget, say) {
  const dir = join(out, "warmstart");
  mkdirSync(dir, { recursive: true });
  const log = join(dir, "study.log");
  const ws = budget.warmStart;
  if (!existsSync(join(dir, "summary.json"))) {
    say(`warm-start: ${ws.sft.steps} SFT steps x ${ws.sft.batchSize} on ${budget.task.name} (${dir})`);
    await runNode(
      [
        trainerCli(),
        "--out",
        dir,
        "--preset",
        "dapo",
        "--quiet",
        "--set",
        `seed=${ws.seed}`,
        "--set",
        `task=${json(budget.task)}`,
        "--set",
        `model=${json(ws.model)}`,
        "--set",
        `sft=${json(ws.sft)}`,
        "--set",
        "rl.steps=0",
        "--set",
        `eval=${json({ examples: 0, every: 0 })}`,
        "--set",
        `checkpoint=${json({ every: 0, keepLast: 1 })}`,
      ],
      log,
    );
  }
  const checkpoint = latestCheckpoint(dir);
  const evalDir = join(dir, "eval");
  if (!existsSync(join(evalDir, "results.json"))) {
    say(`warm-start: held-out evaluation (${budget.heldOut.problems} problems x n = ${budget.heldOut.n})`);
    await runNode(evalArgs(checkpoint, join(dir, "config.json"), budget.heldOut, evalDir), log);
  }
  const scoredPath = join(dir, "entropies.json");
  if (!existsSync(scoredPath)) {
    const task = createTask({ name: budget.task.name, ...budget.task.options });
    try {
      // Four samples of each of the first 32 problems: enough tokens for the quantiles, one forward pass each
      // (an empty response has no token to score).
      const prompts = new Map(
        Array.from({ length: Math.min(32, budget.heldOut.problems) }, (_, i) => task.example(i, "test")).map((e) => [
          e.id,
          e.prompt,
        ]),
      );
      const texts = readJsonl(join(evalDir, "samples.jsonl"))
        .filter((s) => s.sample < 4 && prompts.has(s.problemId) && s.response.length > 0)
        .map((s) => json({ prompt: prompts.get(s.problemId), response: s.response }));
      const textsPath = join(dir, "entropy-texts.jsonl");
      writeFileSync(textsPath, `${texts.join("\n")}\n`);
      say(`warm-start: per-token entropies of ${texts.length} samples`);
      await runNode([benchCli(), "score", "--model", checkpoint, "--texts", textsPath, "--out", scoredPath], log);
    } finally {
      await task.close();
    }
  }
  return {
    dir,
    checkpoint,
    eval: readJson(join(evalDir, "results.json")),
    samples: readJsonl(join(evalDir, "samples.jsonl")),
    scored: readJson(scoredPath),
  };
}

/** The --set assignments every arm shares: the warm-start policy, no SFT, the RL budget, no greedy evals. */
function sharedSets(budget, checkpoint) {
  const { rl, ...rest } = budget.train;
  const { steps: _s, ...rlRest } = rl;
  return [
    `task=${json(budget.task)}`,
    `model=${json({ path: checkpoint })}`,
    `sft=${json({ steps: 0 })}`,
    `rl=${json(rlRest)}`,
    ...Object.entries(rest).map(([k, v]) => `${k}=${json(v)}`),
    // Held-out numbers come from compare's n-sample evaluation; the trainer's greedy one is off.
    `eval=${json({ examples: 0, every: 0 })}`,
    `checkpoint=${json({ every: 0, keepLast: 1 })}`,
  ];
}

function machine() {
  const c = cpus();
  return {
    cpus: c.length,
    model: c[0]?.model ?? "unknown",
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/**
 * The whole study: the shared warm-start, every arm x seed through
 * `tokenrl-bench compare` (same budget, same held-out problems and sampling
 * seeds), then the statistics, DIR/results.json, DIR/results.md and
 * DIR/report.html. Finished runs in DIR are reused, so an interrupted study
 * continues where it stopped.
 */
export async function runStudy(options) {
  const started = Date.now();
  const say = options.say ?? ((m) => process.stderr.write(`study: ${m}\n`));
  const out = resolve(options.out);
  const budget = loadBudget({ quick: options.quick, file: options.budget });
  const seeds = options.seeds ?? budget.seeds;
  const arms = options.arms ?? availableArms();
  const recipes = arms.map(recipeFile);
  const missing = ARMS.map((a) => a.name).filter((a) => !arms.includes(a));
  mkdirSync(out, { recursive: true });
  const machineAtStart = machine();

  const t0 = Date.now();
  const ws = await warmStart(out, budget, say);
  const warmStartMs = Date.now() - t0;

  const n = budget.heldOut.n;
  // Runs finished by an earlier invocation are reused by compare; say how many, so the time below reads right.
  const reused = arms
    .flatMap((a) => seeds.map((s) => join(out, "compare", "runs", `${a}-seed${s}`, "eval", "results.json")))
    .filter((p) => existsSync(p)).length;
  const t1 = Date.now();
  say(
    `compare: ${arms.length} arms x ${seeds.length} seeds, ${budget.train.rl.steps} RL steps each (${join(out, "compare")})`,
  );
  const cmp = await compare({
    recipes,
    seeds,
    out: join(out, "compare"),
    steps: budget.train.rl.steps,
    set: sharedSets(budget, ws.checkpoint),
    n,
    ks: Array.from({ length: n }, (_, i) => i + 1),
    problems: budget.heldOut.problems,
    temperature: budget.heldOut.temperature,
    ...(options.jobs ? { jobs: options.jobs } : {}),
    quiet: options.quiet ?? false,
  });
  const compareMs = Date.now() - t1;

  const metrics = metricNames(n);
  const evalsOf = new Map(
    cmp.recipes.map((r) => [r.recipe, r.runs.map((run) => readJson(join(run.dir, "eval", "results.json")))]),
  );
  const grids = new Map(
    arms.map((a) => [a, Object.fromEntries(metrics.map((m) => [m, metricGrid(evalsOf.get(a), m)]))]),
  );
  const wsGrid = Object.fromEntries(metrics.map((m) => [m, metricGrid([ws.eval], m)]));
  for (const a of arms)
    if (
      ws.eval.perProblem.length !== grids.get(a)[metrics[0]][0].length ||
      ws.eval.perProblem.some((p, i) => p.id !== evalsOf.get(a)[0].perProblem[i].id)
    )
      throw new Error(`the warm-start and ${a} were evaluated on different held-out problems`);

  const armResults = Object.fromEntries(
    arms.map((a) => [
      a,
      {
        ...ARMS.find((x) => x.name === a),
        recipe: recipeFile(a),
        metrics: Object.fromEntries(metrics.map((m) => [m, armStatistic(grids.get(a)[m])])),
      },
    ]),
  );
  const warmStartResult = Object.fromEntries(metrics.map((m) => [m, armStatistic(wsGrid[m])]));
  const comparisons = COMPARISONS.filter((c) => arms.includes(c.a) && arms.includes(c.b)).map((c) => ({
    ...c,
    metrics: Object.fromEntries(metrics.map((m) => [m, armDifference(grids.get(c.a)[m], grids.get(c.b)[m])])),
  }));
  // What RL adds over the warm-start, per arm (the warm-start's one evaluation paired with every seed).
  const rlGain = Object.fromEntries(
    arms.map((a) => {
      const g = grids.get(a)[`mean@${n}`];
      return [
        a,
        armDifference(
          g,
          g.map(() => wsGrid[`mean@${n}`][0]),
        ),
      ];
    }),
  );

  // The task's statistics at the RL starting point.
  const task = createTask({ name: budget.task.name, ...budget.task.options });
  let taskStats;
  try {
    const difficulty = new Map(
      Array.from({ length: budget.heldOut.problems }, (_, i) => task.example(i, "test")).map((e) => [
        e.id,
        e.meta?.difficulty ?? null,
      ]),
    );
    taskStats = warmStartStatistics({
      samples: ws.samples,
      perProblem: ws.eval.perProblem,
      difficultyOf: (id) => difficulty.get(id),
      scored: ws.scored,
    });
  } finally {
    await task.close();
  }

  // Training dynamics, averaged over seeds per arm.
  const averaged = new Map(
    cmp.recipes.map((r) => [
      r.recipe,
      averageRuns(
        r.recipe,
        r.runs.map((run) => readMetricsJsonl(join(run.dir, "metrics.jsonl"))),
      ),
    ]),
  );
  const htpoArms = arms.filter((a) => hasCells(a, averaged.get(a)));
  const dynamics = Object.fromEntries(
    arms.map((a) => {
      const recs = averaged.get(a);
      const first = recs[0] ?? {};
      const last = recs[recs.length - 1] ?? {};
      const meanOf = (key) => {
        const xs = recs.map((r) => r[key]).filter((v) => typeof v === "number");
        return xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : null;
      };
      const shares = htpoArms.includes(a) ? cellShares(a, recs) : [];
      const span = (k) =>
        shares.length
          ? {
              min: Math.min(...shares.map((s) => s[k])),
              max: Math.max(...shares.map((s) => s[k])),
              first: shares[0][k],
              last: shares[shares.length - 1][k],
            }
          : null;
      return [
        a,
        {
          steps: recs.length,
          entropy: { first: first["actor/entropy"] ?? null, last: last["actor/entropy"] ?? null },
          responseLength: { first: first["response_length/mean"] ?? null, last: last["response_length/mean"] ?? null },
          clipFraction: meanOf("actor/pg_clipfrac"),
          lowerClipFraction: meanOf("actor/pg_clipfrac_lower"),
          maskedFraction: meanOf("actor/maskedFraction"),
          ...(htpoArms.includes(a)
            ? {
                hardTokenShare: span("hard"),
                correctTokenShare: span("correct"),
                cellEntropy: { first: cellEntropies(a, first), last: cellEntropies(a, last) },
              }
            : {}),
        },
      ];
    }),
  );

  const command = `pnpm study${options.quick ? " --quick" : ""} --out ${options.out}${options.seeds ? ` --seeds ${seeds.join(",")}` : ""}${options.arms ? ` --arms ${arms.join(",")}` : ""}${options.budget ? ` --budget ${options.budget}` : ""}`;
  const results = {
    study: {
      command,
      quick: Boolean(options.quick),
      budget: { ...budget, seeds },
      arms,
      missingArms: missing,
      seeds,
      machine: { ...machineAtStart, loadavgAtEnd: machine().loadavg },
      minutes: { warmStart: minutes(warmStartMs), compare: minutes(compareMs), total: minutes(Date.now() - started) },
      /** Runs (of arms x seeds) already finished in DIR by an earlier invocation: their time is not in `minutes`. */
      reusedRuns: reused,
      runs: arms.length * seeds.length,
      startedAt: new Date(started).toISOString(),
    },
    task: taskStats,
    warmStart: { checkpoint: ws.checkpoint, metrics: warmStartResult },
    arms: armResults,
    comparisons,
    rlGain,
    dynamics,
    compareDir: join(out, "compare"),
  };
  writeFileSync(join(out, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, "results.md"), resultsMarkdown(results));
  writeStudyReport(join(out, "report.html"), results, averaged, htpoArms);
  say(`done in ${results.study.minutes.total} min: ${join(out, "results.md")}, results.json, report.html`);
  return results;
}

const pct = (v) => (v * 100).toFixed(1);
const signed = (v) => `${v >= 0 ? "+" : ""}${pct(v)}`;

function writeStudyReport(path, r, averaged, htpoArms) {
  const n = r.study.budget.heldOut.n;
  const headline = r.comparisons.filter((c) => ["dapo", "grpo"].includes(c.b) && c.a !== "htpo-released");
  writeReport(path, {
    title: `tokenrl study: ${r.study.arms.join(", ")} on ${r.study.budget.task.name}${r.study.quick ? " (quick: pipeline check, not a result)" : ""}`,
    summary: [
      ...headline.map((c) => ({
        label: `${c.a} - ${c.b}, mean@${n}`,
        value: `${signed(c.metrics[`mean@${n}`].mean)} points, 95% CI [${pct(c.metrics[`mean@${n}`].ci[0])}, ${pct(c.metrics[`mean@${n}`].ci[1])}]`,
        id: `diff-${c.a}-${c.b}`,
      })),
      { label: "seeds x arms", value: `${r.study.seeds.length} x ${r.study.arms.length}` },
      {
        label: "held-out",
        value: `${r.study.budget.heldOut.problems} problems, n = ${n}, temperature ${r.study.budget.heldOut.temperature}`,
      },
      { label: "wall time", value: `${r.study.minutes.total} min on ${r.study.machine.cpus} cores` },
    ],
    evals: [
      {
        name: "warm-start",
        n,
        metrics: mapValues(r.warmStart.metrics, (s) => s.mean),
        stderr: mapValues(r.warmStart.metrics, (s) => s.stderr),
      },
      ...r.study.arms.map((a) => ({
        name: a,
        n,
        metrics: mapValues(r.arms[a].metrics, (s) => s.mean),
        stderr: mapValues(r.arms[a].metrics, (s) => s.stderr),
      })),
    ],
    runs: r.study.arms.map((a) => ({ name: a, records: averaged.get(a) })),
    trainingCharts: dynamicsCharts(htpoArms),
    tables: r.comparisons.map((c) => ({
      title: `${c.a} - ${c.b} (${c.question}): paired difference per metric, points, 95% bootstrap CI over seeds and problems`,
      id: `k-curve-${c.a}-${c.b}`,
      columns: ["metric", "difference", "95% CI", "sd over seeds", "seeds for a +-2-point CI"],
      rows: Object.entries(c.metrics).map(([m, d]) => [
        m,
        signed(d.mean),
        `[${pct(d.ci[0])}, ${pct(d.ci[1])}]`,
        d.sdOverSeeds === null ? "-" : pct(d.sdOverSeeds),
        String(d.seedsForHalfWidth ?? "-"),
      ]),
    })),
    footer: `Per-run folders: ${r.compareDir}/runs/<arm>-seed<s>/ (metrics.jsonl, checkpoints/, eval/samples.jsonl); numbers: results.json; command: ${r.study.command}`,
  });
}

function mapValues(o, f) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}
