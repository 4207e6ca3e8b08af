import { NonFiniteError } from "@tokenrl/base/errors";
import { tf } from "./tf.js";
import type { Tensor } from "./tf.js";

/** Number of NaN or Inf entries (reads one scalar back from the device). */
export function countNonFinite(t: Tensor): number {
  const n = tf.tidy(() => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(t)), "int32")));
  const count = n.dataSync()[0]!;
  n.dispose();
  return count;
}

/** Throws a NonFiniteError naming `field` when `t` holds NaN or Inf: reported, never trained on. */
export function assertFinite(t: Tensor, field: string): void {
  const count = countNonFinite(t);
  if (count > 0) throw new NonFiniteError(field, count, t.size);
}

/** The same check for plain numbers (rewards, scores). */
export function assertFiniteNumbers(values: ArrayLike<number>, field: string): void {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) count++;
  if (count > 0) throw new NonFiniteError(field, count, values.length);
}
