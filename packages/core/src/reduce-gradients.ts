import { tf } from "./tf.js";
import type { Tensor } from "./tf.js";

/** `dy` reshaped to `x`'s rank (1 on the reduced axes), times ones of `x`'s shape made by the backend's Fill. */
function expand(dy: Tensor, x: Tensor, axis: unknown): Tensor {
  const axes = tf.util.parseAxisParam(axis as number | number[], x.shape);
  const expandedShape = x.shape.slice();
  for (const a of axes) expandedShape[a] = 1;
  return tf.mul(tf.reshape(dy, expandedShape), tf.fill(x.shape, 1, "float32"));
}

/**
 * Re-registers the gradients of `Sum` and `Mean` as tfjs-core 4.22 defines
 * them, op for op (so the same bits), except that their tensor of ones comes
 * from the backend's `Fill` instead of `tf.ones`. Why: `tf.ones` builds the
 * ones in a new JS array and copies it into the backend; for the demo model
 * (RMSNorm's mean over every hidden row, 5 norms x 2 mini-batches) that was
 * 22 MB of JS arrays per RL step, memory outside V8's heap that starts full
 * garbage collections. wasm's `Fill` writes them in its heap. Idempotent.
 */
export function reduceGradientsWithFill(): void {
  if ((tf.getGradient("Sum") as { filled?: boolean } | undefined)?.filled) return;
  const sum: tf.GradConfig & { filled: boolean } = {
    kernelName: "Sum",
    inputsToSave: ["x"],
    filled: true,
    gradFunc: (dy, saved, attrs) => {
      const derX = expand(dy as Tensor, saved[0]!, attrs!.axis);
      return { x: () => derX };
    },
  };
  const mean: tf.GradConfig & { filled: boolean } = {
    kernelName: "Mean",
    inputsToSave: ["x"],
    filled: true,
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0]!;
      const axes = tf.util.parseAxisParam(attrs!.axis as number | number[], x.shape);
      const reduceSize = tf.util.sizeFromShape(tf.backend_util.computeOutAndReduceShapes(x.shape, axes)[1]);
      return { x: () => tf.div(expand(dy as Tensor, x, attrs!.axis), reduceSize) };
    },
  };
  tf.registerGradient(sum);
  tf.registerGradient(mean);
}
