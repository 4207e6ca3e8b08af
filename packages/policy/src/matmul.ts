import { backendFamily, tf } from "@tokenrl/core";
import type { Tensor } from "@tokenrl/core";
import { batchedKernelAvailable, kernelBatchedMatMul } from "./batched-matmul.js";

/**
 * Matrix multiply that stays on the wasm backend's fast path. Measured here
 * (tfjs-backend-wasm 4.22, one thread): only an untransposed, unbatched
 * `[M, K] x [K, N]` reaches XNNPACK (~20 GFLOP/s); `transposeA`/`transposeB`
 * and batch > 1 run a naive loop at 0.25-1.5 GFLOP/s, and tfjs's own matMul
 * gradient uses exactly those transposed forms. So on wasm a product
 * transposes explicitly (a cheap copy), runs a batched one in the
 * batched-matmul kernel (`batched-matmul.ts`; where it cannot run, as a
 * depthwise convolution), and has a custom gradient built from the same forms.
 * Other backends get `tf.matMul` unchanged. Rank 2 or 3 (batch first).
 */
export function matMul(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  if (backendFamily() !== "wasm") return tf.matMul(a, b, transposeA, transposeB);
  // A batched product with a few rows per batch and no gradient: a decode step's
  // attention (g query heads x 1 token against the whole KV cache). The naive
  // kernel reads the cache in place; the depthwise form copies it twice (the
  // transposes) and XNNPACK repacks it as a fresh filter. Measured here, G = 128,
  // S = 100, D = 16: 0.46 vs 1.19 ms at 1 row, 1.5 vs 2.1 ms at 4, 3.0 vs 1.8 ms at 8.
  if (a.rank === 3 && tf.engine().state.gradientDepth === 0 && a.shape[transposeA ? 2 : 1]! <= FEW_ROWS)
    return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, transposeA, transposeB);
  if (a.rank === 3 && batchedKernelAvailable()) return batchedMatMul(a, b, transposeA, transposeB);
  return tf.tidy(() => {
    const x = transposeA ? swapLast(a) : a;
    const y = transposeB ? swapLast(b) : b;
    // No gradient is being recorded (generation): the same kernels without the
    // customGrad scope, whose bookkeeping is a visible share of a batch-1 decode step.
    return tf.engine().state.gradientDepth === 0 ? plainMatMul(x, y) : fastMatMul(x, y);
  });
}

/** Rows per batch up to which a no-gradient batched product stays on the naive kernel (see `matMul`). */
const FEW_ROWS = 4;

function swapLast(t: Tensor): Tensor {
  return t.rank === 2 ? tf.transpose(t) : tf.transpose(t, [0, 2, 1]);
}

/** `a @ b` with only untransposed 2-D products, forward and backward. */
function fastMatMul(a: Tensor, b: Tensor): Tensor {
  const f = tf.customGrad((x, y, save) => {
    (save as tf.GradSaveFunc)([x as Tensor, y as Tensor]);
    return {
      value: plainMatMul(x as Tensor, y as Tensor),
      // d(a @ b)/da = dy @ b^T, d/db = a^T @ dy
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sa, sb] = saved as [Tensor, Tensor];
        return [plainMatMul(dy, swapLast(sb)), plainMatMul(swapLast(sa), dy)];
      },
    };
  });
  return f(a, b);
}

/**
 * A batched `op(a) @ op(b)` in the kernel, with its gradient from the same
 * kernel (each transposed form read through strides): for C = op(A) op(B),
 * dA = tA ? op(B) dC^T : dC op(B)^T and dB = tB ? dC^T op(A) : op(A)^T dC.
 */
function batchedMatMul(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  const product = (x: Tensor, y: Tensor, tx: boolean, ty: boolean): Tensor =>
    kernelBatchedMatMul(x, y, tx, ty) ?? tf.tidy(() => plainMatMul(tx ? swapLast(x) : x, ty ? swapLast(y) : y));
  if (tf.engine().state.gradientDepth === 0) return product(a, b, transposeA, transposeB);
  const f = tf.customGrad((x, y, save) => {
    (save as tf.GradSaveFunc)([x as Tensor, y as Tensor]);
    return {
      value: product(x as Tensor, y as Tensor, transposeA, transposeB),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sa, sb] = saved as [Tensor, Tensor];
        return [
          transposeA ? product(sb, dy, transposeB, true) : product(dy, sb, false, !transposeB),
          transposeB ? product(dy, sa, true, transposeA) : product(sa, dy, !transposeA, false),
        ];
      },
    };
  });
  return f(a, b);
}

function plainMatMul(a: Tensor, b: Tensor): Tensor {
  if (a.rank === 2) return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
  return depthwiseBatchMatMul(a as tf.Tensor3D, b as tf.Tensor3D);
}

/**
 * `[G, M, K] x [G, K, N]` as one depthwise convolution (XNNPACK-backed on wasm,
 * 2-5x the batched-matmul kernel there): input `[M, 1, K, G]` (batch M, width K,
 * channel g), filter `[1, K, G, N]` (channel multiplier N), valid padding, so
 * out[m, 0, 0, g*N + n] = sum_k a[g, m, k] * b[g, k, n].
 */
function depthwiseBatchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): Tensor {
  const [G, M, K] = a.shape;
  const N = b.shape[2];
  const x = tf.reshape(tf.transpose(a, [1, 2, 0]), [M, 1, K, G]) as tf.Tensor4D;
  const f = tf.reshape(tf.transpose(b, [1, 0, 2]), [1, K, G, N]) as tf.Tensor4D;
  const y = tf.depthwiseConv2d(x, f, 1, "valid");
  return tf.transpose(tf.reshape(y, [M, G, N]), [1, 0, 2]);
}
