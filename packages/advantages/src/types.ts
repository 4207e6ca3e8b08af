import type { Tensor2D, TrainingBatch } from "@tokenrl/core";

/**
 * The fields of a `TrainingBatch` an advantage estimator reads. A full
 * TrainingBatch is one; so is a plain `{ tokenRewards, responseMask, groupIds }`.
 * - `responseMask` `[B, T]` float32, 0/1: the tokens trained on;
 * - `tokenRewards` `[B, T]` float32: rewards placed on tokens (outcome rewards on the last valid one);
 * - `groupIds` `[B]` int32: which prompt each response answers; any int ids, in any order (GRPO, RLOO, REINFORCE++-baseline);
 * - `values` `[B, T]` float32: value-model estimates (GAE).
 */
export type AdvantageBatch = Pick<TrainingBatch, "responseMask" | "tokenRewards" | "groupIds" | "values">;

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
 * The uniform signature under which estimators are registered, so that a
 * trainer config can name one and pass its params as plain data. Params are
 * checked at run time: an unknown key or a bad value is a ConfigError naming it.
 */
export type AdvantageEstimator = (batch: AdvantageBatch, params?: Readonly<Record<string, unknown>>) => AdvantageResult;
