import { assertAggregationMode, createRegistry, tf } from "@tokenrl/core";
import type { AggregateOptions, AggregationMode, BatchField, Scalar, Tensor2D, TrainingBatch } from "@tokenrl/core";
import type { Partition } from "@tokenrl/partitioners";

/**
 * What every objective returns: the scalar loss to minimise and named metric
 * scalars. Metrics stay tensors (read them with `readMetrics` after the step)
 * so that a loss never forces a device-to-host copy on a GPU backend.
 */
export interface ObjectiveResult {
  loss: Scalar;
  metrics: Record<string, Scalar>;
}

/**
 * Per-call context that is not configuration: a partition computed elsewhere
 * (HTPO reuses it instead of partitioning again) and, under gradient
 * accumulation, the mini-batch totals that make micro-batch losses sum to the
 * mini-batch loss (see core's `aggregateLoss`).
 */
export interface ObjectiveContext {
  partition?: Partition;
  globalTokenCount?: number;
  globalSequenceCount?: number;
}

/** A policy objective registered by name: reads batch fields, returns `{ loss, metrics }`. */
export interface Objective<O extends object = object> {
  readonly name: string;
  /** One line: the formula and the paper or reference implementation. */
  readonly description: string;
  /** Batch fields it reads besides `responseMask` (`logProbs` carries the gradient). */
  readonly requires: readonly BatchField[];
  readonly defaults: Readonly<O>;
  compute(batch: TrainingBatch, options?: Partial<O>, context?: ObjectiveContext): ObjectiveResult;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds objectives of every option type
export const objectives = createRegistry<Objective<any>>("objective");

/** Aggregation options every per-token objective accepts. */
export interface AggregationOptions {
  /** How the per-token loss becomes a scalar (ALGORITHMS.md section 2). */
  aggregation: AggregationMode;
  /** C of `seq-mean-token-sum-norm` (Dr.GRPO: the max response length); null = T. */
  lossScaleFactor: number | null;
}

export function aggregateOptions(
  o: { lossScaleFactor?: number | null },
  context: ObjectiveContext = {},
): AggregateOptions {
  const out: AggregateOptions = { lossScaleFactor: o.lossScaleFactor ?? null };
  if (context.globalTokenCount !== undefined) out.globalTokenCount = context.globalTokenCount;
  if (context.globalSequenceCount !== undefined) out.globalSequenceCount = context.globalSequenceCount;
  return out;
}

export function checkAggregation(kind: string, mode: string): AggregationMode {
  return assertAggregationMode(mode, `${kind}.aggregation`);
}

/** Reads every metric scalar (after the step; one device read each). */
export async function readMetrics(metrics: Record<string, Scalar>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, t] of Object.entries(metrics)) out[name] = (await t.data())[0]!;
  return out;
}

/** Frees the loss and metric tensors of a result. */
export function disposeResult(result: ObjectiveResult): void {
  tf.dispose([result.loss, ...Object.values(result.metrics)]);
}

/** The logProbs of a batch, which every policy objective needs. */
export function logProbsOf(batch: TrainingBatch, kind: string): Tensor2D {
  if (!batch.logProbs) throw new TypeError(`${kind}: batch.logProbs is required`);
  return batch.logProbs;
}
