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
