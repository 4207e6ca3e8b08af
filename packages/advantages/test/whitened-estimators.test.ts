import { ConfigError, ShapeError, useBackend } from "@tokenrl/core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { gaeAdvantage, reinforcePlusPlusAdvantage, reinforcePlusPlusBaselineAdvantage } from "../src/index.js";
import { allFinite, expectClose, run } from "./helpers.js";

// verl masked_whiten divides by sqrt(var + 1e-8); with var = 0.25 that is 0.5 * (1 - 2e-8): below float32 precision,
// so the hand values below use the plain std.
const ONE_SQRT3 = 1 / Math.sqrt(3);

describe.each(TEST_BACKENDS)("whitened estimators on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  describe("reinforcePlusPlusAdvantage", () => {
    it("discounts right to left and whitens over the batch's valid tokens", () => {
      // gamma 0.5: row 0 returns [0.5, 1]; row 1 [0, (masked)]. Valid returns 0.5, 1, 0: mean 0.5,
      // unbiased var (0 + 0.25 + 0.25) / 2 = 0.25, std 0.5 -> advantages 0, 1, -1.
      const { advantages, returns } = run(
        reinforcePlusPlusAdvantage,
        {
          tokenRewards: [
            [0, 1],
            [0, 0],
          ],
          responseMask: [
            [1, 1],
            [1, 0],
          ],
        },
        { gamma: 0.5 },
      );
      expectClose(returns, [
        [0.5, 1],
        [0, 0],
      ]);
      expectClose(advantages, [
        [0, 1],
        [-1, 0],
      ]);
    });

    it("carries the return unchanged across masked tokens inside a response", () => {
      // Row [0, (obs), 1], gamma 0.5: G_2 = 1; the observation token leaves G alone; G_0 = 0 + 0.5 * 1 = 0.5.
      // (Resetting at the hole, as older verl did, would give G_0 = 0.) Row 1 gives a third valid token, return 0.
      // Valid returns 0.5, 1, 0 -> advantages 0, 1, -1 as above.
      const { advantages, returns } = run(
        reinforcePlusPlusAdvantage,
        {
          tokenRewards: [
            [0, 0, 1],
            [0, 0, 0],
          ],
          responseMask: [
            [1, 0, 1],
            [1, 0, 0],
          ],
        },
        { gamma: 0.5 },
      );
      expectClose(returns, [
        [0.5, 0, 1],
        [0, 0, 0],
      ]);
      expectClose(advantages, [
        [0, 0, 1],
        [-1, 0, 0],
      ]);
    });

    it("defaults gamma to 1 (undiscounted reward-to-go)", () => {
      // Returns (gamma 1) 1, 0.5 | 0.5, 0.5: mean 0.625; deviations 0.375, -0.125 x 3;
      // unbiased var (0.140625 + 3 * 0.015625) / 3 = 0.0625; std 0.25 -> 1.5, -0.5.
      const s = 0.125 / 0.25;
      const { advantages, returns } = run(reinforcePlusPlusAdvantage, {
        tokenRewards: [
          [0.5, 0.5],
          [0, 0.5],
        ],
        responseMask: [
          [1, 1],
          [1, 1],
        ],
      });
      expectClose(returns, [
        [1, 0.5],
        [0.5, 0.5],
      ]);
      expectClose(advantages, [
        [3 * s, -s],
        [-s, -s],
      ]);
    });

    it("returns zero advantages, not NaN, with no valid token or a single one", () => {
      const none = run(reinforcePlusPlusAdvantage, { tokenRewards: [[1, 0]], responseMask: [[0, 0]] });
      expect(none.advantages).toEqual([[0, 0]]);
      expect(none.returns).toEqual([[0, 0]]);
      const one = run(reinforcePlusPlusAdvantage, {
        tokenRewards: [
          [0, 2],
          [0, 0],
        ],
        responseMask: [
          [0, 1],
          [0, 0],
        ],
      });
      expect(one.advantages).toEqual([
        [0, 0],
        [0, 0],
      ]);
      expectClose(one.returns, [
        [0, 2],
        [0, 0],
      ]);
    });

    it("rejects a gamma outside [0, 1]", () => {
      expect(() =>
        run(reinforcePlusPlusAdvantage, { tokenRewards: [[1]], responseMask: [[1]] }, { gamma: 1.5 }),
      ).toThrow(/reinforce-plus-plus\.gamma: expected a number in \[0, 1\]/);
    });
  });

  describe("reinforcePlusPlusBaselineAdvantage", () => {
    it("centres scores by the group mean, broadcasts, and whitens over valid tokens", () => {
      // Scores 1, 0 in one group: centred +0.5, -0.5 on 2 and 1 valid tokens: values 0.5, 0.5, -0.5.
      // mean 1/6; deviations 1/3, 1/3, -2/3; unbiased var (1/9 + 1/9 + 4/9) / 2 = 1/3; std 1/sqrt(3).
      const hi = 1 / 3 / ONE_SQRT3;
      const lo = -2 / 3 / ONE_SQRT3;
      const { advantages, returns } = run(reinforcePlusPlusBaselineAdvantage, {
        tokenRewards: [
          [0, 1],
          [0, 0],
        ],
        responseMask: [
          [1, 1],
          [1, 0],
        ],
        groupIds: [11, 11],
      });
      expectClose(advantages, [
        [hi, hi],
        [lo, 0],
      ]);
      expectClose(returns, advantages);
    });

    it("uses no baseline for a group of one and gives 0s for an all-equal batch", () => {
      // Singleton scores 1 and 0 (groups 1, 2) centre to themselves: values 1, 1, 0 -> mean 2/3,
      // deviations 1/3, 1/3, -2/3 as above.
      const hi = 1 / 3 / ONE_SQRT3;
      const lo = -2 / 3 / ONE_SQRT3;
      const singles = run(reinforcePlusPlusBaselineAdvantage, {
        tokenRewards: [
          [0, 1],
          [0, 0],
        ],
        responseMask: [
          [1, 1],
          [1, 0],
        ],
        groupIds: [1, 2],
      });
      expectClose(singles.advantages, [
        [hi, hi],
        [lo, 0],
      ]);
      const equal = run(reinforcePlusPlusBaselineAdvantage, {
        tokenRewards: [[1], [1]],
        responseMask: [[1], [1]],
        groupIds: [0, 0],
      });
      expect(equal.advantages).toEqual([[0], [0]]);
    });

    it("takes no params and needs groupIds", () => {
      const arrays = { tokenRewards: [[1]], responseMask: [[1]], groupIds: [0] };
      expect(() => run(reinforcePlusPlusBaselineAdvantage, arrays, { gamma: 1 })).toThrow(ConfigError);
      expect(() => run(reinforcePlusPlusBaselineAdvantage, { tokenRewards: [[1]], responseMask: [[1]] })).toThrow(
        ShapeError,
      );
    });
  });

  describe("gaeAdvantage", () => {
    it("computes TD residuals right to left; returns = A + V; advantages whitened", () => {
      // gamma = lambda = 1, R = [0, 1], V = [0.5, 0.25]:
      // t=1: delta = 1 + 0 - 0.25 = 0.75, A = 0.75; t=0: delta = 0 + 0.25 - 0.5 = -0.25, A = -0.25 + 0.75 = 0.5.
      // returns = A + V = [1, 1]. Whitening two values gives -+1/sqrt(2).
      const { advantages, returns } = run(gaeAdvantage, {
        tokenRewards: [[0, 1]],
        values: [[0.5, 0.25]],
        responseMask: [[1, 1]],
      });
      expectClose(returns, [[1, 1]]);
      expectClose(advantages, [[-Math.SQRT1_2, Math.SQRT1_2]]);
    });

    it("skips masked tokens, carrying V and A over them, and never reads their values", () => {
      // gamma 0.9, lambda 0.5, row [0, (obs, V = NaN), 1], V = [0.2, -, 0.4]:
      // t=2: delta = 1 - 0.4 = 0.6, A = 0.6; t=0: delta = 0 + 0.9 * 0.4 - 0.2 = 0.16, A = 0.16 + 0.45 * 0.6 = 0.43.
      // returns [0.63, 0, 1.0]. Row 1 (lambda irrelevant): R = [1], V = [0.3] -> A = 0.7, return 1.
      // Valid A: 0.43, 0.6, 0.7: mean 0.5766667; deviations -0.1466667, 0.0233333, 0.1233333;
      // unbiased var (0.0215111 + 0.0005444 + 0.0152111) / 2 = 0.0186333; std 0.1365040.
      const std = Math.sqrt(0.0186333333);
      const { advantages, returns } = run(
        gaeAdvantage,
        {
          tokenRewards: [
            [0, 0, 1],
            [1, 0, 0],
          ],
          values: [
            [0.2, Number.NaN, 0.4],
            [0.3, Number.NaN, Number.NaN],
          ],
          responseMask: [
            [1, 0, 1],
            [1, 0, 0],
          ],
        },
        { gamma: 0.9, lambda: 0.5 },
      );
      expectClose(returns, [
        [0.63, 0, 1],
        [1, 0, 0],
      ]);
      expectClose(
        advantages,
        [
          [-0.1466667 / std, 0, 0.0233333 / std],
          [0.1233333 / std, 0, 0],
        ],
        4,
      );
    });

    it("with lambda 0 uses one-step TD errors", () => {
      // gamma 1, lambda 0, R = [0, 0, 1], V = [1, 2, 4]: A_0 = 0 + 2 - 1 = 1, A_1 = 0 + 4 - 2 = 2, A_2 = 1 - 4 = -3.
      // returns = A + V = [2, 4, 1].
      const { returns } = run(
        gaeAdvantage,
        { tokenRewards: [[0, 0, 1]], values: [[1, 2, 4]], responseMask: [[1, 1, 1]] },
        { lambda: 0 },
      );
      expectClose(returns, [[2, 4, 1]]);
    });

    it("is finite with no valid token and with one, and needs values", () => {
      const none = run(gaeAdvantage, { tokenRewards: [[0, 0]], values: [[1, 1]], responseMask: [[0, 0]] });
      expect(none.advantages).toEqual([[0, 0]]);
      expect(none.returns).toEqual([[0, 0]]);
      const one = run(gaeAdvantage, { tokenRewards: [[1, 0]], values: [[0.25, 9]], responseMask: [[1, 0]] });
      expect(one.advantages).toEqual([[0, 0]]);
      expectClose(one.returns, [[1, 0]]); // A = 1 - 0.25 = 0.75; return 0.75 + 0.25
      expect(allFinite(one.advantages)).toBe(true);
      expect(() => run(gaeAdvantage, { tokenRewards: [[1]], responseMask: [[1]] })).toThrow(/values/);
      expect(() =>
        run(gaeAdvantage, { tokenRewards: [[1]], values: [[0]], responseMask: [[1]] }, { lambda: -0.1 }),
      ).toThrow(/gae\.lambda/);
    });
  });
});
