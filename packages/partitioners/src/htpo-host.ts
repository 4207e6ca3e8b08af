import { hostView, tf } from "@tokenrl/core";
import type { HostArray, Scalar, Tensor2D, TrainingBatch } from "@tokenrl/core";
import {
  CELL_INDEX_BITS,
  DETACH_HIGHEST,
  DETACH_HIGHEST_BIT,
  DETACH_HIGHEST_INDEX,
  DETACH_LOWEST,
  DETACH_LOWEST_BIT,
  DETACH_LOWEST_INDEX,
  DETACH_NONE,
  HTPO_CELL_NAMES,
  NOT_A_TOKEN,
  cellOfToken,
  cellVerdict,
  htpoBaseCell,
} from "./htpo-cells.js";
import type { HtpoCell, HtpoPartition, HtpoPartitionOptions, HtpoRowRules, HtpoTokenCells } from "./htpo-cells.js";
import { select } from "./select.js";

/**
 * The HTPO partition rules per row, on the host (wasm / cpu backends): group
 * accuracy, then per response the entropy order statistics (selection, not a
 * sort), subset sizes in float64 as the reference computes them.
 */
export function htpoRowRules(batch: TrainingBatch, o: HtpoPartitionOptions): HtpoRowRules {
  const [B, T] = batch.responseMask.shape as [number, number];
  // What the rollout already has on the host (batch.host), else one read of each [B] tensor.
  const correct = batch.host?.correct ?? batch.correct!.dataSync();
  const groups = batch.host?.groupIds ?? batch.groupIds!.dataSync();
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
    const isCorrect = cellVerdict(o.correctness, correct[i]! > 0);
    rules.base[i] = htpoBaseCell(hard, isCorrect);
    rules.detach[i] = isCorrect ? (hard ? DETACH_LOWEST : DETACH_HIGHEST) : DETACH_NONE;
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
  const counts = new Float64Array(HTPO_CELL_NAMES.length);
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
    counts[code & CELL_INDEX_BITS]!++;
    if (code & DETACH_LOWEST_BIT) counts[DETACH_LOWEST_INDEX]!++;
    else if (code & DETACH_HIGHEST_BIT) counts[DETACH_HIGHEST_INDEX]!++;
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
    if (detach !== DETACH_NONE) {
      for (let j = 0; j < n; j++) if (row[j]! >= tau) nHigh++;
      if (detach === DETACH_HIGHEST) {
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
  const names = HTPO_CELL_NAMES;
  const values = names.map(() => new Float32Array(B * T));
  for (let j = 0; j < B * T; j++) {
    const code = cells[j]!;
    if (code === NOT_A_TOKEN) continue;
    values[code & CELL_INDEX_BITS]![j] = 1;
    if (code & DETACH_LOWEST_BIT) values[DETACH_LOWEST_INDEX]![j] = 1;
    else if (code & DETACH_HIGHEST_BIT) values[DETACH_HIGHEST_INDEX]![j] = 1;
  }
  const masks = {} as Record<HtpoCell, Tensor2D>;
  const countTensors = {} as Record<HtpoCell, Scalar>;
  names.forEach((name, index) => {
    masks[name] = tf.tensor2d(values[index]!, [B, T]);
    countTensors[name] = tf.scalar(counts[index]!);
  });
  return { partitioner: "htpo", masks, counts: countTensors, tokenCells: cells, rules };
}
