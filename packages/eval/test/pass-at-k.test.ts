import { describe, expect, it } from "vitest";
import { passAtK } from "../src/index.js";

/** Exact C(n, k) with BigInt, for the hand-computed references. */
function binom(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
  return r;
}

/** 1 - C(n-c, k) / C(n, k) to 1e-15 via integer division. */
function exact(n: number, c: number, k: number): number {
  const scale = 10n ** 18n;
  return 1 - Number((binom(n - c, k) * scale) / binom(n, k)) / 1e18;
}

describe("passAtK (Chen et al. 2021)", () => {
  it("pass@1 is the fraction correct", () => {
    expect(passAtK(5, 2, 1)).toBeCloseTo(2 / 5, 15);
    expect(passAtK(16, 3, 1)).toBeCloseTo(3 / 16, 15);
  });

  it("matches 1 - C(n-c,k)/C(n,k) on hand-computed cases", () => {
    // C(3,2)/C(5,2) = 3/10
    expect(passAtK(5, 2, 2)).toBeCloseTo(0.7, 15);
    // C(7,4)/C(10,4) = 35/210
    expect(passAtK(10, 3, 4)).toBeCloseTo(5 / 6, 15);
    // C(14,4)/C(16,4) = 1001/1820
    expect(passAtK(16, 2, 4)).toBeCloseTo(1 - 1001 / 1820, 15);
  });

  it("n = k: 1 if any sample is correct, else 0", () => {
    expect(passAtK(4, 1, 4)).toBe(1);
    expect(passAtK(4, 4, 4)).toBe(1);
    expect(passAtK(4, 0, 4)).toBe(0);
    expect(passAtK(1, 0, 1)).toBe(0);
    expect(passAtK(1, 1, 1)).toBe(1);
  });

  it("c = 0 gives 0 and c = n gives 1 for every k", () => {
    for (const k of [1, 2, 8, 16]) {
      expect(passAtK(16, 0, k)).toBe(0);
      expect(passAtK(16, 16, k)).toBe(1);
    }
  });

  it("n - c < k gives exactly 1", () => {
    // 10 samples, 7 correct: any 4 contain a correct one.
    expect(passAtK(10, 7, 4)).toBe(1);
  });

  it("stays accurate where the binomials exceed 2^53", () => {
    // C(100, 50) ~ 1e29
    expect(passAtK(100, 10, 50)).toBeCloseTo(exact(100, 10, 50), 12);
    expect(passAtK(200, 3, 64)).toBeCloseTo(exact(200, 3, 64), 12);
    expect(passAtK(1024, 1, 512)).toBeCloseTo(0.5, 12);
  });

  it("rejects impossible counts with the value in the message", () => {
    expect(() => passAtK(4, 5, 1)).toThrow(/c \(5 correct\) cannot exceed n \(4/);
    expect(() => passAtK(4, 1, 5)).toThrow(/k must be in \[1, n=4\], got 5/);
    expect(() => passAtK(4, 1, 0)).toThrow(/got 0/);
    expect(() => passAtK(4.5, 1, 1)).toThrow(/n must be a non-negative integer, got 4.5/);
  });
});
