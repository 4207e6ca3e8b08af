import { tf } from "./tf.js";
import type { Tensor } from "./tf.js";

/**
 * Where a computation runs: the one place every package asks.
 *
 * On the wasm and cpu backends tensors live in host memory, so reading one is
 * a view or a copy of host memory, and a fused loop in JS (a loss with its
 * analytic gradient, a per-row selection, sampling from one read of the
 * logits) beats a chain of small tensor kernels. On any other backend (native
 * tensorflow, GPU) the tensor ops run, so nothing forces a device-to-host
 * copy. A package with a host kernel and an op chain asks `kernelPath()`; a
 * formulation that only suits one backend's kernels (wasm's matmul fast path)
 * asks `backendFamily()`.
 */
export type KernelPath = "host" | "tensor";

/** "auto" follows the backend; "host" / "tensor" pin the path (tests compare the two). */
export type KernelChoice = "auto" | KernelPath;

/** The backend kinds whose kernels differ in ways a formulation cares about. */
export type BackendFamily = "wasm" | "cpu" | "native" | "other";

let choice: KernelChoice = "auto";

/** Pins the kernel path for the whole process ("auto" restores the backend's default). */
export function setKernelPath(value: KernelChoice): void {
  if (value !== "auto" && value !== "host" && value !== "tensor") {
    throw new TypeError(`setKernelPath: expected "auto", "host" or "tensor", got ${String(value)}`);
  }
  choice = value;
}

/** The pinned choice ("auto" unless `setKernelPath` pinned one). */
export function kernelPathChoice(): KernelChoice {
  return choice;
}

/** The family of the active backend (`tensorflow` is the native tfjs-node / tfjs-node-gpu backend). */
export function backendFamily(): BackendFamily {
  const name = tf.getBackend();
  if (name === "wasm" || name === "cpu") return name;
  if (name === "tensorflow") return "native";
  return "other";
}

/** "host" where tensors live in host memory (wasm, cpu) or when pinned; "tensor" elsewhere. */
export function kernelPath(): KernelPath {
  if (choice !== "auto") return choice;
  const family = backendFamily();
  return family === "wasm" || family === "cpu" ? "host" : "tensor";
}

/** A tensor's values as a host array (float32, int32 or bool storage). */
export type HostArray = Float32Array | Int32Array | Uint8Array;

interface WasmHeapBackend {
  typedArrayFromHeap(info: { dataId: object; shape: number[]; dtype: string }): HostArray;
  dataIdMap: { has(dataId: object): boolean };
}

function isWasmHeap(backend: Partial<WasmHeapBackend>): backend is WasmHeapBackend {
  return typeof backend.typedArrayFromHeap === "function";
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

/**
 * Whether the current backend copies a host array into its own memory when
 * a tensor is made from it (wasm: into the wasm heap), so the array can be
 * reused afterwards. The cpu backend keeps the array itself.
 */
export function backendCopiesHostArrays(): boolean {
  return isWasmHeap(tf.backend() as unknown as Partial<WasmHeapBackend>);
}

/** The WebAssembly memory as a kernel module imports it (the package's TS lib has no DOM types). */
export interface WasmMemoryLike {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/**
 * The wasm backend's heap, for a kernel of another package that computes on
 * tensors where they live: the heap's WebAssembly memory (a kernel module
 * imports it, so it sees the heap grow), each tensor's byte offset in it, and
 * new uninitialised float32 tensors for the kernel's outputs. The kernel must
 * finish before the next tfjs op (which may grow the heap and move nothing,
 * but reuse freed memory). Undefined off the wasm backend, or when tfjs's
 * internals are not the ones this was written against (tfjs-backend-wasm 4.x).
 */
export interface WasmHeap {
  readonly memory: WasmMemoryLike;
  /** Byte offset of a float32 tensor's data in the heap. */
  offset(t: Tensor): number;
  /** A new float32 tensor whose data the caller writes (allocated, not cleared). */
  output(shape: number[]): Tensor;
}

interface WasmBackendInternals {
  wasm: { asm?: { memory?: unknown } };
  dataIdMap: { has(dataId: object): boolean; get(dataId: object): { memoryOffset: number | null } | undefined };
  makeOutput<D extends HostDtype>(shape: number[], dtype: D): { dataId: object; shape: number[]; dtype: D };
}

export function wasmHeap(): WasmHeap | undefined {
  if (backendFamily() !== "wasm") return undefined;
  const backend = tf.backend() as unknown as Partial<WasmBackendInternals>;
  const memory = backend.wasm?.asm?.memory as Partial<WasmMemoryLike> | undefined;
  if (!memory || !(memory.buffer instanceof ArrayBuffer) || typeof memory.grow !== "function") return undefined;
  if (typeof backend.makeOutput !== "function" || !backend.dataIdMap) return undefined;
  const b = backend as WasmBackendInternals;
  return {
    memory: memory as WasmMemoryLike,
    offset(t) {
      const offset =
        t.dtype === "float32" && !t.isDisposed && b.dataIdMap.has(t.dataId)
          ? b.dataIdMap.get(t.dataId)?.memoryOffset
          : undefined;
      if (offset === undefined || offset === null)
        throw new TypeError(`wasmHeap: tensor ${t.id} (${t.dtype}) has no float32 data in the wasm heap`);
      return offset;
    },
    output(shape) {
      return tf.engine().makeTensorFromTensorInfo(b.makeOutput(shape, "float32")) as Tensor;
    },
  };
}

/** The dtypes whose values a host array holds. */
export type HostDtype = "float32" | "int32" | "bool";

const HOST_ARRAYS = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as const;

/**
 * A new tensor of `shape` whose values `write` fills, all of them. On wasm
 * `write` gets a view of the new tensor's own heap memory (allocated first,
 * not cleared), so the values are neither staged in a JS array nor copied
 * into the heap; elsewhere a new host array that becomes the tensor. `write`
 * takes its input views (`hostView`) itself, after the allocation, and makes
 * no tensor (an allocation may grow the heap and detach the views). Why: a
 * host kernel's output staged in a new JS array is memory outside V8's heap,
 * and at the demo's 60 MB a step it started a full mark-compact in each
 * worker every 100-200 ms. `write` gets `context` as its second argument, so
 * that a hot caller can pass a module-level function rather than a closure
 * made on each call (V8 recompiled such closures' loops on every RL step).
 * If `write` throws, the tensor is disposed.
 */
export function writeTensor<C>(
  shape: number[],
  dtype: HostDtype,
  write: (out: HostArray, context: C) => void,
  context: C,
): Tensor {
  const backend = tf.backend() as unknown as Partial<WasmBackendInternals> & Partial<WasmHeapBackend>;
  if (backendFamily() === "wasm" && typeof backend.makeOutput === "function" && isWasmHeap(backend)) {
    const t = tf.engine().makeTensorFromTensorInfo(backend.makeOutput(shape, dtype)) as Tensor;
    try {
      write(backend.typedArrayFromHeap(t), context);
    } catch (e) {
      t.dispose();
      throw e;
    }
    return t;
  }
  const out = new HOST_ARRAYS[dtype](tf.util.sizeFromShape(shape));
  write(out, context);
  return tf.tensor(out, shape, dtype);
}
