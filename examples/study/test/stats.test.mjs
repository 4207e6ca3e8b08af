import { describe, expect, it } from "vitest";
import {
  armDifference,
  armStatistic,
  metricGrid,
  metricNames,
  problemValue,
  varianceComponents,
  verdict,
} from "../src/stats.mjs";

describe("study statistics", () => {
  it("names mean@n and pass@1..n", () => {
    expect(metricNames(4)).toEqual(["mean@4", "pass@1", "pass@2", "pass@3", "pass@4"]);
  });

  it("scores a problem: mean@n = c/n, pass@k by the unbiased estimator", () => {
    expect(problemValue("mean@4", 4, 1)).toBe(0.25);
    // pass@2 with n = 4, c = 2: 1 - C(2,2)/C(4,2) = 1 - 1/6.
    expect(problemValue("pass@2", 4, 2)).toBeCloseTo(5 / 6, 12);
    expect(problemValue("pass@4", 4, 0)).toBe(0);
    expect(() => problemValue("maj@4", 4, 1)).toThrow(/unknown metric/);
  });

  it("builds the seed x problem grid by problem id and refuses unpaired evaluations", () => {
    const e = (counts) => ({ perProblem: counts.map(([id, c]) => ({ id, n: 4, c })) });
    const grid = metricGrid(
      [
        e([
          ["a", 1],
          ["b", 4],
        ]),
        e([
          ["b", 2],
          ["a", 0],
        ]),
      ],
      "mean@4",
    );
    expect(grid).toEqual([
      [0.25, 1],
      [0, 0.5],
    ]);
    expect(() => metricGrid([e([["a", 1]]), e([["c", 1]])], "mean@4")).toThrow(/cannot be paired/);
  });

  it("an arm's mean is the grid mean; a constant grid has no error", () => {
    const s = armStatistic(
      [
        [0.5, 0.5],
        [0.5, 0.5],
      ],
      { resamples: 200 },
    );
    expect(s.mean).toBe(0.5);
    expect(s.stderr).toBe(0);
    expect(s.ci).toEqual([0.5, 0.5]);
    expect(s.perSeed).toEqual([0.5, 0.5]);
  });

  it("seeds needed for a +-2-point CI from the measured seed variance (hand computation)", () => {
    // Seed 0: a - b = 0 on every problem; seed 1: +0.04 on every problem. Two-way ANOVA on the
    // differences (S = 2, P = 3): grand mean 0.02, row means 0 and 0.04, column means all 0.02,
    // residuals 0. MS_seed = 3 (0.02^2 + 0.02^2) / 1 = 0.0024, so the seed component is 0.0024 / 3 =
    // 0.0008; problem and residual components 0. Seeds = ceil(0.0008 / (0.02 / 1.959964)^2) = ceil(7.68) = 8.
    const a = [
      [0.5, 0.6, 0.7],
      [0.54, 0.64, 0.74],
    ];
    const b = [
      [0.5, 0.6, 0.7],
      [0.5, 0.6, 0.7],
    ];
    const d = armDifference(a, b, { resamples: 200 });
    expect(d.mean).toBeCloseTo(0.02, 12);
    expect(d.perSeed.map((x) => Number(x.toFixed(12)))).toEqual([0, 0.04]);
    expect(d.sdOverSeeds).toBeCloseTo(Math.sqrt(0.0008), 12);
    expect(d.components.seed).toBeCloseTo(0.0008, 12);
    expect(d.components.problem).toBeCloseTo(0, 12);
    expect(d.components.residual).toBeCloseTo(0, 12);
    expect(d.seedsForHalfWidth).toBe(8);
    // 80% power: (1.959964 + 0.841621)^2 * 0.0008 / 0.02^2 = 15.70 -> 16.
    expect(d.seedsForPower80).toBe(16);
    expect(d.ci[0]).toBeGreaterThanOrEqual(0);
    expect(d.ci[1]).toBeLessThanOrEqual(0.04 + 1e-12);
  });

  it("splits the variance of paired differences into seed, problem and residual parts (hand computation)", () => {
    // Residual only: d = [[0.1, -0.1], [-0.1, 0.1]]: row and column means 0, residuals +-0.1,
    // MS_residual = 4 * 0.01 / 1 = 0.04; the seed and problem components (MS - MS_residual) / n clip to 0.
    expect(
      varianceComponents([
        [0.1, -0.1],
        [-0.1, 0.1],
      ]),
    ).toEqual({ seed: 0, problem: 0, residual: expect.closeTo(0.04, 12) });
    // Seeds for +-2 points: ceil((0.04 / 2) / (0.02 / 1.959964)^2) = ceil(192.07) = 193.
    const noisy = armDifference(
      [
        [0.6, 0.4],
        [0.4, 0.6],
      ],
      [
        [0.5, 0.5],
        [0.5, 0.5],
      ],
      { resamples: 200 },
    );
    expect(noisy.seedsForHalfWidth).toBe(193);
    // Problem only: d = [[0.1, -0.1], [0.1, -0.1]]: MS_problem = 2 (0.01 + 0.01) / 1 = 0.04, problem
    // component 0.02; 0.02 / P = 0.01 exceeds (0.02 / 1.96)^2 alone: no number of seeds is enough.
    expect(
      varianceComponents([
        [0.1, -0.1],
        [0.1, -0.1],
      ]),
    ).toEqual({ seed: 0, problem: expect.closeTo(0.02, 12), residual: 0 });
    const fixed = armDifference(
      [
        [0.6, 0.4],
        [0.6, 0.4],
      ],
      [
        [0.5, 0.5],
        [0.5, 0.5],
      ],
      { resamples: 200 },
    );
    expect(fixed.seedsForHalfWidth).toBe(Number.POSITIVE_INFINITY);
  });

  it("says when a CI excludes zero", () => {
    expect(verdict([0.01, 0.03])).toBe("a > b");
    expect(verdict([-0.03, -0.01])).toBe("a < b");
    expect(verdict([-0.01, 0.02])).toBe("inside the noise");
    expect(verdict([0, 0])).toBe("no difference measured");
  });
});
