import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import { tf, useBackend } from "@tokenrl/core";
import type { CausalLM } from "../src/index.js";
import { ids2d, tinyModel } from "./helpers.js";

describe.each(TEST_BACKENDS)("tensor hygiene on %s", (backend) => {
  let model: CausalLM;
  beforeAll(async () => {
    await useBackend(backend);
    model = tinyModel();
  });
  afterAll(() => model.dispose());

  it("10 training steps (forward + backward + Adam apply) leak no tensor and lower the loss", () => {
    const input = {
      promptIds: ids2d([
        [0, 1, 5],
        [1, 6, 7],
      ]),
      promptMask: tf.tensor2d([
        [0, 1, 1],
        [1, 1, 1],
      ]),
      responseIds: ids2d([
        [8, 9, 2],
        [10, 2, 0],
      ]),
      responseMask: tf.tensor2d([
        [1, 1, 1],
        [1, 1, 0],
      ]),
    };
    const optimizer = tf.train.adam(1e-2);
    const vars = model.trainableVariables();
    const step = () => {
      const { value, grads } = tf.variableGrads(
        () => tf.neg(tf.sum(model.scoreResponses(input).logProbs)) as tf.Scalar,
        vars,
      );
      optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
      const loss = value.dataSync()[0]!;
      tf.dispose([value, ...Object.values(grads)]);
      return loss;
    };
    const first = step(); // creates Adam's slots
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 9; i++) last = step();
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first);
    optimizer.dispose();
    tf.dispose(Object.values(input));
  });

  it("100 KV-cached decode steps leak no tensor", () => {
    const prompt = ids2d([
      [0, 1, 5],
      [1, 6, 7],
    ]);
    const mask = tf.tensor2d([
      [0, 1, 1],
      [1, 1, 1],
    ]);
    const before = tf.memory().numTensors;
    let { logits, cache } = model.forward(prompt, { attentionMask: mask, cache: model.createCache(2, 110) });
    for (let i = 0; i < 100; i++) {
      const next = tf.tidy(() =>
        tf.cast(tf.reshape(tf.argMax(tf.slice(logits, [0, logits.shape[1] - 1, 0], [2, 1, -1]), -1), [2, 1]), "int32"),
      ) as tf.Tensor2D;
      logits.dispose();
      ({ logits, cache } = model.forward(next, { cache }));
      next.dispose();
    }
    expect(cache.length).toBe(103);
    logits.dispose();
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([prompt, mask]);
  });
});
