import { describe, expect, it } from "vitest";
import { averageRuns, cellShares, dynamicsCharts, hasCells } from "../src/dynamics.mjs";
import { warmStartStatistics } from "../src/task-stats.mjs";

const cells = (hardCorrectHigh, easyWrongLow) => ({
  "actor/cells/hard-correct-high/tokens": hardCorrectHigh,
  "actor/cells/hard-correct-high/entropyMean": hardCorrectHigh > 0 ? 1.5 : 0,
  "actor/cells/easy-wrong-low/tokens": easyWrongLow,
  "actor/cells/easy-wrong-low/entropyMean": easyWrongLow > 0 ? 0.1 : 0,
});

describe("training dynamics", () => {
  it("averages each step over the seeds that logged it, and ignores a cell's placeholder entropy", () => {
    const seed0 = [
      { phase: "rl", step: 1, "actor/entropy": 1, ...cells(10, 30) },
      { phase: "eval", step: 1, "actor/entropy": 9 },
    ];
    const seed1 = [
      { phase: "rl", step: 1, "actor/entropy": 3, ...cells(0, 40) },
      { phase: "rl", step: 2, skipped: "no informative group" },
    ];
    const avg = averageRuns("htpo", [seed0, seed1]);
    expect(avg.map((r) => r.step)).toEqual([1, 2]);
    expect(avg[0]["actor/entropy"]).toBe(2);
    expect(avg[0]["htpo|hard-correct-high|tokens"]).toBe(5);
    // Seed 1 had no hard-correct-high tokens: its logged 0 entropy is not averaged in.
    expect(avg[0]["htpo|hard-correct-high|entropyMean"]).toBe(1.5);
    expect(avg[1]["actor/entropy"]).toBeUndefined();
    expect(hasCells("htpo", avg)).toBe(true);
    expect(hasCells("dapo", averageRuns("dapo", [[{ phase: "rl", step: 1, "actor/entropy": 1 }]]))).toBe(false);
    // 5 hard tokens of 5 + 35: hard share 0.125, correct share 0.125, high share 0.125.
    expect(cellShares("htpo", avg)).toEqual([{ step: 1, tokens: 40, hard: 0.125, correct: 0.125, high: 0.125 }]);
  });

  it("gives each HTPO arm its own cell charts", () => {
    const charts = dynamicsCharts(["htpo", "htpo-no-entropy"]);
    const cellCharts = charts.filter((c) => c.title.includes("HTPO cell"));
    expect(cellCharts).toHaveLength(4);
    expect(cellCharts[0].keys[0].test("htpo|hard-correct-high|entropyMean")).toBe(true);
    expect(cellCharts[0].keys[0].test("htpo-no-entropy|hard-correct-high|entropyMean")).toBe(false);
  });
});

describe("the task's statistics at the warm-start", () => {
  it("lengths, accuracy by difficulty around the 0.6 threshold, entropy quantiles and the top-20% split", () => {
    const samples = [
      { problemId: "p1", response: "aaaa", finishReason: "stop" },
      { problemId: "p1", response: "aaaaaa", responseTokens: 6, finishReason: "stop" },
      { problemId: "p2", response: "aa", finishReason: "length" },
      { problemId: "p2", response: "aaaaaaaa", finishReason: "stop" },
    ];
    const perProblem = [
      { id: "p1", n: 4, c: 4 },
      { id: "p2", n: 4, c: 1 },
      { id: "p3", n: 4, c: 0 },
      { id: "p4", n: 4, c: 3 },
    ];
    const difficultyOf = (id) => (id === "p1" || id === "p4" ? 1 : 2);
    // Ten tokens: the top 20% (k = 2) are 2.0 and 1.0; the rest average 0.1.
    const scored = [{ entropies: [0.1, 2, 0.1, 0.1, 1, 0.1, 0.1, 0.1, 0.1, 0.1] }];
    const s = warmStartStatistics({ samples, perProblem, difficultyOf, scored });
    expect(s.length.mean).toBe(5);
    expect(s.length.p50).toBe(5);
    expect(s.length.max).toBe(8);
    expect(s.length.truncated).toBe(0.25);
    expect(s.difficulty).toEqual([
      { difficulty: 1, problems: 2, meanAccuracy: 7 / 8, passAtN: 1, hardShare: 0 },
      { difficulty: 2, problems: 2, meanAccuracy: 1 / 8, passAtN: 0.5, hardShare: 1 },
    ]);
    expect(s.groupAccuracy).toEqual({ zero: 0.25, belowThreshold: 0.25, aboveThreshold: 0.25, one: 0.25 });
    expect(s.entropy.highSetMean).toBeCloseTo(1.5, 12);
    expect(s.entropy.lowSetMean).toBeCloseTo(0.1, 12);
    expect(s.entropy.mean).toBeCloseTo(3.8 / 10, 12);
  });
});
