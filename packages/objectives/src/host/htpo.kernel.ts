import {
  DETACH_HIGHEST,
  DETACH_HIGHEST_INDEX,
  DETACH_LOWEST,
  DETACH_LOWEST_INDEX,
  HARD_CORRECT_BASE,
  HTPO_CELL_NAMES,
  WRONG_BASE,
} from "@tokenrl/partitioners";
import type { HtpoRowRules } from "@tokenrl/partitioners";
import { type HostArray, type KernelIO, type KernelOutput, meanOver } from "./loss.js";
import { clampLogRatio, clipBounds, clipRatio } from "./ratio.js";

/**
 * HTPO's per-cell objectives as one host pass. Each token's cell comes from
 * the partition's per-row rules (`HtpoRowRules`: a row is one of
 * hard/easy x correct/wrong, a token is high-entropy when h >= tau, and the
 * detach subsets are bounded by `lowest` / `highest`), applied inline instead
 * of reading ten masks or a cell array. Same table, sign convention and
 * tie-breaking as `HTPO_CELL_OBJECTIVES` (the op chain), checked against it by
 * the parity test.
 */
export interface HtpoKernelParams {
  clipLow: number;
  clipHigh: number;
  dualClip: number | null;
  /** +1 paper, -1 released. */
  sign: number;
}

/** Running sums of one call: totals [count, clipped, lower, kl]; per cell (HTPO_CELL_NAMES order) tokens, ratio and entropy sums. */
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
  rules: HtpoRowRules,
  p: HtpoKernelParams,
): KernelOutput {
  const { B, T, logProbs, mask, coef, grad } = io;
  const sums: Sums = {
    totals: new Float64Array(4),
    cellTokens: new Float64Array(HTPO_CELL_NAMES.length),
    cellRatio: new Float64Array(HTPO_CELL_NAMES.length),
    cellEntropy: new Float64Array(HTPO_CELL_NAMES.length),
  };
  const { lo, hi, dual } = clipBounds(p);
  let total = 0;
  // One call per row (see validSum in ./loss.ts for why the loop is not inline).
  for (let i = 0; i < B; i++) {
    total += htpoRow(
      logProbs,
      oldLogProbs,
      advantages,
      entropy,
      mask,
      grad,
      i * T,
      i * T + T,
      coef[i]!,
      rules.base[i]!,
      rules.tau[i]!,
      rules.detach[i]! === DETACH_LOWEST ? rules.lowest[i]! : Number.NEGATIVE_INFINITY,
      rules.detach[i]! === DETACH_HIGHEST ? rules.highest[i]! : Number.POSITIVE_INFINITY,
      lo,
      hi,
      dual,
      p.sign,
      sums,
    );
  }
  const { totals, cellTokens, cellRatio, cellEntropy } = sums;
  const metrics: Record<string, number> = {
    clipFraction: meanOver(totals[1]!, totals[0]!),
    clipFractionLower: meanOver(totals[2]!, totals[0]!),
    ppoKl: meanOver(totals[3]!, totals[0]!),
  };
  HTPO_CELL_NAMES.forEach((name, k) => {
    metrics[`cells/${name}/tokens`] = cellTokens[k]!;
    metrics[`cells/${name}/ratioMean`] = meanOver(cellRatio[k]!, cellTokens[k]!);
    metrics[`cells/${name}/entropyMean`] = meanOver(cellEntropy[k]!, cellTokens[k]!);
  });
  return { loss: total, metrics };
}

/**
 * One row: fills grad[start, end), adds its cell statistics, returns c * sum_t m L.
 * `base` is the row's low-entropy cell (`htpoBaseCell`: 0 hard-correct, 2 easy-correct,
 * 4 hard-wrong, 6 easy-wrong); the high-entropy cell is base + 1. A low token with h < lowest is in
 * detach-lowest, a high token with h >= highest in detach-highest (the caller passes
 * -Infinity / +Infinity where the row has no such subset).
 */
function htpoRow(
  logProbs: Float32Array,
  oldLogProbs: Float32Array,
  advantages: Float32Array,
  entropy: Float32Array,
  mask: HostArray,
  grad: Float32Array,
  start: number,
  end: number,
  c: number,
  base: number,
  tau: number,
  lowest: number,
  highest: number,
  lo: number,
  hi: number,
  dual: number,
  s: number,
  sums: Sums,
): number {
  const encourage = base === HARD_CORRECT_BASE; // hard-correct-high: encourage forking tokens
  const penalise = base >= WRONG_BASE; // wrong-high: penalise forking tokens
  let rowLoss = 0;
  let count = 0;
  let clipped = 0;
  let lower = 0;
  let kl = 0;
  // Cell statistics of the row: low cell, high cell, detach subset.
  let lowTokens = 0;
  let lowRatio = 0;
  let lowEntropy = 0;
  let highTokens = 0;
  let highRatio = 0;
  let highEntropy = 0;
  let subsetTokens = 0;
  let subsetRatio = 0;
  let subsetEntropy = 0;
  for (let j = start; j < end; j++) {
    const m = mask[j]!;
    if (!(m > 0)) continue;
    const h = entropy[j]!;
    const A = advantages[j]!;
    const x = logProbs[j]! - oldLogProbs[j]!;
    const lr = clampLogRatio(x);
    const r = Math.exp(lr);
    const dr = lr === x ? r : 0;
    const high = h >= tau;
    if (high) {
      highTokens++;
      highRatio += r;
      highEntropy += h;
    } else {
      lowTokens++;
      lowRatio += r;
      lowEntropy += h;
    }
    let L = 0;
    let dL = 0;
    if (high && encourage) {
      if (r > hi) {
        L = -s * hi * A;
        dL = L;
        clipped += m;
      } else if (r < lo) {
        L = -s * Math.exp(oldLogProbs[j]! - logProbs[j]!) * A;
        dL = L;
        clipped += m;
      } else {
        L = -A * r;
        dL = -A * dr;
      }
    } else if (high && penalise) {
      if (r < lo) {
        L = -s * lo * A;
        dL = L;
        clipped += m;
      } else {
        L = -A * r;
        dL = -A * dr;
      }
    } else {
      // The low cells and easy-correct-high: the PPO clipped surrogate, zero on the row's
      // detach subset (detach-highest among high tokens, detach-lowest among low ones).
      const l1 = -A * r;
      const l2 = -A * clipRatio(r, lo, hi);
      const ppoClipped = l2 > l1;
      if (ppoClipped) clipped += m;
      if (high ? h >= highest : h < lowest) {
        subsetTokens++;
        subsetRatio += r;
        subsetEntropy += h;
      } else if (ppoClipped) {
        L = l2;
        dL = r >= lo && r <= hi ? -A * dr : 0;
      } else {
        L = l1;
        dL = -A * dr;
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
  const { totals, cellTokens, cellRatio, cellEntropy } = sums;
  totals[0]! += count;
  totals[1]! += clipped;
  totals[2]! += lower;
  totals[3]! += kl;
  cellTokens[base]! += lowTokens;
  cellRatio[base]! += lowRatio;
  cellEntropy[base]! += lowEntropy;
  cellTokens[base + 1]! += highTokens;
  cellRatio[base + 1]! += highRatio;
  cellEntropy[base + 1]! += highEntropy;
  const subset = base === HARD_CORRECT_BASE ? DETACH_LOWEST_INDEX : DETACH_HIGHEST_INDEX;
  cellTokens[subset]! += subsetTokens;
  cellRatio[subset]! += subsetRatio;
  cellEntropy[subset]! += subsetEntropy;
  return c * rowLoss;
}
