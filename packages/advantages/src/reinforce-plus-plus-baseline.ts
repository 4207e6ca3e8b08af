import { tf } from "@tokenrl/core";
import { groupStats } from "./groups.js";
import { broadcastOverMask, groupIdsOf, scoresOf } from "./host.js";
import { defineAdvantageEstimator } from "./registry.js";
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
 * are 0; never NaN; a constant set of centred values (every group all equal,
 * or one score on every token) whitens to exactly 0. `returns` equals
 * `advantages`, as in verl.
 */
export const reinforcePlusPlusBaselineAdvantage = defineAdvantageEstimator<ReinforcePlusPlusBaselineParams>({
  name: "reinforce-plus-plus-baseline",
  description: "REINFORCE++-baseline: s_i - mean_g, whitened over the batch's valid tokens (Hu 2025; verl)",
  requires: ["tokenRewards", "groupIds"],
  defaults: {},
  validate: {},
  estimate: (batch, _p, host) => {
    const g = groupStats(groupIdsOf(batch), scoresOf(batch, host));
    return tf.tidy(() => {
      const centred = broadcastOverMask(g.deviation, host);
      const advantages = whitenOverValidTokens(centred, batch.responseMask, host);
      return { advantages, returns: tf.clone(advantages) };
    });
  },
});
