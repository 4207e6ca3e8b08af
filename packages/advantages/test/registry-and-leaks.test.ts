import { UnknownNameError, batchFromArrays, disposeBatch, tf, useBackend } from "@tokenrl/core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { ADVANTAGE_ESTIMATOR_NAMES, advantageEstimators, grpoAdvantage } from "../src/index.js";

const ARRAYS = {
  tokenRewards: [
    [0, 0, 1],
    [0, 1, 0],
    [0, 0, 0],
    [0.5, 0, 0],
  ],
  values: [
    [0.1, 0.2, 0.3],
    [0.3, 0.2, 0.1],
    [0, 0, 0],
    [1, 1, 1],
  ],
  responseMask: [
    [1, 1, 1],
    [1, 1, 0],
    [0, 0, 0],
    [1, 0, 1],
  ],
  groupIds: [2, 2, 7, 7],
};

describe("advantageEstimators registry", () => {
  it("registers the six estimators under their config names", () => {
    expect(advantageEstimators.list()).toEqual([...ADVANTAGE_ESTIMATOR_NAMES].sort());
    expect(advantageEstimators.list()).toEqual([
      "dr-grpo",
      "gae",
      "grpo",
      "reinforce-plus-plus",
      "reinforce-plus-plus-baseline",
      "rloo",
    ]);
  });

  it("suggests the closest name for a misspelt estimator", () => {
    expect(() => advantageEstimators.get("gpro")).toThrow(UnknownNameError);
    expect(() => advantageEstimators.get("gpro")).toThrow(/did you mean "grpo"/);
  });
});

describe.each(TEST_BACKENDS)("estimators on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("the registry entry computes what the named function computes", () => {
    const batch = batchFromArrays(ARRAYS);
    const viaRegistry = advantageEstimators.get("grpo")(batch, { epsilon: 1e-4 });
    const direct = grpoAdvantage(batch, { epsilon: 1e-4 });
    expect(viaRegistry.advantages.arraySync()).toEqual(direct.advantages.arraySync());
    tf.dispose([viaRegistry.advantages, viaRegistry.returns, direct.advantages, direct.returns]);
    disposeBatch(batch);
  });

  it.each(ADVANTAGE_ESTIMATOR_NAMES)("%s returns two finite [B, T] tensors and leaks none", (name) => {
    const batch = batchFromArrays(ARRAYS);
    const estimator = advantageEstimators.get(name);
    const first = estimator(batch, {});
    tf.dispose([first.advantages, first.returns]); // the first call may create backend state
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const { advantages, returns } = estimator(batch, {});
      expect(advantages.shape).toEqual([4, 3]);
      expect(returns.shape).toEqual([4, 3]);
      expect(advantages.dtype).toBe("float32");
      expect(advantages.arraySync().flat().every(Number.isFinite)).toBe(true);
      // Zero outside the mask: the empty row 2 and the hole at [3][1].
      expect(advantages.arraySync()[2]).toEqual([0, 0, 0]);
      expect(returns.arraySync()[3]![1]).toBe(0);
      tf.dispose([advantages, returns]);
    }
    expect(tf.memory().numTensors).toBe(before);
    disposeBatch(batch);
  });

  it.each(ADVANTAGE_ESTIMATOR_NAMES)("%s leaks nothing when it rejects its input", (name) => {
    const batch = batchFromArrays({ tokenRewards: [[1]], responseMask: [[1]], groupIds: [0], values: [[0]] });
    const before = tf.memory().numTensors;
    expect(() => advantageEstimators.get(name)(batch, { notAParam: 1 })).toThrow(/notAParam/);
    expect(tf.memory().numTensors).toBe(before);
    disposeBatch(batch);
  });
});
