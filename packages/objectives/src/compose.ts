import { ConfigError, tf } from "@tokenrl/core";
import type { AggregationMode, Scalar, TrainingBatch } from "@tokenrl/core";
import { entropyBonusTerms } from "./entropy-bonus.js";
import { klLoss } from "./kl.js";
import type { KlEstimator } from "./kl.js";
import { assertKlEstimator } from "./kl.js";
import { objectives } from "./objective.js";
import type { ObjectiveContext, ObjectiveResult } from "./objective.js";

/**
 * A full actor loss: `policy + klCoef * aggregate(KL(pi || ref)) - entropyCoef * aggregate(H)`,
 * each part named in the metrics (`policy/loss`, `kl/value`, `entropy/value`,
 * and the policy's own metrics under `policy/`).
 */
export interface ComposeOptions {
  /** Registered objective name (`ppo-clip`, `gspo`, `sapo`, `cispo`, `htpo`, `cppo`, or a user's). */
  policy: string;
  policyOptions?: Record<string, unknown>;
  /** KL to the reference policy (needs `refLogProbs`); omitted or coef 0 = no KL term. */
  kl?: { coef: number; estimator?: KlEstimator; aggregation?: AggregationMode };
  /** Entropy bonus (needs `entropy`, with gradient); omitted or coef 0 = none. */
  entropy?: { coef: number; aggregation?: AggregationMode };
}

export type ComposedObjective = (batch: TrainingBatch, context?: ObjectiveContext) => ObjectiveResult;

export function composeObjective(options: ComposeOptions): ComposedObjective {
  const policy = objectives.get(options.policy);
  const klCoef = options.kl?.coef ?? 0;
  const entropyCoef = options.entropy?.coef ?? 0;
  if (!Number.isFinite(klCoef) || klCoef < 0)
    throw new ConfigError("kl.coef", `expected a finite coefficient >= 0, got ${klCoef}`);
  if (!Number.isFinite(entropyCoef))
    throw new ConfigError("entropy.coef", `expected a finite coefficient, got ${entropyCoef}`);
  const estimator = assertKlEstimator(options.kl?.estimator ?? "k3");
  return (batch, context = {}) => {
    if (klCoef > 0 && !batch.refLogProbs) throw new ConfigError("kl", "kl.coef > 0 needs batch.refLogProbs");
    if (entropyCoef !== 0 && !batch.entropy) throw new ConfigError("entropy", "entropy.coef != 0 needs batch.entropy");
    const part = policy.compute(batch, options.policyOptions, context);
    const metrics: Record<string, Scalar> = { "policy/loss": part.loss };
    for (const [name, value] of Object.entries(part.metrics)) metrics[`policy/${name}`] = value;
    if (klCoef === 0 && entropyCoef === 0) return { loss: part.loss, metrics };
    const loss = tf.tidy(() => {
      let total: Scalar = part.loss;
      if (klCoef > 0) {
        const kl = klLoss(
          batch.logProbs!,
          batch.refLogProbs!,
          batch.responseMask,
          estimator,
          options.kl?.aggregation ?? "token-mean",
        );
        metrics["kl/value"] = tf.keep(kl);
        total = tf.add(total, tf.mul(kl, klCoef)) as Scalar;
      }
      if (entropyCoef !== 0) {
        const bonus = entropyBonusTerms(
          batch.entropy!,
          batch.responseMask,
          entropyCoef,
          options.entropy?.aggregation ?? "token-mean",
        );
        metrics["entropy/value"] = tf.keep(bonus.entropy);
        total = tf.add(total, bonus.loss) as Scalar;
      }
      return total;
    });
    return { loss, metrics };
  };
}
