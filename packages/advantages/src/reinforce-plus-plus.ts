import { numberIn, tf } from "@tokenrl/core";
import type { Tensor2D } from "@tokenrl/core";
import { readFinite } from "./host.js";
import { defineAdvantageEstimator } from "./registry.js";
import { whitenOverValidTokens } from "./whiten.js";

export interface ReinforcePlusPlusParams {
  /** Discount per valid token. Default 1 (verl `algorithm.gamma`). */
  gamma?: number;
}

export const REINFORCE_PLUS_PLUS_DEFAULTS: Readonly<Required<ReinforcePlusPlusParams>> = { gamma: 1 };

/**
 * REINFORCE++ advantage (Hu 2025, "REINFORCE++: A Simple and Efficient
 * Approach for Aligning Large Language Models"; verl
 * `compute_reinforce_plus_plus_outcome_advantage`): the discounted return
 *
 *     G_t = R_t + gamma G_{t+1}        (right to left, per response)
 *
 * where masked tokens (padding, environment observations inside a multi-turn
 * response) carry G unchanged, so a turn's tokens see the rewards of later
 * turns; then whitened over all valid tokens of the batch (token-weighted
 * mean, unbiased variance: verl `masked_whiten`) and multiplied by the mask.
 *
 * Returns `{ advantages, returns: G * mask }`. With fewer than two valid
 * tokens in the batch (verl raises) the advantages are 0; never NaN.
 */
export const reinforcePlusPlusAdvantage = defineAdvantageEstimator<ReinforcePlusPlusParams>({
  name: "reinforce-plus-plus",
  description: "REINFORCE++: discounted return G_t = R_t + gamma G_{t+1}, whitened over valid tokens (Hu 2025; verl)",
  requires: ["tokenRewards"],
  defaults: REINFORCE_PLUS_PLUS_DEFAULTS,
  validate: { gamma: numberIn(0, 1) },
  estimate: (batch, p, host) => {
    const rewards = readFinite(batch.tokenRewards, "tokenRewards");
    const { B, T, mask } = host;
    const returns = new Float32Array(B * T);
    for (let i = 0; i < B; i++) {
      let running = 0;
      for (let t = T - 1; t >= 0; t--) {
        const at = i * T + t;
        if (mask[at] !== 1) continue;
        running = rewards[at]! + p.gamma * running;
        returns[at] = running;
      }
    }
    return tf.tidy(() => {
      const returnsTensor = tf.tensor2d(returns, [B, T], "float32");
      const advantages = whitenOverValidTokens(returnsTensor, batch.responseMask, host);
      return { advantages, returns: returnsTensor as Tensor2D };
    });
  },
});
