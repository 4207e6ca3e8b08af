import { tf } from "@tokenrl/core";
import { groupStats } from "./groups.js";
import { broadcastOverMask, groupIdsOf, scoresOf } from "./host.js";
import { defineAdvantageEstimator } from "./registry.js";

/** RLOO takes no parameters. */
export type RlooParams = Record<string, never>;

/**
 * RLOO outcome advantage (Kool et al. 2019, "Buy 4 REINFORCE Samples, Get a
 * Baseline for Free!"; Ahmadian et al. 2024; verl `compute_rloo_outcome_advantage`):
 * the baseline of each response is the mean score of the other responses to
 * the same prompt,
 *
 *     a_i = s_i - mean_{j != i} s_j = n/(n-1) (s_i - mean_g),
 *
 * broadcast over the response's valid tokens. A group of one has no other
 * response and so no baseline: its advantage is its score (verl). Equal scores give 0.
 */
export const rlooAdvantage = defineAdvantageEstimator<RlooParams>({
  name: "rloo",
  description:
    "RLOO: s_i - mean of the other responses to the prompt (Kool et al. 2019; verl compute_rloo_outcome_advantage)",
  requires: ["tokenRewards", "groupIds"],
  defaults: {},
  validate: {},
  estimate: (batch, _p, host) => {
    const scores = scoresOf(batch, host);
    const g = groupStats(groupIdsOf(batch), scores);
    const adv = new Float64Array(host.B);
    for (let i = 0; i < host.B; i++) {
      const n = g.size[i]!;
      adv[i] = n > 1 ? (n / (n - 1)) * g.deviation[i]! : scores[i]!;
    }
    const advantages = broadcastOverMask(adv, host);
    return { advantages, returns: tf.clone(advantages) };
  },
});
