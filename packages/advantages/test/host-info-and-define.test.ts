import { InvalidInputError, batchFromArrays, disposeBatch, numberIn, tf, useBackend } from "@tokenrl/core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import {
  advantageEstimators,
  defineAdvantageEstimator,
  describeAdvantageEstimators,
  grpoAdvantage,
  reinforcePlusPlusBaselineAdvantage,
  rlooAdvantage,
} from "../src/index.js";
import { broadcastOverMask, scoresOf } from "../src/host.js";

describe.each(TEST_BACKENDS)("host data beside the batch, on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  const arrays = {
    tokenRewards: [
      [0, 0, 1],
      [0, 0, 0],
      [0, 0.5, 0],
      [0, 0, 0],
    ],
    responseMask: [
      [1, 1, 1],
      [1, 1, 0],
      [1, 1, 0],
      [1, 0, 0],
    ],
    groupIds: [3, 3, 8, 8],
  };

  it("outcome estimators take scores and groups from batch.host instead of the tensors", () => {
    // The tensors say every score is 0 and everything is one group; batch.host carries the real
    // scores 1, 0 | 0.5, 0 and groups {3, 3}, {8, 8}. RLOO: groups of two, a_i = 2 (s_i - mean_g):
    // +1, -1 | +0.5, -0.5 on each row's valid tokens.
    const batch = batchFromArrays({
      ...arrays,
      tokenRewards: [
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
      groupIds: [0, 0, 0, 0],
    });
    batch.host = {
      rewards: Float32Array.of(1, 0, 0.5, 0),
      groupIds: Int32Array.of(3, 3, 8, 8),
      lengths: Int32Array.of(3, 2, 2, 1),
    };
    const out = rlooAdvantage(batch);
    expect(out.advantages.arraySync()).toEqual([
      [1, 1, 1],
      [-1, -1, 0],
      [0.5, 0.5, 0],
      [-0.5, 0, 0],
    ]);
    tf.dispose([out.advantages, out.returns]);
    disposeBatch(batch);
  });

  it("gives exactly the numbers of the tensor path when batch.host mirrors the tensors", () => {
    const plain = batchFromArrays(arrays);
    const withHost = batchFromArrays(arrays);
    withHost.host = { rewards: Float32Array.of(1, 0, 0.5, 0), groupIds: Int32Array.of(3, 3, 8, 8) };
    for (const name of ["grpo", "dr-grpo", "rloo", "reinforce-plus-plus-baseline"]) {
      const a = advantageEstimators.get(name)(plain);
      const b = advantageEstimators.get(name)(withHost);
      expect({ name, v: b.advantages.arraySync() }).toEqual({ name, v: a.advantages.arraySync() });
      tf.dispose([a.advantages, a.returns, b.advantages, b.returns]);
    }
    disposeBatch(plain);
    disposeBatch(withHost);
  });

  it("rejects host lengths that disagree with the mask, and non-finite host rewards", () => {
    const batch = batchFromArrays(arrays);
    batch.host = { lengths: Int32Array.of(3, 2, 3, 1) };
    expect(() => grpoAdvantage(batch)).toThrow(InvalidInputError);
    expect(() => grpoAdvantage(batch)).toThrow(
      /host\.lengths\[2\]: 3 disagrees with responseMask, whose row 2 has 2 valid tokens/,
    );
    batch.host = { rewards: Float32Array.of(1, Number.NaN, 0, 0) };
    expect(() => grpoAdvantage(batch)).toThrow(/host\.rewards/);
    disposeBatch(batch);
  });

  it("REINFORCE++-baseline whitens a constant set of centred values to exactly 0, not +-3e-4", () => {
    // One response, a group of one (mean 0, verl): its score -0.37 is its centred value on all 7 valid
    // tokens, a constant set. The float32 mean of seven fround(-0.37) is not fround(-0.37), and that
    // residue divided by sqrt(1e-8) came back as 2.98e-4 on every token.
    const batch = batchFromArrays({
      tokenRewards: [[0, 0, 0, 0, 0, 0, -0.37, 0]],
      responseMask: [[1, 1, 1, 1, 1, 1, 1, 0]],
      groupIds: [0],
    });
    const out = reinforcePlusPlusBaselineAdvantage(batch);
    expect(out.advantages.arraySync()).toEqual([[0, 0, 0, 0, 0, 0, 0, 0]]);
    tf.dispose([out.advantages, out.returns]);
    disposeBatch(batch);
  });

  it("defineAdvantageEstimator registers a user's estimator that checks its params and the batch", () => {
    // A toy: every valid token gets scale * s_i.
    const toy = defineAdvantageEstimator<{ scale?: number }>({
      name: `toy-scaled-score-${backend}`,
      description: "toy: scale * s_i on every valid token",
      requires: ["tokenRewards"],
      defaults: { scale: 2 },
      validate: { scale: numberIn(0, 10) },
      estimate: (b, p, host) => {
        const s = scoresOf(b, host).map((v) => p.scale * v);
        const advantages = broadcastOverMask(s, host);
        return { advantages, returns: tf.clone(advantages) };
      },
    });
    expect(advantageEstimators.get(`toy-scaled-score-${backend}`)).toBe(toy);
    expect(describeAdvantageEstimators().find((e) => e.name === `toy-scaled-score-${backend}`)).toEqual({
      name: `toy-scaled-score-${backend}`,
      description: "toy: scale * s_i on every valid token",
      requires: ["tokenRewards"],
      defaults: { scale: 2 },
    });
    expect(toy.estimatorName).toBe(`toy-scaled-score-${backend}`);
    expect(toy.resolve({ scale: 3 })).toEqual({ scale: 3 });
    expect(() => toy.resolve({ scale: 11 })).toThrow(
      /toy-scaled-score-.*\.scale: expected a number in \[0, 10\], got 11/,
    );
    const batch = batchFromArrays(arrays);
    const out = toy(batch);
    expect(out.advantages.arraySync()).toEqual([
      [2, 2, 2],
      [0, 0, 0],
      [1, 1, 0],
      [0, 0, 0],
    ]);
    tf.dispose([out.advantages, out.returns]);
    expect(() => toy({ responseMask: batch.responseMask })).toThrow(/tokenRewards/);
    disposeBatch(batch);
  });
});
