import type { HostArray, KernelIO, KernelOutput } from "./loss.js";
import { clampLogRatio } from "./ratio.js";

/**
 * The KL penalty to the reference policy (see ../kl.ts), x = logp - refLogp,
 * per token with its analytic gradient, matching the op chain's autograd:
 * `abs` takes gradient -1 at x = 0 (tfjs' step(x, -1)); `k3` passes the
 * gradient at the bounds of both clamps (tfjs' clipByValue).
 */
export type KlKernelEstimator = "k1" | "abs" | "k2" | "k3";

const ESTIMATOR_CODE: Record<KlKernelEstimator, number> = { k1: 0, abs: 1, k2: 2, k3: 3 };

export function klKernel(io: KernelIO, refLogProbs: Float32Array, estimator: KlKernelEstimator): KernelOutput {
  const { B, T, logProbs, mask, coef, grad } = io;
  const code = ESTIMATOR_CODE[estimator];
  let total = 0;
  // One call per row (see validSum in ./loss.ts for why the loop is not inline).
  for (let i = 0; i < B; i++) total += klRow(logProbs, refLogProbs, mask, grad, i * T, i * T + T, coef[i]!, code);
  return { loss: total, metrics: {} };
}

function klRow(
  logProbs: Float32Array,
  refLogProbs: Float32Array,
  mask: HostArray,
  grad: Float32Array,
  start: number,
  end: number,
  c: number,
  code: number,
): number {
  let rowLoss = 0;
  for (let j = start; j < end; j++) {
    const m = mask[j]!;
    if (!(m > 0)) continue;
    let v: number;
    let dv: number;
    if (code === 3) {
      const y = refLogProbs[j]! - logProbs[j]!;
      const negX = clampLogRatio(y);
      const e = Math.exp(negX);
      const raw = e - negX - 1;
      v = raw < -10 ? -10 : raw > 10 ? 10 : raw;
      // d/dlogp = -(e - 1) inside both clamps (bounds included), 0 outside.
      dv = raw >= -10 && raw <= 10 && y >= -20 && y <= 20 ? 1 - e : 0;
    } else {
      const x = logProbs[j]! - refLogProbs[j]!;
      if (code === 0) {
        v = x;
        dv = 1;
      } else if (code === 1) {
        v = Math.abs(x);
        dv = x > 0 ? 1 : Number.isNaN(x) ? x : -1;
      } else {
        v = 0.5 * x * x;
        dv = x;
      }
    }
    rowLoss += m * v;
    grad[j] = c * m * dv;
  }
  return c * rowLoss;
}
