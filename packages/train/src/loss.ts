import { aggregateLoss, tf } from "@tokenrl/core";
import type { Scalar, Tensor2D, TrainingBatch } from "@tokenrl/core";
import { klPenalty, objectives } from "@tokenrl/objectives";
import type { ObjectiveResult } from "@tokenrl/objectives";
import { disposePartition, partitioners } from "@tokenrl/partitioners";
import type { Partition } from "@tokenrl/partitioners";
import { objectiveOptionsOf } from "./recipe.js";
import type { RecipeSpec } from "./recipe.js";

/** What the update needs from a policy: per-token log-probs and entropies, differentiable. */
export interface PolicyScorer {
  scoreResponses(input: { promptIds: Tensor2D; promptMask: Tensor2D; responseIds: Tensor2D; responseMask: Tensor2D }): {
    logProbs: Tensor2D;
    entropy: Tensor2D;
  };
}

/** Totals of the whole mini-batch a micro-batch belongs to (what makes micro-batch losses add up). */
export interface GlobalCounts {
  /** Valid (mask = 1) response tokens in the mini-batch. */
  tokens: number;
  /** Responses with at least one valid token in the mini-batch. */
  sequences: number;
}

/**
 * A micro-batch's share of the mini-batch loss: summing it over the
 * micro-batches of a mini-batch gives the mini-batch loss (and gradient) for
 * every aggregation mode, because every mean divides by `counts`, not by the
 * micro-batch's own totals.
 */
export type ActorLoss = (micro: TrainingBatch, counts: GlobalCounts) => ObjectiveResult;

/** The prompt/response fields `scoreResponses` reads. */
export function scoreInput(batch: TrainingBatch) {
  return {
    promptIds: batch.promptIds!,
    promptMask: batch.promptMask!,
    responseIds: batch.responseIds!,
    responseMask: batch.responseMask,
  };
}

/**
 * The actor loss of a recipe (verl's `compute_policy_loss` + `kl_loss` -
 * `entropy_coeff * entropy`): scores the micro-batch with the policy, runs the
 * recipe's objective on it (with the recipe's partition when it names one),
 * adds `kl.coef * aggregate(KL(pi || ref))` and subtracts
 * `entropy.coef * aggregate(H)`, every term aggregated with the global counts.
 *
 * `batch.entropy` (the entropies when the batch was scored for the update)
 * stays what partitions read, so HTPO's cells do not move between epochs; the
 * bonus and the `actor/entropy` metric use the current policy's entropy.
 *
 * Call it inside a gradient tape or tf.tidy: intermediate tensors (the
 * scores) are left to that scope; `loss` and `metrics` are what it returns.
 *
 * Metrics (micro-batch means; `ppoUpdate` weights them by tokens):
 * `actor/pg_loss`, `actor/kl_loss`, `actor/entropy`, `actor/ppo_kl` (mean of
 * old - new log-prob, verl's), and the objective's own metrics as
 * `actor/<name>` (`actor/pg_clipfrac` for clipFraction).
 */
export function createActorLoss(policy: PolicyScorer, recipe: RecipeSpec): ActorLoss {
  const objective = objectives.get(recipe.objective.name);
  const options = objectiveOptionsOf(recipe);
  const partitioner = recipe.partition ? partitioners.get(recipe.partition.name) : undefined;
  return (micro, counts) => {
    const aggregate = { globalTokenCount: counts.tokens, globalSequenceCount: counts.sequences };
    const scored = policy.scoreResponses(scoreInput(micro));
    const batch: TrainingBatch = {
      ...micro,
      logProbs: scored.logProbs,
      entropy: micro.entropy ?? detach(scored.entropy),
    };
    let partition: Partition | undefined;
    try {
      partition = partitioner?.partition(batch, recipe.partition!.options);
      const part = objective.compute(batch, options, { ...aggregate, ...(partition ? { partition } : {}) });
      const metrics: Record<string, Scalar> = {};
      for (const [name, value] of Object.entries(part.metrics)) metrics[verlName(name)] = value;
      metrics["actor/pg_loss"] = part.loss;
      const mask = micro.responseMask;
      const ownTokens = tf.maximum(tf.sum(mask), 1e-8);
      const mean = (x: tf.Tensor) => tf.div(tf.sum(tf.mul(x, mask)), ownTokens) as Scalar;
      metrics["actor/entropy"] = mean(scored.entropy);
      if (micro.oldLogProbs) metrics["actor/ppo_kl"] = mean(tf.sub(micro.oldLogProbs, scored.logProbs));
      let loss: Scalar = part.loss;
      if (recipe.kl && recipe.kl.coef > 0) {
        if (!micro.refLogProbs) throw new TypeError("kl.coef > 0 needs batch.refLogProbs (a reference policy)");
        const kl = aggregateLoss(
          klPenalty(scored.logProbs, micro.refLogProbs, recipe.kl.estimator),
          mask,
          recipe.aggregation,
          aggregate,
        );
        metrics["actor/kl_loss"] = kl;
        metrics["actor/kl_coef"] = tf.scalar(recipe.kl.coef);
        loss = tf.add(loss, tf.mul(kl, recipe.kl.coef)) as Scalar;
      }
      if (recipe.entropy && recipe.entropy.coef !== 0) {
        const h = aggregateLoss(scored.entropy, mask, recipe.aggregation, aggregate);
        loss = tf.sub(loss, tf.mul(h, recipe.entropy.coef)) as Scalar;
      }
      return { loss, metrics };
    } finally {
      if (partition) disposePartition(partition);
    }
  };
}

const VERL_NAMES: Record<string, string> = {
  clipFraction: "actor/pg_clipfrac",
  clipFractionLower: "actor/pg_clipfrac_lower",
  ppoKl: "actor/policy_ppo_kl",
};

/** An objective metric under verl's name where it has one, else `actor/<name>`. */
export function verlName(name: string): string {
  return VERL_NAMES[name] ?? `actor/${name}`;
}

/** The value of `x` with no gradient flowing back through it. */
function detach<T extends tf.Tensor>(x: T): T {
  // biome-ignore lint/suspicious/noExplicitAny: tfjs types custom-gradient inputs as Tensor | GradSaveFunc
  const f = tf.customGrad((() => ({ value: tf.clone(x), gradFunc: () => [] })) as any);
  return (f as () => T)();
}
