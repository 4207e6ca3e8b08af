import { describe, expect, it } from "vitest";
import { bootstrapStderr, computeMetrics, majorityIndex, pairedDifference, quantile, stdev } from "../src/index.js";

describe("majorityIndex", () => {
  it("picks the most frequent answer, ignoring empty ones", () => {
    expect(majorityIndex(["3", "", "4", "4", " "])).toBe(2);
    expect(majorityIndex(["", "", "7"])).toBe(2);
  });
  it("breaks ties by first occurrence", () => {
    expect(majorityIndex(["5", "6", "6", "5"])).toBe(0);
  });
  it("returns -1 when no sample has an answer", () => {
    expect(majorityIndex(["", " "])).toBe(-1);
  });
});

describe("computeMetrics", () => {
  // Three problems, n = 4.
  //   a: correct T F F T (c=2), answers 1 2 3 1 -> majority "1" (correct)
  //   b: F F F F (c=0), answers 9 9 8 ""   -> majority "9" (wrong)
  //   c: T T T T (c=4), answers 5 5 5 5    -> majority "5" (correct)
  const outcomes = [
    { id: "a", correct: [true, false, false, true], answers: ["1", "2", "3", "1"] },
    { id: "b", correct: [false, false, false, false], answers: ["9", "9", "8", ""] },
    { id: "c", correct: [true, true, true, true], answers: ["5", "5", "5", "5"] },
  ];
  it("averages per-problem pass@k, mean@n and maj@n over problems", () => {
    const m = computeMetrics(outcomes, { ks: [1, 2, 4] });
    expect(m.n).toBe(4);
    // pass@1 = (2/4 + 0 + 1) / 3
    expect(m.metrics["pass@1"]).toBeCloseTo(0.5, 15);
    // pass@2 for a: 1 - C(2,2)/C(4,2) = 5/6; b: 0; c: 1
    expect(m.metrics["pass@2"]).toBeCloseTo((5 / 6 + 0 + 1) / 3, 15);
    // pass@4 (n = k): a 1, b 0, c 1
    expect(m.metrics["pass@4"]).toBeCloseTo(2 / 3, 15);
    expect(m.metrics["mean@4"]).toBeCloseTo(0.5, 15);
    expect(m.metrics["maj@4"]).toBeCloseTo(2 / 3, 15);
    expect(m.perProblem.map((p) => p.majAnswer)).toEqual(["1", "9", "5"]);
    expect(Object.keys(m.stderr).sort()).toEqual(["maj@4", "mean@4", "pass@1", "pass@2", "pass@4"]);
  });
  it("rejects k > n and unequal n, naming the problem", () => {
    expect(() => computeMetrics(outcomes, { ks: [8] })).toThrow(/k=8 is outside \[1, n=4\]/);
    expect(() => computeMetrics([...outcomes, { id: "d", correct: [true], answers: ["1"] }], { ks: [1] })).toThrow(
      /problem "d" has 1 samples/,
    );
  });
});

describe("bootstrapStderr", () => {
  it("is close to sd/sqrt(P) for a large sample, and the same for the same seed", () => {
    // 100 values, half 0 and half 1: population sd 0.5, SE of the mean ~ 0.5/sqrt(100) = 0.05.
    const values = Array.from({ length: 100 }, (_, i) => i % 2);
    const se = bootstrapStderr(values, { resamples: 4000, seed: 1 });
    expect(se).toBeGreaterThan(0.046);
    expect(se).toBeLessThan(0.054);
    expect(bootstrapStderr(values, { resamples: 4000, seed: 1 })).toBe(se);
    expect(bootstrapStderr(values, { resamples: 4000, seed: 2 })).not.toBe(se);
  });
  it("is 0 for constant values", () => {
    expect(bootstrapStderr([0.25, 0.25, 0.25], { seed: 3 })).toBe(0);
  });
});

describe("pairedDifference", () => {
  it("a constant shift has that mean and a zero-width interval", () => {
    const a = [
      [0.5, 0.75, 1],
      [0.25, 0.5, 0.75],
    ];
    const b = a.map((row) => row.map((v) => v - 0.25));
    const d = pairedDifference(a, b, { seed: 0 });
    expect(d.mean).toBeCloseTo(0.25, 12);
    expect(d.ci[0]).toBeCloseTo(0.25, 12);
    expect(d.ci[1]).toBeCloseTo(0.25, 12);
    expect(d.stderr).toBeCloseTo(0, 12);
    expect(d).toMatchObject({ seeds: 2, problems: 3, level: 0.95 });
  });
  it("resamples seeds: two seeds with differences 1 and 0 give SE sqrt(0.25/2)", () => {
    // Mean of 2 draws with replacement from {1, 0}: variance 0.25 / 2 = 0.125.
    const d = pairedDifference([[1], [0]], [[0], [0]], { seed: 5, resamples: 20000 });
    expect(d.mean).toBe(0.5);
    expect(d.stderr).toBeGreaterThan(Math.sqrt(0.125) * 0.97);
    expect(d.stderr).toBeLessThan(Math.sqrt(0.125) * 1.03);
    // The bootstrap distribution is {0, 0.5, 1} with probabilities 1/4, 1/2, 1/4.
    expect(d.ci).toEqual([0, 1]);
  });
  it("rejects grids that do not pair", () => {
    expect(() => pairedDifference([[1, 2]], [[1]])).toThrow(/seed 0 has 2 and 1 problems/);
    expect(() => pairedDifference([[1]], [[1], [2]])).toThrow(/same non-zero number of seeds/);
  });
});

describe("quantile and stdev", () => {
  it("interpolate as numpy does", () => {
    // numpy.quantile([1,2,3,4], 0.25) = 1.75; std([1,2,3,4], ddof=1) = sqrt(5/3)
    expect(quantile([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 15);
    expect(stdev([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 15);
  });
  it("stdev of a constant is exactly 0, whatever its float representation", () => {
    expect(stdev([0.1, 0.1, 0.1])).toBe(0);
    expect(stdev(new Array(7).fill(0.7))).toBe(0);
    expect(bootstrapStderr([0.1, 0.1, 0.1, 0.1], { seed: 1 })).toBe(0);
  });
});
