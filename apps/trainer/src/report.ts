import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Preset } from "@tokenrl/objectives";
import type { TrainConfig } from "./config.js";
import type { EvalResult } from "./evaluate.js";
import type { MetricsRecord } from "./metrics-log.js";

export interface ReportInput {
  config: TrainConfig;
  records: MetricsRecord[];
  initialEval: EvalResult;
  finalEval: EvalResult;
  preset: Preset;
  completed: boolean;
}

interface Series {
  name: string;
  points: [number, number][];
}

/** The series a reader of an RL run looks at first, from metrics.jsonl records. */
function seriesOf(records: MetricsRecord[], phase: string, key: string, name = key): Series {
  return {
    name,
    points: records
      .filter((r) => r.phase === phase && typeof r[key] === "number" && Number.isFinite(r[key] as number))
      .map((r) => [r.step, r[key] as number]),
  };
}

const COLORS = [
  "#2563eb",
  "#dc2626",
  "#16a34a",
  "#9333ea",
  "#ea580c",
  "#0891b2",
  "#4b5563",
  "#ca8a04",
  "#db2777",
  "#65a30d",
];

/** A line chart as inline SVG: no script, no network, renders in any browser and in headless Chromium. */
export function lineChart(title: string, series: Series[], options: { yLabel?: string } = {}): string {
  const W = 520;
  const H = 240;
  const m = { l: 52, r: 12, t: 28, b: 36 };
  const all = series.flatMap((s) => s.points);
  if (all.length === 0)
    return `<figure class="chart"><figcaption>${esc(title)}</figcaption><p class="empty">no data</p></figure>`;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const ticks = (a: number, b: number, n: number) => Array.from({ length: n + 1 }, (_, i) => a + ((b - a) * i) / n);
  const grid = ticks(y0, y1, 4)
    .map(
      (y) =>
        `<line x1="${m.l}" x2="${W - m.r}" y1="${sy(y)}" y2="${sy(y)}" class="grid"/><text x="${m.l - 6}" y="${sy(y) + 4}" text-anchor="end">${fmt(y)}</text>`,
    )
    .join("");
  // Steps are integers: label whole steps only.
  const xticks = [...new Set(ticks(x0, x1, 4).map((x) => Math.round(x)))]
    .map((x) => `<text x="${sx(x)}" y="${H - m.b + 16}" text-anchor="middle">${fmt(x)}</text>`)
    .join("");
  const lines = series
    .map((s, i) => {
      const color = COLORS[i % COLORS.length];
      const d = s.points.map((p, j) => `${j ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join("");
      const dots =
        s.points.length < 60
          ? s.points
              .map((p) => `<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.5" fill="${color}"/>`)
              .join("")
          : "";
      return `<path d="${d}" fill="none" stroke="${color}" stroke-width="2" data-series="${esc(s.name)}"/>${dots}`;
    })
    .join("");
  const legend = series
    .map((s, i) => `<span class="key"><i style="background:${COLORS[i % COLORS.length]}"></i>${esc(s.name)}</span>`)
    .join("");
  return `<figure class="chart"><figcaption>${esc(title)}</figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<g class="axes">${grid}${xticks}<text x="${(W + m.l) / 2}" y="${H - 4}" text-anchor="middle">step</text>${
    options.yLabel ? `<text x="12" y="${m.t - 10}">${esc(options.yLabel)}</text>` : ""
  }</g>${lines}</svg><div class="legend">${legend}</div></figure>`;
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0)) return v.toExponential(1);
  return Number(v.toFixed(2)).toString();
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

/** Writes report.json and a self-contained report.html into `out`; returns the HTML path. */
export function writeReport(out: string, input: ReportInput): string {
  const { config, records, initialEval, finalEval, preset, completed } = input;
  const cellKeys = [
    ...new Set(records.flatMap((r) => Object.keys(r)).filter((k) => /^policy\/cells\/.+\/tokens$/.test(k))),
  ];
  const summary = {
    preset: preset.name,
    task: `${config.task.name} (length ${config.task.length})`,
    completed,
    initialAccuracy: initialEval.accuracy,
    afterWarmupAccuracy: records.find((r) => r.afterWarmup === true)?.accuracy ?? null,
    finalAccuracy: finalEval.accuracy,
    rlSteps: records.filter((r) => r.phase === "rl").length,
    sftSteps: records.filter((r) => r.phase === "sft").length,
  };
  writeFileSync(join(out, "report.json"), `${JSON.stringify({ summary, config, finalEval, records }, null, 2)}\n`);
  const charts = [
    lineChart("Held-out accuracy (greedy)", [
      seriesOf(
        records.filter((r) => r.during === "rl" || r.during === undefined),
        "eval",
        "accuracy",
        "accuracy",
      ),
    ]),
    lineChart("Rollout accuracy (kept groups)", [seriesOf(records, "rl", "accuracy", "batch accuracy")]),
    lineChart("Policy loss", [seriesOf(records, "rl", "loss", "loss")]),
    lineChart("Clip fraction and KL to the behaviour policy", [
      seriesOf(records, "rl", "policy/clipFraction", "clipFraction"),
      seriesOf(records, "rl", "policy/ppoKl", "ppoKl"),
    ]),
    lineChart("Gradient norm (before clipping)", [seriesOf(records, "rl", "gradNorm", "grad norm")]),
    lineChart("Dynamic sampling: groups dropped per step", [
      seriesOf(records, "rl", "sampling/groupsDropped", "dropped"),
    ]),
    cellKeys.length
      ? lineChart(
          "HTPO cells: tokens per cell",
          cellKeys.map((k) => seriesOf(records, "rl", k, k.replace(/^policy\/cells\//, "").replace(/\/tokens$/, ""))),
        )
      : "",
    lineChart("Supervised warm-up loss", [seriesOf(records, "sft", "loss", "nll")]),
  ].join("\n");
  const samples = finalEval.samples
    .map(
      (s) =>
        `<tr><td><code>${esc(s.prompt)}</code></td><td><code>${esc(s.response)}</code></td><td><code>${esc(s.answer)}</code></td><td>${s.correct ? "yes" : "no"}</td></tr>`,
    )
    .join("");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tokenrl run: ${esc(preset.name)} on ${esc(config.task.name)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#111}
h1{font-size:20px} table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:16px} .chart{margin:0;border:1px solid #e5e7eb;padding:8px;border-radius:6px}
figcaption{font-weight:600;margin-bottom:4px} .axes text{font-size:11px;fill:#555} .grid{stroke:#eee}
.legend{font-size:12px} .key{margin-right:12px} .key i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.empty{color:#999}
</style></head><body>
<h1>tokenrl run: ${esc(preset.name)} on ${esc(summary.task)}</h1>
<table id="summary"><tr><th>preset</th><td>${esc(preset.name)} (${esc(preset.source)})</td></tr>
<tr><th>held-out accuracy</th><td><span id="initial-accuracy">${(initialEval.accuracy * 100).toFixed(1)}%</span> at start${summary.afterWarmupAccuracy !== null ? `, <span id="warmup-accuracy">${(Number(summary.afterWarmupAccuracy) * 100).toFixed(1)}%</span> after the supervised warm-up` : ""} &rarr; <span id="final-accuracy">${(finalEval.accuracy * 100).toFixed(1)}%</span> at end (${finalEval.examples} examples, greedy)</td></tr>
<tr><th>steps</th><td>${summary.sftSteps} supervised warm-up, ${summary.rlSteps} RL${completed ? "" : " (run not finished: resume with the same command)"}</td></tr>
<tr><th>model</th><td>${config.model.path ? esc(config.model.path) : `Qwen3-style, hidden ${config.model.hiddenSize}, ${config.model.numLayers} layers, character tokenizer`}</td></tr></table>
<h2>Curves</h2><div class="charts">${charts}</div>
<h2>Held-out samples (final policy, greedy)</h2>
<table><tr><th>prompt</th><th>response</th><th>answer</th><th>correct</th></tr>${samples}</table>
<p>Raw data: <code>metrics.jsonl</code>, <code>report.json</code>; configuration: <code>config.json</code>; weights: <code>checkpoint/</code> (Hugging Face format).</p>
</body></html>
`;
  const path = join(out, "report.html");
  writeFileSync(path, html);
  return path;
}
