import { describe, expect, it } from "vitest";
import {
  decimalEquals,
  parseDecimal,
  parseExactJson,
  pythonEquals,
  stdoutMatches,
  toExactJson,
} from "../src/compare.js";
import { meanPassAtK, passAtK } from "../src/pass-at-k.js";

describe("stdoutMatches (LiveCodeBench stdio rules)", () => {
  it("ignores surrounding whitespace and trailing spaces per line", () => {
    expect(stdoutMatches("  3 4  \n5\r\n\n", "3 4\n5")).toBe(true);
  });
  it("requires the same number of lines", () => {
    expect(stdoutMatches("3\n4", "3 4")).toBe(false);
  });
  it("compares numbers as exact decimals, so 1.0 equals 1 and 1e3 equals 1000", () => {
    expect(stdoutMatches("1.0 1e3 -0", "1 1000 0")).toBe(true);
  });
  it("has no float tolerance: 0.3333 differs from 0.33333", () => {
    expect(stdoutMatches("0.3333", "0.33333")).toBe(false);
  });
  it("does not round 50000000000000001 to 50000000000000000 (the np.isclose pitfall LCB avoids)", () => {
    expect(stdoutMatches("50000000000000001", "50000000000000000")).toBe(false);
  });
  it("treats differing words as a wrong answer", () => {
    expect(stdoutMatches("Yes", "YES")).toBe(false);
  });
});

describe("parseDecimal", () => {
  it("accepts what Python's Decimal accepts", () => {
    for (const s of ["5.", ".5", "+1", "1_000", "1E-2", "Infinity", "-inf", "nan"])
      expect(parseDecimal(s)).toBeDefined();
    for (const s of ["1__0", "1_", "0x10", "1,000", ""]) expect(parseDecimal(s)).toBeUndefined();
  });
  it("NaN equals nothing, infinities equal by sign", () => {
    expect(decimalEquals(parseDecimal("nan")!, parseDecimal("nan")!)).toBe(false);
    expect(decimalEquals(parseDecimal("inf")!, parseDecimal("Infinity")!)).toBe(true);
    expect(decimalEquals(parseDecimal("inf")!, parseDecimal("-inf")!)).toBe(false);
    expect(decimalEquals(parseDecimal("1_000")!, parseDecimal("1e3")!)).toBe(true);
  });
});

describe("pythonEquals on return values", () => {
  const eq = (a: string, b: string) => pythonEquals(parseExactJson(a), parseExactJson(b));
  it("follows Python: 1 == 1.0 and True == 1", () => {
    expect(eq("1", "1.0")).toBe(true);
    expect(eq("true", "1")).toBe(true);
    expect(eq("false", "null")).toBe(false);
  });
  it("keeps big integers exact (2**70 vs 2**70+1 differ)", () => {
    expect(eq("1180591620717411303424", "1180591620717411303425")).toBe(false);
    expect(eq("1180591620717411303424", "1180591620717411303424")).toBe(true);
  });
  it("compares lists in order and dicts by key", () => {
    expect(eq("[1, [2, 3]]", "[1,[2,3]]")).toBe(true);
    expect(eq("[1, 2]", "[2, 1]")).toBe(false);
    expect(eq('{"a": 1, "b": [1]}', '{"b": [1.0], "a": 1}')).toBe(true);
  });
  it("accepts Python's NaN token, which equals nothing", () => {
    expect(eq("NaN", "NaN")).toBe(false);
  });
  it("compares already-parsed expected values", () => {
    expect(pythonEquals(parseExactJson('["a", 2]'), toExactJson(["a", 2]))).toBe(true);
  });
});

describe("passAtK", () => {
  it("matches 1 - C(n-c,k)/C(n,k) computed by hand", () => {
    // n=5, c=2, k=2: C(3,2)/C(5,2) = 3/10 -> 0.7
    expect(passAtK(5, 2, 2)).toBeCloseTo(0.7, 12);
    // n=10, c=3, k=1: c/n = 0.3
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 12);
    // n=4, c=1, k=3: 1 - C(3,3)/C(4,3) = 1 - 1/4
    expect(passAtK(4, 1, 3)).toBeCloseTo(0.75, 12);
  });
  it("is 1 when fewer than k samples fail and 0 when none pass", () => {
    expect(passAtK(5, 4, 2)).toBe(1);
    expect(passAtK(5, 0, 3)).toBe(0);
  });
  it("stays finite for n where C(n,k) overflows a double (n=2000, k=1000)", () => {
    const v = passAtK(2000, 1, 1000);
    // with one correct sample, pass@k = k/n exactly
    expect(v).toBeCloseTo(0.5, 10);
  });
  it("rejects c > n and k outside [1, n], naming the field", () => {
    expect(() => passAtK(3, 4, 1)).toThrow(/c \(4 correct\) cannot exceed n/);
    expect(() => passAtK(3, 1, 4)).toThrow(/k must be in \[1, n=3\]/);
  });
  it("averages over problems", () => {
    expect(
      meanPassAtK(
        [
          [true, false],
          [false, false],
        ],
        1,
      ),
    ).toBeCloseTo(0.25, 12);
  });
});
