import { tf } from "@tokenrl/core";
import type { Tensor2D, TrainingBatch } from "@tokenrl/core";
import { scoreInput } from "./loss.js";

/** What the reference needs: log-probs, with the full-vocabulary entropy skipped (`@tokenrl/policy`'s CausalLM). */
export interface ReferenceScorer {
  scoreResponses(
    input: ReturnType<typeof scoreInput>,
    options: { entropy: false },
  ): { logProbs: Tensor2D; entropy?: Tensor2D };
  dispose?: () => void;
}

/**
 * The frozen reference policy of the KL term: a separate copy of the weights
 * as RL starts, never handed to an optimiser. Scoring runs outside any
 * gradient tape; `refLogProbs` returns `[B, T]` (the caller disposes it).
 */
export class FrozenReference {
  private readonly policy: ReferenceScorer;

  constructor(policy: ReferenceScorer) {
    this.policy = policy;
  }

  refLogProbs(batch: TrainingBatch): Tensor2D {
    // Nothing reads the reference's entropy: skipping it saves a pass over [B, T, V].
    return tf.tidy(() => this.policy.scoreResponses(scoreInput(batch), { entropy: false }).logProbs);
  }

  dispose(): void {
    this.policy.dispose?.();
  }
}
