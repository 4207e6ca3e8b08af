import type { Tensor2D, TrainingBatch } from "@tokenrl/core";

/**
 * The fields of a `TrainingBatch` an advantage estimator reads. A full
 * TrainingBatch is one; so is a plain `{ tokenRewards, responseMask, groupIds }`.
 * - `responseMask` `[B, T]` float32, 0/1: the tokens trained on;
 * - `tokenRewards` `[B, T]` float32: rewards placed on tokens (outcome rewards on the last valid one);
 * - `groupIds` `[B]` int32: which prompt each response answers; any int ids, in any order (GRPO, RLOO, REINFORCE++-baseline);
 * - `values` `[B, T]` float32: value-model estimates (GAE);
 * - `host`: what the rollout already has on the host (core's `HostBatchInfo`): the outcome
 *   estimators take the sequence scores from `host.rewards` and the groups from `host.groupIds`
 *   instead of reading `tokenRewards` and `groupIds` back.
 */
export type AdvantageBatch = Pick<TrainingBatch, "responseMask" | "tokenRewards" | "groupIds" | "values" | "host">;

/** The batch fields an estimator may require besides `responseMask`. */
export type AdvantageField = "tokenRewards" | "groupIds" | "values";

/**
 * What every estimator returns: two new `[B, T]` float32 tensors owned by the
 * caller, both zero outside `responseMask`. Outcome estimators (GRPO, Dr.GRPO,
 * RLOO, REINFORCE++-baseline) return their advantages as `returns` too, as verl does.
 */
export interface AdvantageResult {
  advantages: Tensor2D;
  returns: Tensor2D;
}

/**
 * A registered estimator: callable as `(batch, params) => { advantages, returns }`
 * so that a trainer config can name one and pass its params as plain data,
 * and self-describing (help texts, docs and the conformance runner read these).
 * Params are checked at run time: an unknown key or a bad value is a ConfigError naming it.
 */
export interface AdvantageEstimator {
  (batch: AdvantageBatch, params?: Readonly<Record<string, unknown>>): AdvantageResult;
  /** The registry name (verl's `algorithm.adv_estimator` spelling, hyphenated). */
  readonly estimatorName: string;
  /** One line: the formula and the paper or reference implementation. */
  readonly description: string;
  /** Batch fields it reads besides `responseMask` (checked before it runs). */
  readonly requires: readonly AdvantageField[];
  readonly defaults: Readonly<Record<string, unknown>>;
  /** The params merged over the defaults and checked, without running anything. */
  resolve(params?: Readonly<Record<string, unknown>>): Record<string, unknown>;
}
