import { InvalidInputError, tf } from "@tokenrl/core";
import type { Tensor2D } from "@tokenrl/core";

/**
 * Outcome rewards as verl's `token_level_rewards`: each response's reward on its
 * last valid (mask = 1) response token, 0 elsewhere; a response with no valid
 * token gets none. `[B, T]` float32, the caller disposes it.
 */
export function rewardsOnLastToken(rewards: readonly number[], responseMask: Tensor2D): Tensor2D {
  const [B, T] = responseMask.shape;
  if (rewards.length !== B)
    throw new InvalidInputError(`rewardsOnLastToken: ${rewards.length} rewards for ${B} responses`);
  const mask = responseMask.dataSync();
  const values = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    if (!Number.isFinite(rewards[b]!)) throw new InvalidInputError(`rewardsOnLastToken: reward ${b} is ${rewards[b]}`);
    for (let t = T - 1; t >= 0; t--) {
      if (mask[b * T + t]! > 0) {
        values[b * T + t] = rewards[b]!;
        break;
      }
    }
  }
  return tf.tensor2d(values, [B, T]);
}
