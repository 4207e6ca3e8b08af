import { hostView, tf } from "@tokenrl/core";
import type { Tensor } from "@tokenrl/core";

/**
 * `tokenLogProbsAndEntropy` / `tokenLogProbs` on the host path (wasm, cpu):
 * one pass over each row of the `[N, V]` logits instead of ~12 tensor ops
 * (max, shift, exp, sum, log, exp, product, sum, gatherND, concat, and the
 * backward's scatterND). tfjs-backend-wasm 4.22's Exp costs 15-50 ns an
 * element (its Softmax's exp ~4): at the demo's 2080 x 40 logits the op chain
 * took 13.6 ms forward and 23.5 forward + backward; see docs/benchmarks.md.
 * Same formulas, in float64 and rounded once to float32, so values agree with
 * the op chain to float32 rounding (tested), and with or without entropy the
 * log-probs are the same bits.
 */

/**
 * The max, log Z (Z = sum exp(x - max)) and entropy H = log Z - sum p s of
 * the V logits at offset o (s = x - max), into `out` [max, logZ, H]: the pass
 * forward and backward both start from.
 */
function rowStats(x: ArrayLike<number>, o: number, V: number, out: Float64Array): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < V; j++) if (x[o + j]! > max) max = x[o + j]!;
  let z = 0;
  let ps = 0;
  for (let j = 0; j < V; j++) {
    const s = x[o + j]! - max;
    const e = Math.exp(s);
    z += e;
    ps += e * s;
  }
  const logZ = Math.log(z);
  out[0] = max;
  out[1] = logZ;
  // H = log Z - sum_j p_j s_j, p_j = e_j / Z
  out[2] = logZ - ps / z;
}

/** Per row, log p(target) and, with `entropy`, H = log Z - sum p s: `[2, N]` (or `[1, N]`), a row each. */
function forwardRows(logits: Tensor, targets: Tensor, entropy: boolean): Tensor {
  const [N, V] = logits.shape as [number, number];
  const out = new Float32Array((entropy ? 2 : 1) * N);
  const stats = new Float64Array(3);
  const x = hostView(logits);
  const t = hostView(targets);
  for (let r = 0; r < N; r++) {
    const o = r * V;
    rowStats(x, o, V, stats);
    const max = stats[0]!;
    const logZ = stats[1]!;
    out[r] = x[o + t[r]!]! - max - logZ;
    if (entropy) out[N + r] = stats[2]!;
  }
  return tf.tensor2d(out, [entropy ? 2 : 1, N]);
}

/**
 * d/dx of gLogProb * log p_t + gEntropy * H per row:
 * gLogProb (onehot(t) - p) - gEntropy p (log p + H).
 */
function backwardRows(logits: Tensor, targets: Tensor, dy: Tensor): Tensor {
  const [N, V] = logits.shape as [number, number];
  const entropy = dy.shape[0] === 2;
  const dx = new Float32Array(N * V);
  const stats = new Float64Array(3);
  const x = hostView(logits);
  const t = hostView(targets);
  const g = hostView(dy);
  for (let r = 0; r < N; r++) {
    const o = r * V;
    rowStats(x, o, V, stats);
    const max = stats[0]!;
    const logZ = stats[1]!;
    const gLogProb = g[r]!;
    const gEntropy = entropy ? g[N + r]! : 0;
    const h = stats[2]!;
    for (let j = 0; j < V; j++) {
      const logp = x[o + j]! - max - logZ;
      dx[o + j] = -Math.exp(logp) * (gLogProb + gEntropy * (logp + h));
    }
    dx[o + t[r]!] = dx[o + t[r]!]! + gLogProb;
  }
  return tf.tensor2d(dx, [N, V]);
}

/**
 * log p of each target `[N]` and the entropy `[N]` (or log p alone) of
 * float32 `[N, V]` logits, differentiable in the logits. The op's one output
 * is `[2, N]`, split by rows: split by columns (`[N, 2]`), the split's
 * gradient, a Concat of two `[N, 1]` columns, took 4.7 ms on wasm, more than
 * this whole forward.
 */
export function hostTokenStats(logits: Tensor, targets: tf.Tensor1D, entropy: boolean): Tensor[] {
  return tf.tidy(() => {
    const rows = tf.engine().isTapeOn()
      ? tf.customGrad((x, save) => {
          // targets shares its data with the caller's ids, so saving it creates no new tensor data.
          (save as tf.GradSaveFunc)([x as Tensor, targets]);
          return {
            value: forwardRows(x as Tensor, targets, entropy),
            gradFunc: (dy: Tensor, saved: Tensor[]) => backwardRows(saved[0]!, saved[1]!, dy),
          };
        })(logits)
      : forwardRows(logits, targets, entropy);
    const N = logits.shape[0]!;
    return entropy ? (tf.split(rows, 2, 0) as Tensor[]).map((r) => tf.reshape(r, [N])) : [tf.reshape(rows, [N])];
  });
}
