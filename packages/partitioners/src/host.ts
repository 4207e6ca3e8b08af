import { tf } from "@tokenrl/core";

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
