import { type HostArray, type KernelIO, type KernelOutput, meanOver } from "./loss.js";
import { clampLogRatio, clipBounds, clipRatio } from "./ratio.js";

/**
 * PPO clip (verl vanilla) per token with its analytic gradient, aggregated by
 * the row coefficients. Tie-breaking follows tfjs' op chain (maximum and
 * minimum send the gradient to their first argument on ties), and the
 * clamp passes the gradient at its bounds as torch's does.
 */
export interface PpoClipParams {
  clipLow: number;
  clipHigh: number;
  dualClip: number | null;
}

/** Running sums of one call: [count, clipped, lower, kl]. */
type Sums = Float64Array;

export function ppoClipKernel(
  io: KernelIO,
  oldLogProbs: Float32Array,
  advantages: Float32Array,
  p: PpoClipParams,
): KernelOutput {
  const { B, T, logProbs, mask, coef, grad } = io;
  const { lo, hi, dual } = clipBounds(p);
  const sums: Sums = new Float64Array(4);
  let total = 0;
  // One call per row (see validSum in ./loss.ts for why the loop is not inline).
  for (let i = 0; i < B; i++)
    total += ppoClipRow(logProbs, oldLogProbs, advantages, mask, grad, i * T, i * T + T, coef[i]!, lo, hi, dual, sums);
  return {
    loss: total,
    metrics: {
      clipFraction: meanOver(sums[1]!, sums[0]!),
      clipFractionLower: meanOver(sums[2]!, sums[0]!),
      ppoKl: meanOver(sums[3]!, sums[0]!),
    },
  };
}

/** One row: fills grad[start, end) and returns c * sum_t m L. */
function ppoClipRow(
  logProbs: Float32Array,
  oldLogProbs: Float32Array,
  advantages: Float32Array,
  mask: HostArray,
  grad: Float32Array,
  start: number,
  end: number,
  c: number,
  lo: number,
  hi: number,
  dual: number,
  sums: Sums,
): number {
  let rowLoss = 0;
  let count = 0;
  let clipped = 0;
  let lower = 0;
  let kl = 0;
  for (let j = start; j < end; j++) {
    const m = mask[j]!;
    if (!(m > 0)) continue;
    const A = advantages[j]!;
    const x = logProbs[j]! - oldLogProbs[j]!;
    const lr = clampLogRatio(x);
    const r = Math.exp(lr);
    const dr = lr === x ? r : 0;
    const l1 = -A * r;
    const l2 = -A * clipRatio(r, lo, hi);
    let L = l1;
    let dL = -A * dr;
    if (!(l1 >= l2)) {
      L = l2;
      if (!(r >= lo && r <= hi)) dL = 0;
      clipped += m;
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
  sums[0]! += count;
  sums[1]! += clipped;
  sums[2]! += lower;
  sums[3]! += kl;
  return c * rowLoss;
}
