import { type HostArray, type KernelIO, type KernelOutput, meanOver } from "./loss.js";
import { clampLogRatio, clipBounds } from "./ratio.js";

/**
 * CISPO per token (see ../cispo.ts): L = -sg(clip(r, lo, hi)) A logp, so
 * dL/dlogp = -clip(r, lo, hi) A for every valid token (the weight is clipped,
 * not the token).
 */
export interface CispoParams {
  clipLow: number;
  clipHigh: number;
}

export function cispoKernel(
  io: KernelIO,
  oldLogProbs: Float32Array,
  advantages: Float32Array,
  p: CispoParams,
): KernelOutput {
  const { B, T, logProbs, mask, coef, grad } = io;
  const { lo, hi } = clipBounds(p);
  const sums = new Float64Array(3); // [count, outside, kl]
  let total = 0;
  // One call per row (see validSum in ./loss.ts for why the loop is not inline).
  for (let i = 0; i < B; i++) {
    total += cispoRow(logProbs, oldLogProbs, advantages, mask, grad, i * T, i * T + T, coef[i]!, lo, hi, sums);
  }
  return { loss: total, metrics: { clipFraction: meanOver(sums[1]!, sums[0]!), ppoKl: meanOver(sums[2]!, sums[0]!) } };
}

function cispoRow(
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
  sums: Float64Array,
): number {
  let rowLoss = 0;
  let count = 0;
  let outside = 0;
  let kl = 0;
  for (let j = start; j < end; j++) {
    const m = mask[j]!;
    if (!(m > 0)) continue;
    const lp = logProbs[j]!;
    const lr = clampLogRatio(lp - oldLogProbs[j]!);
    const r = Math.exp(lr);
    // The clip of r written out: it also counts the tokens outside the range.
    let w = r;
    if (r < lo) {
      w = lo;
      outside += m;
    } else if (r > hi) {
      w = hi;
      outside += m;
    }
    const dL = -(w * advantages[j]!);
    rowLoss += m * dL * lp;
    grad[j] = c * m * dL;
    count += m;
    kl -= m * lr;
  }
  sums[0]! += count;
  sums[1]! += outside;
  sums[2]! += kl;
  return c * rowLoss;
}
