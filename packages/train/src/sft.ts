import { InvalidInputError, aggregateLoss, disposeBatch, sliceBatchRange, tf } from "@tokenrl/core";
import type { Scalar, TrainingBatch } from "@tokenrl/core";
import type { ActorLoss, PolicyScorer } from "./loss.js";
import { scoreInput } from "./loss.js";
import type { AdamW, StepResult } from "./optimizer.js";
import type { ComputeGradients } from "./update.js";
import { countTokens, splitRange, stepIfFinite } from "./update.js";

/**
 * Mean negative log-likelihood of the response tokens, divided by
 * `tokens` (default: this batch's own count).
 */
function tokenMeanNll(policy: PolicyScorer, batch: TrainingBatch, tokens?: number): Scalar {
  return tf.tidy(() => {
    const { logProbs } = policy.scoreResponses(scoreInput(batch));
    return tf.neg(
      aggregateLoss(
        logProbs,
        batch.responseMask,
        "token-mean",
        tokens !== undefined ? { globalTokenCount: tokens } : {},
      ),
    ) as Scalar;
  });
}

/** The supervised loss: mean negative log-likelihood of the response tokens (token-mean, as TRL's SFTTrainer). */
export function sftLoss(policy: PolicyScorer, batch: TrainingBatch): Scalar {
  return tokenMeanNll(policy, batch);
}

/**
 * `sftLoss` of one shard of a batch with the whole batch's token count as the
 * denominator, so the shards' losses (and gradients) sum to the batch's: the
 * form a worker pool's data-parallel gradients need.
 */
export function sftShardLoss(policy: PolicyScorer): ActorLoss {
  return (shard, counts) => ({ loss: tokenMeanNll(policy, shard, counts.tokens), metrics: {} });
}

/**
 * One supervised step on reference responses (the warm-up before RL): the
 * token-mean NLL, its gradient, one AdamW step (clipped; NaN/Inf not applied).
 */
export function sftStep(policy: PolicyScorer, optimizer: AdamW, batch: TrainingBatch): StepResult & { loss: number } {
  return optimizer.minimize(() => sftLoss(policy, batch));
}

export interface ShardedSftStepOptions {
  optimizer: AdamW;
  batch: TrainingBatch;
  /** Gradients of the shards, e.g. a worker pool's `computeGradients` with `{ loss: { kind: "sft" } }`. */
  computeGradients: ComputeGradients;
  /** Contiguous row shards (e.g. one per worker); at most the batch's rows. */
  shards: number;
}

/**
 * `sftStep` with the gradient computed shard by shard by `computeGradients`
 * (data-parallel in a worker pool): the same loss and, within float32
 * rounding of the summation order, the same gradient and update.
 */
export async function shardedSftStep(o: ShardedSftStepOptions): Promise<StepResult & { loss: number }> {
  const [B] = o.batch.responseMask.shape;
  if (!Number.isInteger(o.shards) || o.shards < 1)
    throw new InvalidInputError(`shardedSftStep: shards must be an integer >= 1, got ${o.shards}`);
  const shards = splitRange(B, Math.min(o.shards, B)).map(([start, end]) => sliceBatchRange(o.batch, start, end));
  let grads: tf.Tensor[] = [];
  try {
    const r = await o.computeGradients(shards, countTokens(o.batch));
    grads = r.grads;
    return { loss: r.loss, ...stepIfFinite(o.optimizer, r.loss, grads) };
  } finally {
    tf.dispose(grads);
    for (const s of shards) disposeBatch(s);
  }
}
