import { tf } from "@tokenrl/core";
import type { Tensor1D } from "@tokenrl/core";
import { groupStats } from "./groups.js";
import { broadcastOverMask, readBatch, readFinite, sequenceScores } from "./host.js";
import { resolveParams } from "./params.js";
import type { AdvantageBatch, AdvantageResult } from "./types.js";
import { whitenOverValidTokens } from "./whiten.js";

/** REINFORCE++-baseline takes no parameters. */
export type ReinforcePlusPlusBaselineParams = Record<string, never>;

/**
 * REINFORCE++-baseline advantage (Hu 2025, "REINFORCE++"; verl
 * `compute_reinforce_plus_plus_baseline_outcome_advantage`): the group mean
 * as baseline, `s_i - mean_g` broadcast over the response's valid tokens,
 * then whitened over all valid tokens of the batch (verl `masked_whiten`) and
 * multiplied by the mask. A group of one has mean 0 (verl).
 *
 * With fewer than two valid tokens in the batch (verl raises) the advantages
 * are 0; never NaN. `returns` equals `advantages`, as in verl.
 */
export function reinforcePlusPlusBaselineAdvantage(
  batch: AdvantageBatch,
  params?: ReinforcePlusPlusBaselineParams,
): AdvantageResult {
  resolveParams<ReinforcePlusPlusBaselineParams>(
    "reinforce-plus-plus-baseline",
    params as Record<string, unknown> | undefined,
    {},
    {},
  );
  const host = readBatch(batch, ["tokenRewards", "groupIds"]);
  const scores = sequenceScores(readFinite(batch.tokenRewards, "tokenRewards"), host.B, host.T);
  const g = groupStats(batch.groupIds as Tensor1D, scores);
  return tf.tidy(() => {
    const centred = broadcastOverMask(g.deviation, host);
    const advantages = whitenOverValidTokens(centred, batch.responseMask, host);
    return { advantages, returns: tf.clone(advantages) };
  });
}
