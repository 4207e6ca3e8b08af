import { esc, fmt } from "./format.js";
import { type Series, lineChart } from "./svg.js";
import { type MetricsRecord, type TrainingChartSpec, trainingCharts } from "./training.js";

/** An evaluation result, as @tokenrl/eval and `tokenrl-bench eval` write it (results.json). */
export interface EvalResultData {
  /** How the report names it: a model, a recipe, a run. */
  name: string;
  benchmark?: string;
  model?: string;
  n: number;
  /** "pass@k" for several k, "mean@N", "maj@N", as fractions. */
  metrics: Record<string, number>;
  stderr?: Record<string, number>;
  /** A denser pass@k curve for the chart ("pass@k" for more k than `metrics` reports), e.g. every k in 1..n. */
  curve?: Record<string, number>;
}

export interface Table {
  title: string;
  columns: string[];
  /** Cells as text (escaped) or numbers (formatted). */
  rows: (string | number)[][];
  id?: string;
}

export interface ReportInput {
  title: string;
  /** Key facts at the top: label, value, and an element id a reader (or a test) can find. */
  summary?: { label: string; value: string; id?: string }[];
  /** Training runs: their metrics.jsonl records. */
  runs?: { name: string; records: readonly MetricsRecord[] }[];
  /** Which training charts to draw (default TRAINING_CHARTS). */
  trainingCharts?: readonly TrainingChartSpec[];
  /** Evaluation results: one pass@k curve each (k on a log axis) and a results table. */
  evals?: EvalResultData[];
  /** Title of the results table (default "Results (%, ± bootstrap standard error)"), e.g. to say what the ± is. */
  resultsTitle?: string;
  /** More tables (compare's paired differences, generations). */
  tables?: Table[];
  /** A closing paragraph (text). */
  footer?: string;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1120px;color:#111;padding:0 12px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f8fafc}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{margin:0;border:1px solid #e5e7eb;padding:8px;border-radius:6px}
figcaption{font-weight:600;margin-bottom:4px}.axes text{font-size:11px;fill:#555}.grid{stroke:#eee}
.axis,.tick{stroke:#999}.err{stroke-width:1.5;opacity:.6}.legend{font-size:12px;max-width:520px}
.key{margin-right:12px;white-space:nowrap}.key i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.empty{color:#999}code{white-space:pre-wrap;word-break:break-word}`;

/** pass@k as (k, value) points, sorted by k, from a metrics object's "pass@k" keys. */
export function passAtKPoints(metrics: Record<string, number>, stderr: Record<string, number> = {}): Series {
  const ks = Object.keys(metrics)
    .map((key) => /^pass@(\d+)$/.exec(key))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  return {
    name: "",
    points: ks.map((k) => [k, metrics[`pass@${k}`]!]),
    errors: ks.map((k) => stderr[`pass@${k}`] ?? 0),
  };
}

function percent(v: number | undefined, se?: number): string {
  if (v === undefined || !Number.isFinite(v)) return "";
  return se !== undefined && Number.isFinite(se)
    ? `${(v * 100).toFixed(1)} ± ${(se * 100).toFixed(1)}`
    : (v * 100).toFixed(1);
}

/** The results table of evaluations: one row per result, metrics in percent with their standard errors. */
export function resultsTable(
  evals: readonly EvalResultData[],
  title = "Results (%, ± bootstrap standard error)",
): Table {
  const keys = [...new Set(evals.flatMap((e) => Object.keys(e.metrics)))].sort((a, b) => {
    const order = (k: string) => (k.startsWith("pass@") ? 0 : k.startsWith("mean@") ? 1 : 2);
    const num = (k: string) => Number(k.split("@")[1]);
    return order(a) - order(b) || num(a) - num(b) || a.localeCompare(b);
  });
  return {
    title,
    id: "results",
    columns: ["name", "benchmark", "n", ...keys],
    rows: evals.map((e) => [e.name, e.benchmark ?? "", e.n, ...keys.map((k) => percent(e.metrics[k], e.stderr?.[k]))]),
  };
}

export function renderTable(t: Table): string {
  const head = t.columns.map((c) => `<th>${esc(c)}</th>`).join("");
  const body = t.rows
    .map(
      (r) =>
        `<tr>${r.map((c) => (typeof c === "number" ? `<td class="num">${fmt(c)}</td>` : /^[-+]?[\d.]+( ± [\d.]+)?$/.test(c) ? `<td class="num">${esc(c)}</td>` : `<td>${esc(c)}</td>`)).join("")}</tr>`,
    )
    .join("");
  return `<h2>${esc(t.title)}</h2><table${t.id ? ` id="${esc(t.id)}"` : ""}><tr>${head}</tr>${body}</table>`;
}

/**
 * One self-contained HTML page: inline CSS and SVG, no script, no external
 * resource, so it opens offline and from a file:// URL.
 */
export function renderReport(input: ReportInput): string {
  const parts: string[] = [`<h1>${esc(input.title)}</h1>`];
  if (input.summary?.length)
    parts.push(
      `<table id="summary">${input.summary
        .map((s) => `<tr><th>${esc(s.label)}</th><td${s.id ? ` id="${esc(s.id)}"` : ""}>${esc(s.value)}</td></tr>`)
        .join("")}</table>`,
    );
  const evals = input.evals ?? [];
  if (evals.length) {
    const curves = evals
      .map((e) => ({ ...passAtKPoints(e.curve ?? e.metrics, e.curve ? {} : e.stderr), name: e.name }))
      .filter((s) => s.points.length > 0);
    parts.push(renderTable(resultsTable(evals, input.resultsTitle)));
    if (curves.length)
      parts.push(
        `<h2>pass@k</h2><div class="charts">${lineChart("pass@k", curves, { logX: true, yLabel: "pass@k" })}</div>`,
      );
  }
  const runs = input.runs ?? [];
  if (runs.length) {
    const charts = trainingCharts(runs, input.trainingCharts);
    if (charts.length) parts.push(`<h2>Training</h2><div class="charts">${charts.join("\n")}</div>`);
  }
  for (const t of input.tables ?? []) parts.push(renderTable(t));
  if (input.footer) parts.push(`<p>${esc(input.footer)}</p>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>${CSS}</style></head><body>
${parts.join("\n")}
</body></html>
`;
}
