import { disposeBatch, sliceBatchRows, tf, useBackend } from "@tokenrl/core";
import type { TrainingBatch } from "@tokenrl/core";
import type { CausalLM } from "@tokenrl/policy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AdamW,
  batchUnits,
  countTokens,
  createActorLoss,
  inProcessGradients,
  resolveRecipe,
  sftLoss,
  sftShardLoss,
  shardedSftStep,
  sftStep,
} from "../../src/index.js";
import type { RecipeInput } from "../../src/index.js";
import { createWorkerPool } from "../../src/workers/index.js";
import type { WorkerPool } from "../../src/workers/index.js";
import { relativeDiff } from "../helpers.js";
import { rlBatch, smallPolicy } from "./fixtures.js";

/** The batch cut into `n` shards of whole groups (as ppoUpdate cuts a mini-batch). */
function shardsOf(batch: TrainingBatch, n: number): TrainingBatch[] {
  const units = batchUnits(batch);
  return Array.from({ length: n }, (_, c) =>
    sliceBatchRows(
      batch,
      units.slice(Math.floor((c * units.length) / n), Math.floor(((c + 1) * units.length) / n)).flat(),
    ),
  );
}

const RECIPES: [string, RecipeInput][] = [
  ["htpo (token-mean, per-cell objective)", { preset: "htpo" }],
  ["dr-grpo (seq-mean-token-sum-norm)", { preset: "dr-grpo" }],
  [
    "grpo + KL, seq-mean-token-mean",
    { preset: "grpo", aggregation: "seq-mean-token-mean", kl: { coef: 0.1, estimator: "k3" } },
  ],
];

let model: CausalLM;
let batch: TrainingBatch;
let one: WorkerPool;
let two: WorkerPool;

beforeAll(async () => {
  await useBackend("wasm");
  model = smallPolicy();
  batch = await rlBatch(model);
  [one, two] = await Promise.all([createWorkerPool({ model, workers: 1 }), createWorkerPool({ model, workers: 2 })]);
});

afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
  disposeBatch(batch);
  model.dispose();
});

describe("data-parallel gradients", () => {
  for (const [name, input] of RECIPES) {
    it(`1 and 2 workers give the in-process full-batch gradient: ${name}`, async () => {
      const recipe = resolveRecipe(input);
      // The loss travels with the call: one pool of each size serves every recipe.
      const loss = { kind: "recipe" as const, recipe };
      const counts = countTokens(batch);
      // Reference: the whole mini-batch as one shard, in this thread.
      const reference = await inProcessGradients(model.trainableVariables(), createActorLoss(model, recipe))(
        [batch],
        counts,
      );
      const shards = shardsOf(batch, 3);
      try {
        for (const pool of [one, two]) {
          const got = await pool.computeGradients(shards, counts, { loss });
          expect(relativeDiff(got.grads, reference.grads)).toBeLessThan(2e-5);
          expect(got.loss).toBeCloseTo(reference.loss, 5);
          expect(got.tokens).toBe(counts.tokens);
          tf.dispose(got.grads);
        }
        // Metrics come back per shard and are combined in shard order: identical for 1 and 2 workers.
        const a = await one.computeGradients(shards, counts, { loss });
        const b = await two.computeGradients(shards, counts, { loss });
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
    const pool = two;
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

  it("the supervised warm-up: 1 and 2 workers give sftLoss's gradient, and a sharded SFT step sftStep's update", async () => {
    const counts = countTokens(batch);
    const variables = model.trainableVariables();
    const { value, grads } = tf.variableGrads(() => sftLoss(model, batch), variables);
    const reference = variables.map((v) => grads[v.name]!);
    const shards = shardsOf(batch, 3);
    try {
      // The shard form sums to the batch loss in this thread too.
      const inProcess = await inProcessGradients(variables, sftShardLoss(model))(shards, counts);
      expect(relativeDiff(inProcess.grads, reference)).toBeLessThan(2e-5);
      tf.dispose(inProcess.grads);
      for (const pool of [one, two]) {
        const got = await pool.computeGradients(shards, counts, { loss: { kind: "sft" } });
        expect(relativeDiff(got.grads, reference)).toBeLessThan(2e-5);
        expect(got.loss).toBeCloseTo(value.dataSync()[0]!, 5);
        tf.dispose(got.grads);
      }
      // One optimiser step each way, from copies of the same weights. Adam's first step is
      // lr g / (|g| + eps): a large eps keeps it smooth in g, so float32 rounding of the
      // summation order stays float32-sized in the weights.
      const a = smallPolicy();
      const b = smallPolicy();
      const optA = new AdamW(a.trainableVariables(), { lr: 1e-2, eps: 1e-2 });
      const optB = new AdamW(b.trainableVariables(), { lr: 1e-2, eps: 1e-2 });
      try {
        const plain = sftStep(a, optA, batch);
        const sharded = await shardedSftStep({
          optimizer: optB,
          batch,
          shards: 3,
          computeGradients: inProcessGradients(b.trainableVariables(), sftShardLoss(b)),
        });
        expect(sharded.loss).toBeCloseTo(plain.loss, 5);
        expect(sharded.gradNorm).toBeCloseTo(plain.gradNorm, 4);
        expect(relativeDiff(b.trainableVariables(), a.trainableVariables())).toBeLessThan(1e-5);
      } finally {
        optA.dispose();
        optB.dispose();
        a.dispose();
        b.dispose();
      }
    } finally {
      tf.dispose([value, ...reference]);
      shards.forEach(disposeBatch);
    }
  });
});
