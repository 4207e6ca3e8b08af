import { aggregateLoss, maskedMean, oneOf, tf } from "@tokenrl/core";
import type { Scalar, Tensor, Tensor2D, TrainingBatch } from "@tokenrl/core";
import {
  HTPO_CELLS,
  HTPO_PARTITION_CHECKS,
  HTPO_PARTITION_DEFAULTS,
  disposePartition,
  htpoPartition,
  htpoRules,
} from "@tokenrl/partitioners";
import type { HtpoCell, HtpoPartition, HtpoPartitionOptions, HtpoRowRules, Partition } from "@tokenrl/partitioners";
import { PPO_CLIP_CHECKS } from "./config.js";
import { htpoKernel } from "./host/htpo.kernel.js";
import { hostData, hostLoss } from "./host/loss.js";
import { aggregateOptions, defineObjective, logProbsOf } from "./objective.js";
import type { AggregationOptions, ObjectiveContext, ObjectiveResult } from "./objective.js";
import { clampedLogRatio, clippedSurrogate, dualClip, iota, maskedFraction, ppoKl, stopGradient } from "./ops.js";

/**
 * HTPO, hierarchical token-level objective control (arXiv 2605.08283,
 * ALGORITHMS.md section 4). Two steps a reader can find by name:
 *
 * 1. partition: `htpoPartition` (@tokenrl/partitioners) puts every token in
 *    one of the 2 x 2 x 2 difficulty x verdict x entropy cells and marks the
 *    two detach subsets;
 * 2. per-cell objective: `HTPO_CELL_OBJECTIVES` below, one entry per cell,
 *    then dual clip for A < 0 and the aggregation (token-mean).
 *
 * `sign: "paper"` (default) gives the three out-of-clip branches the sign of
 * the paper's objective `J = (1 +/- eps) pi / sg(pi) A`; `sign: "released"`
 * negates them as the released reference code does (it lowers the
 * probability of the tokens it says it encourages). That sign is the only
 * difference between the two.
 */
export type HtpoSign = "paper" | "released";

export interface HtpoOptions extends HtpoPartitionOptions, AggregationOptions {
  /** eps_low (0.2, as DAPO). */
  clipLow: number;
  /** eps_high (0.28, DAPO's clip-higher). */
  clipHigh: number;
  /** Dual-clip constant for A < 0 (10, as the HTPO/DAPO recipe); null = off. */
  dualClip: number | null;
  /** "paper" (default) or "released" (the reference code's sign of the out-of-clip branches). */
  sign: HtpoSign;
}

export const HTPO_DEFAULTS: Readonly<HtpoOptions> = Object.freeze({
  ...HTPO_PARTITION_DEFAULTS,
  clipLow: 0.2,
  clipHigh: 0.28,
  dualClip: 10,
  sign: "paper",
  aggregation: "token-mean",
  lossScaleFactor: null,
});

/** Everything a cell's objective may use, per token `[B, T]`. */
export interface HtpoCellInputs {
  /** Clamped ratio r = exp(clamp(logp - oldLogp, -20, 20)). */
  ratio: Tensor;
  /** sg(r), for choosing branches (the choice carries no gradient). */
  ratioValue: Tensor;
  advantages: Tensor;
  /** PPO clipped surrogate max(-A r, -A clip(r)). */
  ppo: Tensor;
  /** exp(logp - sg(logp)): value 1, gradient d logp. */
  iota: Tensor;
  /** sg(1/r) computed as exp(oldLogp - logp) without the clamp, as the reference does. */
  inverseRatio: Tensor;
  /** +1 for sign "paper", -1 for "released": multiplies the out-of-clip branches. */
  sign: number;
  clipLow: number;
  clipHigh: number;
  partition: Partition<HtpoCell>;
}

const inside = (x: Tensor, low: number, high: number) => tf.logicalAnd(tf.greaterEqual(x, low), tf.lessEqual(x, high));

/** "keep the PPO loss but zero it on a detach subset": the subset gets no gradient at all. */
const ppoExcept = (subset: HtpoCell) => (c: HtpoCellInputs) => tf.mul(c.ppo, tf.sub(1, c.partition.masks[subset]));

/** hard & correct & high: encourage forking tokens (out-of-clip tokens keep a constant-weight gradient). */
function encourageForking(c: HtpoCellInputs): Tensor {
  const above = tf.mul(tf.mul(c.advantages, c.iota), -c.sign * (1 + c.clipHigh));
  const below = tf.mul(tf.neg(tf.mul(stopGradient(c.inverseRatio), c.advantages)), tf.mul(c.iota, c.sign));
  const surrogate = tf.mul(tf.neg(c.advantages), c.ratio);
  return tf.where(
    tf.greater(c.ratioValue, 1 + c.clipHigh),
    above,
    tf.where(tf.less(c.ratioValue, 1 - c.clipLow), below, surrogate),
  );
}

/** wrong & high: penalise forking tokens (no upper clip; below 1 - eps_low a constant-weight gradient). */
function penaliseForking(c: HtpoCellInputs): Tensor {
  const below = tf.mul(tf.mul(c.advantages, c.iota), -c.sign * (1 - c.clipLow));
  return tf.where(tf.less(c.ratioValue, 1 - c.clipLow), below, tf.mul(tf.neg(c.advantages), c.ratio));
}

/** The per-cell objectives (the table of ALGORITHMS.md section 4), before dual clip. */
export const HTPO_CELL_OBJECTIVES: Readonly<Record<(typeof HTPO_CELLS)[number], (c: HtpoCellInputs) => Tensor>> = {
  "hard-correct-low": ppoExcept("detach-lowest"),
  "hard-correct-high": encourageForking,
  "easy-correct-low": (c) => c.ppo,
  "easy-correct-high": ppoExcept("detach-highest"),
  "hard-wrong-low": (c) => c.ppo,
  "hard-wrong-high": penaliseForking,
  "easy-wrong-low": (c) => c.ppo,
  "easy-wrong-high": penaliseForking,
};

export function partitionOptionsOf(o: HtpoOptions): HtpoPartitionOptions {
  return {
    difficultyThreshold: o.difficultyThreshold,
    highEntropyRatio: o.highEntropyRatio,
    detachLowRatio: o.detachLowRatio,
    detachHighRatio: o.detachHighRatio,
    correctness: o.correctness,
  };
}

/**
 * Per-cell metrics: `cells/<cell>/tokens`, `cells/<cell>/ratioMean`,
 * `cells/<cell>/entropyMean` for the eight cells and the two detach subsets.
 */
function cellMetrics(partition: Partition<HtpoCell>, ratio: Tensor, entropy: Tensor): Record<string, Scalar> {
  const metrics: Record<string, Scalar> = {};
  for (const name of Object.keys(partition.masks) as HtpoCell[]) {
    const mask = partition.masks[name];
    metrics[`cells/${name}/tokens`] = tf.clone(partition.counts[name]);
    metrics[`cells/${name}/ratioMean`] = maskedMean(ratio, mask) as Scalar;
    metrics[`cells/${name}/entropyMean`] = maskedMean(entropy, mask) as Scalar;
  }
  return metrics;
}

/**
 * The op chain: the partition (a given one, else computed here with the
 * tensor partitioner), then the per-cell table, dual clip and aggregation.
 */
function htpoOpChain(batch: TrainingBatch, o: HtpoOptions, context: ObjectiveContext): ObjectiveResult {
  const own = context.partition ? undefined : htpoPartition(batch, partitionOptionsOf(o));
  const partition = (context.partition ?? own) as HtpoPartition;
  try {
    return tf.tidy(() => {
      const mask = batch.responseMask;
      const logProbs = logProbsOf(batch, "htpo");
      const A = batch.advantages!;
      const logRatio = clampedLogRatio(logProbs, batch.oldLogProbs!);
      const ratio = tf.exp(logRatio);
      const ratioValue = stopGradient(ratio);
      const surrogate = clippedSurrogate(ratio, A, o.clipLow, o.clipHigh);
      const inputs: HtpoCellInputs = {
        ratio,
        ratioValue,
        advantages: A,
        ppo: surrogate.loss,
        iota: iota(logProbs),
        // Only read where r < 1 - eps_low; elsewhere 1, so an overflow there cannot turn a zero gradient into NaN.
        inverseRatio: tf.where(
          tf.less(ratioValue, 1 - o.clipLow),
          tf.exp(tf.sub(batch.oldLogProbs!, logProbs)),
          tf.onesLike(ratio),
        ),
        sign: o.sign === "paper" ? 1 : -1,
        clipLow: o.clipLow,
        clipHigh: o.clipHigh,
        partition,
      };
      let perToken: Tensor = tf.zerosLike(ratio);
      for (const cell of HTPO_CELLS) {
        // where, not multiply: a cell's objective may be non-finite on tokens outside it (1/r overflow).
        perToken = tf.where(tf.greater(partition.masks[cell], 0), HTPO_CELL_OBJECTIVES[cell](inputs), perToken);
      }
      const capped = dualClip(perToken, A, o.dualClip);

      // clipFraction as the reference counts it: low-entropy tokens where the PPO clip is taken,
      // plus high-entropy tokens in an out-of-clip branch, over all valid tokens.
      const m = partition.masks;
      const lowCells = tf.addN([
        m["hard-correct-low"],
        m["easy-correct-low"],
        m["hard-wrong-low"],
        m["easy-wrong-low"],
      ]);
      const wrongHigh = tf.add(m["hard-wrong-high"], m["easy-wrong-high"]);
      const clippedTokens = tf.addN([
        tf.mul(lowCells, tf.cast(surrogate.clipped, "float32")),
        tf.mul(m["easy-correct-high"], tf.cast(surrogate.clipped, "float32")),
        tf.mul(m["hard-correct-high"], tf.sub(1, tf.cast(inside(ratio, 1 - o.clipLow, 1 + o.clipHigh), "float32"))),
        tf.mul(wrongHigh, tf.cast(tf.less(ratio, 1 - o.clipLow), "float32")),
      ]);
      return {
        loss: aggregateLoss(capped.loss as Tensor2D, mask, o.aggregation, aggregateOptions(o, context)),
        metrics: {
          clipFraction: maskedMean(clippedTokens, mask) as Scalar,
          clipFractionLower: maskedFraction(capped.lower, mask),
          ppoKl: ppoKl(logRatio, mask),
          ...cellMetrics(partition, ratio, batch.entropy!),
        },
      };
    });
  } finally {
    if (own) disposePartition(own);
  }
}

/**
 * The fused host kernel (wasm / cpu): the same cell table in one pass over the
 * tokens, applying the per-row partition rules inline: a given host
 * partition's, or else rules computed here (no cell array, no mask tensors).
 * A given partition without rules (a tensor partition) takes the op chain.
 */
function htpoHost(batch: TrainingBatch, o: HtpoOptions, context: ObjectiveContext): ObjectiveResult | undefined {
  const given = (context.partition as HtpoPartition | undefined)?.rules;
  if (context.partition && !given) return undefined;
  const rules: HtpoRowRules = given ?? htpoRules(batch, partitionOptionsOf(o));
  return hostLoss(logProbsOf(batch, "htpo"), batch.responseMask, o.aggregation, aggregateOptions(o, context), (io) =>
    htpoKernel(io, hostData(batch.oldLogProbs!), hostData(batch.advantages!), hostData(batch.entropy!), rules, {
      clipLow: o.clipLow,
      clipHigh: o.clipHigh,
      dualClip: o.dualClip,
      sign: o.sign === "paper" ? 1 : -1,
    }),
  );
}

export const htpo = defineObjective<HtpoOptions>({
  name: "htpo",
  description:
    "HTPO: HTPO partition (difficulty x verdict x entropy), then a per-cell objective, dual clip, token-mean",
  requires: ["logProbs", "oldLogProbs", "advantages", "entropy", "correct", "groupIds"],
  defaults: HTPO_DEFAULTS,
  validate: { ...HTPO_PARTITION_CHECKS, ...PPO_CLIP_CHECKS, sign: oneOf("paper", "released") },
  opChain: htpoOpChain,
  hostKernel: htpoHost,
});

/** `htpo.compute`: resolves the options, validates the batch, runs the implementation of the kernel path. */
export const htpoLoss = htpo.compute;
