import { overrideKernel } from "./kernel-override.js";
import type { tf } from "./tf.js";

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/**
 * Makes `Identity` (what `tf.clone` runs) share its input's data on
 * `backendName` instead of copying it, as tfjs-backend-cpu's does. Tensor
 * data is immutable in tfjs (a variable's `assign` swaps in new data), and
 * the backend counts references per data id (its `Reshape` already shares
 * this way), so a shared clone is indistinguishable from a copy. Why: with
 * the gradient tape on, tfjs-core clones every tensor a gradient saves, and
 * tfjs-backend-wasm 4.22's Identity copies it; for the demo model's training
 * step that was 188 copies (every saved attention matrix among them) and
 * half of the step's 247 MB peak. String tensors keep the backend's own kernel.
 * Idempotent; a backend without the kernel or without reference counts is
 * left alone.
 */
export function shareIdentityData(backendName: string): void {
  overrideKernel("Identity", backendName, "shared", (own) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const backend = args.backend as unknown as Partial<RefCountingBackend>;
    if (x.dtype === "string" || typeof backend.incRef !== "function") return own.kernelFunc(args);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}
