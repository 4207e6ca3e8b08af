import { tf } from "@tokenrl/core";
import type { Tensor2D, TrainingBatch } from "@tokenrl/core";
import type { PolicyScorer } from "./loss.js";
import { scoreInput } from "./loss.js";

/**
 * The frozen reference policy of the KL term: a separate copy of the weights
 * as RL starts, never handed to an optimiser. Scoring runs outside any
 * gradient tape; `refLogProbs` returns `[B, T]` (the caller disposes it).
 */
export class FrozenReference {
  private readonly policy: PolicyScorer & { dispose?: () => void };

  constructor(policy: PolicyScorer & { dispose?: () => void }) {
    this.policy = policy;
  }

  refLogProbs(batch: TrainingBatch): Tensor2D {
    return tf.tidy(() => this.policy.scoreResponses(scoreInput(batch)).logProbs);
  }

  dispose(): void {
    this.policy.dispose?.();
  }
}
