import { esc, fmt } from "./format.js";

/** One line of a chart: (x, y) points, optionally with a +-error per point drawn as a bar. */
export interface Series {
  name: string;
  points: [number, number][];
  /** Half-width of an error bar at each point (e.g. a bootstrap standard error), same order as points. */
  errors?: number[];
}

export interface ChartOptions {
  xLabel?: string;
  yLabel?: string;
  /** Log-scaled x axis (base 2), for pass@k against k. All x must be > 0. */
  logX?: boolean;
  /** Fix the y range, e.g. [0, 1] for accuracies. */
  yRange?: [number, number];
  /** Label x ticks as integers (training steps). Default true unless logX. */
  integerX?: boolean;
}

export const PALETTE = [
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

const W = 520;
const H = 250;
const M = { l: 54, r: 14, t: 14, b: 38 };

function ticks(a: number, b: number, n: number): number[] {
  return Array.from({ length: n + 1 }, (_, i) => a + ((b - a) * i) / n);
}

/** About `n` round tick values (1, 2 or 5 times a power of ten apart) inside [a, b]. */
function niceTicks(a: number, b: number, n: number): number[] {
  const raw = (b - a) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((f) => f * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(a / step) * step; v <= b + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/**
 * A line chart as inline SVG: no script and no network, so it renders in any
 * browser, offline, and prints. Each series is a `<path data-series data-points>`
 * (the point count lets a test assert the chart drew its data), with a dot and
 * a hover `<title>` per point while there are few enough to read.
 */
export function lineChart(title: string, series: readonly Series[], options: ChartOptions = {}): string {
  const drawn = series.filter((s) => s.points.length > 0);
  const all = drawn.flatMap((s) => s.points);
  const id = `chart-${title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")}`;
  if (all.length === 0)
    return `<figure class="chart" id="${esc(id)}" data-empty="true"><figcaption>${esc(title)}</figcaption><p class="empty">no data</p></figure>`;
  const logX = options.logX ?? false;
  if (logX && all.some((p) => !(p[0] > 0))) throw new RangeError(`lineChart "${title}": a log x axis needs x > 0`);
  const tx = (x: number) => (logX ? Math.log2(x) : x);
  const xs = all.map((p) => tx(p[0]));
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  let y0: number;
  let y1: number;
  if (options.yRange) [y0, y1] = options.yRange;
  else {
    const ys = drawn.flatMap((s) =>
      s.points.flatMap((p, i) => [p[1] - (s.errors?.[i] ?? 0), p[1] + (s.errors?.[i] ?? 0)]),
    );
    [y0, y1] = [Math.min(...ys), Math.max(...ys)];
    if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
    const pad = (y1 - y0) * 0.05;
    y0 -= pad;
    y1 += pad;
  }
  const sx = (x: number) => M.l + ((tx(x) - x0) / (x1 - x0)) * (W - M.l - M.r);
  const sy = (y: number) => H - M.b - ((y - y0) / (y1 - y0)) * (H - M.t - M.b);
  const yGrid = niceTicks(y0, y1, 4)
    .map(
      (y) =>
        `<line x1="${M.l}" x2="${W - M.r}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" class="grid"/><text x="${M.l - 6}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end">${fmt(y)}</text>`,
    )
    .join("");
  const distinctX = [...new Set(all.map((p) => p[0]))].sort((a, b) => a - b);
  let xTicks: number[];
  if (logX)
    xTicks =
      distinctX.length <= 12
        ? distinctX
        : ticks(Math.ceil(x0), Math.floor(x1), Math.max(1, Math.floor(x1) - Math.ceil(x0))).map((e) => 2 ** e);
  else if (options.integerX ?? true) xTicks = [...new Set(niceTicks(x0, x1, 5).map((x) => Math.round(x)))];
  else xTicks = niceTicks(x0, x1, 5);
  const xAxis = xTicks
    .map(
      (x) =>
        `<line x1="${sx(x).toFixed(1)}" x2="${sx(x).toFixed(1)}" y1="${H - M.b}" y2="${H - M.b + 4}" class="tick"/><text x="${sx(x).toFixed(1)}" y="${H - M.b + 16}" text-anchor="middle">${fmt(x)}</text>`,
    )
    .join("");
  const lines = drawn
    .map((s) => {
      const color = PALETTE[series.indexOf(s) % PALETTE.length];
      const d = s.points.map((p, j) => `${j ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join("");
      const bars = (s.errors ?? [])
        .map((e, j) => {
          const p = s.points[j];
          if (!p || !(e > 0)) return "";
          const x = sx(p[0]).toFixed(1);
          return `<line x1="${x}" x2="${x}" y1="${sy(p[1] - e).toFixed(1)}" y2="${sy(p[1] + e).toFixed(1)}" stroke="${color}" class="err"/>`;
        })
        .join("");
      const dots =
        s.points.length <= 80
          ? s.points
              .map(
                (p, j) =>
                  `<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.5" fill="${color}"><title>${esc(s.name)}: ${fmt(p[0])}, ${fmt(p[1])}${s.errors?.[j] ? ` ± ${fmt(s.errors[j]!)}` : ""}</title></circle>`,
              )
              .join("")
          : "";
      return `<g class="series">${bars}<path d="${d}" fill="none" stroke="${color}" stroke-width="2" data-series="${esc(s.name)}" data-points="${s.points.length}"/>${dots}</g>`;
    })
    .join("");
  const legend = drawn
    .map(
      (s) =>
        `<span class="key"><i style="background:${PALETTE[series.indexOf(s) % PALETTE.length]}"></i>${esc(s.name)}</span>`,
    )
    .join("");
  const xLabel = options.xLabel ?? (logX ? "k (log scale)" : "step");
  return `<figure class="chart" id="${esc(id)}"><figcaption>${esc(title)}</figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<g class="axes"><line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" class="axis"/>${yGrid}${xAxis}<text x="${(W + M.l) / 2}" y="${H - 4}" text-anchor="middle">${esc(xLabel)}</text>${
    options.yLabel
      ? `<text transform="translate(12 ${(H - M.b + M.t) / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`
      : ""
  }</g>${lines}</svg><div class="legend">${legend}</div></figure>`;
}
