import { type HostArray, type KernelIO, type KernelOutput, meanOver } from "./loss.js";
import { clipBounds, clipRatio } from "./ratio.js";

/**
 * GSPO per response (see ../gspo.ts): the sequence log-ratio
 * `sum_t m (logp - old) / max(sum_t m, 1)`, r = exp(min(., 10)) the same for
 * every token of the response, with d r / d logp_t = r (sg(s) iota) unless the
 * clamp at 10 is active; then the PPO clipped surrogate per token. Tie-breaking
 * as tfjs' op chain: maximum and minimum send the gradient to their first
 * argument on ties.
 */
export interface GspoParams {
  clipLow: number;
  clipHigh: number;
}

/** verl clamps GSPO's sequence log-ratio from above only, at 10 (the op chain in ../gspo.ts uses it too). */
export const SEQUENCE_LOG_RATIO_MAX = 10;

export function gspoKernel(
  io: KernelIO,
  oldLogProbs: Float32Array,
  advantages: Float32Array,
  p: GspoParams,
): KernelOutput {
  const { B, T, logProbs, mask, coef, grad } = io;
  const { lo, hi } = clipBounds(p);
  const sums = new Float64Array(3); // [count, clipped, kl]
  let total = 0;
  // One call per row (see validSum in ./loss.ts for why the loop is not inline).
  for (let i = 0; i < B; i++) {
    total += gspoRow(logProbs, oldLogProbs, advantages, mask, grad, i * T, i * T + T, coef[i]!, lo, hi, sums);
  }
  return { loss: total, metrics: { clipFraction: meanOver(sums[1]!, sums[0]!), ppoKl: meanOver(sums[2]!, sums[0]!) } };
}

function gspoRow(
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
  // The sequence log-ratio (the op chain's length is the plain mask sum, at least 1).
  let weighted = 0;
  let length = 0;
  for (let j = start; j < end; j++) {
    const m = mask[j]!;
    length += m;
    if (m > 0) weighted += m * (logProbs[j]! - oldLogProbs[j]!);
  }
  const sequenceLogRatio = weighted / Math.max(length, 1);
  const r = Math.exp(Math.min(sequenceLogRatio, SEQUENCE_LOG_RATIO_MAX));
  const dr = sequenceLogRatio <= SEQUENCE_LOG_RATIO_MAX ? r : 0;
  const rClipped = clipRatio(r, lo, hi);
  const inside = r >= lo && r <= hi;
  let rowLoss = 0;
  let count = 0;
  let clipped = 0;
  for (let j = start; j < end; j++) {
    const m = mask[j]!;
    if (!(m > 0)) continue;
    const A = advantages[j]!;
    const l1 = -A * r;
    const l2 = -A * rClipped;
    let L = l1;
    let dL = -A * dr;
    if (!(l1 >= l2)) {
      L = l2;
      if (!inside) dL = 0;
    }
    if (l2 > l1) clipped += m;
    rowLoss += m * L;
    grad[j] = c * m * dL;
    count += m;
  }
  sums[0]! += count;
  sums[1]! += clipped;
  sums[2]! -= weighted;
  return c * rowLoss;
}
