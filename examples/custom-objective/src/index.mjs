// A plugin for tokenrl-train: importing this module registers the "vanilla-pg"
// objective in @tokenrl/objectives' registry, the same one the trainer reads.
// @tokenrl/core and @tokenrl/objectives are peer dependencies, so the trainer and
// the plugin share one TensorFlow.js instance and one registry.
import { AGGREGATION_MODES, aggregateLoss, oneOf, nullOr, numberIn, tf } from "@tokenrl/core";
import { aggregateOptions, defineObjective, logProbsOf } from "@tokenrl/objectives";

/**
 * Vanilla policy gradient (REINFORCE with the batch's advantages):
 * `L_t = -A_t log pi(y_t)`, aggregated like every other objective (so
 * gradient accumulation stays exact with the trainer's global token counts).
 * Metric: `advantageMean`, the mean advantage over valid tokens.
 */
export const vanillaPg = defineObjective({
  name: "vanilla-pg",
  description: "vanilla policy gradient: -A logp (REINFORCE with the recipe's advantages), no ratio, no clip",
  requires: ["logProbs", "advantages"],
  defaults: Object.freeze({ aggregation: "token-mean", lossScaleFactor: null }),
  validate: { aggregation: oneOf(...AGGREGATION_MODES), lossScaleFactor: nullOr(numberIn(1e-12, Number.MAX_VALUE)) },
  opChain: (batch, o, context) =>
    tf.tidy(() => {
      const mask = batch.responseMask;
      const perToken = tf.neg(tf.mul(batch.advantages, logProbsOf(batch, "vanilla-pg")));
      return {
        loss: aggregateLoss(perToken, mask, o.aggregation, aggregateOptions(o, context)),
        metrics: { advantageMean: aggregateLoss(batch.advantages, mask, "token-mean") },
      };
    }),
});
