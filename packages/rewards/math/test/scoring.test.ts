import { ConfigError } from "@tokenrl/base/errors";
import { describe, expect, it } from "vitest";
import { binaryReward, dapoReward, overlongPenalty } from "../src/scoring.js";

describe("scoring", () => {
  it("gives a binary reward of 1 or 0", () => {
    expect(binaryReward(true)).toBe(1);
    expect(binaryReward(false)).toBe(0);
  });
  it("keeps DAPO's +1/-1 verdict apart from the shaped reward", () => {
    expect(dapoReward(true)).toEqual({ reward: 1, correct: true });
    expect(dapoReward(false)).toEqual({ reward: -1, correct: false });
  });
  it("applies no overlong penalty up to Lmax - Lbuf", () => {
    // Lmax = 20480, Lbuf = 4096: the soft zone starts after 16384 tokens.
    expect(overlongPenalty(16384, { maxLength: 20480, bufferLength: 4096 })).toBe(0);
  });
  it("ramps the overlong penalty linearly to -factor at Lmax", () => {
    // len 18432: -(18432 - 16384) / 4096 * 1 = -0.5
    expect(overlongPenalty(18432, { maxLength: 20480, bufferLength: 4096 })).toBe(-0.5);
    // len 20480 with factor 2: -(4096 / 4096) * 2 = -2
    expect(overlongPenalty(20480, { maxLength: 20480, bufferLength: 4096, penaltyFactor: 2 })).toBe(-2);
    // correct and 3/4 into the buffer: 1 - 0.75 = 0.25, still counted as correct
    expect(dapoReward(true, 19456, { maxLength: 20480, bufferLength: 4096 })).toEqual({ reward: 0.25, correct: true });
  });
  it("names the bad option", () => {
    expect(() => overlongPenalty(10, { maxLength: 100, bufferLength: 0 })).toThrow(ConfigError);
    expect(() => overlongPenalty(10, { maxLength: 100, bufferLength: 200 })).toThrow(/bufferLength/);
    expect(() => dapoReward(true, undefined, { maxLength: 100, bufferLength: 10 })).toThrow(/length/);
  });
});
