import { aggregateLoss, tf } from "@tokenrl/core";
import type { Scalar, TrainingBatch } from "@tokenrl/core";
import type { PolicyScorer } from "./loss.js";
import { scoreInput } from "./loss.js";
import type { AdamW, StepResult } from "./optimizer.js";

/** The supervised loss: mean negative log-likelihood of the response tokens (token-mean, as TRL's SFTTrainer). */
export function sftLoss(policy: PolicyScorer, batch: TrainingBatch): Scalar {
  return tf.tidy(() => {
    const { logProbs } = policy.scoreResponses(scoreInput(batch));
    return tf.neg(aggregateLoss(logProbs, batch.responseMask, "token-mean")) as Scalar;
  });
}

/**
 * One supervised step on reference responses (the warm-up before RL): the
 * token-mean NLL, its gradient, one AdamW step (clipped; NaN/Inf not applied).
 */
export function sftStep(policy: PolicyScorer, optimizer: AdamW, batch: TrainingBatch): StepResult & { loss: number } {
  return optimizer.minimize(() => sftLoss(policy, batch));
}
