import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { advantageEstimators } from "@tokenrl/advantages";
import { ConfigError, TokenrlError, initBackend } from "@tokenrl/core";
import { objectives } from "@tokenrl/objectives";
import { partitioners } from "@tokenrl/partitioners";
import { TASK_NAMES } from "@tokenrl/tasks";
import { listPresets, resolveRecipe } from "@tokenrl/train";
import { DEFAULT_CONFIG, parseOverride, readConfigFile, recipeInputOf, resolveConfig } from "./config.js";
import { loadPlugins } from "./plugins.js";
import { train } from "./train.js";

function help(): string {
  return `tokenrl-train: train a policy with an RL recipe on a verifiable task

usage: tokenrl-train [--config FILE] [--preset NAME] [--task NAME] [--out DIR]
                     [--steps N] [--set KEY=VALUE ...] [--workers N] [--fresh] [--quiet] [--jsonl]
                     [--print-config] [--help]

  --config FILE   YAML or JSON config (unknown keys are errors; see --print-config)
  --preset NAME   recipe preset (default ${DEFAULT_CONFIG.preset}): ${listPresets().join(", ")}
  --task NAME     task (default ${DEFAULT_CONFIG.task.name}): ${TASK_NAMES.join(", ")}
  --out DIR       run folder (default ${DEFAULT_CONFIG.out}): config.json, metrics.jsonl,
                  samples.jsonl, checkpoints/, reference/, summary.json, report.html
  --steps N       RL steps (rl.steps)
  --set K=V       any config key, e.g. --set rl.groupSize=16 --set objective.options.sign=released
                  --set objective.name=my-objective --set optim.lrScheduler.type=cosine
  --fresh         start over: ignore and remove the folder's checkpoints and reference model
                  (default: resume from the latest checkpoint; a killed run continues exactly)
  --quiet         no progress bars, no backend line
  --jsonl         also print every metrics record to stdout as a JSON line
  --workers N     worker threads for rollout, scoring and gradients (config workers; default: one per core, 1 on a native backend)
  --print-config  print the resolved configuration (with the resolved recipe) and exit
  -h, --help      this text

A recipe is a preset and/or explicit parts: advantage {name, options}, partition
{name, options}, objective {name, options}, aggregation, kl {coef, estimator},
entropy {coef}, dynamicSampling, overlong {maxLength, bufferLength, factor}.
plugins: ["pkg-or-file"] are imported first and may register more of each.

registered (built-in and from the config's plugins)
  presets:     ${listPresets().join(", ")}
  objectives:  ${objectives.list().join(", ")}
${objectives
  .list()
  .map((n) => {
    const o = objectives.get(n);
    return `    ${n}: ${o.description}\n      options: ${Object.keys(o.defaults).join(", ")}`;
  })
  .join("\n")}
  estimators:  ${advantageEstimators.list().join(", ")}
  partitioners: ${partitioners.list().join(", ")}
  tasks:       ${TASK_NAMES.join(", ")}
`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      preset: { type: "string" },
      task: { type: "string" },
      out: { type: "string" },
      steps: { type: "string" },
      set: { type: "string", multiple: true },
      fresh: { type: "boolean" },
      quiet: { type: "boolean" },
      jsonl: { type: "boolean" },
      workers: { type: "string" },
      "print-config": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: false,
    strict: true,
  });
  const layers: Record<string, unknown>[] = [];
  if (values.config) layers.push(readConfigFile(values.config));
  if (values.preset) layers.push({ preset: values.preset });
  if (values.task) layers.push({ task: { name: values.task } });
  if (values.out) layers.push({ out: values.out });
  if (values.steps !== undefined) {
    if (!/^\d+$/.test(values.steps))
      throw new ConfigError("--steps", `bad value ${JSON.stringify(values.steps)}; expected an integer >= 0`);
    layers.push({ rl: { steps: Number(values.steps) } });
  }
  if (values.workers !== undefined) {
    if (!/^\d+$/.test(values.workers))
      throw new ConfigError("--workers", `bad value ${JSON.stringify(values.workers)}; expected an integer >= 1`);
    layers.push({ workers: Number(values.workers) });
  }
  for (const s of values.set ?? []) layers.push(parseOverride(s));
  const baseDir = values.config ? dirname(resolve(values.config)) : process.cwd();
  if (values.help) {
    // The config's plugins register their names first, so --help lists them too.
    await initBackend({ log: null });
    await loadPlugins(resolveConfig(...layers).plugins, baseDir);
    process.stdout.write(help());
    return 0;
  }
  const config = resolveConfig(...layers);
  if (values["print-config"]) {
    await initBackend({ log: null });
    await loadPlugins(config.plugins, baseDir);
    process.stdout.write(`${JSON.stringify({ ...config, recipe: resolveRecipe(recipeInputOf(config)) }, null, 2)}\n`);
    return 0;
  }
  const result = await train(config, {
    resume: !values.fresh,
    progress: !values.quiet,
    baseDir,
    ...(values.jsonl ? { jsonl: process.stdout } : {}),
  });
  const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);
  const h = result.summary.heldOut;
  const say = values.jsonl ? process.stderr : process.stdout;
  say.write(
    `${result.resumed ? "resumed; " : ""}held-out pass@1 (greedy, ${config.eval.examples} problems): ${pct(h.start)} at start, ${pct(h.afterWarmup)} after the warm-up, ${pct(h.final)} after ${result.summary.steps.rl} RL steps\nreport: ${result.reportPath}\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    const code = (err as { code?: string }).code ?? "";
    if (err instanceof TokenrlError || code.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`tokenrl-train: ${(err as Error).message.split("\n")[0]}\n`);
      process.exit(2);
    }
    process.stderr.write(`tokenrl-train: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
