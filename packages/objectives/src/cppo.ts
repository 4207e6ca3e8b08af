import { aggregateLoss, applyMask, isBoolean, maskedMean, numberIn, show, tf } from "@tokenrl/core";
import type { Scalar, Tensor1D, Tensor2D, TrainingBatch } from "@tokenrl/core";
import { pickPerRow, sortValidDescending } from "@tokenrl/partitioners";
import { AGGREGATION_CHECKS, positive } from "./config.js";
import { cppoKernel } from "./host/cppo.kernel.js";
import { hostData, hostLoss } from "./host/loss.js";
import { aggregateOptions, defineObjective, logProbsOf } from "./objective.js";
import type { AggregationOptions, ObjectiveContext, ObjectiveResult } from "./objective.js";
import { clampedLogRatio, maskedFraction, maskedMax, stopGradient } from "./ops.js";

/**
 * CPPO, cumulative prefix-divergence policy optimisation ("Beyond Uniform
 * Token-Level Trust Region in LLM Reinforcement Learning", arXiv 2606.10968;
 * reference: UniRL `cppo.CPPO`). A keep-mask on the plain ratio surrogate
 * against the rollout policy mu, built without gradient:
 *
 *   D_t = |pi(y_t) - mu(y_t)|,  w_t = 1 - (1 - wMin)(t - 1)/(n - 1)  (n = the response's length)
 *   Z_t = w_t D_t,  S_{t-1} = sum_{j<t} Z_j,  W_{t-1} = sum_{j<t} w_j
 *   c_t = min(delta, delta + budget W_{t-1} - S_{t-1})
 *   keep_t = A_t (r_t - 1) <= 0  or  Z_t <= c_t
 *   loss = aggregate(-keep_t r_t A_t)
 *
 * S accumulates over every token, kept or not, so an early drift uses up the
 * budget of everything after it; the budget is earned back at `budget` per
 * unit of position weight. Dynamic budget per response:
 * `clamp(P90(D), budgetFloor, 2 budgetFloor)` (torch.quantile, linear).
 * Positions count only valid tokens (exact for right-padded rows; the
 * reference packs sequences and does not define holes).
 */
export interface CppoOptions extends AggregationOptions {
  /** Per-token divergence allowance (0.15; 0.20 for large MoE models). */
  delta: number;
  /** Position weight at the last token; the first has weight 1 (0.8). */
  wMin: number;
  /** Budget earned per unit of position weight, and the floor of the dynamic budget (0.02). */
  budgetFloor: number;
  /** Per-response budget clamp(P90(D), floor, 2 floor) (true), or the floor alone (false). */
  dynamicBudget: boolean;
}

export const CPPO_DEFAULTS: Readonly<CppoOptions> = Object.freeze({
  delta: 0.15,
  wMin: 0.8,
  budgetFloor: 0.02,
  dynamicBudget: true,
  aggregation: "seq-mean-token-sum-norm",
  lossScaleFactor: null,
});

/** Per-row 90th percentile of `values` over valid entries, linear interpolation (torch.quantile). */
function p90(values: Tensor2D, valid: Tensor2D): Tensor2D {
  return tf.tidy(() => {
    const sorted = sortValidDescending(values, valid); // descending: ascending rank j sits at n-1-j
    const n = tf.sum(valid, 1);
    const position = tf.mul(tf.maximum(tf.sub(n, 1), 0), 0.9);
    const lo = tf.floor(position);
    const hi = tf.ceil(position);
    const atLo = pickPerRow(sorted, tf.sub(tf.sub(n, 1), lo) as Tensor1D);
    const atHi = pickPerRow(sorted, tf.sub(tf.sub(n, 1), hi) as Tensor1D);
    const frac = tf.reshape(tf.sub(position, lo), [-1, 1]);
    const q = tf.add(atLo, tf.mul(frac, tf.sub(atHi, atLo)));
    return tf.where(tf.isFinite(q), q, tf.zerosLike(q)) as Tensor2D;
  });
}

/** The CPPO keep-mask `[B, T]` (float 0/1, no gradient) for the given log-probs. */
export function cppoKeepMask(
  logProbs: Tensor2D,
  rolloutLogProbs: Tensor2D,
  advantages: Tensor2D,
  responseMask: Tensor2D,
  options: Partial<CppoOptions> = {},
): Tensor2D {
  const o = cppo.resolve(options);
  return tf.tidy(() => {
    const valid = tf.cast(tf.greater(responseMask, 0), "float32") as Tensor2D;
    const D = applyMask(tf.abs(tf.sub(tf.exp(logProbs), tf.exp(rolloutLogProbs))), valid) as Tensor2D;
    const n = tf.sum(valid, 1, true);
    const position = tf.sub(tf.cumsum(valid, 1), 1); // t - 1 among valid tokens
    const w = tf.mul(tf.sub(1, tf.mul(1 - o.wMin, tf.div(position, tf.maximum(tf.sub(n, 1), 1)))), valid);
    const Z = tf.mul(w, D);
    const Sprev = tf.cumsum(Z, 1, true);
    const Wprev = tf.cumsum(w, 1, true);
    const budget = o.dynamicBudget
      ? tf.clipByValue(p90(D, valid), o.budgetFloor, 2 * o.budgetFloor)
      : tf.fill([valid.shape[0], 1], o.budgetFloor);
    const cap = tf.minimum(o.delta, tf.sub(tf.add(o.delta, tf.mul(budget, Wprev)), Sprev));
    const ratio = tf.exp(clampedLogRatio(logProbs, rolloutLogProbs));
    const agrees = tf.lessEqual(tf.mul(advantages, tf.sub(ratio, 1)), 0);
    return tf.cast(tf.logicalOr(agrees, tf.lessEqual(Z, cap)), "float32") as Tensor2D;
  });
}

/** The op chain (any backend; autograd gives the gradient). */
function cppoOpChain(batch: TrainingBatch, o: CppoOptions, context: ObjectiveContext): ObjectiveResult {
  return tf.tidy(() => {
    const mask = batch.responseMask;
    const logProbs = logProbsOf(batch, "cppo");
    const A = batch.advantages!;
    // No gradient reaches the mask (UniRL builds it under no_grad).
    const keep = cppoKeepMask(stopGradient(logProbs) as Tensor2D, batch.rolloutLogProbs!, A, mask, o);
    const ratio = tf.exp(clampedLogRatio(logProbs, batch.rolloutLogProbs!));
    const loss = tf.neg(tf.mul(tf.mul(keep, ratio), A));
    return {
      loss: aggregateLoss(loss, mask, o.aggregation, aggregateOptions(o, context)),
      metrics: {
        maskedFraction: maskedFraction(tf.equal(keep, 0), mask),
        ratioMean: maskedMean(ratio, mask) as Scalar,
        ratioMax: maskedMax(ratio, mask),
      },
    };
  });
}

export const cppo = defineObjective<CppoOptions>({
  name: "cppo",
  description:
    "CPPO: ratio surrogate with a position-weighted, prefix-cumulative divergence keep-mask vs the rollout policy",
  requires: ["logProbs", "rolloutLogProbs", "advantages"],
  defaults: CPPO_DEFAULTS,
  validate: {
    delta: positive,
    wMin: (v) => (numberIn(0, 1)(v) ? `expected a weight in [0, 1], got ${show(v)}` : undefined),
    budgetFloor: (v) =>
      typeof v === "number" && Number.isFinite(v) && v >= 0
        ? undefined
        : `expected a finite budget >= 0, got ${show(v)}`,
    dynamicBudget: isBoolean,
    ...AGGREGATION_CHECKS,
  },
  opChain: cppoOpChain,
  hostKernel: (batch, o, context) =>
    hostLoss(logProbsOf(batch, "cppo"), batch.responseMask, o.aggregation, aggregateOptions(o, context), (io) =>
      cppoKernel(io, hostData(batch.rolloutLogProbs!), hostData(batch.advantages!), o),
    ),
});

/** `cppo.compute`: resolves the options, validates the batch, runs the implementation of the kernel path. */
export const cppoLoss = cppo.compute;
