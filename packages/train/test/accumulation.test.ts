import { AGGREGATION_MODES, disposeBatch, sliceBatchRows, tf, useBackend } from "@tokenrl/core";
import { beforeAll, describe, expect, it } from "vitest";
import { createActorLoss, countTokens, inProcessGradients, listPresets, resolveRecipe } from "../src/index.js";
import type { RecipeInput } from "../src/index.js";
import { ppoBatch, relativeDiff, tinyPolicy } from "./helpers.js";

beforeAll(async () => {
  await useBackend("wasm");
});

async function compare(input: RecipeInput, splits: number[][]) {
  const policy = tinyPolicy();
  const batch = ppoBatch(policy);
  const recipe = resolveRecipe(input);
  const gradients = inProcessGradients(policy.trainableVariables(), createActorLoss(policy, recipe));
  const all = [0, 1, 2, 3, 4, 5];
  const counts = countTokens(batch);
  const full = await gradients([batch], counts);
  const shards = splits.map((rows) => sliceBatchRows(batch, rows));
  const before = tf.memory().numTensors;
  const accumulated = await gradients(shards, counts);
  // Only the returned gradients are new.
  expect(tf.memory().numTensors).toBe(before + accumulated.grads.length);
  const result = { diff: relativeDiff(accumulated.grads, full.grads), full, accumulated, all };
  tf.dispose([...full.grads, ...accumulated.grads]);
  for (const s of shards) disposeBatch(s);
  disposeBatch(batch);
  policy.dispose();
  return result;
}

describe("gradient accumulation equals the full-batch gradient", () => {
  for (const aggregation of AGGREGATION_MODES) {
    it(`ppo-clip + KL + entropy bonus, ${aggregation}`, async () => {
      const r = await compare(
        {
          advantage: { name: "grpo" },
          objective: { name: "ppo-clip", options: { clipLow: 0.2, clipHigh: 0.28, dualClip: 3 } },
          aggregation,
          kl: { coef: 0.1, estimator: "k3" },
          entropy: { coef: 0.01 },
        },
        // Uneven micro-batches of whole groups, the empty response in the last one.
        [
          [0, 1],
          [2, 3, 4, 5],
        ],
      );
      expect(r.diff).toBeLessThan(1e-5);
      expect(r.accumulated.loss).toBeCloseTo(r.full.loss, 5);
      // A wrong weighting (plain mean of shard means) would be far off: the test can fail.
      expect(Math.abs(r.full.loss)).toBeGreaterThan(1e-4);
    });
  }

  for (const preset of listPresets()) {
    it(`preset ${preset} (its objective and aggregation), three micro-batches`, async () => {
      const r = await compare({ preset, kl: { coef: 0.05, estimator: "k3" } }, [
        [0, 1],
        [2, 3],
        [4, 5],
      ]);
      expect(r.diff).toBeLessThan(1e-5);
      expect(r.accumulated.loss).toBeCloseTo(r.full.loss, 5);
    });
  }

  it("a micro-batch that divides by its own token count instead would differ (the bug this prevents)", async () => {
    const policy = tinyPolicy();
    const batch = ppoBatch(policy);
    const loss = createActorLoss(policy, resolveRecipe({ preset: "dapo" }));
    const gradients = inProcessGradients(policy.trainableVariables(), loss);
    const full = await gradients([batch], countTokens(batch));
    const a = sliceBatchRows(batch, [0, 1]);
    const b = sliceBatchRows(batch, [2, 3, 4, 5]);
    const own = [await gradients([a], countTokens(a)), await gradients([b], countTokens(b))];
    const naive = own[0]!.grads.map((g, i) => tf.div(tf.add(g, own[1]!.grads[i]!), 2));
    expect(relativeDiff(naive, full.grads)).toBeGreaterThan(1e-3);
    tf.dispose([...full.grads, ...own.flatMap((o) => o.grads), ...naive]);
    disposeBatch(a);
    disposeBatch(b);
    disposeBatch(batch);
    policy.dispose();
  });
});
