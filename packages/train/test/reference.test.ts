import { disposeBatch, tf, useBackend } from "@tokenrl/core";
import { beforeAll, describe, expect, it } from "vitest";
import { FrozenReference } from "../src/index.js";
import type { ReferenceScorer } from "../src/index.js";
import { ppoBatch, tinyPolicy } from "./helpers.js";

describe("the frozen reference", () => {
  beforeAll(() => useBackend("wasm"));

  it("scores the policy's log-probs and asks for no entropy", async () => {
    const policy = tinyPolicy(3);
    const batch = ppoBatch(policy);
    const asked: unknown[] = [];
    const scorer: ReferenceScorer = {
      scoreResponses: (input, options) => {
        asked.push(options);
        return policy.scoreResponses(input, options);
      },
    };
    const reference = new FrozenReference(scorer);
    const before = tf.memory().numTensors;
    const ref = reference.refLogProbs(batch);
    expect(tf.memory().numTensors).toBe(before + 1);
    const full = policy.scoreResponses({
      promptIds: batch.promptIds!,
      promptMask: batch.promptMask!,
      responseIds: batch.responseIds!,
      responseMask: batch.responseMask,
    });
    expect(await ref.array()).toEqual(await full.logProbs.array());
    expect(asked).toEqual([{ entropy: false }]);
    tf.dispose([ref, full.logProbs, full.entropy]);
    disposeBatch(batch);
    policy.dispose();
  });
});
