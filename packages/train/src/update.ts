import { InvalidInputError, disposeBatch, sliceBatchRows, tf } from "@tokenrl/core";
import type { Rng, Scalar, Tensor, TrainingBatch } from "@tokenrl/core";
import type { ActorLoss, GlobalCounts } from "./loss.js";
import type { AdamW, StepResult } from "./optimizer.js";

/** The summed gradients of one optimiser step's shards. */
export interface ShardGradients {
  /** One per trainable variable (in the optimiser's order), summed over shards; the caller disposes them. */
  grads: Tensor[];
  /** Sum of the shard losses = the mini-batch loss (each shard is scaled by the global counts). */
  loss: number;
  /** Shard metrics weighted by shard tokens; names ending in `/tokens` are summed. */
  metrics: Record<string, number>;
}

/**
 * How one optimiser step's gradient is computed from its micro-batches
 * ("shards"): in this process one after another (`inProcessGradients`, the
 * default), or data-parallel in workers (@tokenrl/train's worker pool). Every
 * implementation must return the same sum, shards reduced in the given order.
 */
export type ComputeGradients = (shards: readonly TrainingBatch[], counts: GlobalCounts) => Promise<ShardGradients>;

/** Combines per-shard metric values: token-weighted means, `/tokens` counts summed. */
export function combineShardMetrics(
  perShard: readonly { metrics: Record<string, number>; tokens: number }[],
): Record<string, number> {
  const total = perShard.reduce((a, s) => a + s.tokens, 0);
  const out: Record<string, number> = {};
  for (const shard of perShard) {
    for (const [name, value] of Object.entries(shard.metrics)) {
      const w = name.endsWith("/tokens") ? 1 : total > 0 ? shard.tokens / total : 1 / perShard.length;
      out[name] = (out[name] ?? 0) + value * w;
    }
  }
  return out;
}

/** Contiguous [start, end) ranges of `n` rows over `parts` (sizes differ by at most one; trailing ones may be empty). */
export function splitRange(n: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, w) => [Math.floor((w * n) / parts), Math.floor(((w + 1) * n) / parts)]);
}

/** One optimiser step with `grads`, unless the loss is NaN/Inf: then nothing changes and the step says so. */
export function stepIfFinite(optimizer: AdamW, loss: number, grads: readonly Tensor[]): StepResult {
  return Number.isFinite(loss)
    ? optimizer.applyGradients(grads)
    : { gradNorm: Number.NaN, applied: false, lr: optimizer.lr };
}

/** Valid tokens and non-empty rows of a batch, or of some of its rows (one host read of the mask). */
export function countTokens(batch: TrainingBatch, rows?: readonly number[]): GlobalCounts {
  const [B, T] = batch.responseMask.shape;
  const mask = batch.responseMask.dataSync();
  let tokens = 0;
  let sequences = 0;
  for (const b of rows ?? Array.from({ length: B }, (_, i) => i)) {
    let row = 0;
    for (let t = 0; t < T; t++) row += mask[b * T + t]!;
    tokens += row;
    if (row > 0) sequences++;
  }
  return { tokens, sequences };
}

/**
 * Gradients of `loss` over the shards, one after another in this process:
 * each shard's backward pass, summed in shard order.
 */
export function inProcessGradients(variables: readonly tf.Variable[], loss: ActorLoss): ComputeGradients {
  return async (shards, counts) => {
    let sum: Tensor[] | undefined;
    let total = 0;
    const perShard: { metrics: Record<string, number>; tokens: number }[] = [];
    try {
      for (const shard of shards) {
        let kept: Record<string, Scalar> = {};
        const { value, grads } = tf.variableGrads(() => {
          const r = loss(shard, counts);
          // Clones: a metric may be the loss tensor itself, which the tape disposes.
          kept = Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, tf.keep(tf.clone(v))]));
          return r.loss;
        }, variables as tf.Variable[]);
        const ordered = variables.map((w) => grads[w.name]!);
        if (sum === undefined) sum = ordered;
        else {
          const next = sum.map((s, i) => tf.add(s, ordered[i]!));
          tf.dispose([...sum, ...ordered]);
          sum = next;
        }
        total += (await value.data())[0]!;
        value.dispose();
        const metrics: Record<string, number> = {};
        for (const [k, v] of Object.entries(kept)) metrics[k] = (await v.data())[0]!;
        tf.dispose(Object.values(kept));
        perShard.push({ metrics, tokens: countTokens(shard).tokens });
      }
    } catch (err) {
      if (sum) tf.dispose(sum);
      throw err;
    }
    if (!sum) throw new InvalidInputError("computeGradients: no shards");
    return { grads: sum, loss: total, metrics: combineShardMetrics(perShard) };
  };
}

export interface PpoUpdateOptions {
  /** The training batch: the fields the recipe's objective reads (oldLogProbs, advantages, ...) and the prompt/response ids. */
  batch: TrainingBatch;
  optimizer: AdamW;
  /** Gradient of one optimiser step from its micro-batches (default: `inProcessGradients(optimizer.variables, loss)`). */
  computeGradients?: ComputeGradients;
  /** The actor loss; required when `computeGradients` is not given. */
  loss?: ActorLoss;
  /** Optimiser steps per epoch (verl: batch / `ppo_mini_batch_size`). Default 1. Ignored when `miniBatchSize` is set. */
  miniBatches?: number;
  /** Responses per mini-batch (verl `ppo_mini_batch_size` x n), rounded to whole groups. */
  miniBatchSize?: number;
  /** Passes over the batch (verl `ppo_epochs`). Default 1. */
  epochs?: number;
  /** Responses per micro-batch (verl `ppo_micro_batch_size_per_gpu`), rounded up to whole groups; default: no accumulation. */
  microBatchSize?: number;
  /**
   * Whole-group shards per mini-batch when `microBatchSize` is not set
   * (default 1): a worker pool wants at least one shard per worker.
   */
  shardsPerMiniBatch?: number;
  /** Shuffles the order of groups each epoch (verl `shuffle`); default none. */
  shuffle?: Rng;
}

export interface UpdateStepResult {
  epoch: number;
  miniBatch: number;
  loss: number;
  gradNorm: number;
  applied: boolean;
  lr: number;
  /** Micro-batches this step accumulated. */
  microBatches: number;
  metrics: Record<string, number>;
}

export interface PpoUpdateResult {
  steps: UpdateStepResult[];
  /** Optimiser steps skipped because the loss or gradient was NaN/Inf. */
  skipped: number;
  /**
   * Means over the applied steps: `actor/pg_loss`, `actor/grad_norm`, `actor/lr` and every loss metric;
   * counts (names ending in `/tokens`) are the whole batch's, not one mini-batch's.
   */
  metrics: Record<string, number>;
}

/**
 * Units the batch is split on: whole groups (rows sharing a group id, in order of
 * first appearance), or single rows when the batch has no group ids. Splitting
 * on groups keeps group statistics (HTPO's difficulty) the same in every shard.
 */
export function batchUnits(batch: TrainingBatch): number[][] {
  const B = batch.responseMask.shape[0];
  if (!batch.groupIds) return Array.from({ length: B }, (_, i) => [i]);
  const ids = batch.groupIds.dataSync();
  const groups = new Map<number, number[]>();
  for (let i = 0; i < B; i++) {
    const g = ids[i]!;
    const rows = groups.get(g);
    if (rows) rows.push(i);
    else groups.set(g, [i]);
  }
  return [...groups.values()];
}

/** `units` in `n` consecutive chunks as even as whole units allow. */
function chunks<T>(units: readonly T[], n: number): T[][] {
  const k = Math.max(1, Math.min(n, units.length));
  return Array.from({ length: k }, (_, c) =>
    units.slice(Math.floor((c * units.length) / k), Math.floor(((c + 1) * units.length) / k)),
  );
}

/** Consecutive chunks of whole units, each up to `maxRows` rows (at least one unit each). */
function chunksByRows(units: readonly number[][], maxRows: number): number[][][] {
  const out: number[][][] = [];
  let current: number[][] = [];
  let rows = 0;
  for (const u of units) {
    if (current.length > 0 && rows + u.length > maxRows) {
      out.push(current);
      current = [];
      rows = 0;
    }
    current.push(u);
    rows += u.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * The PPO update (verl's `update_policy`): `epochs` passes over the batch,
 * each split into mini-batches of whole groups, one optimiser step per
 * mini-batch. Each mini-batch is split again into micro-batches whose
 * gradients are accumulated; every micro-batch loss divides by the
 * mini-batch's token and sequence counts, so the accumulated gradient equals
 * the gradient of the whole mini-batch in every aggregation mode. A step
 * whose loss or gradient norm is NaN/Inf is skipped (counted in `skipped`).
 */
export async function ppoUpdate(options: PpoUpdateOptions): Promise<PpoUpdateResult> {
  const { batch, optimizer } = options;
  const epochs = options.epochs ?? 1;
  if (!(Number.isInteger(epochs) && epochs >= 1))
    throw new InvalidInputError(`ppoUpdate: epochs must be an integer >= 1, got ${epochs}`);
  const compute =
    options.computeGradients ??
    (options.loss
      ? inProcessGradients(optimizer.variables, options.loss)
      : (() => {
          throw new InvalidInputError("ppoUpdate: pass `loss` or `computeGradients`");
        })());
  const units = batchUnits(batch);
  const steps: UpdateStepResult[] = [];
  let skipped = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = options.shuffle ? options.shuffle.shuffle(units) : units;
    const minis =
      options.miniBatchSize !== undefined
        ? chunksByRows(order, options.miniBatchSize)
        : chunks(order, options.miniBatches ?? 1);
    for (const [m, mini] of minis.entries()) {
      const micro =
        options.microBatchSize !== undefined
          ? chunksByRows(mini, options.microBatchSize)
          : chunks(mini, options.shardsPerMiniBatch ?? 1);
      const shards = micro.map((us) => sliceBatchRows(batch, us.flat()));
      let grads: Tensor[] = [];
      try {
        const r = await compute(shards, countTokens(batch, mini.flat()));
        grads = r.grads;
        const step = stepIfFinite(optimizer, r.loss, grads);
        if (!step.applied) skipped++;
        steps.push({ epoch, miniBatch: m, loss: r.loss, ...step, microBatches: shards.length, metrics: r.metrics });
      } finally {
        tf.dispose(grads);
        for (const s of shards) disposeBatch(s);
      }
    }
  }
  return { steps, skipped, metrics: meanMetrics(steps) };
}

function meanMetrics(steps: readonly UpdateStepResult[]): Record<string, number> {
  const applied = steps.filter((s) => s.applied);
  if (applied.length === 0) return {};
  // A `/tokens` count is per mini-batch: the batch's count is the mean over the
  // applied steps times the mini-batches of one epoch (each epoch sees every token once).
  const miniBatchesPerEpoch = steps.length / new Set(steps.map((s) => s.epoch)).size;
  const out: Record<string, number> = {};
  const add = (k: string, v: number) => {
    const scale = k.endsWith("/tokens") ? miniBatchesPerEpoch : 1;
    out[k] = (out[k] ?? 0) + (v * scale) / applied.length;
  };
  for (const s of applied) {
    add("actor/grad_norm", s.gradNorm);
    add("actor/lr", s.lr);
    for (const [k, v] of Object.entries(s.metrics)) add(k, v);
  }
  return out;
}
