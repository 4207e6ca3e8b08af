import { InvalidInputError, NonFiniteError, ShapeError, hostView, tf, validateBatch } from "@tokenrl/core";
import type { Tensor, Tensor1D, Tensor2D, TrainingBatch } from "@tokenrl/core";
import type { AdvantageBatch, AdvantageField } from "./types.js";

/**
 * The batch read back to the host. Advantage estimation happens once per step
 * on small `[B]` and `[B, T]` inputs, and its two hard parts are a per-group
 * reduction over arbitrary ids (wasm has no UnsortedSegmentSum) and a
 * right-to-left scan over T (T sequential tensor ops would dominate the
 * step). Both are exact and cheap as float64 loops on the host and identical
 * on every backend; only the whitening and the result stay tensor ops.
 *
 * Reads are views where the backend allows (core's `hostView`: no copy on
 * wasm / cpu), and what the rollout already has on the host (`batch.host`:
 * sequence scores, group ids) is taken from there instead of the tensors.
 */
export interface HostBatch {
  B: number;
  T: number;
  /** `responseMask`, checked to be 0/1. */
  mask: Float32Array;
  /** Number of valid tokens in the batch. */
  validCount: number;
}

type Field = AdvantageField;

export function readBatch(batch: AdvantageBatch, required: readonly Field[]): HostBatch {
  if (batch === null || typeof batch !== "object")
    throw new InvalidInputError(`batch: expected an object of tensors, got ${String(batch)}`);
  const { B, T } = validateBatch(batch as TrainingBatch, required);
  const mask = hostView(batch.responseMask) as Float32Array;
  const lengths = batch.host?.lengths;
  let validCount = 0;
  for (let i = 0; i < B; i++) {
    let row = 0;
    for (let j = i * T; j < i * T + T; j++) {
      const m = mask[j]!;
      if (m === 1) row++;
      else if (m !== 0) {
        throw new InvalidInputError(
          `responseMask[${i}][${j - i * T}]: expected 0 or 1, got ${m} (the mask selects tokens; it does not weight them)`,
        );
      }
    }
    if (lengths && lengths[i] !== row) {
      throw new InvalidInputError(
        `host.lengths[${i}]: ${lengths[i]} disagrees with responseMask, whose row ${i} has ${row} valid tokens`,
      );
    }
    validCount += row;
  }
  return { B, T, mask, validCount };
}

/**
 * s_i per response: `batch.host.rewards` when the rollout put the scores there
 * (float32, as the tensor holds them), else `sequenceScores` of tokenRewards.
 */
export function scoresOf(batch: AdvantageBatch, host: HostBatch): Float64Array {
  const given = batch.host?.rewards;
  if (given) {
    let bad = 0;
    for (let i = 0; i < given.length; i++) if (!Number.isFinite(given[i]!)) bad++;
    if (bad > 0) throw new NonFiniteError("host.rewards", bad, given.length);
    return Float64Array.from(given);
  }
  return sequenceScores(readFinite(batch.tokenRewards, "tokenRewards"), host.B, host.T);
}

/** Group ids per response: `batch.host.groupIds`, else one read of the `[B]` tensor. */
export function groupIdsOf(batch: AdvantageBatch): ArrayLike<number> {
  return batch.host?.groupIds ?? ((batch.groupIds as Tensor1D).dataSync() as Int32Array);
}

/** Reads a `[B, T]` field; every entry must be finite (rewards feed every valid token's advantage). */
export function readFinite(t: Tensor | undefined, field: Field): Float32Array {
  if (t === undefined) throw new ShapeError(field, "[B, T]", [], "required but missing");
  const data = hostView(t) as Float32Array;
  let bad = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) bad++;
  if (bad > 0) throw new NonFiniteError(field, bad, data.length);
  return data;
}

/**
 * Reads a `[B, T]` field of which only valid tokens matter (value estimates:
 * padding may hold anything, even NaN, and never reaches the result); those
 * must be finite.
 */
export function readFiniteWhereValid(t: Tensor | undefined, field: Field, host: HostBatch): Float32Array {
  if (t === undefined) throw new ShapeError(field, "[B, T]", [], "required but missing");
  const data = hostView(t) as Float32Array;
  let bad = 0;
  for (let i = 0; i < data.length; i++) if (host.mask[i] === 1 && !Number.isFinite(data[i]!)) bad++;
  if (bad > 0) throw new NonFiniteError(`${field} (on valid tokens)`, bad, host.validCount);
  return data;
}

/** s_i = sum_t tokenRewards[i][t] over the whole row, as verl does (padding holds zero reward). */
export function sequenceScores(rewards: Float32Array, B: number, T: number): Float64Array {
  const scores = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    let s = 0;
    for (let t = 0; t < T; t++) s += rewards[i * T + t]!;
    scores[i] = s;
  }
  return scores;
}

/** `[B, T]` tensor with value[i] on row i's valid tokens and 0 elsewhere. */
export function broadcastOverMask(perResponse: Float64Array, host: HostBatch): Tensor2D {
  const { B, T, mask } = host;
  const out = new Float32Array(B * T);
  for (let i = 0; i < B; i++) {
    const v = perResponse[i]!;
    for (let t = 0; t < T; t++) if (mask[i * T + t] === 1) out[i * T + t] = v;
  }
  return tf.tensor2d(out, [B, T], "float32");
}
