import { hostView, tf } from "@tokenrl/core";
import type { Tensor, Tensor2D } from "@tokenrl/core";
import { kernelAttend, kernelSilu } from "./host-kv.js";
import type { HostKVState } from "./host-kv.js";
import type { ModelConfig } from "./config.js";
import type { ModelParams } from "./params.js";

/**
 * One decode step (one new token per row) on the host path (wasm, cpu): the
 * decoder stack of `CausalLM.decode` for L = 1, with the four projections of
 * each layer as tfjs matmuls (XNNPACK on wasm) and everything between them
 * (the norms, Qwen3's q/k norm, RoPE, attention over the cache, SwiGLU's
 * gate, the residual adds) as loops over host arrays. A decode step of the
 * tensor path is ~150 small kernels, each with a fixed cost in tfjs's
 * dispatch whatever the batch; here it is 4 matmuls per layer and the LM head, so a
 * batch split across worker threads splits nearly all of a step's time.
 * Each value is rounded to float32 where the tensor path rounds it, so the
 * logits agree with that path to float32 accumulation order (tested).
 *
 * The new token's key and value are written into `kv` at slot `kv.length`,
 * whose mask the caller has set; `kv.length` advances by one. Returns the
 * final-normed hidden states `[B, H]` (the caller owns the tensor).
 */
export function hostDecodeStep(
  config: ModelConfig,
  params: ModelParams,
  invFreq: Float32Array,
  ids: ArrayLike<number>,
  positions: ArrayLike<number>,
  kv: HostKVState,
): Tensor2D {
  const { numHeads: nh, numKvHeads: nkv, headDim: D, hiddenSize: H, intermediateSize: I, rmsNormEps: eps } = config;
  const B = ids.length;
  const t = kv.length;
  const S = t + 1;
  const cap = kv.capacity;
  const scale = Math.fround(1 / Math.sqrt(D));

  // Reused across steps: a step allocated ~10 arrays of B x H..2I floats, and
  // the garbage collector's work then took the second core from the other worker.
  // The arrays the kernel reads and writes are its memory's (`work`).
  // No closures here (a work-array helper, a per-layer callback): made on every
  // decode step, their optimised code went with them and was compiled again in
  // every RL step, in each worker.
  const kernel = kv.kernel;
  const W = (nh + 2 * nkv) * D;
  const half = D / 2;
  const x = embeddingRows(params.embed, ids, H, workArray(kv, "x", B * H));
  const cos = workArray(kv, "cos", B * half);
  const sin = workArray(kv, "sin", B * half);
  ropeTables(positions, invFreq, cos, sin);
  const h = workArray(kv, "h", B * H);
  const maskBias = workArray(kv, "bias", B * S);
  fillMaskBias(maskBias, kv.mask, B, S, cap);

  for (let l = 0; l < params.layers.length; l++) {
    const p = params.layers[l]!;
    const qkv = project(
      rmsNormRows(x, B, H, values(p.inputNorm), eps, h),
      B,
      p.qkv,
      p.qkvBias,
      workArray(kv, "qkv", B * W),
    );
    const qNorm = p.qNorm ? values(p.qNorm) : undefined;
    const kNorm = p.kNorm ? values(p.kNorm) : undefined;
    if (qNorm && kNorm) normHeads(qkv, B, nh, nkv, D, qNorm, kNorm, eps);
    rotateHeads(qkv, B, nh + nkv, nh + 2 * nkv, D, cos, sin);
    appendKv(qkv, kv.keys[l]!, kv.values[l]!, B, nh, nkv, D, cap, t);
    let attn: Float32Array;
    if (kernel) {
      kernelAttend(kernel, l, B, S, scale);
      attn = workArray(kv, "out", B * nh * D);
    } else attn = attendRows(qkv, kv.keys[l]!, kv.values[l]!, maskBias, B, S, nh, nkv, D, cap, scale);
    addInPlace(x, project(attn, B, p.o, p.oBias, workArray(kv, "o", B * H)));
    const gateUp = project(
      rmsNormRows(x, B, H, values(p.postNorm), eps, h),
      B,
      p.gateUp,
      undefined,
      workArray(kv, "gu", B * 2 * I),
    );
    let act: Float32Array;
    if (kernel && kernel.gu >= 0) {
      kernelSilu(kernel, B);
      act = workArray(kv, "act", B * I);
    } else act = siluGate(gateUp, B, I, workArray(kv, "act", B * I));
    addInPlace(x, project(act, B, p.down, undefined, workArray(kv, "o", B * H)));
  }
  kv.length = S;
  // A fresh array: the returned tensor may keep it (the cpu backend does), so no work array.
  return tf.tensor2d(rmsNormRows(x, B, H, values(params.finalNorm), eps, new Float32Array(B * H)), [B, H]);
}

/** The additive mask of `attentionBias`, (1 - mask) * -1e9, `[B, S]`: an all-padding row then attends uniformly, as there. */
function fillMaskBias(out: Float32Array, mask: Float32Array, B: number, S: number, cap: number): void {
  for (let b = 0; b < B; b++)
    for (let s = 0; s < S; s++) out[b * S + s] = Math.fround(Math.fround(1 - mask[b * cap + s]!) * -1e9);
}

/** Qwen3's per-head RMSNorm of the q heads (weight qNorm) and k heads (kNorm) of each row of `qkv`, in place. */
function normHeads(
  qkv: Float32Array,
  B: number,
  nh: number,
  nkv: number,
  D: number,
  qNorm: Float32Array,
  kNorm: Float32Array,
  eps: number,
): void {
  const W = (nh + 2 * nkv) * D;
  for (let b = 0; b < B; b++)
    for (let j = 0; j < nh + nkv; j++) normInPlace(qkv, b * W + j * D, D, j < nh ? qNorm : kNorm, eps);
}

/** RoPE (`applyRope`'s rotate_half) on the first `heads` heads of each row, in place; rows are `width` heads wide. */
function rotateHeads(
  qkv: Float32Array,
  B: number,
  heads: number,
  width: number,
  D: number,
  cos: Float32Array,
  sin: Float32Array,
): void {
  const half = D / 2;
  for (let b = 0; b < B; b++) {
    const r = b * half;
    for (let j = 0; j < heads; j++) {
      const o = (b * width + j) * D;
      for (let i = 0; i < half; i++) {
        const x1 = qkv[o + i]!;
        const x2 = qkv[o + half + i]!;
        const c = cos[r + i]!;
        const s = sin[r + i]!;
        qkv[o + i] = Math.fround(Math.fround(x1 * c) - Math.fround(x2 * s));
        qkv[o + half + i] = Math.fround(Math.fround(x2 * c) + Math.fround(x1 * s));
      }
    }
  }
}

/** Each row's new key and value heads into slot t of the cache `[B, nkv, cap, D]`. */
function appendKv(
  qkv: Float32Array,
  keys: Float32Array,
  vals: Float32Array,
  B: number,
  nh: number,
  nkv: number,
  D: number,
  cap: number,
  t: number,
): void {
  const W = (nh + 2 * nkv) * D;
  for (let b = 0; b < B; b++)
    for (let j = 0; j < nkv; j++) {
      const dst = ((b * nkv + j) * cap + t) * D;
      const k = b * W + (nh + j) * D;
      const v = b * W + (nh + nkv + j) * D;
      keys.set(qkv.subarray(k, k + D), dst);
      vals.set(qkv.subarray(v, v + D), dst);
    }
}

/**
 * SwiGLU's silu(gate) * up from the fused `[B, 2I]` projection: the kernel's
 * `silu` operation for operation (sigmoid in f64 from its exp of -|g|, then
 * rounded as `swiglu` rounds), for where the kernel is not available.
 */
export function siluGate(gateUp: Float32Array, B: number, I: number, act: Float32Array): Float32Array {
  for (let b = 0; b < B; b++) {
    const o = b * 2 * I;
    for (let i = 0; i < I; i++) {
      const gate = gateUp[o + i]!;
      const e = kernelExp(-Math.abs(gate));
      const sig = Math.fround((gate >= 0 ? 1 : e) / (1 + e));
      act[b * I + i] = Math.fround(Math.fround(gate * sig) * gateUp[o + I + i]!);
    }
  }
  return act;
}

/**
 * The attention kernel's arithmetic in JS, operation for operation (float32
 * rounding after every f32 step, four lanes of dot products summed as the
 * kernel sums them, its exp polynomial), for where the kernel is not
 * available: no WebAssembly SIMD, or a cache too large for its memory. The
 * same rows then give the same bits on either side, so the sampled tokens do
 * not depend on which one a batch's size chose (tested). Head sizes that are
 * not a multiple of 4 (never the kernel) use the same lanes, d mod 4.
 */
export function attendRows(
  qkv: Float32Array,
  keys: Float32Array,
  vals: Float32Array,
  maskBias: Float32Array,
  B: number,
  S: number,
  nh: number,
  nkv: number,
  D: number,
  cap: number,
  scale: number,
): Float32Array {
  const f = Math.fround;
  const W = (nh + 2 * nkv) * D;
  const g = nh / nkv;
  const attn = new Float32Array(B * nh * D);
  const tmp = new Float64Array(S);
  const lanes = new Float32Array(4);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      const q = b * W + h * D;
      const base = (b * nkv + Math.floor(h / g)) * cap * D;
      let max = Number.NEGATIVE_INFINITY;
      for (let s = 0; s < S; s++) {
        const k = base + s * D;
        lanes.fill(0);
        for (let d = 0; d < D; d++) lanes[d & 3] = f(lanes[d & 3]! + f(qkv[q + d]! * keys[k + d]!));
        const dot = f(f(lanes[0]! + lanes[1]!) + f(lanes[2]! + lanes[3]!));
        const score = f(f(dot * scale) + maskBias[b * S + s]!);
        tmp[s] = score;
        if (score > max) max = score;
      }
      let sum = 0;
      for (let s = 0; s < S; s++) {
        const e = kernelExp(tmp[s]! - max);
        tmp[s] = e;
        sum += e;
      }
      const out = (b * nh + h) * D;
      for (let s = 0; s < S; s++) {
        const pr = f(tmp[s]! / sum);
        const v = base + s * D;
        for (let d = 0; d < D; d++) attn[out + d] = f(attn[out + d]! + f(pr * vals[v + d]!));
      }
    }
  }
  return attn;
}

/** attention.wat's `$exp` (and `$exp2`, lane by lane): x = n ln2 + r, a degree-9 Taylor polynomial of e^r, times 2^n (f64, x <= 0). */
function kernelExp(x: number): number {
  if (x < -708) return 0;
  const y = x * Math.LOG2E;
  // f64.nearest rounds half to even; Math.round rounds half up.
  const n = Math.abs(y % 1) === 0.5 ? 2 * Math.round(y / 2) : Math.round(y);
  const r = x - n * 0.6931471803691238 - n * 1.9082149292705877e-10;
  let p = 2.7557319223985893e-6;
  for (const c of EXP_COEFFS) p = p * r + c;
  return p * 2 ** n;
}

const EXP_COEFFS = [
  2.48015873015873e-5, 0.0001984126984126984, 0.001388888888888889, 0.008333333333333333, 0.041666666666666664,
  0.16666666666666666, 0.5, 1, 1,
];

/** A small tensor's values, copied (a wasm heap view would not outlive the next tensor made). */
function values(t: Tensor): Float32Array {
  return (hostView(t) as Float32Array).slice();
}

function embeddingRows(table: Tensor, ids: ArrayLike<number>, H: number, out: Float32Array): Float32Array {
  const src = hostView(table) as Float32Array;
  for (let b = 0; b < ids.length; b++) out.set(src.subarray(ids[b]! * H, (ids[b]! + 1) * H), b * H);
  return out;
}

/** cos and sin of position x frequency, `[B, D/2]` each; the angle rounded to float32 as the tensor path's product is. */
function ropeTables(positions: ArrayLike<number>, invFreq: Float32Array, cos: Float32Array, sin: Float32Array): void {
  const half = invFreq.length;
  for (let b = 0; b < positions.length; b++)
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(positions[b]! * invFreq[i]!);
      cos[b * half + i] = Math.cos(angle);
      sin[b * half + i] = Math.sin(angle);
    }
}

/** RMSNorm of each of `rows` rows of width n: x / sqrt(mean(x^2) + eps) * w, rounded as `rmsNorm` (layers.ts) rounds. */
function rmsNormRows(
  x: Float32Array,
  rows: number,
  n: number,
  w: Float32Array,
  eps: number,
  out: Float32Array,
): Float32Array {
  out.set(x);
  for (let r = 0; r < rows; r++) normInPlace(out, r * n, n, w, eps);
  return out;
}

function normInPlace(x: Float32Array, offset: number, n: number, w: Float32Array, eps: number): void {
  let ss = 0;
  for (let i = 0; i < n; i++) ss += Math.fround(x[offset + i]! * x[offset + i]!);
  const r = Math.fround(1 / Math.sqrt(Math.fround(Math.fround(ss / n) + Math.fround(eps))));
  for (let i = 0; i < n; i++) x[offset + i] = Math.fround(Math.fround(x[offset + i]! * r) * w[i]!);
}

function addInPlace(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i]! + y[i]!);
}

/** `x @ w (+ b)` for host rows `[rows, in]` into `out`: one tfjs matmul (XNNPACK on wasm), read back at once. */
function project(x: Float32Array, rows: number, w: Tensor, b: Tensor | undefined, out: Float32Array): Float32Array {
  const y = tf.tidy(() => tf.matMul(tf.tensor2d(x, [rows, w.shape[0]!]), w as Tensor2D));
  try {
    out.set(hostView(y) as Float32Array);
  } finally {
    y.dispose();
  }
  if (b) {
    const bias = values(b);
    const n = bias.length;
    for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i]! + bias[i % n]!);
  }
  return out;
}

/**
 * A named work array of `length` floats: the kernel memory's region of that
 * name when there is one, else one kept on the cache's state (reallocated
 * when too short, never shrunk).
 */
function workArray(kv: HostKVState, name: string, length: number): Float32Array {
  const have = kv.kernel?.work.get(name) ?? kv.scratch.get(name);
  if (have && have.length >= length) return have.length === length ? have : have.subarray(0, length);
  const next = new Float32Array(length);
  kv.scratch.set(name, next);
  return next;
}
