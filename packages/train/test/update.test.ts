import { disposeBatch, tf, useBackend } from "@tokenrl/core";
import { beforeAll, describe, expect, it } from "vitest";
import { AdamW, batchUnits, createActorLoss, ppoUpdate, resolveRecipe, rewardsOnLastToken } from "../src/index.js";
import { ppoBatch, tinyPolicy } from "./helpers.js";

beforeAll(async () => {
  await useBackend("wasm");
});

const weights = (vs: readonly tf.Variable[]) => vs.map((v) => Array.from(v.dataSync()));

async function update(options: { microBatchSize?: number; epochs?: number; miniBatches?: number; nan?: boolean }) {
  const policy = tinyPolicy();
  const batch = ppoBatch(policy);
  if (options.nan) {
    batch.advantages!.dispose();
    batch.advantages = tf.fill(batch.responseMask.shape, Number.NaN) as tf.Tensor2D;
  }
  const optimizer = new AdamW(policy.trainableVariables(), {
    lr: 1e-2,
    schedule: { type: "linear", warmupSteps: 1, totalSteps: 6 },
  });
  const before = tf.memory().numTensors;
  const r = await ppoUpdate({
    batch,
    optimizer,
    loss: createActorLoss(policy, resolveRecipe({ preset: "dapo" })),
    miniBatches: options.miniBatches ?? 2,
    epochs: options.epochs ?? 2,
    ...(options.microBatchSize ? { microBatchSize: options.microBatchSize } : {}),
  });
  expect(tf.memory().numTensors).toBe(before);
  const w = weights(policy.trainableVariables());
  optimizer.dispose();
  disposeBatch(batch);
  policy.dispose();
  return { r, w };
}

describe("ppoUpdate", () => {
  it("takes miniBatches x epochs optimiser steps on whole groups, the LR following the schedule", async () => {
    const { r } = await update({});
    expect(r.steps.map((s) => [s.epoch, s.miniBatch])).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    expect(r.steps.map((s) => s.lr)).toEqual(
      [0, 1e-2, 1e-2 * (1 - 1 / 5), 1e-2 * (1 - 2 / 5)].map((x) => expect.closeTo(x, 12)),
    );
    expect(r.skipped).toBe(0);
    expect(Number.isFinite(r.metrics["actor/pg_loss"])).toBe(true);
    expect(r.metrics["actor/grad_norm"]).toBeGreaterThan(0);
  });

  it("reports token counts (`/tokens`) for the whole batch, summed over its mini-batches, once per epoch", async () => {
    const policy = tinyPolicy();
    const batch = ppoBatch(policy);
    const optimizer = new AdamW(policy.trainableVariables(), { lr: 1e-3 });
    const r = await ppoUpdate({
      batch,
      optimizer,
      loss: createActorLoss(policy, resolveRecipe({ preset: "htpo" })),
      miniBatches: 2,
      epochs: 2,
    });
    const counts = Object.keys(r.metrics).filter((k) => k.endsWith("/tokens"));
    expect(counts.reduce((a, k) => a + (r.metrics[k] ?? 0), 0)).toBeGreaterThan(0);
    for (const k of counts) {
      // Hand rule: the batch's count is what the two mini-batches of one epoch counted together.
      const firstEpoch = r.steps.filter((s) => s.epoch === 0).reduce((a, s) => a + (s.metrics[k] ?? 0), 0);
      const secondEpoch = r.steps.filter((s) => s.epoch === 1).reduce((a, s) => a + (s.metrics[k] ?? 0), 0);
      expect(firstEpoch).toBe(secondEpoch);
      expect(r.metrics[k]).toBeCloseTo(firstEpoch, 9);
    }
    optimizer.dispose();
    disposeBatch(batch);
    policy.dispose();
  });

  it("micro-batching (gradient accumulation) gives the same update as whole mini-batches", async () => {
    const whole = await update({});
    const micro = await update({ microBatchSize: 2 });
    expect(micro.r.steps.every((s) => s.microBatches >= 1)).toBe(true);
    expect(micro.r.steps.map((s) => s.microBatches)).toEqual([1, 2, 1, 2]);
    micro.w.forEach((w, i) => w.forEach((x, j) => expect(x).toBeCloseTo(whole.w[i]![j]!, 5)));
    micro.r.steps.forEach((s, i) => expect(s.loss).toBeCloseTo(whole.r.steps[i]!.loss, 5));
  });

  it("a NaN loss skips the step and changes no weight", async () => {
    const policy = tinyPolicy();
    const initial = weights(policy.trainableVariables());
    policy.dispose();
    const { r, w } = await update({ nan: true, epochs: 1 });
    expect(r.skipped).toBe(2);
    expect(r.steps.every((s) => !s.applied)).toBe(true);
    expect(w).toEqual(initial);
  });

  it("splits on whole groups (rows sharing a group id)", () => {
    const policy = tinyPolicy();
    const batch = ppoBatch(policy);
    expect(batchUnits(batch)).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    disposeBatch(batch);
    policy.dispose();
  });
});

describe("rewardsOnLastToken", () => {
  it("puts each reward on the last valid token (verl token_level_rewards)", () => {
    const mask = tf.tensor2d([
      [1, 1, 0],
      [1, 0, 1],
      [0, 0, 0],
    ]);
    const r = rewardsOnLastToken([2, -1, 5], mask as tf.Tensor2D);
    expect(r.arraySync()).toEqual([
      [0, 2, 0],
      [0, 0, -1],
      [0, 0, 0],
    ]);
    expect(() => rewardsOnLastToken([1], mask as tf.Tensor2D)).toThrow("1 rewards for 3 responses");
    tf.dispose([mask, r]);
  });
});
