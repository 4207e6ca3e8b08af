import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referencePath } from "../../../tooling/test-utils/shared.js";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import {
  AGGREGATION_MODES,
  TokenWeightedMean,
  aggregateLoss,
  microBatchLossScale,
  tf,
  useBackend,
} from "../src/index.js";
import type { AggregationMode } from "../src/index.js";

const aggregateCases = referencePath("conformance/cases/aggregate.jsonl");

const L = [
  [1, 2, 3, 4],
  [5, 6, 0, 0],
  [9, 9, 9, 9],
];
const M = [
  [1, 1, 1, 1],
  [1, 1, 0, 0],
  [0, 0, 0, 0],
];

// Hand computations over L and M: valid tokens 1,2,3,4 | 5,6 | (empty row).
const HAND: Record<AggregationMode, number> = {
  "token-mean": 21 / 6,
  "token-sum": 21,
  "seq-mean-token-sum": (10 + 11) / 2,
  "seq-mean-token-mean": (2.5 + 5.5) / 2,
  "seq-mean-token-sum-norm": 21 / (2 * 4),
};

describe.each(TEST_BACKENDS)("aggregateLoss on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each(AGGREGATION_MODES)("%s matches the hand computation and skips the empty row", (mode) => {
    const got = tf.tidy(() => aggregateLoss(tf.tensor2d(L), tf.tensor2d(M), mode).dataSync()[0]);
    expect(got).toBeCloseTo(HAND[mode], 5);
  });

  it.each(AGGREGATION_MODES)("%s gives 0, not NaN, when no token is valid", (mode) => {
    const got = tf.tidy(() => aggregateLoss(tf.tensor2d(L), tf.zeros([3, 4]), mode).dataSync()[0]);
    expect(got).toBe(0);
  });

  it("ignores NaN in masked-out positions", () => {
    const got = tf.tidy(
      () => aggregateLoss(tf.tensor2d([[1, Number.NaN]]), tf.tensor2d([[1, 0]]), "token-mean").dataSync()[0],
    );
    expect(got).toBe(1);
  });

  it("token-mean over micro-batches with the global token count equals the full-batch token-mean", () => {
    const full = tf.tidy(() => aggregateLoss(tf.tensor2d(L), tf.tensor2d(M), "token-mean").dataSync()[0]!);
    const micro = [0, 1].map((i) =>
      tf.tidy(
        () =>
          aggregateLoss(tf.tensor2d([L[i]!]), tf.tensor2d([M[i]!]), "token-mean", {
            globalTokenCount: 6,
          }).dataSync()[0]!,
      ),
    );
    expect(micro[0]! + micro[1]!).toBeCloseTo(full, 6);
    // The mean of micro-batch means (2.5, 5.5 -> 4) is the bug this guards against.
    expect((2.5 + 5.5) / 2).not.toBeCloseTo(full, 3);
    const acc = new TokenWeightedMean().add(2.5, 4).add(5.5, 2);
    expect(acc.value).toBeCloseTo(full, 6);
    expect(microBatchLossScale(4, 6) * 2.5 + microBatchLossScale(2, 6) * 5.5).toBeCloseTo(full, 6);
  });

  it("does not leak tensors across repeated aggregation calls", () => {
    const loss = tf.tensor2d(L);
    const mask = tf.tensor2d(M);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) {
      for (const mode of AGGREGATION_MODES) aggregateLoss(loss, mask, mode).dispose();
      const g = tf.grad((x: tf.Tensor) => aggregateLoss(x, mask, "seq-mean-token-mean"))(loss);
      g.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([loss, mask]);
  });

  it("passes the verl agg_loss reference cases", () => {
    const path = aggregateCases;
    const cases = readFileSync(path, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      const got = tf.tidy(
        () =>
          aggregateLoss(tf.tensor2d(c.inputs.values), tf.tensor2d(c.inputs.responseMask), c.params.mode, {
            lossScaleFactor: c.params.lossScaleFactor,
          }).dataSync()[0]!,
      );
      const want = c.expected.value as number;
      expect(Math.abs(got - want), c.id).toBeLessThanOrEqual(c.atol + c.rtol * Math.abs(want));
    }
  });
});

afterAll(() => {});
