import { type HostArray, type KernelIO, type KernelOutput, meanOver } from "./loss.js";
import { clampLogRatio } from "./ratio.js";

/**
 * SAPO's soft gate per token with its analytic gradient (see ../sapo.ts):
 *
 *   L = -(4 / tau) sigmoid(tau (r - 1)) A,   dL/dlogp = -4 A s (1 - s) dr/dlogp,
 *
 * s the sigmoid, dr/dlogp = r inside the [-20, 20] log-ratio clamp, 0 outside.
 */
export interface SapoParams {
  tauPos: number;
  tauNeg: number;
}

export function sapoKernel(
  io: KernelIO,
  oldLogProbs: Float32Array,
  advantages: Float32Array,
  p: SapoParams,
): KernelOutput {
  const { B, T, logProbs, mask, coef, grad } = io;
  const sums = new Float64Array(2); // [count, kl]
  let total = 0;
  // One call per row (see validSum in ./loss.ts for why the loop is not inline).
  for (let i = 0; i < B; i++)
    total += sapoRow(
      logProbs,
      oldLogProbs,
      advantages,
      mask,
      grad,
      i * T,
      i * T + T,
      coef[i]!,
      p.tauPos,
      p.tauNeg,
      sums,
    );
  return { loss: total, metrics: { ppoKl: meanOver(sums[1]!, sums[0]!) } };
}

function sapoRow(
  logProbs: Float32Array,
  oldLogProbs: Float32Array,
  advantages: Float32Array,
  mask: HostArray,
  grad: Float32Array,
  start: number,
  end: number,
  c: number,
  tauPos: number,
  tauNeg: number,
  sums: Float64Array,
): number {
  let rowLoss = 0;
  let count = 0;
  let kl = 0;
  for (let j = start; j < end; j++) {
    const m = mask[j]!;
    if (!(m > 0)) continue;
    const A = advantages[j]!;
    const x = logProbs[j]! - oldLogProbs[j]!;
    const lr = clampLogRatio(x);
    const r = Math.exp(lr);
    const tau = A > 0 ? tauPos : tauNeg;
    const s = 1 / (1 + Math.exp(-tau * (r - 1)));
    rowLoss += m * (-((4 * s) / tau) * A);
    grad[j] = lr === x ? c * m * -4 * A * s * (1 - s) * r : 0;
    count += m;
    kl -= m * lr;
  }
  sums[0]! += count;
  sums[1]! += kl;
  return c * rowLoss;
}
