import { parseArgs } from "node:util";
import { TokenrlError } from "@tokenrl/core";
import { DEFAULT_CONFIG, parseOverride, readConfigFile, resolveConfig } from "./config.js";
import { train } from "./train.js";

const HELP = `tokenrl-train: train a policy with an RL recipe on a verifiable task

usage: tokenrl-train [--config FILE] [--preset NAME] [--task NAME] [--out DIR]
                     [--steps N] [--set KEY=VALUE ...] [--fresh] [--quiet]

  --config FILE   JSON config overriding the defaults (unknown keys are errors)
  --preset NAME   recipe: htpo (default), dapo, grpo, dr-grpo, gspo, sapo, cispo, cppo
  --task NAME     built-in task: addition (default), last-digit, majority, reverse
  --out DIR       output folder (default ${DEFAULT_CONFIG.out}): metrics.jsonl,
                  checkpoint/, report.html, report.json
  --steps N       RL steps (rl.steps)
  --set K=V       any config field, e.g. --set rl.groupSize=16 --set objectiveOptions.sign=released
  --fresh         ignore an existing checkpoint in --out and start over
                  (default: resume from it; a killed run continues where it stopped)
  --quiet         no progress bars
  --print-config  print the resolved configuration and exit
  -h, --help      this text

Defaults: ${JSON.stringify(DEFAULT_CONFIG)}
`;

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
      "print-config": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const overrides: Record<string, unknown>[] = [];
  if (values.config) overrides.push(readConfigFile(values.config));
  if (values.preset) overrides.push({ preset: values.preset });
  if (values.task) overrides.push({ task: { name: values.task } });
  if (values.out) overrides.push({ out: values.out });
  if (values.steps) overrides.push(parseOverride(`rl.steps=${values.steps}`));
  for (const s of values.set ?? []) overrides.push(parseOverride(s));
  const config = resolveConfig(...overrides);
  if (values["print-config"]) {
    process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
    return 0;
  }
  const result = await train(config, { resume: !values.fresh, progress: !values.quiet });
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const warmup = result.records.find((r) => r.afterWarmup === true);
  const rlSteps = result.records.filter((r) => r.phase === "rl").length;
  process.stdout.write(
    `${result.resumed ? "resumed; " : ""}held-out accuracy (greedy, ${result.finalEval.examples} problems): ${pct(result.initialEval.accuracy)} at start${
      warmup ? `, ${pct(Number(warmup.accuracy))} after the warm-up` : ""
    }, ${pct(result.finalEval.accuracy)} after ${rlSteps} ${config.preset} steps\nreport: ${result.reportPath}\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof TokenrlError || (err as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      process.stderr.write(`tokenrl-train: ${(err as Error).message}\n`);
      process.exit(2);
    }
    process.stderr.write(`tokenrl-train: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
