import { ConfigError, InvalidInputError, NonFiniteError, ShapeError, useBackend } from "@tokenrl/core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { drGrpoAdvantage, grpoAdvantage, rlooAdvantage } from "../src/index.js";
import { allFinite, expectClose, run } from "./helpers.js";

// Group of three with scores 1, 0, 0 (the reward sits on different tokens; the score is the row sum):
// mean 1/3; deviations 2/3, -1/3, -1/3; sum of squares 4/9 + 1/9 + 1/9 = 2/3.
// unbiased std sqrt((2/3)/2) = sqrt(1/3) = 0.5773503; population std sqrt((2/3)/3) = 0.4714045.
const THREE = {
  tokenRewards: [
    [0, 0, 1],
    [0, 0, 0],
    [0, 0, 0],
  ],
  responseMask: [
    [1, 1, 1],
    [1, 1, 0],
    [1, 0, 0],
  ],
  groupIds: [0, 0, 0],
};
const SQRT3 = Math.sqrt(3);
const SQRT2 = Math.sqrt(2);

describe.each(TEST_BACKENDS)("group-baseline estimators on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  describe("grpoAdvantage", () => {
    it("divides the centred score by the unbiased group std plus 1e-6 by default", () => {
      const a = 2 / 3 / (1 / SQRT3 + 1e-6);
      const b = -1 / 3 / (1 / SQRT3 + 1e-6);
      const { advantages, returns } = run(grpoAdvantage, THREE);
      expectClose(advantages, [
        [a, a, a],
        [b, b, 0],
        [b, 0, 0],
      ]);
      expectClose(returns, advantages);
    });

    it("uses the population std with ddof 0 and the given epsilon", () => {
      // (2/3) / sqrt(2/9) = sqrt(2); (-1/3) / sqrt(2/9) = -1/sqrt(2); epsilon 0.
      const { advantages } = run(grpoAdvantage, THREE, { ddof: 0, epsilon: 0 });
      expectClose(advantages, [
        [SQRT2, SQRT2, SQRT2],
        [-1 / SQRT2, -1 / SQRT2, 0],
        [-1 / SQRT2, 0, 0],
      ]);
    });

    it("with normalizeByStd false only centres the scores", () => {
      const { advantages } = run(grpoAdvantage, THREE, { normalizeByStd: false });
      expectClose(advantages, [
        [2 / 3, 2 / 3, 2 / 3],
        [-1 / 3, -1 / 3, 0],
        [-1 / 3, 0, 0],
      ]);
    });

    it("treats a group of one as mean 0, std 1: score / (1 + epsilon)", () => {
      // verl: 0.999999 for score 1 with epsilon 1e-6; with epsilon 0.5, 2 / 1.5.
      expectClose(run(grpoAdvantage, { tokenRewards: [[0, 1]], responseMask: [[1, 1]], groupIds: [4] }).advantages, [
        [1 / (1 + 1e-6), 1 / (1 + 1e-6)],
      ]);
      expectClose(
        run(grpoAdvantage, { tokenRewards: [[0, 2]], responseMask: [[1, 1]], groupIds: [4] }, { epsilon: 0.5 })
          .advantages,
        [[2 / 1.5, 2 / 1.5]],
      );
    });

    it("gives exactly 0 for a group whose scores are all equal, even with epsilon 0", () => {
      const arrays = {
        tokenRewards: [
          [0.1, 0],
          [0, 0.1],
          [0.1, 0],
        ],
        responseMask: [
          [1, 1],
          [1, 1],
          [1, 0],
        ],
        groupIds: [3, 3, 3],
      };
      for (const params of [{}, { epsilon: 0 }, { epsilon: 0, ddof: 0 }]) {
        const { advantages } = run(grpoAdvantage, arrays, params as object);
        expect(advantages).toEqual([
          [0, 0],
          [0, 0],
          [0, 0],
        ]);
      }
    });

    it("counts an empty response in its group with score 0 and gives it 0s", () => {
      // Scores 1 and 0 (the empty row): mean 1/2, unbiased std sqrt(1/2); a = 0.5 / (0.7071068 + 1e-6).
      const a = 0.5 / (Math.SQRT1_2 + 1e-6);
      const { advantages } = run(grpoAdvantage, {
        tokenRewards: [
          [0, 1],
          [0, 0],
        ],
        responseMask: [
          [1, 1],
          [0, 0],
        ],
        groupIds: [0, 0],
      });
      expectClose(advantages, [
        [a, a],
        [0, 0],
      ]);
    });

    it("groups by id value, whatever the ids and their order", () => {
      // Group 1000: scores 1, 0 -> +-0.5/(sqrt(1/2)+1e-6); group -7: scores 2, 0 -> +-1/(sqrt(2)+1e-6).
      const a = 0.5 / (Math.SQRT1_2 + 1e-6);
      const b = 1 / (SQRT2 + 1e-6);
      const { advantages } = run(grpoAdvantage, {
        tokenRewards: [[1], [2], [0], [0]],
        responseMask: [[1], [1], [1], [1]],
        groupIds: [1000, -7, 1000, -7],
      });
      expectClose(advantages, [[a], [b], [-a], [-b]]);
    });

    it("rejects unknown and out-of-range params, naming them", () => {
      expect(() => run(grpoAdvantage, THREE, { epsilom: 1e-6 })).toThrow(ConfigError);
      expect(() => run(grpoAdvantage, THREE, { epsilom: 1e-6 })).toThrow(/grpo\.epsilom: unknown option/);
      expect(() => run(grpoAdvantage, THREE, { epsilon: -1 })).toThrow(/grpo\.epsilon: expected a number/);
      expect(() => run(grpoAdvantage, THREE, { ddof: 2 })).toThrow(/grpo\.ddof: expected one of 0, 1/);
      expect(() => run(grpoAdvantage, THREE, { normalizeByStd: "yes" })).toThrow(/grpo\.normalizeByStd/);
    });

    it("rejects a missing groupIds, a non-binary mask and non-finite rewards with typed errors", () => {
      expect(() => run(grpoAdvantage, { tokenRewards: [[1]], responseMask: [[1]] })).toThrow(ShapeError);
      expect(() => run(grpoAdvantage, { tokenRewards: [[1]], responseMask: [[1]] })).toThrow(/groupIds/);
      expect(() => run(grpoAdvantage, { tokenRewards: [[1, 0]], responseMask: [[1, 0.5]], groupIds: [0] })).toThrow(
        InvalidInputError,
      );
      expect(() => run(grpoAdvantage, { tokenRewards: [[1, 0]], responseMask: [[1, 0.5]], groupIds: [0] })).toThrow(
        /responseMask\[0\]\[1\]/,
      );
      expect(() =>
        run(grpoAdvantage, { tokenRewards: [[Number.NaN, 0]], responseMask: [[1, 1]], groupIds: [0] }),
      ).toThrow(NonFiniteError);
    });
  });

  describe("drGrpoAdvantage", () => {
    it("centres by the group mean without dividing by the std", () => {
      const { advantages } = run(drGrpoAdvantage, THREE);
      expectClose(advantages, [
        [2 / 3, 2 / 3, 2 / 3],
        [-1 / 3, -1 / 3, 0],
        [-1 / 3, 0, 0],
      ]);
    });

    it("gives a group of one its score (mean 0) and takes no params", () => {
      expectClose(run(drGrpoAdvantage, { tokenRewards: [[0, 3]], responseMask: [[1, 1]], groupIds: [9] }).advantages, [
        [3, 3],
      ]);
      expect(() => run(drGrpoAdvantage, THREE, { epsilon: 1e-6 })).toThrow(/dr-grpo\.epsilon: unknown option/);
    });
  });

  describe("rlooAdvantage", () => {
    it("subtracts the mean of the other responses in the group", () => {
      // 1 - mean(0, 0) = 1; 0 - mean(1, 0) = -0.5 (= 3/2 * (s - 1/3)).
      const { advantages, returns } = run(rlooAdvantage, THREE);
      expectClose(advantages, [
        [1, 1, 1],
        [-0.5, -0.5, 0],
        [-0.5, 0, 0],
      ]);
      expectClose(returns, advantages);
    });

    it("leaves a group of one with its score (no baseline), as verl", () => {
      // Groups 5: {1}, 8: {2, 0} -> 2 - 0 = 2 and 0 - 2 = -2.
      const { advantages } = run(rlooAdvantage, {
        tokenRewards: [[1], [2], [0]],
        responseMask: [[1], [1], [1]],
        groupIds: [5, 8, 8],
      });
      expectClose(advantages, [[1], [2], [-2]]);
    });

    it("gives 0 for equal scores and for an empty row", () => {
      const { advantages } = run(rlooAdvantage, {
        tokenRewards: [
          [0.3, 0],
          [0, 0.3],
          [0, 0],
        ],
        responseMask: [
          [1, 1],
          [1, 1],
          [0, 0],
        ],
        groupIds: [0, 0, 1],
      });
      expect(advantages).toEqual([
        [0, 0],
        [0, 0],
        [0, 0],
      ]);
      expect(allFinite(advantages)).toBe(true);
    });
  });
});
