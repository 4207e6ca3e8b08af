import { tf } from "@tokenrl/core";
import type { Scalar, Tensor2D, TrainingBatch } from "@tokenrl/core";
import type { ObjectiveResult } from "./objective.js";

export interface LossAndGrad {
  loss: Scalar;
  /** d loss / d logProbs, `[B, T]`. */
  grad: Tensor2D;
  metrics: Record<string, Scalar>;
}

/**
 * Runs `objective` on `batch` with `batch.logProbs` as the variable and
 * returns the loss, d loss / d logProbs and the metrics from the same pass
 * (metrics are kept out of the gradient tape's tidy). The caller disposes
 * all three. This is how tests, the conformance runner and the benchmark
 * take gradients; a trainer differentiates through the model instead.
 */
export function lossAndGrad(objective: (batch: TrainingBatch) => ObjectiveResult, batch: TrainingBatch): LossAndGrad {
  let metrics: Record<string, Scalar> = {};
  const f = (logProbs: Tensor2D): Scalar => {
    const result = objective({ ...batch, logProbs });
    for (const t of Object.values(result.metrics)) tf.keep(t);
    metrics = result.metrics;
    return result.loss;
  };
  const { value, grad } = tf.valueAndGrad(f)(batch.logProbs!);
  return { loss: value, grad: grad as Tensor2D, metrics };
}
