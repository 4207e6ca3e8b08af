import { tf, wasmHeap } from "@tokenrl/core";
import type { Tensor, Tensor3D, WasmMemoryLike } from "@tokenrl/core";
import { BATCHED_MATMUL_WASM } from "./kernels/batched-matmul-wasm.js";

/**
 * Batched products `[G, M, K] x [G, K, N]` (attention's scores and weighted
 * values, forward and backward) in a hand-written WebAssembly SIMD kernel
 * (`kernels/batched-matmul.wat`). tfjs-backend-wasm 4.22 has no fast batched
 * matmul: its own kernel is a naive loop, and the depthwise-convolution form
 * `matMul` used instead ran at 2.8-4.1 GFLOP/s here, half of it in the
 * transposes around the convolution (G = 128, M = 200, K = 16-200, N = 16-100:
 * attention of the demo model's mini-batch). The kernel runs on the tensors
 * where they are, in the wasm backend's heap (core's `wasmHeap`).
 */

/** The part of the WebAssembly JS API used here (the package's TS lib has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

type Bmm = (...args: number[]) => void;

const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
let compiled: object | null | undefined;
/** The kernel bound to the wasm backend's heap memory (a new backend instance has a new memory; the last one is kept). */
let bound: { memory: WasmMemoryLike; bmm: Bmm } | undefined;

/** The kernel's entry point over `memory`, or undefined where it cannot be compiled (no WebAssembly or no SIMD). */
function bmmFor(memory: WasmMemoryLike): Bmm | undefined {
  if (compiled === undefined) {
    try {
      compiled = wasm ? new wasm.Module(Uint8Array.from(atob(BATCHED_MATMUL_WASM), (c) => c.charCodeAt(0))) : null;
    } catch {
      compiled = null;
    }
  }
  if (!compiled || !wasm) return undefined;
  if (bound?.memory !== memory)
    bound = { memory, bmm: new wasm.Instance(compiled, { env: { memory } }).exports.bmm as Bmm };
  return bound.bmm;
}

/**
 * `op(a) @ op(b)` for float32 `[G, ., .]` tensors on the wasm backend, computed
 * by the kernel in the backend's own heap (no copies: a transposed `a` is read
 * through strides; a transposed `b`, attention's keys and values, is
 * transposed first). Undefined when the kernel cannot take the product (other
 * backend, no SIMD, batch or inner sizes that differ); the caller falls back.
 * No gradient.
 */
export function kernelBatchedMatMul(
  a: Tensor,
  b: Tensor,
  transposeA = false,
  transposeB = false,
): Tensor3D | undefined {
  if (a.rank !== 3 || b.rank !== 3 || a.dtype !== "float32" || b.dtype !== "float32") return undefined;
  const heap = wasmHeap();
  const bmm = heap ? bmmFor(heap.memory) : undefined;
  if (!heap || !bmm) return undefined;
  const [G, a1, a2] = a.shape as [number, number, number];
  const [Gb, b1, b2] = b.shape as [number, number, number];
  const [M, K] = transposeA ? [a2, a1] : [a1, a2];
  const [Kb, N] = transposeB ? [b2, b1] : [b1, b2];
  if (G !== Gb || K !== Kb) return undefined;
  const bn = transposeB ? tf.transpose(b, [0, 2, 1]) : b;
  let c: Tensor3D | undefined;
  try {
    c = heap.output([G, M, N]) as Tensor3D;
    // a[g, m, k] at g aG + m aM + k aK: stored [G, M, K], or [G, K, M] when transposed.
    const [aM, aK] = transposeA ? [1, M] : [K, 1];
    if (G * M * N > 0) bmm(G, M, K, N, heap.offset(a), M * K, aM, aK, heap.offset(bn), heap.offset(c));
    return c;
  } catch (err) {
    c?.dispose();
    throw err;
  } finally {
    if (bn !== b) bn.dispose();
  }
}

/** Whether this thread can run the kernel (else `matMul` keeps the depthwise form). */
export function batchedKernelAvailable(): boolean {
  const heap = wasmHeap();
  return heap !== undefined && bmmFor(heap.memory) !== undefined;
}
