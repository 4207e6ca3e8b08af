import { disposeBatch, sliceBatchRows, tf, useBackend } from "@tokenrl/core";
import type { TrainingBatch } from "@tokenrl/core";
import type { CausalLM } from "@tokenrl/policy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { batchUnits, countTokens, createActorLoss, inProcessGradients, resolveRecipe } from "../../src/index.js";
import type { RecipeInput } from "../../src/index.js";
import { createWorkerPool } from "../../src/workers/index.js";
import type { WorkerPool } from "../../src/workers/index.js";
import { rlBatch, smallPolicy, tokenizer } from "./fixtures.js";

/** Max |a - b| over every gradient entry, relative to the largest |b| of that variable. */
function relativeDiff(a: tf.Tensor[], b: tf.Tensor[]): number {
  let worst = 0;
  a.forEach((g, i) => {
    const x = g.dataSync();
    const y = b[i]!.dataSync();
    let scale = 1e-12;
    for (const v of y) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs(x[j]! - y[j]!) / scale);
  });
  return worst;
}

/** The batch cut into `n` shards of whole groups (as ppoUpdate cuts a mini-batch). */
function shardsOf(batch: TrainingBatch, n: number): TrainingBatch[] {
  const units = batchUnits(batch);
  return Array.from({ length: n }, (_, c) =>
    sliceBatchRows(batch, units.slice(Math.floor((c * units.length) / n), Math.floor(((c + 1) * units.length) / n)).flat()),
  );
}

const RECIPES: [string, RecipeInput][] = [
  ["htpo (token-mean, per-cell objective)", { preset: "htpo" }],
  ["dr-grpo (seq-mean-token-sum-norm)", { preset: "dr-grpo" }],
  ["grpo + KL, seq-mean-token-mean", { preset: "grpo", aggregation: "seq-mean-token-mean", kl: { coef: 0.1, estimator: "k3" } }],
];

let model: CausalLM;
let batch: TrainingBatch;
const pools: WorkerPool[] = [];

beforeAll(async () => {
  await useBackend("wasm");
  model = smallPolicy();
  batch = await rlBatch(model);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  disposeBatch(batch);
  model.dispose();
});

describe("data-parallel gradients", () => {
  for (const [name, input] of RECIPES) {
    it(`1 and 2 workers give the in-process full-batch gradient: ${name}`, async () => {
      const recipe = resolveRecipe(input);
      const loss = { kind: "recipe" as const, recipe };
      const [one, two] = await Promise.all([
        createWorkerPool({ model, tokenizer, workers: 1, loss }),
        createWorkerPool({ model, tokenizer, workers: 2, loss }),
      ]);
      pools.push(one, two);
      const counts = countTokens(batch);
      // Reference: the whole mini-batch as one shard, in this thread.
      const reference = await inProcessGradients(model.trainableVariables(), createActorLoss(model, recipe))([batch], counts);
      const shards = shardsOf(batch, 3);
      try {
        for (const pool of [one, two]) {
          const got = await pool.computeGradients(shards, counts);
          expect(relativeDiff(got.grads, reference.grads)).toBeLessThan(2e-5);
          expect(got.loss).toBeCloseTo(reference.loss, 5);
          expect(got.tokens).toBe(counts.tokens);
          tf.dispose(got.grads);
        }
        // Metrics come back per shard and are combined in shard order: identical for 1 and 2 workers.
        const a = await one.computeGradients(shards, counts);
        const b = await two.computeGradients(shards, counts);
        expect(Object.keys(b.metrics).sort()).toEqual(Object.keys(a.metrics).sort());
        for (const k of Object.keys(a.metrics)) expect(b.metrics[k]).toBe(a.metrics[k]);
        tf.dispose([...a.grads, ...b.grads]);
      } finally {
        tf.dispose(reference.grads);
        shards.forEach(disposeBatch);
      }
    });
  }

  it("scores the batch's rows across workers as the model does in this thread", async () => {
    const pool = await createWorkerPool({ model, workers: 2 });
    pools.push(pool);
    const input = {
      promptIds: batch.promptIds!,
      promptMask: batch.promptMask!,
      responseIds: batch.responseIds!,
      responseMask: batch.responseMask,
    };
    const want = model.scoreResponses(input);
    const got = await pool.score(batch);
    const lean = await pool.score(batch, { entropy: false });
    expect(got.logProbs.shape).toEqual(want.logProbs.shape);
    const diff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
    expect(diff(got.logProbs, want.logProbs)).toBeLessThan(1e-5);
    expect(diff(got.entropy!, want.entropy)).toBeLessThan(1e-5);
    expect(diff(lean.logProbs, want.logProbs)).toBeLessThan(1e-5);
    expect(lean.entropy).toBeUndefined();
    tf.dispose([want.logProbs, want.entropy, got.logProbs, got.entropy!, lean.logProbs]);
  });
});
