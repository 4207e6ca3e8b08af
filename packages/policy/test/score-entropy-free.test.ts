import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { tf, useBackend } from "@tokenrl/core";
import { scoreResponses } from "../src/index.js";
import type { CausalLM } from "../src/index.js";
import { tokenLogProbs, tokenLogProbsAndEntropy } from "../src/score.js";
import { ids2d, tinyModel } from "./helpers.js";

describe.each(TEST_BACKENDS)("scoreResponses without the entropy on %s", (backend) => {
  let model: CausalLM;
  beforeAll(async () => {
    await useBackend(backend);
    model = tinyModel();
  });
  afterAll(() => model.dispose());

  const input = () => ({
    promptIds: ids2d([
      [0, 1, 5],
      [1, 4, 6],
    ]),
    promptMask: tf.tensor2d([
      [0, 1, 1],
      [1, 1, 1],
    ]),
    responseIds: ids2d([
      [7, 8, 2],
      [3, 9, 0],
    ]),
    responseMask: tf.tensor2d([
      [1, 1, 1],
      [1, 1, 0],
    ]),
  });

  it("gives bit-identical log-probs and no entropy tensor; leaks nothing", () => {
    const x = input();
    const full = scoreResponses(model, x);
    const before = tf.memory().numTensors;
    const light = scoreResponses(model, x, { entropy: false });
    expect(light.entropy).toBeUndefined();
    expect(Array.from(light.logProbs.dataSync())).toEqual(Array.from(full.logProbs.dataSync()));
    light.logProbs.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([full.logProbs, full.entropy, ...Object.values(x)]);
  });

  it("its gradient is onehot(t) - p, as the fused log-prob-and-entropy op gives for log p alone", () => {
    // Logits of two rows over 4 tokens; loss = sum_i w_i log p(t_i) with w = (1, -2).
    const logits = tf.tensor2d([
      [0.5, -1, 2, 0],
      [1, 1, -3, 0.25],
    ]);
    const targets = tf.tensor1d([2, 0], "int32");
    const w = tf.tensor1d([1, -2]);
    const g1 = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tokenLogProbs(x, targets), w)))(logits);
    const g2 = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tokenLogProbsAndEntropy(x, targets)[0], w)))(logits);
    // By hand for row 0: p = softmax(0.5, -1, 2, 0); gradient w_0 (onehot(2) - p).
    const z = Math.exp(0.5) + Math.exp(-1) + Math.exp(2) + Math.exp(0);
    const p0 = [Math.exp(0.5) / z, Math.exp(-1) / z, Math.exp(2) / z, 1 / z];
    const got = g1.arraySync() as number[][];
    p0.forEach((p, j) => expect(got[0]![j]!).toBeCloseTo((j === 2 ? 1 : 0) - p, 6));
    const other = g2.arraySync() as number[][];
    got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(other[i]![j]!, 6)));
    tf.dispose([logits, targets, w, g1, g2]);
  });
});
