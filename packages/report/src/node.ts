import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { type EvalResultData, type ReportInput, renderReport } from "./report.js";
import type { MetricsRecord } from "./training.js";

/** Renders the report and writes it atomically (temp file + rename); returns the path. */
export function writeReport(path: string, input: ReportInput): string {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, renderReport(input));
  renameSync(tmp, path);
  return path;
}

/** metrics.jsonl records; a line cut short by a kill is skipped. */
export function readMetricsJsonl(path: string): MetricsRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        const r = JSON.parse(l) as MetricsRecord;
        return typeof r === "object" && r !== null && typeof r.step === "number" ? [r] : [];
      } catch {
        return [];
      }
    });
}

/** A trainer run folder (metrics.jsonl) as a report run, named by the folder. */
export function readRunDir(dir: string, name = basename(dir)): { name: string; records: MetricsRecord[] } {
  const path = join(dir, "metrics.jsonl");
  if (!existsSync(path)) throw new Error(`${dir} is not a training run: it has no metrics.jsonl`);
  return { name, records: readMetricsJsonl(path) };
}

/** A results.json written by `tokenrl-bench eval` (a folder holding one, or the file). */
export function readEvalResults(pathOrDir: string, name?: string): EvalResultData {
  const path = pathOrDir.endsWith(".json") ? pathOrDir : join(pathOrDir, "results.json");
  if (!existsSync(path)) throw new Error(`${pathOrDir}: no results.json`);
  const r = JSON.parse(readFileSync(path, "utf8")) as Partial<EvalResultData> & { model?: string };
  if (typeof r.n !== "number" || typeof r.metrics !== "object" || r.metrics === null)
    throw new Error(`${path}: not an eval result (needs "n" and "metrics")`);
  return {
    name: name ?? r.model ?? basename(dirname(path)),
    n: r.n,
    metrics: r.metrics,
    ...(r.benchmark ? { benchmark: r.benchmark } : {}),
    ...(r.model ? { model: r.model } : {}),
    ...(r.stderr ? { stderr: r.stderr } : {}),
  };
}
