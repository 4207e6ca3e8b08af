import { DETACH_HIGHEST_BIT, DETACH_LOWEST_BIT, HTPO_CELLS, HTPO_SUBSETS, NOT_A_TOKEN } from "@tokenrl/partitioners";
import type { HostArray, KernelIO, KernelOutput } from "./loss.js";

/**
 * HTPO's per-cell objectives as one host pass, reading each token's cell
 * from the partition (`tokenCells`). Same table, same sign convention and
 * same tie-breaking as `HTPO_CELL_OBJECTIVES` (the op chain), checked
 * against it by the parity test.
 */
export interface HtpoKernelParams {
  clipLow: number;
  clipHigh: number;
  dualClip: number | null;
  /** +1 paper, -1 released. */
  sign: number;
}

const CELL_NAMES = [...HTPO_CELLS, ...HTPO_SUBSETS];

/** Running sums of one call: [count, clipped, lower, kl], then per cell tokens, ratio sum, entropy sum. */
interface Sums {
  totals: Float64Array;
  cellTokens: Float64Array;
  cellRatio: Float64Array;
  cellEntropy: Float64Array;
}

export function htpoKernel(
  io: KernelIO,
  oldLogProbs: Float32Array,
  advantages: Float32Array,
  entropy: Float32Array,
  tokenCells: Uint8Array,
  p: HtpoKernelParams,
): KernelOutput {
  const { B, T, logProbs, mask, coef, grad } = io;
  const sums: Sums = {
    totals: new Float64Array(4),
    cellTokens: new Float64Array(10),
    cellRatio: new Float64Array(10),
    cellEntropy: new Float64Array(10),
  };
  const lo = 1 - p.clipLow;
  const hi = 1 + p.clipHigh;
  const dual = p.dualClip ?? Number.POSITIVE_INFINITY;
  let total = 0;
  // One call per row (see validSum in ./loss.ts for why the loop is not inline).
  for (let i = 0; i < B; i++) {
    total += htpoRow(logProbs, oldLogProbs, advantages, entropy, tokenCells, mask, grad, i * T, i * T + T, coef[i]!, lo, hi, dual, p.sign, sums);
  }
  const { totals, cellTokens, cellRatio, cellEntropy } = sums;
  const d = totals[0]! + 1e-8;
  const metrics: Record<string, number> = { clipFraction: totals[1]! / d, clipFractionLower: totals[2]! / d, ppoKl: totals[3]! / d };
  CELL_NAMES.forEach((name, k) => {
    metrics[`cells/${name}/tokens`] = cellTokens[k]!;
    metrics[`cells/${name}/ratioMean`] = cellRatio[k]! / (cellTokens[k]! + 1e-8);
    metrics[`cells/${name}/entropyMean`] = cellEntropy[k]! / (cellTokens[k]! + 1e-8);
  });
  return { loss: total, metrics };
}

/** One row: fills grad[start, end) and returns c * sum_t m L. */
function htpoRow(
  logProbs: Float32Array,
  oldLogProbs: Float32Array,
  advantages: Float32Array,
  entropy: Float32Array,
  tokenCells: Uint8Array,
  mask: HostArray,
  grad: Float32Array,
  start: number,
  end: number,
  c: number,
  lo: number,
  hi: number,
  dual: number,
  s: number,
  sums: Sums,
): number {
  const { cellTokens, cellRatio, cellEntropy } = sums;
  let rowLoss = 0;
  let count = 0;
  let clipped = 0;
  let lower = 0;
  let kl = 0;
  for (let j = start; j < end; j++) {
    const m = mask[j]!;
    if (!(m > 0)) continue;
    const code = tokenCells[j]!;
    const A = advantages[j]!;
    const x = logProbs[j]! - oldLogProbs[j]!;
    const lr = x < -20 ? -20 : x > 20 ? 20 : x;
    const r = Math.exp(lr);
    const dr = lr === x ? r : 0;
    let L = 0;
    let dL = 0;
    if (code !== NOT_A_TOKEN) {
      const cell = code & 15;
      // The PPO clipped surrogate (cells that keep it, and the clip count of the others).
      const l1 = -A * r;
      const l2 = -A * (r < lo ? lo : r > hi ? hi : r);
      const ppoClipped = l2 > l1;
      const ppo = ppoClipped ? l2 : l1;
      const dPpo = ppoClipped ? (r >= lo && r <= hi ? -A * dr : 0) : -A * dr;
      if (cell === 1) {
        // hard-correct-high: encourage forking tokens.
        if (r > hi) {
          L = -s * hi * A;
          dL = L;
        } else if (r < lo) {
          L = -s * Math.exp(oldLogProbs[j]! - logProbs[j]!) * A;
          dL = L;
        } else {
          L = l1;
          dL = -A * dr;
        }
        if (r > hi || r < lo) clipped += m;
      } else if (cell === 5 || cell === 7) {
        // wrong-high: penalise forking tokens.
        if (r < lo) {
          L = -s * lo * A;
          dL = L;
          clipped += m;
        } else {
          L = l1;
          dL = -A * dr;
        }
      } else {
        if ((code & (DETACH_LOWEST_BIT | DETACH_HIGHEST_BIT)) === 0) {
          L = ppo;
          dL = dPpo;
        }
        if (ppoClipped) clipped += m;
      }
      const h = entropy[j]!;
      cellTokens[cell]!++;
      cellRatio[cell]! += r;
      cellEntropy[cell]! += h;
      const subset = code & DETACH_LOWEST_BIT ? 8 : code & DETACH_HIGHEST_BIT ? 9 : -1;
      if (subset >= 0) {
        cellTokens[subset]!++;
        cellRatio[subset]! += r;
        cellEntropy[subset]! += h;
      }
    }
    if (A < 0) {
      const cap = -A * dual;
      if (L > cap) lower += m;
      if (cap <= L) {
        L = cap;
        dL = 0;
      }
    }
    rowLoss += m * L;
    grad[j] = c * m * dL;
    count += m;
    kl -= m * lr;
  }
  const { totals } = sums;
  totals[0]! += count;
  totals[1]! += clipped;
  totals[2]! += lower;
  totals[3]! += kl;
  return c * rowLoss;
}
