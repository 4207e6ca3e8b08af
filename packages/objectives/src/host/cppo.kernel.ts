import { select } from "@tokenrl/partitioners";
import { type HostArray, type KernelIO, type KernelOutput, meanOver } from "./loss.js";
import { clampLogRatio } from "./ratio.js";

/** CPPO's keep-mask and ratio surrogate as one host pass per response (see ../cppo.ts for the formulas). */
export interface CppoKernelParams {
  delta: number;
  wMin: number;
  budgetFloor: number;
  dynamicBudget: boolean;
}

/**
 * torch.quantile(q, interpolation="linear") of the first n entries (reordered
 * in place). Selection instead of a sort: the two order statistics it needs,
 * the same values; entries with a NaN take the sort (which puts NaN last).
 */
function quantile(values: Float64Array, n: number, q: number, hasNaN: boolean): number {
  const position = q * (n - 1);
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  if (hasNaN) {
    const sorted = values.subarray(0, n).sort();
    return sorted[lo]! + (position - lo) * (sorted[hi]! - sorted[lo]!);
  }
  const atLo = select(values, lo, 0, n - 1);
  // After the selection everything above lo is >= atLo: the next order statistic is their minimum.
  let atHi = atLo;
  if (hi > lo) {
    atHi = values[lo + 1]!;
    for (let j = lo + 2; j < n; j++) if (values[j]! < atHi) atHi = values[j]!;
  }
  return atLo + (position - lo) * (atHi - atLo);
}

export function cppoKernel(
  io: KernelIO,
  rolloutLogProbs: Float32Array,
  advantages: Float32Array,
  p: CppoKernelParams,
): KernelOutput {
  const { B, T, logProbs, mask, coef, grad } = io;
  const D = new Float64Array(T);
  const scratch = new Float64Array(T);
  const R = new Float64Array(T);
  // [count, dropped, ratioSum, ratioMax]
  const sums = new Float64Array([0, 0, 0, Number.NEGATIVE_INFINITY]);
  let total = 0;
  // One call per row (see validSum in ./loss.ts for why the loop is not inline).
  for (let i = 0; i < B; i++)
    total += cppoRow(logProbs, rolloutLogProbs, advantages, mask, grad, i * T, T, coef[i]!, p, D, scratch, R, sums);
  const ratioMax = sums[3]!;
  return {
    loss: total,
    metrics: {
      maskedFraction: meanOver(sums[1]!, sums[0]!),
      ratioMean: meanOver(sums[2]!, sums[0]!),
      ratioMax: Number.isFinite(ratioMax) ? ratioMax : 0,
    },
  };
}

/** One response: fills grad[row, row + T) and returns c * sum_t m L. */
function cppoRow(
  logProbs: Float32Array,
  rolloutLogProbs: Float32Array,
  advantages: Float32Array,
  mask: HostArray,
  grad: Float32Array,
  row: number,
  T: number,
  c: number,
  p: CppoKernelParams,
  D: Float64Array,
  scratch: Float64Array,
  R: Float64Array,
  sums: Float64Array,
): number {
  let n = 0;
  let hasNaN = false;
  for (let t = 0; t < T; t++) {
    const j = row + t;
    if (!(mask[j]! > 0)) continue;
    const lp = logProbs[j]!;
    const mu = rolloutLogProbs[j]!;
    const piProb = Math.exp(lp);
    const muProb = Math.exp(mu);
    const d = Math.abs(piProb - muProb);
    if (Number.isNaN(d)) hasNaN = true;
    D[n] = d;
    scratch[n] = d;
    // The ratio exp(lp - mu) as piProb / muProb: one exp fewer per token, within a few
    // float64 ulp of Math.exp while the [-20, 20] clamp is inactive and both are normal numbers.
    const x = lp - mu;
    R[n] = x >= -20 && x <= 20 && piProb >= 1e-300 && muProb >= 1e-300 ? piProb / muProb : Math.exp(clampLogRatio(x));
    n++;
  }
  if (n === 0) return 0;
  const budget = p.dynamicBudget
    ? Math.min(Math.max(quantile(scratch, n, 0.9, hasNaN), p.budgetFloor), 2 * p.budgetFloor)
    : p.budgetFloor;
  let S = 0;
  let W = 0;
  let k = 0;
  let rowLoss = 0;
  let count = 0;
  let dropped = 0;
  let ratioSum = 0;
  let ratioMax = sums[3]!;
  for (let t = 0; t < T; t++) {
    const j = row + t;
    const m = mask[j]!;
    if (!(m > 0)) continue;
    const w = 1 - ((1 - p.wMin) * k) / Math.max(n - 1, 1);
    const Z = w * D[k]!;
    const cap = Math.min(p.delta, p.delta + budget * W - S);
    const x = logProbs[j]! - rolloutLogProbs[j]!;
    const r = R[k]!;
    const A = advantages[j]!;
    const keep = A * (r - 1) <= 0 || Z <= cap;
    if (keep) {
      rowLoss += m * -r * A;
      grad[j] = c * m * -A * (x >= -20 && x <= 20 ? r : 0);
    } else {
      dropped += m;
    }
    S += Z;
    W += w;
    k++;
    count += m;
    ratioSum += m * r;
    if (r > ratioMax) ratioMax = r;
  }
  sums[0]! += count;
  sums[1]! += dropped;
  sums[2]! += ratioSum;
  sums[3] = ratioMax;
  return c * rowLoss;
}
