import { isBoolean, numberIn, oneOf, tf } from "@tokenrl/core";
import { groupStats } from "./groups.js";
import { broadcastOverMask, groupIdsOf, scoresOf } from "./host.js";
import type { HostBatch } from "./host.js";
import { defineAdvantageEstimator } from "./registry.js";
import type { AdvantageBatch, AdvantageResult } from "./types.js";

export interface GrpoParams {
  /**
   * Divide by the group's standard deviation (GRPO, Shao et al. 2024,
   * "DeepSeekMath"). `false` keeps only the mean-centring: Dr.GRPO (Liu et al.
   * 2025, "Understanding R1-Zero-Like Training"), verl `norm_adv_by_std_in_grpo`. Default true.
   */
  normalizeByStd?: boolean;
  /** Added to the std before dividing. Default 1e-6 (verl); TRL uses 1e-4. */
  epsilon?: number;
  /**
   * Delta degrees of freedom of the std: 1 = unbiased, n-1 (verl, torch.std;
   * the default), 0 = population std (rllm).
   */
  ddof?: 0 | 1;
}

export const GRPO_DEFAULTS: Readonly<Required<GrpoParams>> = { normalizeByStd: true, epsilon: 1e-6, ddof: 1 };

/**
 * GRPO outcome advantage (verl `compute_grpo_outcome_advantage`):
 *
 *     s_i = sum_t tokenRewards[i][t]
 *     a_i = (s_i - mean_g) / (std_g + epsilon)      (normalizeByStd)
 *     a_i =  s_i - mean_g                           (otherwise)
 *
 * broadcast over the response's valid tokens. Group statistics are over the
 * responses sharing a `groupIds` value, empty responses included (score 0).
 *
 * Degenerate groups, never NaN: a group of one has mean 0 and std 1 (verl), so
 * its advantage is s / (1 + epsilon); a group whose scores are all equal gives
 * exactly 0 (even with epsilon 0); a row with an empty mask gives 0s.
 */
export const grpoAdvantage = defineAdvantageEstimator<GrpoParams>({
  name: "grpo",
  description: "GRPO: (s_i - mean_g) / (std_g + epsilon) per group (DeepSeekMath; verl compute_grpo_outcome_advantage)",
  requires: ["tokenRewards", "groupIds"],
  defaults: GRPO_DEFAULTS,
  validate: { normalizeByStd: isBoolean, epsilon: numberIn(0, Number.MAX_VALUE), ddof: oneOf(0, 1) },
  estimate: (batch, p, host) => groupCentredAdvantage(batch, p, host),
});

/** Shared by GRPO and Dr.GRPO once the params are resolved. */
export function groupCentredAdvantage(
  batch: AdvantageBatch,
  p: Required<GrpoParams>,
  host: HostBatch,
): AdvantageResult {
  const g = groupStats(groupIdsOf(batch), scoresOf(batch, host));
  const adv = new Float64Array(host.B);
  for (let i = 0; i < host.B; i++) {
    if (!p.normalizeByStd) {
      adv[i] = g.deviation[i]!;
      continue;
    }
    const n = g.size[i]!;
    const std = n > 1 ? Math.sqrt(g.sumSquares[i]! / (n - p.ddof)) : 1;
    const denom = std + p.epsilon;
    // denom is 0 only for an all-equal group with epsilon 0, where the deviation is 0 too.
    adv[i] = denom > 0 ? g.deviation[i]! / denom : 0;
  }
  const advantages = broadcastOverMask(adv, host);
  return { advantages, returns: tf.clone(advantages) };
}
