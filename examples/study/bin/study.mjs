#!/usr/bin/env node
import { parseArgs } from "node:util";
import { ConfigError } from "@tokenrl/base/errors";
import { availableArms } from "../src/arms.mjs";
import { runStudy } from "../src/study.mjs";

const HELP = `pnpm study: does HTPO beat DAPO (and CPPO beat GRPO) in miniature? Every arm x seed on arith-chain

usage: pnpm study [--out DIR] [--quick] [--seeds LIST] [--arms LIST] [--jobs N] [--budget FILE]

  --out DIR       the study's folder (default runs/study, runs/study-quick with --quick): warmstart/,
                  compare/runs/<arm>-seed<s>/, results.md, results.json, report.html.
                  Finished runs in DIR are reused: re-running continues an interrupted study.
  --quick         budgets/quick.json: 2 seeds, a tiny warm-start and 2 RL steps (a few minutes; a
                  pipeline check whose numbers answer nothing)
  --seeds LIST    override the budget's seeds, e.g. 0,1,2
  --arms LIST     a subset of the arms (default all: ${availableArms().join(", ")})
  --jobs N        runs in parallel (default: the number of cores)
  --budget FILE   another budget file (see budgets/full.json)
  --quiet         no progress bar
  -h, --help      this text

Every arm starts RL from one shared warm-start policy and gets the same budget (prompts, G, steps,
optimiser); each run's final policy is evaluated on the same held-out problems with the same sampling
seeds, so differences are paired by seed and problem.
`;

function list(v, name, parse = (x) => x) {
  if (v === undefined) return undefined;
  const items = v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parse);
  if (!items.length) throw new ConfigError(`--${name}`, "give a comma-separated list");
  return items;
}

function seedOf(s) {
  const x = Number(s);
  if (!Number.isInteger(x) || x < 0) throw new ConfigError("--seeds", `"${s}" is not a non-negative integer`);
  return x;
}

try {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      quick: { type: "boolean" },
      seeds: { type: "string" },
      arms: { type: "string" },
      jobs: { type: "string" },
      budget: { type: "string" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs >= 1))
    throw new ConfigError("--jobs", `expected an integer >= 1, got ${values.jobs}`);
  const arms = list(values.arms, "arms");
  const results = await runStudy({
    out: values.out ?? (values.quick ? "runs/study-quick" : "runs/study"),
    quick: values.quick ?? false,
    ...(values.seeds ? { seeds: list(values.seeds, "seeds", seedOf) } : {}),
    ...(arms ? { arms } : {}),
    ...(jobs ? { jobs } : {}),
    ...(values.budget ? { budget: values.budget } : {}),
    quiet: values.quiet ?? false,
  });
  process.stdout.write(`${results.study.command}: ${results.study.minutes.total} min\n`);
} catch (err) {
  const e = /** @type {Error & {code?: string}} */ (err);
  // Bad usage (a ConfigError, an unknown option) exits 2 with one line; a failed run exits 1.
  process.stderr.write(`study: ${e.message}\n`);
  process.exit(e.code === "CONFIG" || String(e.code).startsWith("ERR_PARSE_ARGS") ? 2 : 1);
}
