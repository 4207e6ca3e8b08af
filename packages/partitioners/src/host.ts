import { tf } from "@tokenrl/core";
import type { Tensor } from "@tokenrl/core";

/**
 * Whether partitions run as host (JS) kernels: on the wasm and cpu backends
 * tensors live in host memory, so reading them is a copy, and a per-row loop
 * beats a device sort (tfjs `topk` over a 2048-wide row is slow there). On
 * any other backend (native tensorflow, GPU) the tensor ops run instead, so
 * nothing forces a device-to-host copy. `setHostKernels` pins the choice
 * (tests compare the two).
 */
export type KernelChoice = "auto" | "host" | "tensor";
let choice: KernelChoice = "auto";

export function setHostKernels(value: KernelChoice): void {
  choice = value;
}

export function useHostKernels(): boolean {
  if (choice !== "auto") return choice === "host";
  const backend = tf.getBackend();
  return backend === "wasm" || backend === "cpu";
}

/** A tensor's values as a host array (float32, int32 or bool storage). */
export type HostArray = Float32Array | Int32Array | Uint8Array;

interface WasmHeapBackend {
  typedArrayFromHeap(info: { dataId: object; shape: number[]; dtype: string }): HostArray;
  dataIdMap: { has(dataId: object): boolean };
}

/**
 * A tensor's values, read where they live without a copy when possible: on
 * wasm a view of the wasm heap (`typedArrayFromHeap`, what tfjs-wasm's own JS
 * kernels use), on cpu the backend's own array (`dataSync` returns it as is);
 * otherwise a `dataSync` copy. Read-only. A wasm heap view is valid only until
 * the next wasm allocation (a growing heap detaches it), so host kernels take
 * their views, finish reading, and only then create tensors; they never keep a view.
 */
export function hostView(t: Tensor): HostArray {
  const backend = tf.backend() as unknown as Partial<WasmHeapBackend>;
  if (isWasmHeap(backend) && backend.dataIdMap?.has(t.dataId)) {
    return backend.typedArrayFromHeap(t);
  }
  return t.dataSync() as HostArray;
}

function isWasmHeap(backend: Partial<WasmHeapBackend>): backend is WasmHeapBackend {
  return typeof backend.typedArrayFromHeap === "function";
}

/**
 * Whether the current backend copies a host array into its own memory when
 * a tensor is made from it (wasm: into the wasm heap), so the array can be
 * reused afterwards. The cpu backend keeps the array itself.
 */
export function backendCopiesHostArrays(): boolean {
  return isWasmHeap(tf.backend() as unknown as Partial<WasmHeapBackend>);
}
