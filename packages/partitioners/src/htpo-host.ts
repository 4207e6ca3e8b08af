import { tf } from "@tokenrl/core";
import type { Scalar, Tensor2D, TrainingBatch } from "@tokenrl/core";
import type { HtpoCell, HtpoPartition, HtpoPartitionOptions } from "./htpo.js";
import { HTPO_CELLS, HTPO_SUBSETS } from "./htpo.js";

/** Bits of `HtpoPartition.tokenCells` above the cell index (0..7; 255 = not a valid token). */
export const DETACH_LOWEST_BIT = 16;
export const DETACH_HIGHEST_BIT = 32;
export const NOT_A_TOKEN = 255;

/**
 * The HTPO partition as a host loop (wasm / cpu backends): the same rules as
 * the tensor version, one sort per row, subset sizes in float64 as the
 * reference computes them. Also returns `tokenCells`, the cell of every token,
 * which the fused HTPO loss reads instead of ten masks.
 */
export function htpoPartitionHost(batch: TrainingBatch, o: HtpoPartitionOptions): HtpoPartition {
  const [B, T] = batch.responseMask.shape as [number, number];
  const mask = batch.responseMask.dataSync();
  const entropy = batch.entropy!.dataSync();
  const correct = batch.correct!.dataSync();
  const groups = batch.groupIds!.dataSync();

  // Difficulty: accuracy of each group over the batch.
  const hits = new Map<number, [number, number]>();
  for (let i = 0; i < B; i++) {
    const g = hits.get(groups[i]!) ?? [0, 0];
    g[0] += correct[i]! > 0 ? 1 : 0;
    g[1] += 1;
    hits.set(groups[i]!, g);
  }

  const cells = new Uint8Array(B * T).fill(NOT_A_TOKEN);
  const counts = new Float64Array(HTPO_CELLS.length + HTPO_SUBSETS.length);
  const row = new Float32Array(T);
  for (let i = 0; i < B; i++) {
    const [c, g] = hits.get(groups[i]!)!;
    const hard = Math.fround(c / g) < Math.fround(o.difficultyThreshold);
    const isCorrect = correct[i]! > 0;
    // Cell index = difficulty * 4 + verdict * 2 + entropy, matching HTPO_CELLS' order.
    const base = (hard ? 0 : 2) + (isCorrect ? 0 : 4);
    let n = 0;
    for (let t = 0; t < T; t++) if (mask[i * T + t]! > 0) row[n++] = entropy[i * T + t]!;
    if (n === 0) continue;
    const sorted = row.subarray(0, n).sort(); // ascending
    const k = Math.max(Math.floor(o.highEntropyRatio * n), 1);
    const tau = sorted[n - k]!;
    let nHigh = 0;
    for (let j = 0; j < n; j++) if (sorted[j]! >= tau) nHigh++;
    const nLow = n - nHigh;
    const k2 = Math.max(Math.floor(o.detachHighRatio * nHigh), 1);
    const topHigh = sorted[n - k2]!;
    const k1 = Math.max(Math.floor(o.detachLowRatio * nLow), 1);
    const k1thSmallestLow = nLow > 0 ? sorted[Math.min(k1, nLow) - 1]! : Number.NEGATIVE_INFINITY;
    const detachLow = hard && isCorrect;
    const detachHigh = !hard && isCorrect;
    for (let t = 0; t < T; t++) {
      const at = i * T + t;
      if (!(mask[at]! > 0)) continue;
      const h = entropy[at]!;
      const high = h >= tau;
      let code = base + (high ? 1 : 0);
      counts[code]!++;
      if (detachLow && !high && h < k1thSmallestLow) {
        code |= DETACH_LOWEST_BIT;
        counts[8]!++;
      } else if (detachHigh && high && h >= topHigh) {
        code |= DETACH_HIGHEST_BIT;
        counts[9]!++;
      }
      cells[at] = code;
    }
  }

  const names = [...HTPO_CELLS, ...HTPO_SUBSETS] as HtpoCell[];
  const masks = {} as Record<HtpoCell, Tensor2D>;
  const countTensors = {} as Record<HtpoCell, Scalar>;
  names.forEach((name, index) => {
    const values = new Float32Array(B * T);
    for (let j = 0; j < B * T; j++) {
      const code = cells[j]!;
      if (code === NOT_A_TOKEN) continue;
      const hit =
        index < 8 ? (code & 15) === index : index === 8 ? (code & DETACH_LOWEST_BIT) !== 0 : (code & DETACH_HIGHEST_BIT) !== 0;
      if (hit) values[j] = 1;
    }
    masks[name] = tf.tensor2d(values, [B, T]);
    countTensors[name] = tf.scalar(counts[index]!);
  });
  return { partitioner: "htpo", masks, counts: countTensors, tokenCells: cells };
}
