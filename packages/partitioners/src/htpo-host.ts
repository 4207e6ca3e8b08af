import { tf } from "@tokenrl/core";
import type { Scalar, Tensor2D, TrainingBatch } from "@tokenrl/core";
import type { HtpoCell, HtpoPartition, HtpoPartitionOptions } from "./htpo.js";
import { HTPO_CELLS, HTPO_SUBSETS } from "./htpo.js";
import { hostView } from "./host.js";
import type { HostArray } from "./host.js";
import { select } from "./select.js";

/** Bits of `HtpoPartition.tokenCells` above the cell index (0..7; 255 = not a valid token). */
export const DETACH_LOWEST_BIT = 16;
export const DETACH_HIGHEST_BIT = 32;
export const NOT_A_TOKEN = 255;

/** Each token's HTPO cell (`tokenCells`, see `HtpoPartition`) and the token count of every cell. */
export interface HtpoTokenCells {
  tokenCells: Uint8Array;
  /** Token counts in `[...HTPO_CELLS, ...HTPO_SUBSETS]` order. */
  counts: Float64Array;
}

/**
 * The per-row thresholds that decide every token's HTPO cell from its
 * entropy h (valid tokens only):
 *
 *   cell = base[i] + (h >= tau[i] ? 1 : 0)
 *   + DETACH_LOWEST_BIT  if detach[i] = 1, h < tau[i] and h < lowest[i]
 *   + DETACH_HIGHEST_BIT if detach[i] = 2, h >= tau[i] and h >= highest[i]
 *
 * `cellOfToken` applies them. A fused loss applies them inline instead of
 * reading a `[B, T]` cell array.
 */
export interface HtpoRowRules {
  B: number;
  T: number;
  /** Cell index of the row's low-entropy tokens (difficulty * 2 + verdict * 4; see HTPO_CELLS). */
  base: Uint8Array;
  tau: Float64Array;
  /** Detach-lowest bound: the k1-th smallest low-entropy value (-Infinity when there is none; set where detach = 1). */
  lowest: Float64Array;
  /** Detach-highest bound: the k2-th largest value (set where detach = 2). */
  highest: Float64Array;
  /** 0 none, 1 detach-lowest applies (hard & correct), 2 detach-highest applies (easy & correct). */
  detach: Uint8Array;
}

/** The cell code of a valid token of row i with entropy h (see `HtpoRowRules`). */
export function cellOfToken(rules: HtpoRowRules, i: number, h: number): number {
  const tau = rules.tau[i]!;
  const high = h >= tau;
  const code = rules.base[i]! + (high ? 1 : 0);
  const detach = rules.detach[i]!;
  if (detach === 1 && !high && h < rules.lowest[i]!) return code | DETACH_LOWEST_BIT;
  if (detach === 2 && high && h >= rules.highest[i]!) return code | DETACH_HIGHEST_BIT;
  return code;
}

/**
 * The HTPO partition rules per row, on the host (wasm / cpu backends): group
 * accuracy, then per response the entropy order statistics (selection, not a
 * sort), subset sizes in float64 as the reference computes them.
 */
export function htpoRowRules(batch: TrainingBatch, o: HtpoPartitionOptions): HtpoRowRules {
  const [B, T] = batch.responseMask.shape as [number, number];
  const correct = batch.correct!.dataSync();
  const groups = batch.groupIds!.dataSync();
  // Views, not copies (see hostView); nothing below allocates a tensor.
  const mask = hostView(batch.responseMask);
  const entropy = hostView(batch.entropy!);

  // Difficulty: accuracy of each group over the batch.
  const hits = new Map<number, [number, number]>();
  for (let i = 0; i < B; i++) {
    const g = hits.get(groups[i]!) ?? [0, 0];
    g[0] += correct[i]! > 0 ? 1 : 0;
    g[1] += 1;
    hits.set(groups[i]!, g);
  }

  const rules: HtpoRowRules = {
    B,
    T,
    base: new Uint8Array(B),
    tau: new Float64Array(B),
    lowest: new Float64Array(B),
    highest: new Float64Array(B),
    detach: new Uint8Array(B),
  };
  // float64 scratch: entropies are float32, so the copy is exact (see select).
  const row = new Float64Array(T);
  const threshold = Math.fround(o.difficultyThreshold);
  for (let i = 0; i < B; i++) {
    const [c, g] = hits.get(groups[i]!)!;
    const hard = Math.fround(c / g) < threshold;
    const isCorrect = correct[i]! > 0;
    // Cell index = difficulty * 4 + verdict * 2 + entropy, matching HTPO_CELLS' order.
    rules.base[i] = (hard ? 0 : 2) + (isCorrect ? 0 : 4);
    rules.detach[i] = isCorrect ? (hard ? 1 : 2) : 0;
    rowThresholds(mask, entropy, row, i * T, T, o, rules, i);
  }
  return rules;
}

/** Each token's cell code (NOT_A_TOKEN outside the mask) and the cell counts. */
export function htpoTokenCells(batch: TrainingBatch, o: HtpoPartitionOptions): HtpoTokenCells {
  return cellsFromRules(batch, htpoRowRules(batch, o));
}

function cellsFromRules(batch: TrainingBatch, rules: HtpoRowRules): HtpoTokenCells {
  const { B, T } = rules;
  const mask = hostView(batch.responseMask);
  const entropy = hostView(batch.entropy!);
  const cells = new Uint8Array(B * T).fill(NOT_A_TOKEN);
  const counts = new Float64Array(HTPO_CELLS.length + HTPO_SUBSETS.length);
  for (let i = 0; i < B; i++) cellsOfRow(mask, entropy, cells, counts, rules, i);
  return { tokenCells: cells, counts };
}

function cellsOfRow(
  mask: HostArray,
  entropy: HostArray,
  cells: Uint8Array,
  counts: Float64Array,
  rules: HtpoRowRules,
  i: number,
): void {
  for (let j = i * rules.T, end = j + rules.T; j < end; j++) {
    if (!(mask[j]! > 0)) continue;
    const code = cellOfToken(rules, i, entropy[j]!);
    counts[code & 15]!++;
    if (code & DETACH_LOWEST_BIT) counts[8]!++;
    else if (code & DETACH_HIGHEST_BIT) counts[9]!++;
    cells[j] = code;
  }
}

/**
 * One row's thresholds. A function of its own, called per row, so V8
 * optimises it whole instead of on-stack-replacing a loop inside a long function.
 */
function rowThresholds(
  mask: HostArray,
  entropy: HostArray,
  row: Float64Array,
  start: number,
  T: number,
  o: HtpoPartitionOptions,
  rules: HtpoRowRules,
  i: number,
): void {
  const end = start + T;
  let n = 0;
  let nan = false;
  for (let j = start; j < end; j++) {
    if (mask[j]! > 0) {
      const h = entropy[j]!;
      if (Number.isNaN(h)) nan = true;
      row[n++] = h;
    }
  }
  if (n === 0) return;
  // The order statistics the rules need: tau (the k-th largest), the k2-th largest and the
  // k1-th smallest low value. Selection (O(n)) gives the same values a full sort would; a NaN
  // (sorted last by TypedArray sort) takes the sort path so the values stay those of the sort.
  const k = Math.max(Math.floor(o.highEntropyRatio * n), 1);
  let tau: number;
  let nHigh = 0;
  let topHigh = Number.POSITIVE_INFINITY;
  let k1thSmallestLow = Number.NEGATIVE_INFINITY;
  if (nan) {
    const sorted = row.subarray(0, n).sort(); // ascending
    tau = sorted[n - k]!;
    for (let j = 0; j < n; j++) if (sorted[j]! >= tau) nHigh++;
    topHigh = sorted[n - Math.max(Math.floor(o.detachHighRatio * nHigh), 1)]!;
    const nLow = n - nHigh;
    if (nLow > 0) k1thSmallestLow = sorted[Math.min(Math.max(Math.floor(o.detachLowRatio * nLow), 1), nLow) - 1]!;
  } else {
    // After select(row, n - k, ...): row[0, n-k) <= tau <= row(n-k, n).
    tau = select(row, n - k, 0, n - 1);
    // A row needs at most one detach bound: detach-highest for easy & correct rows,
    // detach-lowest for hard & correct ones; wrong rows need neither.
    const detach = rules.detach[i]!;
    if (detach !== 0) {
      for (let j = 0; j < n; j++) if (row[j]! >= tau) nHigh++;
      if (detach === 2) {
        const k2 = Math.max(Math.floor(o.detachHighRatio * nHigh), 1);
        // Sorted positions [n - nHigh, n - k] all hold tau; above n - k, select in the upper part.
        topHigh = k2 >= k ? tau : select(row, n - k2, n - k + 1, n - 1);
      } else {
        const nLow = n - nHigh;
        // nLow <= n - k, so the k1-th smallest lies in the lower part.
        if (nLow > 0) {
          const k1 = Math.min(Math.max(Math.floor(o.detachLowRatio * nLow), 1), nLow);
          k1thSmallestLow = select(row, k1 - 1, 0, n - k - 1);
        }
      }
    }
  }
  rules.tau[i] = tau;
  rules.highest[i] = topHigh;
  rules.lowest[i] = k1thSmallestLow;
}

/**
 * The HTPO partition as a host loop (wasm / cpu backends): the same rules as
 * the tensor version (`htpoTokenCells`), plus the ten mask tensors built in
 * one pass over the cells. Also returns `tokenCells` and the per-row `rules`
 * (which the fused HTPO loss applies instead of reading the masks).
 */
export function htpoPartitionHost(batch: TrainingBatch, o: HtpoPartitionOptions): HtpoPartition {
  const [B, T] = batch.responseMask.shape as [number, number];
  const rules = htpoRowRules(batch, o);
  const { tokenCells: cells, counts } = cellsFromRules(batch, rules);
  const names = [...HTPO_CELLS, ...HTPO_SUBSETS] as HtpoCell[];
  const values = names.map(() => new Float32Array(B * T));
  for (let j = 0; j < B * T; j++) {
    const code = cells[j]!;
    if (code === NOT_A_TOKEN) continue;
    values[code & 15]![j] = 1;
    if (code & DETACH_LOWEST_BIT) values[8]![j] = 1;
    else if (code & DETACH_HIGHEST_BIT) values[9]![j] = 1;
  }
  const masks = {} as Record<HtpoCell, Tensor2D>;
  const countTensors = {} as Record<HtpoCell, Scalar>;
  names.forEach((name, index) => {
    masks[name] = tf.tensor2d(values[index]!, [B, T]);
    countTensors[name] = tf.scalar(counts[index]!);
  });
  return { partitioner: "htpo", masks, counts: countTensors, tokenCells: cells, rules };
}
