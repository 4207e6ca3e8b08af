import { InvalidInputError } from "@tokenrl/base/errors";

/**
 * Token-count-weighted accumulation for gradient accumulation and metrics.
 *
 * A token-mean over a mini-batch equals the micro-batch token-means weighted by
 * each micro-batch's token count, not their plain mean (the common bug). Use
 * `microBatchLossScale` to scale each micro-batch's token-mean loss before
 * backward, or aggregate with `globalTokenCount` directly.
 */
export class TokenWeightedMean {
  private weightedSum = 0;
  private tokenCount = 0;

  /** Adds a micro-batch's token-mean `value` computed over `tokens` valid tokens. */
  add(value: number, tokens: number): this {
    if (!Number.isFinite(tokens) || tokens < 0)
      throw new InvalidInputError(`TokenWeightedMean.add: tokens must be >= 0, got ${tokens}`);
    if (tokens === 0) return this;
    if (!Number.isFinite(value))
      throw new InvalidInputError(`TokenWeightedMean.add: value is ${value} over ${tokens} tokens`);
    this.weightedSum += value * tokens;
    this.tokenCount += tokens;
    return this;
  }

  /** The token-weighted mean so far; 0 when no token was added. */
  get value(): number {
    return this.tokenCount === 0 ? 0 : this.weightedSum / this.tokenCount;
  }

  get tokens(): number {
    return this.tokenCount;
  }

  reset(): void {
    this.weightedSum = 0;
    this.tokenCount = 0;
  }
}

/**
 * The factor to multiply a micro-batch's token-mean loss by so that the summed
 * gradients over micro-batches equal the gradient of the mini-batch token-mean.
 */
export function microBatchLossScale(microTokens: number, totalTokens: number): number {
  if (totalTokens <= 0) return 0;
  return microTokens / totalTokens;
}
