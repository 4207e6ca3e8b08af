import { describe, expect, it } from "vitest";
import { tf, useBackend } from "../src/index.js";

// A fixed generator, so a failure names a reproducible case.
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Case {
  shape: number[];
  begin: number[];
  size: number[];
  dtype: "float32" | "int32" | "bool";
}

function cases(count: number): Case[] {
  const rand = lcg(7);
  const int = (n: number) => Math.floor(rand() * n);
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    const rank = 1 + int(5);
    const shape = Array.from({ length: rank }, () => 1 + int(5));
    const begin = shape.map((d) => int(d));
    // Every third case keeps whole trailing axes, so the contiguous path is covered too; -1 means "to the end".
    const size = shape.map((d, a) => (i % 3 === 0 && a > 0 ? d : rand() < 0.2 ? -1 : 1 + int(d - begin[a]!)));
    if (i % 3 === 0) for (let a = 1; a < rank; a++) begin[a] = 0;
    out.push({ shape, begin, size, dtype: (["float32", "int32", "bool"] as const)[i % 3]! });
  }
  return out;
}

function input(c: Case): tf.Tensor {
  const n = c.shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, (_, k) =>
    c.dtype === "bool" ? k % 3 === 0 : c.dtype === "int32" ? k - 7 : k * 0.5 - 3,
  );
  return tf.tensor(values as number[], c.shape, c.dtype);
}

async function on<T>(backend: "wasm" | "cpu", f: () => T): Promise<T> {
  await useBackend(backend);
  tf.engine().startScope();
  try {
    return f();
  } finally {
    tf.engine().endScope();
  }
}

/** Calls of the wasm backend's readSync (the whole-input copy out of the heap the old kernels made) during f. */
function readsDuring(f: () => void): number {
  const backend = tf.backend() as unknown as { readSync: (...a: unknown[]) => unknown };
  const own = backend.readSync;
  let reads = 0;
  backend.readSync = function (this: unknown, ...a: unknown[]) {
    reads++;
    return own.apply(this, a);
  };
  try {
    f();
  } finally {
    backend.readSync = own;
  }
  return reads;
}

describe("slices copy inside the wasm heap", () => {
  it("tf.slice gives the cpu backend's values for 60 windows of rank 1-5 and every dtype", async () => {
    for (const c of cases(60)) {
      const want = await on("cpu", () => Array.from(tf.slice(input(c), c.begin, c.size).dataSync()));
      const got = await on("wasm", () => {
        const y = tf.slice(input(c), c.begin, c.size);
        return { values: Array.from(y.dataSync()), dtype: y.dtype };
      });
      expect(got.values, JSON.stringify(c)).toEqual(want);
      expect(got.dtype).toBe(c.dtype);
    }
  });

  it("tf.split (equal and sized) and tf.unstack give the cpu backend's pieces on every axis", async () => {
    const shape = [3, 4, 6];
    const run = () => {
      const x = tf.reshape(tf.range(0, 72, 1, "float32"), shape);
      const pieces: tf.Tensor[] = [];
      for (let axis = 0; axis < 3; axis++) {
        pieces.push(...tf.split(x, [1, shape[axis]! - 1], axis));
        pieces.push(...tf.unstack(x, axis));
      }
      pieces.push(...tf.split(x, 2, -1), ...tf.split(x, [2, -1, 1], 2));
      return pieces.map((p) => ({ shape: p.shape, values: Array.from(p.dataSync()) }));
    };
    const want = await on("cpu", run);
    const got = await on("wasm", run);
    expect(got).toEqual(want);
  });

  it("no slice, split or unstack reads its input out of the heap, and none leaks", async () => {
    await useBackend("wasm");
    const x = tf.randomNormal([8, 16, 32]);
    const before = tf.memory().numTensors;
    const reads = readsDuring(() => {
      tf.dispose(tf.split(x, [8, 24], 2));
      tf.dispose(tf.split(x, 4, 0));
      tf.dispose(tf.unstack(x, 1));
      tf.dispose(tf.slice(x, [1, 2, 3], [3, 4, 5]));
      tf.dispose(tf.slice(x, [2, 0, 0], [3, -1, -1]));
    });
    expect(reads).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it("the split's gradient (a concat of the pieces' gradients) is unchanged", async () => {
    const grad = () => {
      const x = tf.reshape(tf.range(0, 24, 1, "float32"), [2, 3, 4]);
      const g = tf.grad((t: tf.Tensor) => {
        const [a, b] = tf.split(t, [1, 3], 2) as [tf.Tensor, tf.Tensor];
        return tf.add(tf.sum(tf.mul(a, 2)), tf.sum(tf.square(b)));
      })(x);
      return Array.from(g.dataSync());
    };
    expect(await on("wasm", grad)).toEqual(await on("cpu", grad));
  });

  it("installing twice keeps one override", async () => {
    const { sliceInHeap } = await import("../src/index.js");
    sliceInHeap("wasm");
    sliceInHeap("wasm");
    const k = tf.getKernel("SplitV", "wasm") as unknown as { inHeap?: boolean };
    expect(k.inHeap).toBe(true);
  });
});
