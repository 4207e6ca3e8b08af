import { tf } from "./tf.js";

/**
 * Replaces `name`'s kernel on `backendName` with the one `wrap` makes from
 * the backend's own (which it may call for cases it leaves alone), once:
 * the replacement carries `marker: true`, so a second call does nothing, as
 * does a backend without the kernel.
 */
export function overrideKernel(
  name: string,
  backendName: string,
  marker: string,
  wrap: (own: tf.KernelConfig) => tf.KernelFunc,
): void {
  const own = tf.getKernel(name, backendName);
  if (!own || (own as unknown as Record<string, unknown>)[marker] === true) return;
  const kernel: tf.KernelConfig = { kernelName: name, backendName, kernelFunc: wrap(own), [marker]: true };
  tf.unregisterKernel(name, backendName);
  tf.registerKernel(kernel);
}
