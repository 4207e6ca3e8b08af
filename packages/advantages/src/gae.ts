import { numberIn, tf } from "@tokenrl/core";
import { readFinite, readFiniteWhereValid } from "./host.js";
import { defineAdvantageEstimator } from "./registry.js";
import { whitenOverValidTokens } from "./whiten.js";

export interface GaeParams {
  /** Discount per valid token. Default 1 (verl `algorithm.gamma`). */
  gamma?: number;
  /** GAE's lambda: 0 = one-step TD error, 1 = Monte-Carlo return minus V. Default 1 (verl `algorithm.lam`). */
  lambda?: number;
}

export const GAE_DEFAULTS: Readonly<Required<GaeParams>> = { gamma: 1, lambda: 1 };

/**
 * Generalised advantage estimation (Schulman et al. 2016, "High-Dimensional
 * Continuous Control Using Generalized Advantage Estimation"; verl
 * `compute_gae_advantage_return`), right to left per response:
 *
 *     delta_t = R_t + gamma V_{t+1} - V_t
 *     A_t     = delta_t + gamma lambda A_{t+1}
 *
 * where V_{t+1} and A_{t+1} belong to the next *valid* token: masked tokens
 * (environment observations inside a multi-turn response, padding) are
 * skipped and carry both through, as verl does. `returns = A + V` (raw A);
 * `advantages` = A whitened over all valid tokens of the batch (verl
 * `masked_whiten`). Both are multiplied by the mask (verl leaves the carried
 * values at masked positions; the trainer never reads them).
 *
 * Value estimates at masked positions are never read (they may be garbage).
 * With fewer than two valid tokens in the batch (verl raises) the advantages
 * are 0 and the returns are still computed; never NaN.
 */
export const gaeAdvantage = defineAdvantageEstimator<GaeParams>({
  name: "gae",
  description:
    "GAE: A_t = delta_t + gamma lambda A_{t+1} over valid tokens, whitened; returns A + V (Schulman et al. 2016; verl)",
  requires: ["tokenRewards", "values"],
  defaults: GAE_DEFAULTS,
  validate: { gamma: numberIn(0, 1), lambda: numberIn(0, 1) },
  estimate: (batch, p, host) => {
    const rewards = readFinite(batch.tokenRewards, "tokenRewards");
    const values = readFiniteWhereValid(batch.values, "values", host);
    const { B, T, mask } = host;
    const rawAdvantages = new Float32Array(B * T);
    const returns = new Float32Array(B * T);
    for (let i = 0; i < B; i++) {
      let nextValue = 0;
      let nextAdvantage = 0;
      for (let t = T - 1; t >= 0; t--) {
        const at = i * T + t;
        if (mask[at] !== 1) continue;
        const v = values[at]!;
        const delta = rewards[at]! + p.gamma * nextValue - v;
        nextAdvantage = delta + p.gamma * p.lambda * nextAdvantage;
        nextValue = v;
        rawAdvantages[at] = nextAdvantage;
        returns[at] = nextAdvantage + v;
      }
    }
    return tf.tidy(() => {
      const raw = tf.tensor2d(rawAdvantages, [B, T], "float32");
      const advantages = whitenOverValidTokens(raw, batch.responseMask, host);
      return { advantages, returns: tf.tensor2d(returns, [B, T], "float32") };
    });
  },
});
