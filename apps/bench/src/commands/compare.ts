import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "@tokenrl/base/errors";
import { initBackend } from "@tokenrl/core";
import { planRuns } from "@tokenrl/train/workers";
import { readConfigFile } from "@tokenrl/trainer";
import { type PairedDifference, mean, pairedDifference, passAtK, stdev } from "@tokenrl/eval";
import type { EvalResultData } from "@tokenrl/report";
import { readMetricsJsonl, writeReport } from "@tokenrl/report/node";
import { type Command, float, int, intList, list, str } from "../args.js";
import { pool, runNode } from "../jobs.js";
import { progressBar } from "../progress.js";
import { type EvalResults, passAtKCurve } from "./eval.js";

export interface CompareOptions {
  /** Preset names or recipe/config files (JSON or YAML, passed to the trainer as --config). */
  recipes: string[];
  seeds: number[];
  out: string;
  /** RL steps per run (the trainer's --steps). */
  steps?: number;
  /** The trainer's --task (default: the trainer's default). */
  task?: string;
  /** Extra --set KEY=VALUE for every run (the shared budget). */
  set?: string[];
  /** Held-out samples per problem. */
  n: number;
  ks: number[];
  /** Held-out problems evaluated (the first P of the task's test split). */
  problems: number;
  temperature: number;
  /** Held-out nucleus sampling. Default 1 (off). */
  topP?: number;
  /** Processes in parallel. Default: `planRuns` (one per core, at most one per run). */
  jobs?: number;
  /**
   * Policy workers of each run (the trainer's --workers). Default: `planRuns`,
   * the cores left to each of the parallel runs (jobs x workers = cores). A
   * `workers=` in `set` wins.
   */
  workers?: number;
  /** The trainer CLI (default: @tokenrl/trainer's dist/cli.js in this workspace). */
  trainer?: string;
  maxTokens?: number;
  quiet?: boolean;
  resamples?: number;
}

export interface RecipeSummary {
  recipe: string;
  runs: { seed: number; dir: string; metrics: Record<string, number>; heldOut?: unknown }[];
  /** Mean over seeds of each metric. */
  mean: Record<string, number>;
  /** Standard deviation over seeds (ddof 1). */
  sd: Record<string, number>;
  min: Record<string, number>;
  max: Record<string, number>;
}

export interface CompareResults {
  recipes: RecipeSummary[];
  /** Paired differences a - b per metric, paired by seed and problem. */
  differences: ({ a: string; b: string; metric: string } & PairedDifference)[];
  settings: Record<string, unknown>;
}

function recipeLabel(recipe: string): string {
  return existsSync(recipe) ? basename(recipe).replace(/\.(json|ya?ml)$/, "") : recipe;
}

/** The first existing of `relative` paths from this module (dist/ when built, src/commands/ under a test runner). */
function nearby(...relative: string[]): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const paths = relative.map((r) => resolve(here, r));
  return paths.find((p) => existsSync(p)) ?? paths[0]!;
}

/** The installed @tokenrl/trainer's CLI (a dependency), else apps/trainer/dist/cli.js beside this app. */
function defaultTrainer(): string {
  return nearby(
    "../node_modules/@tokenrl/trainer/dist/cli.js",
    "../../node_modules/@tokenrl/trainer/dist/cli.js",
    "../../trainer/dist/cli.js",
    "../../../trainer/dist/cli.js",
  );
}

/** This app's built CLI, which runs each evaluation in its own process. */
function benchCli(): string {
  return nearby("cli.js", "../../dist/cli.js");
}

/**
 * The run's final policy: the trainer's latest checkpoint (verl's layout,
 * checkpoints/<latest_checkpointed_iteration.txt>/), else a plain checkpoint/.
 */
export function finalCheckpoint(runDir: string): string {
  const latest = join(runDir, "checkpoints", "latest_checkpointed_iteration.txt");
  if (existsSync(latest)) return join(runDir, "checkpoints", readFileSync(latest, "utf8").trim());
  if (existsSync(join(runDir, "checkpoint"))) return join(runDir, "checkpoint");
  throw new ConfigError(
    "compare",
    `${runDir} has no checkpoint (checkpoints/latest_checkpointed_iteration.txt or checkpoint/)`,
  );
}

/** Per-problem value of a metric from an eval's per-problem counts. */
function perProblem(r: EvalResults, metric: string): Map<string, number> {
  const k = /^pass@(\d+)$/.exec(metric);
  return new Map(r.perProblem.map((p) => [p.id, k ? passAtK(p.n, p.c, Number(k[1])) : p.c / p.n]));
}

/**
 * Recipes x seeds through the trainer CLI in parallel processes, each run
 * evaluated on the task's held-out split with n samples (same problems, same
 * sampling seeds for every run), then per-recipe mean and spread and the paired
 * difference between every two recipes with a bootstrap CI. Finished runs and
 * evaluations are reused when the command is repeated with the same --out.
 */
export async function compare(o: CompareOptions): Promise<CompareResults> {
  if (o.recipes.length < 1) throw new ConfigError("--recipes", "name at least one recipe (e.g. --recipes htpo,dapo)");
  if (o.seeds.length < 1) throw new ConfigError("--seeds", "give at least one seed");
  const labels = o.recipes.map(recipeLabel);
  if (new Set(labels).size !== labels.length) throw new ConfigError("--recipes", `names repeat: ${labels.join(", ")}`);
  const trainer = o.trainer ?? defaultTrainer();
  if (!existsSync(trainer))
    throw new ConfigError("--trainer", `no trainer CLI at ${trainer}; build it (pnpm build) or pass --trainer`);
  const grid = o.recipes.flatMap((recipe, r) => o.seeds.map((seed) => ({ recipe, label: labels[r]!, seed })));
  // The backend the trainer runs will pick (native tfjs-node threads every op itself: one worker there).
  const backend = (await initBackend({ log: null })).name;
  const plan = planRuns({
    runs: grid.length,
    backend,
    ...(o.jobs !== undefined ? { jobs: o.jobs } : {}),
    ...(o.workers !== undefined ? { workersPerRun: o.workers } : {}),
  });
  const jobs = plan.jobs;
  const setsWorkers = (o.set ?? []).some((s) => /^\s*workers\s*=/.test(s));
  // A recipe file's own `workers` or a --set wins over the plan; an explicit --workers wins over both.
  const workerArgsFor = (recipe: string): string[] =>
    o.workers === undefined && (setsWorkers || (existsSync(recipe) && readConfigFile(recipe).workers !== undefined))
      ? []
      : ["--workers", String(plan.workersPerRun)];
  mkdirSync(join(o.out, "runs"), { recursive: true });
  const dirOf = (g: { label: string; seed: number }) => join(o.out, "runs", `${g.label}-seed${g.seed}`);
  const bar = progressBar("compare", grid.length, o.quiet ?? false);
  let done = 0;
  bar?.update(0, `${grid.length} runs: ${plan.reason}`);
  await pool(grid, jobs, async (g) => {
    const dir = dirOf(g);
    mkdirSync(dir, { recursive: true });
    const log = join(dir, "compare.log");
    const recipeArgs = existsSync(g.recipe) ? ["--config", g.recipe] : ["--preset", g.recipe];
    const trainArgs = [
      "--out",
      dir,
      ...recipeArgs,
      ...(o.task ? ["--task", o.task] : []),
      ...(o.steps !== undefined ? ["--steps", String(o.steps)] : []),
      "--set",
      `seed=${g.seed}`,
      ...(o.set ?? []).flatMap((s) => ["--set", s]),
      "--quiet",
    ];
    // Worker threads change the wall time, not the run (same tokens, configHash without them): not in the reuse key.
    const workerArgs = workerArgsFor(g.recipe);
    // A finished run is reused only if it was trained with exactly these arguments.
    const argsPath = join(dir, "compare-run.json");
    const previous = existsSync(argsPath) ? readFileSync(argsPath, "utf8") : undefined;
    const current = `${JSON.stringify(trainArgs)}\n`;
    if (previous !== undefined && previous !== current)
      throw new ConfigError(
        "--out",
        `${dir} was trained with other arguments (${previous.trim()}); use another --out for a different budget`,
      );
    if (previous === undefined || !existsSync(join(dir, "summary.json"))) {
      writeFileSync(argsPath, current);
      await runNode([trainer, ...trainArgs, ...workerArgs], log);
    }
    // Always run: eval resumes from its samples.jsonl and refuses other settings on the same folder.
    await runNode(
      [
        benchCli(),
        "eval",
        "--model",
        finalCheckpoint(dir),
        "--benchmark",
        join(dir, "config.json"),
        "--limit",
        String(o.problems),
        "--n",
        String(o.n),
        "--k",
        o.ks.join(","),
        "--temperature",
        String(o.temperature),
        "--top-p",
        String(o.topP ?? 1),
        "--seed",
        "0",
        "--concurrency",
        "1",
        "--no-chat-template",
        ...(o.maxTokens !== undefined ? ["--max-tokens", String(o.maxTokens)] : []),
        "--out",
        join(dir, "eval"),
        "--quiet",
      ],
      log,
    );
    bar?.update(++done, `${g.label} seed ${g.seed} done`);
  }).finally(() => bar?.stop());

  const evals = new Map(
    grid.map((g) => [
      `${g.label}/${g.seed}`,
      JSON.parse(readFileSync(join(dirOf(g), "eval", "results.json"), "utf8")) as EvalResults,
    ]),
  );
  const metricNames = Object.keys(evals.values().next().value!.metrics);
  const recipes: RecipeSummary[] = labels.map((label) => {
    const runs = o.seeds.map((seed) => {
      const g = { label, seed };
      const summaryPath = join(dirOf(g), "summary.json");
      const summary = existsSync(summaryPath)
        ? (JSON.parse(readFileSync(summaryPath, "utf8")) as { heldOut?: unknown })
        : {};
      return {
        seed,
        dir: dirOf(g),
        metrics: evals.get(`${label}/${seed}`)!.metrics,
        ...(summary.heldOut !== undefined ? { heldOut: summary.heldOut } : {}),
      };
    });
    const stat = (f: (xs: number[]) => number) =>
      Object.fromEntries(metricNames.map((m) => [m, f(runs.map((r) => r.metrics[m]!))]));
    return {
      recipe: label,
      runs,
      mean: stat(mean),
      sd: stat(stdev),
      min: stat((xs) => Math.min(...xs)),
      max: stat((xs) => Math.max(...xs)),
    };
  });
  const differences: CompareResults["differences"] = [];
  for (let i = 0; i < labels.length; i++)
    for (let j = i + 1; j < labels.length; j++)
      for (const metric of metricNames.filter((m) => !m.startsWith("maj@"))) {
        const grids = [labels[i]!, labels[j]!].map((label) =>
          o.seeds.map((seed) => perProblem(evals.get(`${label}/${seed}`)!, metric)),
        );
        const ids = [...grids[0]![0]!.keys()];
        for (const g of grids)
          for (const m of g)
            if (m.size !== ids.length || ids.some((id) => !m.has(id)))
              throw new ConfigError(
                "compare",
                "runs were evaluated on different held-out problems; they cannot be paired",
              );
        const [a, b] = grids.map((g) => g.map((m) => ids.map((id) => m.get(id)!)));
        differences.push({
          a: labels[i]!,
          b: labels[j]!,
          metric,
          ...pairedDifference(a!, b!, { seed: 0, ...(o.resamples !== undefined ? { resamples: o.resamples } : {}) }),
        });
      }
  const settings = {
    recipes: o.recipes,
    seeds: o.seeds,
    steps: o.steps ?? null,
    task: o.task ?? null,
    set: o.set ?? [],
    n: o.n,
    k: o.ks,
    problems: evals.values().next().value!.problems,
    temperature: o.temperature,
    topP: o.topP ?? 1,
    jobs,
    workersPerRun: o.workers ?? (setsWorkers ? null : plan.workersPerRun),
  };
  const results: CompareResults = { recipes, differences, settings };
  writeFileSync(join(o.out, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(o.out, "results.md"), compareMarkdown(results));
  writeReport(join(o.out, "report.html"), {
    title: `tokenrl-bench compare: ${labels.join(" vs ")}`,
    summary: [
      { label: "recipes x seeds", value: `${labels.join(", ")} x seeds ${o.seeds.join(", ")}` },
      {
        label: "held-out evaluation",
        value: `${settings.problems} problems, n = ${o.n}, temperature ${o.temperature}`,
      },
    ],
    resultsTitle: "Held-out results per recipe (%, mean over seeds ± standard error over seeds)",
    evals: recipes.map(
      (r): EvalResultData => ({
        name: r.recipe,
        n: o.n,
        metrics: r.mean,
        stderr: Object.fromEntries(Object.entries(r.sd).map(([k, v]) => [k, v / Math.sqrt(r.runs.length)])),
        curve: meanCurve(o.seeds.map((seed) => evals.get(`${r.recipe}/${seed}`)!)),
      }),
    ),
    runs: grid.map((g) => ({
      name: `${g.label}-s${g.seed}`,
      records: readMetricsJsonl(join(dirOf(g), "metrics.jsonl")),
    })),
    tables: [differencesTable(results)],
    footer:
      "Per-run folders: runs/<recipe>-seed<s>/ (metrics.jsonl, checkpoint/, eval/samples.jsonl). Numbers: results.json.",
  });
  return results;
}

const pct = (v: number) => (v * 100).toFixed(1);

/** A recipe's pass@k curve over every k: each run's curve from its per-problem counts, averaged over seeds. */
function meanCurve(runs: readonly EvalResults[]): Record<string, number> {
  const curves = runs.map((r) => passAtKCurve(r.perProblem, r.n));
  return Object.fromEntries(Object.keys(curves[0]!).map((k) => [k, mean(curves.map((c) => c[k]!))]));
}

function differencesTable(r: CompareResults) {
  return {
    title: "Paired differences (percentage points, 95% bootstrap CI over seeds and problems)",
    id: "differences",
    columns: ["a - b", "metric", "difference", "95% CI", "seeds", "problems"],
    rows: r.differences.map((d) => [
      `${d.a} - ${d.b}`,
      d.metric,
      `${d.mean >= 0 ? "+" : ""}${pct(d.mean)}`,
      `[${pct(d.ci[0])}, ${pct(d.ci[1])}]`,
      d.seeds,
      d.problems,
    ]),
  };
}

/** Mean over seeds of the trainer's own greedy held-out pass@1 (summary.json heldOut), when the runs have it. */
function greedy(x: RecipeSummary): string {
  const of = (key: "afterWarmup" | "final") =>
    x.runs
      .map((r) => (r.heldOut as Record<string, unknown> | undefined)?.[key])
      .filter((v): v is number => typeof v === "number");
  const w = of("afterWarmup");
  const f = of("final");
  return f.length ? `${w.length ? pct(mean(w)) : "-"} -> ${pct(mean(f))}` : "";
}

export function compareMarkdown(r: CompareResults): string {
  const metrics = Object.keys(r.recipes[0]!.mean);
  const lines = [
    `# compare: ${r.recipes.map((x) => x.recipe).join(" vs ")}`,
    "",
    `Held-out: ${r.settings.problems} problems, n = ${r.settings.n} samples each, temperature ${r.settings.temperature}, top-p ${r.settings.topP}; seeds ${(r.settings.seeds as number[]).join(", ")}; ${r.settings.steps ?? "default"} RL steps.`,
    "",
    "## Per recipe (%, mean ± sd over seeds [min, max])",
    "",
    `| recipe | seeds | ${metrics.join(" | ")} | trainer's greedy held-out pass@1: after warm-up -> final |`,
    `|---|---|${metrics.map(() => "---|").join("")}---|`,
    ...r.recipes.map(
      (x) =>
        `| ${x.recipe} | ${x.runs.length} | ${metrics.map((m) => `${pct(x.mean[m]!)} ± ${pct(x.sd[m]!)} [${pct(x.min[m]!)}, ${pct(x.max[m]!)}]`).join(" | ")} | ${greedy(x)} |`,
    ),
    "",
    "## Paired differences (percentage points; 95% bootstrap CI resampling seeds and problems)",
    "",
    "| a - b | metric | difference | 95% CI |",
    "|---|---|---|---|",
    ...r.differences.map(
      (d) =>
        `| ${d.a} - ${d.b} | ${d.metric} | ${d.mean >= 0 ? "+" : ""}${pct(d.mean)} | [${pct(d.ci[0])}, ${pct(d.ci[1])}] |`,
    ),
    "",
  ];
  return lines.join("\n");
}

export const compareCommand: Command = {
  name: "compare",
  summary: "recipes x seeds through the trainer, held-out pass@k, paired differences with bootstrap CIs",
  help: `tokenrl-bench compare: train several recipes with several seeds on one task and budget, and compare them

usage: tokenrl-bench compare --recipes htpo,dapo [--seeds 0,1,2] [--steps N] [--task NAME] [--set KEY=VALUE ...]
                             [--n 8] [--k 1,4,8] [--problems 64] [--temperature 1] [--jobs N] [--workers N]
                             --out DIR

  --recipes LIST     preset names (htpo, dapo, grpo, cppo, ...) or recipe/config files, comma-separated
  --seeds LIST       training seeds (default 0,1,2); every recipe runs with each
  --steps N          RL steps per run (trainer --steps)
  --task NAME        trainer --task (default: the trainer's default task)
  --set KEY=VALUE    passed to every run (the shared budget), repeatable
  --n N              held-out samples per problem (default 8)
  --k LIST           pass@k for these k (default 1 and powers of two up to n)
  --problems P       first P problems of the task's held-out split (default 64)
  --temperature T    held-out sampling temperature (default 1)
  --top-p P          held-out nucleus sampling (default 1 = off; HTPO's paper evaluates at 0.7)
  --max-tokens N     held-out generation budget (default: the task's)
  --jobs N           runs (processes) in parallel (default: one per core, ${availableParallelism()} here, at most one per run)
  --workers N        policy worker threads per run, the trainer's --workers (default: the cores left to each
                     run, so jobs x workers = cores; a --set workers=N wins)
  --trainer FILE     the trainer CLI (default: apps/trainer/dist/cli.js)
  --out DIR          runs/<recipe>-seed<s>/ (trainer output + eval/), results.json, results.md, report.html;
                     finished runs are reused when the command is repeated
  --quiet            no progress bar

Every run is evaluated on the same problems with the same sampling seeds, so differences are paired by seed
and problem; the CI comes from a bootstrap that resamples seeds and problems.
`,
  options: {
    recipes: { type: "string" },
    seeds: { type: "string" },
    steps: { type: "string" },
    task: { type: "string" },
    set: { type: "string", multiple: true },
    n: { type: "string" },
    k: { type: "string" },
    problems: { type: "string" },
    temperature: { type: "string" },
    "top-p": { type: "string" },
    "max-tokens": { type: "string" },
    jobs: { type: "string" },
    workers: { type: "string" },
    trainer: { type: "string" },
    out: { type: "string" },
    quiet: { type: "boolean" },
    resamples: { type: "string" },
  },
  async run(v) {
    const out = str(v, "out");
    if (!out) throw new ConfigError("--out", "is required (the comparison's folder)");
    const n = int(v, "n", 8, 1);
    const defaultK = [1, 2, 4, 8, 16, 32, 64].filter((k) => k <= n);
    const temperature = Number(str(v, "temperature") ?? 1);
    if (!Number.isFinite(temperature) || temperature < 0)
      throw new ConfigError("--temperature", `must be >= 0, got ${str(v, "temperature")}`);
    const r = await compare({
      recipes: list(v, "recipes"),
      seeds: intList(v, "seeds", [0, 1, 2]),
      out,
      n,
      ks: intList(v, "k", defaultK),
      problems: int(v, "problems", 64, 1),
      temperature,
      ...(str(v, "top-p") ? { topP: float(v, "top-p", 1) } : {}),
      ...(str(v, "steps") ? { steps: int(v, "steps", 1, 1) } : {}),
      ...(str(v, "task") ? { task: str(v, "task")! } : {}),
      ...(Array.isArray(v.set) ? { set: v.set as string[] } : {}),
      ...(str(v, "jobs") ? { jobs: int(v, "jobs", 1, 1) } : {}),
      ...(str(v, "workers") ? { workers: int(v, "workers", 1, 1) } : {}),
      ...(str(v, "trainer") ? { trainer: str(v, "trainer")! } : {}),
      ...(str(v, "max-tokens") ? { maxTokens: int(v, "max-tokens", 1, 1) } : {}),
      ...(str(v, "resamples") ? { resamples: int(v, "resamples", 1000, 2) } : {}),
      quiet: v.quiet === true,
    });
    process.stdout.write(compareMarkdown(r));
    process.stdout.write(
      `\nresults: ${join(out, "results.md")}, ${join(out, "results.json")}, ${join(out, "report.html")}\n`,
    );
    return 0;
  },
};
