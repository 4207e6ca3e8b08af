import { disposeBatch, tf, useBackend } from "@tokenrl/core";
import type { CausalLM } from "@tokenrl/policy";
import { sampleGroups, toTrainingBatch } from "@tokenrl/rollout";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdamW, ppoUpdate, resolveRecipe } from "../../src/index.js";
import { createWorkerPool } from "../../src/workers/index.js";
import type { WorkerPool } from "../../src/workers/index.js";
import { prompts, smallPolicy, tokenizer } from "./fixtures.js";

let model: CausalLM;
let pool: WorkerPool;
let optimizer: AdamW;

beforeAll(async () => {
  await useBackend("wasm");
  model = smallPolicy();
  optimizer = new AdamW(model.trainableVariables(), { lr: 1e-2 });
  pool = await createWorkerPool({
    model,
    tokenizer,
    workers: 2,
    loss: { kind: "recipe", recipe: resolveRecipe({ preset: "htpo" }) },
  });
});

afterAll(async () => {
  await pool.close();
  optimizer.dispose();
  model.dispose();
});

/** A whole RL step through the pool: rollout, scoring, two data-parallel optimiser steps. */
async function step(k: number): Promise<void> {
  const G = 2;
  const seqs = await sampleGroups(pool.engine({ seed: k, tokenizer }), prompts, { maxTokens: 4, groupSize: G });
  const batch = toTrainingBatch(seqs, { padTokenId: tokenizer.padTokenId });
  const [B, T] = batch.responseMask.shape;
  const correct = seqs.map((_, i) => (i + k) % 2);
  batch.correct = tf.tensor1d(correct, "float32");
  // toTrainingBatch already carries the group ids sampleGroups set.
  expect(batch.groupIds?.shape).toEqual([B]);
  batch.advantages = tf.tidy(() =>
    tf.mul(
      tf.tile(
        tf.tensor2d(
          correct.map((c) => c - 0.5),
          [B, 1],
        ),
        [1, T],
      ),
      batch.responseMask,
    ),
  ) as tf.Tensor2D;
  const scored = await pool.score(batch);
  batch.oldLogProbs = scored.logProbs;
  batch.entropy = scored.entropy;
  await ppoUpdate({
    batch,
    optimizer,
    miniBatches: 2,
    shardsPerMiniBatch: 2,
    computeGradients: (s, c) => pool.computeGradients(s, c),
  });
  disposeBatch(batch);
}

describe("worker memory", () => {
  it("leaks no tensors in any worker or on the main thread across 20 RL steps", async () => {
    await step(0); // first step: kernels and the first broadcast settle
    const mainBefore = tf.memory().numTensors;
    const workersBefore = (await pool.memory()).map((m) => m.numTensors);
    for (let k = 1; k <= 20; k++) await step(k);
    expect(tf.memory().numTensors).toBe(mainBefore);
    expect((await pool.memory()).map((m) => m.numTensors)).toEqual(workersBefore);
    // 21 optimiser-changed weight versions were broadcast (2 mini-batches per step).
    expect(pool.syncStats().broadcasts).toBeGreaterThanOrEqual(21);
  });
});
