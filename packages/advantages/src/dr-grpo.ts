import { GRPO_DEFAULTS, groupCentredAdvantage } from "./grpo.js";
import { defineAdvantageEstimator } from "./registry.js";

/** Dr.GRPO takes no parameters: it is GRPO with the std division removed. */
export type DrGrpoParams = Record<string, never>;

/**
 * Dr.GRPO outcome advantage (Liu et al. 2025, "Understanding R1-Zero-Like
 * Training: A Critical Perspective"): `a_i = s_i - mean_g`, GRPO without the
 * division by the group std, which biases updates towards prompts whose
 * rewards barely vary. Equal to `grpoAdvantage(batch, { normalizeByStd: false })`.
 * A group of one has mean 0 (its score is its advantage); equal scores give 0.
 */
export const drGrpoAdvantage = defineAdvantageEstimator<DrGrpoParams>({
  name: "dr-grpo",
  description: "Dr.GRPO: s_i - mean_g, GRPO without the std division (Liu et al. 2025)",
  requires: ["tokenRewards", "groupIds"],
  defaults: {},
  validate: {},
  estimate: (batch, _p, host) => groupCentredAdvantage(batch, { ...GRPO_DEFAULTS, normalizeByStd: false }, host),
});
