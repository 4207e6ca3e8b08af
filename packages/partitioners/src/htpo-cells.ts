import { oneOf } from "@tokenrl/core";
import type { OptionChecks } from "@tokenrl/core";
import type { Partition } from "./partition.js";
import { finiteNumber, ratio } from "./partition.js";

/**
 * The HTPO cells, their encoding and the partition's options: the leaf that
 * the tensor partition (./htpo.ts), the host partition (./htpo-host.ts) and
 * the fused HTPO loss kernel (@tokenrl/objectives) all read, so the cell
 * order and the code bits are written once.
 */

/** The eight disjoint cells (difficulty x verdict x entropy), in index order 0..7. */
export const HTPO_CELLS = [
  "hard-correct-low",
  "hard-correct-high",
  "easy-correct-low",
  "easy-correct-high",
  "hard-wrong-low",
  "hard-wrong-high",
  "easy-wrong-low",
  "easy-wrong-high",
] as const;
/** The two detach subsets (inside hard-correct-low and easy-correct-high), indices 8 and 9. */
export const HTPO_SUBSETS = ["detach-lowest", "detach-highest"] as const;
export type HtpoCell = (typeof HTPO_CELLS)[number] | (typeof HTPO_SUBSETS)[number];

/** Every cell then both subsets: the order of counts and per-cell statistics. */
export const HTPO_CELL_NAMES: readonly HtpoCell[] = [...HTPO_CELLS, ...HTPO_SUBSETS];
export const DETACH_LOWEST_INDEX = 8;
export const DETACH_HIGHEST_INDEX = 9;

/**
 * A cell's index is `verdict * 4 + difficulty * 2 + entropy` with 0 for
 * correct / hard / low and 1 for wrong / easy / high (see HTPO_CELLS). The
 * row's low-entropy cell, its `base`: 0 hard-correct, 2 easy-correct,
 * 4 hard-wrong, 6 easy-wrong; its high-entropy cell is `base + 1`.
 */
export function htpoBaseCell(hard: boolean, correct: boolean): number {
  return (correct ? 0 : 4) + (hard ? 0 : 2);
}
/** Row base of hard & correct responses, whose high-entropy tokens the objective encourages. */
export const HARD_CORRECT_BASE = 0;
/** Row bases >= this are wrong responses, whose high-entropy tokens the objective penalises. */
export const WRONG_BASE = 4;

/** Bits of a token code above the cell index (0..7); NOT_A_TOKEN marks tokens off the mask. */
export const DETACH_LOWEST_BIT = 16;
export const DETACH_HIGHEST_BIT = 32;
export const CELL_INDEX_BITS = 15;
export const NOT_A_TOKEN = 255;

/** Which detach subset a row's rules apply (`HtpoRowRules.detach`). */
export const DETACH_NONE = 0;
export const DETACH_LOWEST = 1;
export const DETACH_HIGHEST = 2;

/**
 * The partition's options (arXiv 2605.08283, ALGORITHMS.md section 4).
 */
export interface HtpoPartitionOptions {
  /** A prompt is hard when its group's accuracy is below this (paper: 1 - tau_diff = 0.6). */
  difficultyThreshold: number;
  /** Fraction of each response's valid tokens that count as high-entropy (0.2, the 80/20 split). */
  highEntropyRatio: number;
  /** Fraction of a hard-correct response's low set whose lowest entropies are detached (0.006). */
  detachLowRatio: number;
  /** Fraction of an easy-correct response's high set whose highest entropies are detached (0.02). */
  detachHighRatio: number;
  /**
   * The correctness axis of the cells: "verdict" (default, the paper) puts a response in the
   * correct or wrong cells by its verdict; "all-correct" / "all-wrong" put every response in
   * the correct / wrong cells (an ablation without that axis). Difficulty still uses the
   * verdicts: group accuracy is the difficulty axis.
   */
  correctness: HtpoCorrectness;
}

export const HTPO_CORRECTNESS = ["verdict", "all-correct", "all-wrong"] as const;
export type HtpoCorrectness = (typeof HTPO_CORRECTNESS)[number];

/** Whether a response counts as correct for its cells, given its verdict. */
export function cellVerdict(correctness: HtpoCorrectness, verdict: boolean): boolean {
  return correctness === "verdict" ? verdict : correctness === "all-correct";
}

export const HTPO_PARTITION_DEFAULTS: Readonly<HtpoPartitionOptions> = Object.freeze({
  difficultyThreshold: 0.6,
  highEntropyRatio: 0.2,
  detachLowRatio: 0.006,
  detachHighRatio: 0.02,
  correctness: "verdict",
});

export const HTPO_PARTITION_CHECKS: OptionChecks<HtpoPartitionOptions> = {
  difficultyThreshold: finiteNumber("a finite accuracy threshold"),
  highEntropyRatio: ratio(),
  detachLowRatio: ratio({ allowZero: true }),
  detachHighRatio: ratio({ allowZero: true }),
  correctness: oneOf(...HTPO_CORRECTNESS),
};

/**
 * The per-row thresholds that decide every token's HTPO cell from its
 * entropy h (valid tokens only):
 *
 *   cell = base[i] + (h >= tau[i] ? 1 : 0)
 *   + DETACH_LOWEST_BIT  if detach[i] = DETACH_LOWEST, h < tau[i] and h < lowest[i]
 *   + DETACH_HIGHEST_BIT if detach[i] = DETACH_HIGHEST, h >= tau[i] and h >= highest[i]
 *
 * `cellOfToken` applies them. A fused loss applies them inline instead of
 * reading a `[B, T]` cell array.
 */
export interface HtpoRowRules {
  B: number;
  T: number;
  /** Cell index of the row's low-entropy tokens (see `htpoBaseCell`). */
  base: Uint8Array;
  tau: Float64Array;
  /** Detach-lowest bound: the k1-th smallest low-entropy value (-Infinity when there is none; set where detach = 1). */
  lowest: Float64Array;
  /** Detach-highest bound: the k2-th largest value (set where detach = 2). */
  highest: Float64Array;
  /** DETACH_NONE, DETACH_LOWEST (hard & correct) or DETACH_HIGHEST (easy & correct). */
  detach: Uint8Array;
}

/** Each token's HTPO cell code (see `HtpoRowRules`) and the token count of every cell. */
export interface HtpoTokenCells {
  tokenCells: Uint8Array;
  /** Token counts in `HTPO_CELL_NAMES` order. */
  counts: Float64Array;
}

/**
 * An HTPO partition. On the host kernel path it also carries `tokenCells`,
 * each token's cell code (index in `HTPO_CELLS` order, + DETACH_LOWEST_BIT or
 * + DETACH_HIGHEST_BIT in a subset, NOT_A_TOKEN off the mask), and the
 * per-row `rules` they follow, which the fused HTPO loss applies instead of
 * reading the ten masks.
 */
export interface HtpoPartition extends Partition<HtpoCell> {
  readonly tokenCells?: Uint8Array;
  readonly rules?: HtpoRowRules;
}

/** The cell code of a valid token of row i with entropy h (see `HtpoRowRules`). */
export function cellOfToken(rules: HtpoRowRules, i: number, h: number): number {
  const tau = rules.tau[i]!;
  const high = h >= tau;
  const code = rules.base[i]! + (high ? 1 : 0);
  const detach = rules.detach[i]!;
  if (detach === DETACH_LOWEST && !high && h < rules.lowest[i]!) return code | DETACH_LOWEST_BIT;
  if (detach === DETACH_HIGHEST && high && h >= rules.highest[i]!) return code | DETACH_HIGHEST_BIT;
  return code;
}
