import { backendCopiesHostArrays, hostView, tf } from "@tokenrl/core";
import { aggregateOptions, logProbsOf } from "../objective.js";
import type { ObjectiveContext, ObjectiveResult } from "../objective.js";
import type {
  AggregateOptions,
  AggregationMode,
  HostArray,
  Scalar,
  Tensor,
  Tensor2D,
  TrainingBatch,
} from "@tokenrl/core";

/**
 * Host (JS) loss kernels for the wasm and cpu backends, where tensors live
 * in host memory: one pass over the tokens computes the loss, its analytic
 * gradient with respect to logProbs and the metrics, in place of a chain of
 * 20-odd tensor ops and their autograd. `hostLoss` wraps a kernel in
 * `tf.customGrad`, so callers differentiate it like any op. On other
 * backends the objectives use their op chains (see core's `kernelPath`).
 */

/**
 * A kernel's view of one call: the host copies it reads, the aggregation
 * coefficient of each row, and the gradient it fills.
 */
export type { HostArray };

export interface KernelIO {
  B: number;
  T: number;
  logProbs: Float32Array;
  mask: HostArray;
  /** Per-row aggregation coefficient c_i (see `rowCoefficients`). */
  coef: Float64Array;
  /** d loss / d logProbs to fill: `c_i m_it d(L_it)/d logp_it` on valid tokens, 0 elsewhere. */
  grad: Float32Array;
}

/** What a kernel returns: the aggregated loss `sum_i c_i sum_t m_it L_it` and its metrics. */
export interface KernelOutput {
  loss: number;
  metrics: Record<string, number>;
}

/**
 * Per-row coefficients c_i with `aggregate(L) = sum_i c_i sum_t m_it L_it`
 * (m the mask value where mask > 0), matching core's `aggregateLoss` in every mode.
 */
export function rowCoefficients(
  mask: HostArray,
  B: number,
  T: number,
  mode: AggregationMode,
  options: AggregateOptions = {},
): Float64Array {
  const coef = new Float64Array(B);
  const rowTokens = new Float64Array(B);
  let tokens = 0;
  let rows = 0;
  for (let i = 0; i < B; i++) {
    const s = validSum(mask, i * T, i * T + T);
    rowTokens[i] = s;
    tokens += s;
    if (s > 0) rows++;
  }
  const seqRows = Math.max(options.globalSequenceCount ?? rows, 1);
  const tokenMean = 1 / Math.max(options.globalTokenCount ?? tokens, 1e-8);
  const norm = 1 / (seqRows * (options.lossScaleFactor ?? T));
  for (let i = 0; i < B; i++) {
    switch (mode) {
      case "token-sum":
        coef[i] = 1;
        break;
      case "token-mean":
        coef[i] = tokenMean;
        break;
      case "seq-mean-token-sum":
        coef[i] = 1 / seqRows;
        break;
      case "seq-mean-token-mean":
        coef[i] = rowTokens[i]! > 0 ? 1 / (rowTokens[i]! + 1e-8) / seqRows : 0;
        break;
      default:
        coef[i] = norm;
    }
  }
  return coef;
}

/**
 * Sum of the mask values > 0 in [start, end). A function of its own (called
 * per row) rather than a loop inside a long function: V8 then optimises it as
 * a whole instead of on-stack-replacing the loop, whose code deoptimised on
 * every call at the not-yet-seen code after the loop.
 */
export function validSum(mask: HostArray, start: number, end: number): number {
  let s = 0;
  for (let j = start; j < end; j++) {
    const m = mask[j]!;
    if (m > 0) s += m;
  }
  return s;
}

/** A float32 tensor's values without a copy where possible (see `hostView`; read-only, never kept). */
export function hostData(t: Tensor): Float32Array {
  return hostView(t) as Float32Array;
}

/**
 * Runs `kernel` as a differentiable op of `logProbs`: the value is the
 * kernel's aggregated loss, the gradient the one it filled, times dy. Metrics
 * come back as scalars created after the op (outside its tidy).
 */
export function hostLoss(
  logProbs: Tensor2D,
  mask: Tensor2D,
  mode: AggregationMode,
  aggregate: AggregateOptions,
  kernel: (io: KernelIO) => KernelOutput,
): { loss: Scalar; metrics: Record<string, Scalar> } {
  const [B, T] = logProbs.shape;
  let metrics: Record<string, number> = {};
  let released = false;
  const forward = (x: Tensor2D) => {
    const m = hostData(mask);
    const grad = takeGradBuffer(B * T);
    const out = kernel({ B, T, logProbs: hostData(x), mask: m, coef: rowCoefficients(m, B, T, mode, aggregate), grad });
    metrics = out.metrics;
    const total = out.loss;
    return {
      value: tf.scalar(total),
      gradFunc: (dy: Tensor) => {
        // dy is the scalar upstream gradient (1 unless the loss is scaled, e.g. a KL
        // coefficient). Scaling here saves a [B, T] tensor op.
        if (released) throw new Error("hostLoss: the gradient of one forward pass was requested twice");
        const scale = dy.dataSync()[0]!;
        if (scale !== 1) for (let j = 0; j < grad.length; j++) grad[j]! *= scale;
        const out = tf.tensor2d(grad, [B, T]);
        // On wasm the tensor holds a copy, so the buffer goes back to the pool (see takeGradBuffer).
        if (backendCopiesHostArrays()) {
          released = true;
          releaseGradBuffer(grad);
        }
        return out;
      },
    };
  };
  // biome-ignore lint/suspicious/noExplicitAny: tfjs types custom-gradient inputs as Tensor | GradSaveFunc
  const op = tf.customGrad(forward as any) as unknown as (x: Tensor2D) => Scalar;
  const loss = op(logProbs);
  const metricTensors: Record<string, Scalar> = {};
  for (const [name, value] of Object.entries(metrics)) metricTensors[name] = tf.scalar(value);
  return { loss, metrics: metricTensors };
}

/** A kernel of the ratio objectives (PPO clip, GSPO, SAPO, CISPO): io plus the old log-probs and advantages. */
export type RatioKernel<P> = (io: KernelIO, oldLogProbs: Float32Array, advantages: Float32Array, p: P) => KernelOutput;

/**
 * `hostLoss` of a ratio kernel over `batch.oldLogProbs` and `batch.advantages`
 * (the caller has validated both). Their views are taken inside the forward
 * pass, right before the kernel reads them, as `hostView` requires.
 */
export function hostRatioLoss<P>(
  logProbs: Tensor2D,
  batch: TrainingBatch,
  mode: AggregationMode,
  aggregate: AggregateOptions,
  kernel: RatioKernel<P>,
  p: P,
): { loss: Scalar; metrics: Record<string, Scalar> } {
  return hostLoss(logProbs, batch.responseMask, mode, aggregate, (io) =>
    kernel(io, hostData(batch.oldLogProbs!), hostData(batch.advantages!), p),
  );
}

/**
 * The host kernel of a ratio objective whose aggregation is fixed at
 * seq-mean-token-mean whatever the trainer's mode (verl: GSPO, SAPO).
 */
export function seqMeanRatioHost<P>(
  name: string,
  kernel: RatioKernel<P>,
): (batch: TrainingBatch, o: P, context: ObjectiveContext) => ObjectiveResult {
  return (batch, o, context) =>
    hostRatioLoss(logProbsOf(batch, name), batch, "seq-mean-token-mean", aggregateOptions({}, context), kernel, o);
}

/**
 * Gradient buffers reused across calls: a fresh 512 KB array per call (B x T =
 * 64 x 2048) is external memory that made V8 collect garbage every few calls.
 * A buffer comes back only after its contents were copied into a tensor
 * (wasm), so a pending backward pass never sees another call's gradient.
 */
const gradPool: Float32Array[] = [];
const GRAD_POOL_SIZE = 4;

function takeGradBuffer(size: number): Float32Array {
  while (gradPool.length > 0) {
    const buffer = gradPool.pop()!;
    if (buffer.length === size) return buffer.fill(0);
  }
  return new Float32Array(size);
}

function releaseGradBuffer(buffer: Float32Array): void {
  if (gradPool.length < GRAD_POOL_SIZE) gradPool.push(buffer);
}

/** verl `masked_mean` denominator. */
export const meanOver = (sum: number, count: number): number => sum / (count + 1e-8);
