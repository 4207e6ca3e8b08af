import { describe, expect, it } from "vitest";
import { sampleToken } from "../src/index.js";

// probabilities 0.5, 0.25, 0.15, 0.1 in a shuffled order: ids 2, 0, 3, 1
const logp = new Float32Array([Math.log(0.25), Math.log(0.1), Math.log(0.5), Math.log(0.15)]);

describe("sampleToken", () => {
  it("temperature 0 is argmax", () => {
    expect(sampleToken(logp, 0, 0, 1, 0.99)).toBe(2);
  });
  it("draws by cumulative probability in descending order: u < 0.5 -> id 2, < 0.75 -> id 0, < 0.9 -> id 3, else id 1", () => {
    expect([0.1, 0.6, 0.8, 0.95].map((u) => sampleToken(logp, 1, 0, 1, u))).toEqual([2, 0, 3, 1]);
  });
  it("top-k 2 renormalises over {2: 2/3, 0: 1/3}", () => {
    expect([0.6, 0.7].map((u) => sampleToken(logp, 1, 2, 1, u))).toEqual([2, 0]);
  });
  it("top-p 0.7 keeps the smallest prefix reaching 0.7: {2, 0}, renormalised to 2/3 and 1/3", () => {
    expect([0.66, 0.67, 0.999].map((u) => sampleToken(logp, 1, 0, 0.7, u))).toEqual([2, 0, 0]);
  });
});
