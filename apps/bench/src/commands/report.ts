import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ConfigError } from "@tokenrl/base/errors";
import type { EvalResultData, MetricsRecord, Table } from "@tokenrl/report";
import { readEvalResults, readMetricsJsonl, writeReport } from "@tokenrl/report/node";
import { type Command, str } from "../args.js";

/**
 * Gathers what a folder holds: a training run (metrics.jsonl, maybe eval/), an
 * eval output (results.json from `eval`), or a compare output (results.json
 * with recipes, and runs/).
 */
export function collect(paths: readonly string[]): {
  runs: { name: string; records: MetricsRecord[] }[];
  evals: EvalResultData[];
  tables: Table[];
} {
  const runs: { name: string; records: MetricsRecord[] }[] = [];
  const evals: EvalResultData[] = [];
  const tables: Table[] = [];
  for (const path of paths) {
    if (!existsSync(path)) throw new ConfigError("PATH", `${path} does not exist`);
    const name = basename(path.replace(/\/+$/, ""));
    let found = false;
    if (existsSync(join(path, "metrics.jsonl"))) {
      runs.push({ name, records: readMetricsJsonl(join(path, "metrics.jsonl")) });
      found = true;
    }
    const results = path.endsWith(".json") ? path : join(path, "results.json");
    if (existsSync(results)) {
      const json = JSON.parse(readFileSync(results, "utf8")) as { recipes?: unknown };
      if (Array.isArray(json.recipes)) {
        // A compare folder: its runs and per-recipe means.
        const c = json as {
          recipes: {
            recipe: string;
            runs: { dir: string }[];
            mean: Record<string, number>;
            sd: Record<string, number>;
          }[];
          settings: { n: number };
          differences: { a: string; b: string; metric: string; mean: number; ci: [number, number] }[];
        };
        for (const r of c.recipes) {
          evals.push({
            name: r.recipe,
            n: c.settings.n,
            metrics: r.mean,
            stderr: Object.fromEntries(Object.entries(r.sd).map(([k, v]) => [k, v / Math.sqrt(r.runs.length)])),
          });
          for (const run of r.runs)
            if (existsSync(join(run.dir, "metrics.jsonl")))
              runs.push({ name: basename(run.dir), records: readMetricsJsonl(join(run.dir, "metrics.jsonl")) });
        }
        tables.push({
          title: `Paired differences (${name})`,
          columns: ["a - b", "metric", "difference (points)", "95% CI"],
          rows: c.differences.map((d) => [
            `${d.a} - ${d.b}`,
            d.metric,
            (d.mean * 100).toFixed(1),
            `[${(d.ci[0] * 100).toFixed(1)}, ${(d.ci[1] * 100).toFixed(1)}]`,
          ]),
        });
      } else evals.push(readEvalResults(results, found ? name : undefined));
      found = true;
    }
    if (existsSync(join(path, "eval", "results.json"))) {
      evals.push(readEvalResults(join(path, "eval"), name));
      found = true;
    }
    if (!found) throw new ConfigError("PATH", `${path} holds neither a training run (metrics.jsonl) nor results.json`);
  }
  return { runs, evals, tables };
}

export const reportCommand: Command = {
  name: "report",
  summary: "run folders and eval results into one self-contained HTML file",
  help: `tokenrl-bench report: one offline HTML file from training runs and evaluation results

usage: tokenrl-bench report PATH... [--out report.html] [--title TEXT]

  PATH          a trainer run folder (metrics.jsonl), an eval --out folder or its results.json,
                or a compare --out folder (its runs and paired differences)
  --out FILE    default report.html
  --title TEXT  default "tokenrl report"

The page has the training curves (reward, accuracy, entropy, response length, clip and mask fractions, KL,
entropy per HTPO cell), pass@k curves with k on a log axis, and the results tables. It loads nothing from the
network (inline SVG and CSS, no script).
`,
  options: { out: { type: "string" }, title: { type: "string" } },
  allowPositionals: true,
  async run(v, positionals) {
    if (!positionals.length) throw new ConfigError("PATH", "give at least one run or results folder");
    const { runs, evals, tables } = collect(positionals);
    const out = str(v, "out") ?? "report.html";
    writeReport(out, { title: str(v, "title") ?? "tokenrl report", runs, evals, tables });
    process.stdout.write(`report: ${out} (${runs.length} runs, ${evals.length} evaluations)\n`);
    return 0;
  },
};
