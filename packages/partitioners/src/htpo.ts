import { tf, validateBatch } from "@tokenrl/core";
import type { Tensor1D, Tensor2D, TrainingBatch } from "@tokenrl/core";
import { definePartitioner, makePartition } from "./partition.js";
import { HTPO_CELL_NAMES, HTPO_PARTITION_CHECKS, HTPO_PARTITION_DEFAULTS } from "./htpo-cells.js";
import type { HtpoCell, HtpoPartition, HtpoPartitionOptions, HtpoRowRules, HtpoTokenCells } from "./htpo-cells.js";
import { htpoPartitionHost, htpoRowRules, htpoTokenCells } from "./htpo-host.js";
import { countAtRatio, pickPerRow, sortValidDescending } from "./rank.js";

/**
 * The HTPO token partition (arXiv 2605.08283, ALGORITHMS.md section 4): every
 * valid response token falls into one of 2 x 2 x 2 cells,
 *
 * 1. prompt difficulty, online: group accuracy `acc = correct / G` over the
 *    batch, hard iff `acc < difficultyThreshold` (0.6, the paper's tau_diff 0.4);
 * 2. answer correctness: the verifier's verdict `correct` `[B]`, not the reward;
 * 3. token entropy, split per response: `k = max(floor(highEntropyRatio n), 1)`
 *    of its n valid tokens, `tau` the k-th largest entropy, high = `H >= tau`
 *    (ties included), low = the rest;
 *
 * plus the two subsets the objective detaches:
 * - `detach-lowest` (inside hard-correct-low): the tokens of a response's low
 *   set strictly below its k1-th smallest entropy, `k1 = max(floor(detachLowRatio |low|), 1)`.
 *   The reference's strict `<` zeroes k1 - 1 tokens, none when |low| < 1/detachLowRatio
 *   (334 at 0.006); kept here so the numbers match.
 * - `detach-highest` (inside easy-correct-high): the top
 *   `k2 = max(floor(detachHighRatio |high|), 1)` entropies of a response's high set,
 *   ties at the k2-th value included.
 *
 * Entropy is read as given (detached): the partition never carries gradient.
 * The cells, their encoding and the options are in ./htpo-cells.ts.
 */

/** Per-response group accuracy `correct / G` over the batch (`G` = rows sharing the group id). */
export function groupAccuracy(correct: Tensor1D, groupIds: Tensor1D): Tensor1D {
  return tf.tidy(() => {
    const same = tf.cast(tf.equal(tf.reshape(groupIds, [-1, 1]), tf.reshape(groupIds, [1, -1])), "float32");
    const hits = tf.matMul(same, tf.reshape(tf.cast(correct, "float32"), [-1, 1]));
    return tf.reshape(tf.div(hits, tf.sum(same, 1, true)), [-1]) as Tensor1D;
  });
}

/** The tensor-op version (any backend, no host reads). */
export function htpoPartitionTensor(batch: TrainingBatch, o: HtpoPartitionOptions): HtpoPartition {
  const masks = tf.tidy(() => {
    const valid = tf.cast(tf.greater(batch.responseMask, 0), "float32") as Tensor2D;
    const entropy = batch.entropy!;
    const B = valid.shape[0];
    const col = (v: Tensor1D) => tf.reshape(v, [B, 1]);

    const hard = tf.cast(
      tf.less(groupAccuracy(batch.correct!, batch.groupIds!), o.difficultyThreshold),
      "float32",
    ) as Tensor1D;
    const verdicts = tf.cast(tf.greater(batch.correct!, 0), "float32") as Tensor1D;
    const correct =
      o.correctness === "verdict" ? verdicts : (tf.fill([B], o.correctness === "all-correct" ? 1 : 0) as Tensor1D);
    const easy = tf.sub(1, hard);
    const wrong = tf.sub(1, correct);

    // One descending sort per row answers every rank query below.
    const sorted = sortValidDescending(entropy, valid);
    const n = tf.sum(valid, 1);
    const tau = pickPerRow(sorted, tf.sub(tf.minimum(countAtRatio(n, o.highEntropyRatio), n), 1) as Tensor1D);
    const high = tf.mul(valid, tf.cast(tf.greaterEqual(entropy, tau), "float32"));
    const low = tf.sub(valid, high);

    // The high set is the prefix sorted[0 .. nHigh-1], the low set the rest sorted[nHigh .. n-1].
    const nHigh = tf.sum(high, 1);
    const k2 = countAtRatio(nHigh, o.detachHighRatio);
    const topHigh = pickPerRow(sorted, tf.sub(k2, 1) as Tensor1D);
    const k1 = countAtRatio(tf.sub(n, nHigh), o.detachLowRatio);
    const k1thSmallestLow = pickPerRow(sorted, tf.sub(n, k1) as Tensor1D);

    const hardCorrect = col(tf.mul(hard, correct) as Tensor1D);
    const easyCorrect = col(tf.mul(easy, correct) as Tensor1D);
    const hardWrong = col(tf.mul(hard, wrong) as Tensor1D);
    const easyWrong = col(tf.mul(easy, wrong) as Tensor1D);
    const cell = (row: tf.Tensor, tokens: tf.Tensor) => tf.mul(row, tokens) as Tensor2D;

    const result: Record<HtpoCell, Tensor2D> = {
      "hard-correct-low": cell(hardCorrect, low),
      "hard-correct-high": cell(hardCorrect, high),
      "easy-correct-low": cell(easyCorrect, low),
      "easy-correct-high": cell(easyCorrect, high),
      "hard-wrong-low": cell(hardWrong, low),
      "hard-wrong-high": cell(hardWrong, high),
      "easy-wrong-low": cell(easyWrong, low),
      "easy-wrong-high": cell(easyWrong, high),
      "detach-lowest": cell(hardCorrect, tf.mul(low, tf.cast(tf.less(entropy, k1thSmallestLow), "float32"))),
      "detach-highest": cell(easyCorrect, tf.mul(high, tf.cast(tf.greaterEqual(entropy, topHigh), "float32"))),
    };
    return result;
  });
  return makePartition("htpo", masks);
}

export const htpoPartitioner = definePartitioner<HtpoPartitionOptions, HtpoCell>({
  name: "htpo",
  description: "HTPO: difficulty (group accuracy) x verdict x per-response entropy split, plus the two detach subsets",
  requires: ["entropy", "correct", "groupIds"],
  defaults: HTPO_PARTITION_DEFAULTS,
  validate: HTPO_PARTITION_CHECKS,
  cells: HTPO_CELL_NAMES,
  tensor: htpoPartitionTensor,
  host: htpoPartitionHost,
});

/** Partitions a batch (needs responseMask, entropy, correct, groupIds) into the HTPO cells. */
export function htpoPartition(batch: TrainingBatch, options: Partial<HtpoPartitionOptions> = {}): HtpoPartition {
  return htpoPartitioner.partition(batch, options) as HtpoPartition;
}

function hostInputs(batch: TrainingBatch, options: Partial<HtpoPartitionOptions>): HtpoPartitionOptions {
  const o = htpoPartitioner.resolve(options);
  validateBatch(batch, htpoPartitioner.requires);
  return o;
}

/**
 * Each token's HTPO cell and the cell counts, computed on the host without
 * building the mask tensors. Host memory only: meant for the host kernel path.
 */
export function htpoCells(batch: TrainingBatch, options: Partial<HtpoPartitionOptions> = {}): HtpoTokenCells {
  return htpoTokenCells(batch, hostInputs(batch, options));
}

/**
 * The per-row thresholds that decide each token's HTPO cell (see
 * `HtpoRowRules`, `cellOfToken`), computed on the host: what the fused HTPO
 * loss applies inline. Host memory only: for the host kernel path.
 */
export function htpoRules(batch: TrainingBatch, options: Partial<HtpoPartitionOptions> = {}): HtpoRowRules {
  return htpoRowRules(batch, hostInputs(batch, options));
}
