import type { HostArray, KernelIO, KernelOutput } from "./loss.js";

/** CPPO's keep-mask and ratio surrogate as one host pass per response (see ../cppo.ts for the formulas). */
export interface CppoKernelParams {
  delta: number;
  wMin: number;
  budgetFloor: number;
  dynamicBudget: boolean;
}

/** torch.quantile(q, interpolation="linear") of the first n entries (sorted in place). */
function quantile(values: Float64Array, n: number, q: number): number {
  const sorted = values.subarray(0, n).sort();
  const position = q * (n - 1);
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  return sorted[lo]! + (position - lo) * (sorted[hi]! - sorted[lo]!);
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
  // [count, dropped, ratioSum, ratioMax]
  const sums = new Float64Array([0, 0, 0, Number.NEGATIVE_INFINITY]);
  let total = 0;
  // One call per row (see validSum in ./loss.ts for why the loop is not inline).
  for (let i = 0; i < B; i++)
    total += cppoRow(logProbs, rolloutLogProbs, advantages, mask, grad, i * T, T, coef[i]!, p, D, scratch, sums);
  const d = sums[0]! + 1e-8;
  const ratioMax = sums[3]!;
  return {
    loss: total,
    metrics: {
      maskedFraction: sums[1]! / d,
      ratioMean: sums[2]! / d,
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
  sums: Float64Array,
): number {
  let n = 0;
  for (let t = 0; t < T; t++) {
    const j = row + t;
    if (!(mask[j]! > 0)) continue;
    const d = Math.abs(Math.exp(logProbs[j]!) - Math.exp(rolloutLogProbs[j]!));
    D[n] = d;
    scratch[n] = d;
    n++;
  }
  if (n === 0) return 0;
  const budget = p.dynamicBudget
    ? Math.min(Math.max(quantile(scratch, n, 0.9), p.budgetFloor), 2 * p.budgetFloor)
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
    const lr = x < -20 ? -20 : x > 20 ? 20 : x;
    const r = Math.exp(lr);
    const A = advantages[j]!;
    const keep = A * (r - 1) <= 0 || Z <= cap;
    if (keep) {
      rowLoss += m * -r * A;
      grad[j] = c * m * -A * (lr === x ? r : 0);
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
