import { applyMask, maskedWhiten, tf } from "@tokenrl/core";
import type { Tensor2D } from "@tokenrl/core";
import type { HostBatch } from "./host.js";

/**
 * verl `masked_whiten` over every valid token of the batch (token-weighted
 * mean, unbiased variance, 1e-8 inside the square root), times the mask.
 *
 * With fewer than two valid tokens the variance is undefined and verl raises;
 * tokenrl returns zero advantages there (one token has nothing to be compared
 * with, so it carries no learning signal), never NaN.
 */
export function whitenOverValidTokens(values: Tensor2D, responseMask: Tensor2D, host: HostBatch): Tensor2D {
  return tf.tidy(() => {
    if (host.validCount < 2) return tf.zeros([host.B, host.T], "float32") as Tensor2D;
    // applyMask rather than a product: masked positions become +0, not -0.
    return applyMask(maskedWhiten(values, responseMask), responseMask) as Tensor2D;
  });
}
