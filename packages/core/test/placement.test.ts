import { afterAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../../tooling/test-utils/backends.js";
import {
  backendCopiesHostArrays,
  backendFamily,
  hostView,
  kernelPath,
  kernelPathChoice,
  setKernelPath,
  tf,
  useBackend,
  wasmHeap,
  writeTensor,
} from "../src/index.js";

describe.each(TEST_BACKENDS)("kernel placement on %s", (backend) => {
  afterAll(() => setKernelPath("auto"));

  it("host memory backends take the host path unless pinned; the pin is process-wide and reversible", async () => {
    await useBackend(backend);
    expect(backendFamily()).toBe(backend);
    expect(kernelPath()).toBe("host");
    setKernelPath("tensor");
    expect(kernelPathChoice()).toBe("tensor");
    expect(kernelPath()).toBe("tensor");
    setKernelPath("auto");
    expect(kernelPath()).toBe("host");
    expect(() => setKernelPath("gpu" as never)).toThrow(/expected "auto", "host" or "tensor"/);
  });

  it("hostView reads a tensor's values where they live (wasm copies host arrays in, cpu keeps them)", async () => {
    await useBackend(backend);
    const t = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    expect(Array.from(hostView(t))).toEqual([1, 2, 3, 4]);
    expect(backendCopiesHostArrays()).toBe(backend === "wasm");
    t.dispose();
  });
});

describe.each(TEST_BACKENDS)("writeTensor on %s", (backend) => {
  it("makes a tensor of the values written, for every host dtype, with the context passed through", async () => {
    await useBackend(backend);
    tf.engine().startScope();
    const t = writeTensor([2, 2], "float32", (out, c: number) => out.set([c, 2, 3, 4]), 1.5);
    expect(t.shape).toEqual([2, 2]);
    expect(Array.from(t.dataSync())).toEqual([1.5, 2, 3, 4]);
    const i = writeTensor([3], "int32", (out) => out.set([-1, 0, 7]), null);
    expect(i.dtype).toBe("int32");
    expect(Array.from(i.dataSync())).toEqual([-1, 0, 7]);
    const b = writeTensor([2], "bool", (out) => out.set([1, 0]), null);
    expect(Array.from(b.dataSync())).toEqual([1, 0]);
    tf.engine().endScope();
  });

  it("reads inputs through views taken in the writer, and a throwing writer leaks nothing", async () => {
    await useBackend(backend);
    const x = tf.tensor1d([1, 2, 3, 4]);
    const before = tf.memory().numTensors;
    const double = (out: Float32Array | Int32Array | Uint8Array, from: tf.Tensor) => {
      const v = hostView(from);
      for (let i = 0; i < out.length; i++) out[i] = v[i]! * 2;
    };
    const t = writeTensor([4], "float32", double, x);
    expect(Array.from(t.dataSync())).toEqual([2, 4, 6, 8]);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([t, x]);
    const n = tf.memory().numTensors;
    expect(() =>
      writeTensor(
        [4],
        "float32",
        () => {
          throw new RangeError("bad row");
        },
        null,
      ),
    ).toThrow(RangeError);
    expect(tf.memory().numTensors).toBe(n);
  });
});

describe("wasmHeap", () => {
  it("gives the wasm heap's memory, tensor offsets in it and writable outputs; nothing on cpu", async () => {
    await useBackend("wasm");
    const heap = wasmHeap()!;
    const t = tf.tensor1d([1.5, -2, 3]);
    const at = heap.offset(t) / 4;
    expect(Array.from(new Float32Array(heap.memory.buffer).subarray(at, at + 3))).toEqual([1.5, -2, 3]);
    const before = tf.memory().numTensors;
    const out = heap.output([2, 2]);
    expect(tf.memory().numTensors).toBe(before + 1);
    const o = heap.offset(out) / 4;
    new Float32Array(heap.memory.buffer).set([4, 3, 2, 1], o);
    expect(await out.array()).toEqual([
      [4, 3],
      [2, 1],
    ]);
    const ints = tf.tensor1d([1], "int32");
    expect(() => heap.offset(ints)).toThrow(/no float32 data/);
    tf.dispose([t, out, ints]);
    expect(() => heap.offset(t)).toThrow(/no float32 data/);
    await useBackend("cpu");
    expect(wasmHeap()).toBeUndefined();
  });
});
