import { describe, expect, it } from "vitest";
import { compareField, parseCase } from "../src/index.js";

describe("compareField", () => {
  it("passes values within atol + rtol |want| and fails beyond, elementwise", () => {
    // Allowed error at want 100: 1e-3 + 1e-2 * 100 = 1.001; at want 0: 1e-3.
    const ok = compareField([[101, 0.0009]], [[100, 0]], 1e-3, 1e-2);
    expect(ok.failed).toBe(0);
    expect(ok.count).toBe(2);
    const bad = compareField([[101.01, 0.0011]], [[100, 0]], 1e-3, 1e-2);
    expect(bad.failed).toBe(2);
    expect(bad.maxError).toBeCloseTo(1.01, 10);
    expect(bad.worstAt).toEqual([0, 0]);
  });

  it('accepts NaN only where the expected value is the string "NaN"', () => {
    expect(compareField([Number.NaN, 1], ["NaN", 1], 0, 0).failed).toBe(0);
    const numberWhereNaN = compareField([0, 1], ["NaN", 1], 1, 1);
    expect(numberWhereNaN.failed).toBe(1);
    expect(numberWhereNaN.maxError).toBe(Number.POSITIVE_INFINITY);
    const nanWhereNumber = compareField(Number.NaN, 0.5, 1, 1);
    expect(nanWhereNumber.failed).toBe(1);
    expect(nanWhereNumber.worstWant).toBe(0.5);
  });

  it("reports a shape mismatch instead of comparing", () => {
    const cmp = compareField([[1, 2]], [[1, 2, 3]], 1, 1);
    expect(cmp.failed).toBe(1);
    expect(cmp.shapeMismatch).toBe("got shape [1, 2], want [1, 3]");
    expect(compareField(3, [3], 1, 1).shapeMismatch).toBe("got shape [], want [1]");
  });

  it('rejects an expected value that is neither a number nor "NaN"', () => {
    expect(() => compareField([1], ["nan"], 0, 0)).toThrow(/not a number or "NaN"/);
  });
});

describe("parseCase", () => {
  const good = { id: "x/1", op: "aggregate", params: {}, inputs: {}, expected: { value: 1 }, atol: 0, rtol: 0 };

  it("reads a FORMAT.md case", () => {
    expect(parseCase(JSON.stringify(good)).id).toBe("x/1");
  });

  it("names the field that is missing or wrong", () => {
    expect(() => parseCase("{")).toThrow(/not valid JSON/);
    expect(() => parseCase(JSON.stringify({ ...good, op: 3 }))).toThrow(/^op: expected a non-empty string, got 3/);
    expect(() => parseCase(JSON.stringify({ ...good, atol: undefined }))).toThrow(
      /^atol: expected a number >= 0, got nothing/,
    );
    expect(() => parseCase(JSON.stringify({ ...good, expected: {} }))).toThrow(/^expected: expected at least one/);
  });
});
