import { describe, expect, it } from "vitest";
import { lineChart, passAtKPoints, renderReport, resultsTable, seriesFor, TRAINING_CHARTS } from "../src/index.js";
import { fixture } from "./fixture.js";

describe("lineChart", () => {
  it("draws one path per series with its point count", () => {
    const svg = lineChart("A", [
      {
        name: "x",
        points: [
          [1, 1],
          [2, 2],
          [3, 1],
        ],
      },
      { name: "y", points: [[1, 0]] },
    ]);
    expect(svg).toContain('data-series="x" data-points="3"');
    expect(svg).toContain('data-series="y" data-points="1"');
    expect(svg.match(/<circle/g)).toHaveLength(4);
  });
  it("places k = 1, 2, 4, 8, 16 equally spaced on a log axis", () => {
    const svg = lineChart(
      "pass@k",
      [{ name: "m", points: [1, 2, 4, 8, 16].map((k) => [k, k / 16] as [number, number]) }],
      {
        logX: true,
      },
    );
    const d = /data-series="m"[^>]*/.exec(svg)![0];
    const path = /<path d="([^"]+)" [^>]*data-series="m"/.exec(svg)![1]!;
    const xs = [...path.matchAll(/[ML]([\d.]+),/g)].map((m) => Number(m[1]));
    const gaps = xs.slice(1).map((x, i) => x - xs[i]!);
    for (const g of gaps) expect(g).toBeCloseTo(gaps[0]!, 0);
    expect(d).toContain('data-points="5"');
  });
  it("says so when there is no data, and refuses x <= 0 on a log axis", () => {
    expect(lineChart("E", [{ name: "x", points: [] }])).toContain('data-empty="true"');
    expect(() => lineChart("L", [{ name: "x", points: [[0, 1]] }], { logX: true })).toThrow(/x > 0/);
  });
});

describe("training charts", () => {
  it("take verl names first and HTPO cells by pattern", () => {
    const records = fixture().runs![0]!.records;
    const byTitle = (t: string) => seriesFor(TRAINING_CHARTS.find((s) => s.title === t)!, records);
    expect(byTitle("Entropy").map((s) => s.name)).toEqual(["actor/entropy"]);
    expect(byTitle("HTPO: entropy per cell").map((s) => s.name)).toEqual([
      "easy_pos_high",
      "easy_pos_low",
      "hard_neg_high",
      "hard_neg_low",
    ]);
    expect(byTitle("Held-out pass@1")[0]!.points).toEqual([
      [0, 0.25],
      [12, 0.75],
    ]);
    expect(byTitle("Clip and mask fractions").map((s) => s.name)).toEqual([
      "actor/pg_clipfrac",
      "policy/maskedFraction",
    ]);
  });
});

describe("results", () => {
  it("tables metrics in percent with standard errors, pass@k by k", () => {
    const t = resultsTable(fixture().evals!);
    expect(t.columns).toEqual([
      "name",
      "benchmark",
      "n",
      "pass@1",
      "pass@2",
      "pass@4",
      "pass@8",
      "pass@16",
      "mean@16",
      "maj@16",
    ]);
    expect(t.rows[0]![3]).toBe("10.0 ± 3.0");
    expect(t.rows[1]![3]).toBe("15.0");
    expect(passAtKPoints({ "pass@4": 0.3, "pass@1": 0.1, "mean@4": 0.1 }).points).toEqual([
      [1, 0.1],
      [4, 0.3],
    ]);
  });
  it("draws the denser curve when an eval has one", () => {
    const html = renderReport({
      title: "t",
      evals: [
        {
          name: "m",
          n: 8,
          metrics: { "pass@1": 0.1, "pass@8": 0.4 },
          curve: { "pass@1": 0.1, "pass@2": 0.2, "pass@4": 0.3, "pass@8": 0.4 },
        },
      ],
    });
    expect(html).toContain('data-series="m" data-points="4"');
  });
  it("escapes every user string and loads nothing from outside", () => {
    const html = renderReport(fixture());
    expect(html).toContain("&lt;htpo&gt; &amp; friends");
    expect(html).toContain("&lt;b&gt;3&lt;/b&gt;");
    expect(html).not.toMatch(/<script|<link|src=|href=/);
  });
});
