import { fileURLToPath } from "node:url";
import { disposeBatch, tf, useBackend } from "@tokenrl/core";
import type { TrainingBatch } from "@tokenrl/core";
import { objectives } from "@tokenrl/objectives";
import type { CausalLM } from "@tokenrl/policy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countTokens, createActorLoss, inProcessGradients, resolveRecipe } from "../../src/index.js";
import { createWorkerPool } from "../../src/workers/index.js";
import { rlBatch, smallPolicy, tokenizer } from "./fixtures.js";

const plugin = fileURLToPath(new URL("./toy-plugin.mjs", import.meta.url));
let model: CausalLM;
let batch: TrainingBatch;

beforeAll(async () => {
  await useBackend("wasm");
  await import(plugin);
  model = smallPolicy();
  batch = await rlBatch(model);
});

afterAll(() => {
  disposeBatch(batch);
  model.dispose();
});

describe("plugins in workers", () => {
  it("workers import the main thread's plugins and train with a plugin objective", async () => {
    const recipe = resolveRecipe({ preset: "grpo", objective: { name: "toy-halved-ppo" } });
    const pool = await createWorkerPool({
      model,
      tokenizer,
      workers: 2,
      plugins: [plugin],
      loss: { kind: "recipe", recipe },
    });
    try {
      expect(pool.registries.objective).toContain("toy-halved-ppo");
      const counts = countTokens(batch);
      const got = await pool.computeGradients([batch], counts);
      const want = await inProcessGradients(model.trainableVariables(), createActorLoss(model, recipe))(
        [batch],
        counts,
      );
      expect(got.loss).toBeCloseTo(want.loss, 6);
      expect(got.loss).not.toBe(0);
      tf.dispose([...got.grads, ...want.grads]);
    } finally {
      await pool.close();
    }
  });

  it("refuses to start when the main thread has a registration the workers lack", async () => {
    objectives.register("toy-main-only", { ...objectives.get("ppo-clip"), name: "toy-main-only" });
    await expect(createWorkerPool({ model, workers: 1, plugins: [plugin] })).rejects.toThrow(
      /workers lack the objective\(s\) toy-main-only/,
    );
  });
});
