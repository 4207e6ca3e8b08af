import { hostView, kernelPath, tf, writeTensor } from "@tokenrl/core";
import type { HostArray } from "@tokenrl/core";
import type { Tensor, Tensor1D, Tensor2D } from "@tokenrl/core";
import type { RopeScaling } from "./config.js";
import { matMul } from "./matmul.js";

/**
 * The building blocks of a Llama/Qwen decoder layer, as plain functions over
 * weights. Linear weights are stored `[in, out]` so that every projection is
 * one `[N, in] x [in, out]` matmul over all B*L tokens (the fastest shape on
 * wasm); checkpoints transpose from/to HF's `[out, in]`.
 */

/** RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * weight. */
export function rmsNorm(x: Tensor, weight: Tensor1D, eps: number): Tensor {
  return tf.tidy(() => {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), weight);
  });
}

/** x @ w (+ b) on 2-D x. */
export function linear(x: Tensor2D, w: Tensor2D, b?: Tensor1D): Tensor2D {
  return (b ? tf.add(matMul(x, w), b) : matMul(x, w)) as Tensor2D;
}

/**
 * RoPE inverse frequencies 1 / theta^(2i / D), i < D/2 (HF's default rope),
 * with HF's "linear" (all / factor) or "llama3" scaling (wavelengths longer
 * than original / lowFreqFactor divided by factor, shorter than original /
 * highFreqFactor kept, a linear blend in between).
 */
export function ropeInvFreq(headDim: number, theta: number, scaling?: RopeScaling): Float32Array {
  const half = headDim / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    let f = 1 / theta ** ((2 * i) / headDim);
    if (scaling?.type === "linear") f /= scaling.factor;
    else if (scaling?.type === "llama3") {
      const low = scaling.lowFreqFactor ?? 1;
      const high = scaling.highFreqFactor ?? 4;
      const original = scaling.originalMaxPositionEmbeddings ?? 8192;
      const wavelen = (2 * Math.PI) / f;
      if (wavelen > original / low) f /= scaling.factor;
      else if (wavelen >= original / high) {
        const smooth = (original / wavelen - low) / (high - low);
        f = (1 - smooth) * (f / scaling.factor) + smooth * f;
      }
    }
    out[i] = f;
  }
  return out;
}

/**
 * cos and sin of position x frequency for every token, `[B, L, 1, D/2]` each,
 * broadcast over heads. `positions` is `[B, L]` (float32 or int32).
 */
export function ropeCosSin(positions: Tensor2D, invFreq: Float32Array): { cos: Tensor; sin: Tensor } {
  return tf.tidy(() => {
    const [B, L] = positions.shape;
    const half = invFreq.length;
    const angles = tf.mul(
      tf.reshape(tf.cast(positions, "float32"), [B, L, 1, 1]),
      tf.tensor4d(invFreq, [1, 1, 1, half]),
    );
    return { cos: tf.cos(angles), sin: tf.sin(angles) };
  });
}

/**
 * Rotary embedding in HF's `rotate_half` convention (what Llama/Qwen weights
 * expect): with x = [x1, x2] split at D/2,
 * out = [x1 cos - x2 sin, x2 cos + x1 sin]. x: `[B, L, heads, D]`.
 */
export function applyRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  if (kernelPath() === "host" && hostRopeTakes(x, cos, sin)) return hostRope(x, cos, sin);
  return tf.tidy(() => {
    const [x1, x2] = tf.split(x, 2, -1) as [Tensor, Tensor];
    return tf.concat([tf.sub(tf.mul(x1, cos), tf.mul(x2, sin)), tf.add(tf.mul(x2, cos), tf.mul(x1, sin))], -1);
  });
}

/** The host loop reads float32 x `[B, L, H, D]` (D even) and cos / sin as the full `[B, L, 1, D/2]` tables `ropeCosSin` makes. */
function hostRopeTakes(x: Tensor, cos: Tensor, sin: Tensor): boolean {
  if (x.rank !== 4 || x.dtype !== "float32" || cos.dtype !== "float32" || sin.dtype !== "float32") return false;
  const [B, L, , D] = x.shape as [number, number, number, number];
  const want = [B, L, 1, D / 2];
  return D % 2 === 0 && tf.util.arraysEqual(cos.shape, want) && tf.util.arraysEqual(sin.shape, want);
}

/**
 * hostRope's loop, at module level. As a closure made on each call, V8 kept
 * discarding its optimised code (deopt: insufficient type feedback, past the
 * loop), so after a scoring task a worker's next prefill ran the loop in the
 * interpreter: 1.5-3.4 ms for a prefill's 15K elements, and that prefill 35-45
 * ms instead of 5-8 (pool, 2 workers); measured 13-15 ms against 20-25 for
 * each step's first prefill once this was hoisted.
 */
function ropeRotate(t: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return writeTensor(t.shape, "float32", ropeWrite, { t, cos, sin });
}

/** ropeRotate's loop; its views are taken after the output's allocation (a growing wasm heap detaches views). */
function ropeWrite(out: HostArray, { t, cos, sin }: { t: Tensor; cos: Tensor; sin: Tensor }): void {
  const [B, L, H, D] = t.shape as [number, number, number, number];
  const half = D / 2;
  const f = Math.fround;
  const xs = hostView(t);
  const cs = hostView(cos);
  const sn = hostView(sin);
  for (let p = 0; p < B * L; p++) {
    const a = p * half;
    for (let h = 0; h < H; h++) {
      const base = (p * H + h) * D;
      for (let i = 0; i < half; i++) {
        const c = cs[a + i]!;
        const s = sn[a + i]!;
        const x1 = xs[base + i]!;
        const x2 = xs[base + half + i]!;
        out[base + i] = f(f(x1 * c) - f(x2 * s));
        out[base + half + i] = f(f(x2 * c) + f(x1 * s));
      }
    }
  }
}

/**
 * `applyRope` on the host path as one loop over the host arrays. Its gradient
 * is the inverse rotation, i.e. the same op with -sin (dx1 = dy1 cos + dy2 sin,
 * dx2 = dy2 cos - dy1 sin), so it is itself differentiable. The op chain
 * (split, four products, a sum, a difference, concat, and their gradients)
 * was ~12% of the demo model's training step on wasm. Every product and sum
 * is rounded to float32 as the op chain rounds it, so the values, forward and
 * backward, are the op chain's bits. cos and sin are constants here (RoPE
 * tables from integer positions): their gradient is a scalar zero, which tfjs
 * rejects loudly should they ever be on a gradient's path.
 */
function hostRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  if (!tf.engine().isTapeOn()) return ropeRotate(x, cos, sin);
  // cos and sin are inputs so that the tape keeps them for the backward (the layer's tidy frees its own).
  const g = tf.customGrad((t, c, s, save) => {
    (save as tf.GradSaveFunc)([c as Tensor, s as Tensor]);
    return {
      value: ropeRotate(t as Tensor, c as Tensor, s as Tensor),
      // f(x (-s)) = -f(x s) and a - (-b) = a + b exactly: the -sin rotation has the inverse's bits.
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sc, ss] = saved as [Tensor, Tensor];
        return [hostRope(dy, sc, tf.neg(ss)), tf.scalar(0), tf.scalar(0)];
      },
    };
  });
  return g(x, cos, sin);
}

/**
 * Grouped-query attention core. q `[B, L, nh, D]`, k/v `[B, nkv, S, D]` (the
 * cache already appended), bias `[B, 1, L, S]` additive (0 allowed, -1e9 masked).
 * Query head h uses kv head floor(h / g), g = nh / nkv, as HF's `repeat_kv`:
 * grouping the g query heads of a kv head into one [g*L, D] block lets one
 * batched matmul serve them all without copying k/v g times. Returns `[B*L, nh*D]`.
 */
export function groupedAttention(q: Tensor, k: Tensor, v: Tensor, bias: Tensor): Tensor2D {
  return tf.tidy(() => {
    const [B, L, nh, D] = q.shape as [number, number, number, number];
    const [, nkv, S] = k.shape as [number, number, number, number];
    const g = nh / nkv;
    // [B, nh, L, D] is laid out as (B, nkv, g, L, D) since h = kv * g + r.
    const qh = tf.reshape(tf.transpose(q, [0, 2, 1, 3]), [B * nkv, g * L, D]);
    const kh = tf.reshape(k, [B * nkv, S, D]);
    const vh = tf.reshape(v, [B * nkv, S, D]);
    const scores = tf.reshape(matMul(qh, kh, false, true), [B, nh, L, S]);
    const probs = tf.softmax(tf.add(tf.mul(scores, 1 / Math.sqrt(D)), bias));
    const out = matMul(tf.reshape(probs, [B * nkv, g * L, S]), vh);
    return tf.reshape(tf.transpose(tf.reshape(out, [B, nh, L, D]), [0, 2, 1, 3]), [B * L, nh * D]) as Tensor2D;
  });
}

/** SwiGLU MLP: down(silu(gate(x)) * up(x)), gate and up fused into one `[H, 2I]` matmul. */
export function swiglu(x: Tensor2D, gateUp: Tensor2D, down: Tensor2D): Tensor2D {
  return tf.tidy(() => {
    const [gate, up] = tf.split(matMul(x, gateUp), 2, -1) as [Tensor2D, Tensor2D];
    return matMul(tf.mul(tf.mul(gate, tf.sigmoid(gate)), up), down) as Tensor2D;
  });
}

/** Additive attention bias `[B, 1, L, S]`: 0 where key j is real and j <= pastLen + i, else -1e9 (finite, so all-masked pad rows give no NaN). */
export function attentionBias(mask: Tensor2D, pastLength: number, length: number): Tensor {
  return tf.tidy(() => {
    const [B, S] = mask.shape;
    const pad = tf.mul(tf.sub(1, tf.reshape(tf.cast(mask, "float32"), [B, 1, 1, S])), -1e9);
    return tf.add(tf.tensor4d(causalBias(pastLength, length, S), [1, 1, length, S]), pad);
  });
}

/**
 * `[length, S]`: -1e9 where key j is after query i (j > pastLength + i). A
 * module-level loop: inside the `tidy` callback, made per call, it was
 * compiled again (on-stack, ~38 ms) in every RL step.
 */
function causalBias(pastLength: number, length: number, S: number): Float32Array {
  const causal = new Float32Array(length * S);
  for (let i = 0; i < length; i++) for (let j = pastLength + i + 1; j < S; j++) causal[i * S + j] = -1e9;
  return causal;
}

/** HF-style positions from a mask: the count of real tokens before each one (pads get 0). `[B, S]` int32. */
export function positionsFromMask(mask: Tensor2D): Tensor2D {
  return tf.tidy(() => tf.cast(tf.relu(tf.sub(tf.cumsum(tf.cast(mask, "float32"), 1), 1)), "int32") as Tensor2D);
}
