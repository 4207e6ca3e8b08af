import type { KernelIO, KernelOutput } from "./loss.js";

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

export function ppoClipKernel(io: KernelIO, oldLogProbs: Float32Array, advantages: Float32Array, p: PpoClipParams): KernelOutput {
  const { B, T, logProbs, mask, coef, grad } = io;
  const lo = 1 - p.clipLow;
  const hi = 1 + p.clipHigh;
  const dual = p.dualClip ?? Number.POSITIVE_INFINITY;
  let total = 0;
  let count = 0;
  let clipped = 0;
  let lower = 0;
  let kl = 0;
  for (let i = 0; i < B; i++) {
    const c = coef[i]!;
    let rowLoss = 0;
    for (let j = i * T, end = j + T; j < end; j++) {
      const m = mask[j]!;
      if (!(m > 0)) continue;
      const A = advantages[j]!;
      const x = logProbs[j]! - oldLogProbs[j]!;
      const lr = x < -20 ? -20 : x > 20 ? 20 : x;
      const r = Math.exp(lr);
      const dr = lr === x ? r : 0;
      const l1 = -A * r;
      const l2 = -A * (r < lo ? lo : r > hi ? hi : r);
      let L: number;
      let dL: number;
      if (l1 >= l2) {
        L = l1;
        dL = -A * dr;
      } else {
        L = l2;
        dL = r >= lo && r <= hi ? -A * dr : 0;
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
    total += c * rowLoss;
  }
  const d = count + 1e-8;
  return { loss: total, metrics: { clipFraction: clipped / d, clipFractionLower: lower / d, ppoKl: kl / d } };
}
