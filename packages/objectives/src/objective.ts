import { createRegistry, kernelPath, resolveOptions, tf, validateBatch } from "@tokenrl/core";
import type {
  AggregateOptions,
  AggregationMode,
  BatchField,
  OptionChecks,
  Scalar,
  Tensor2D,
  TrainingBatch,
} from "@tokenrl/core";
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

/** The two implementations of an objective, given resolved options and a validated batch. */
export type ObjectiveImpl<O> = (batch: TrainingBatch, o: O, context: ObjectiveContext) => ObjectiveResult;

/**
 * What `defineObjective` needs: one public op, its implementations per
 * kernel path (the TensorFlow.js way). `requires`, `defaults` and
 * `description` are read: batch validation, option resolution, the
 * conformance runner (which inputs a case must carry), the trainer's help.
 */
export interface ObjectiveSpec<O extends object> {
  /** The registry name (configs, presets, the conformance op `loss/<name>`). */
  name: string;
  /** One line: the formula and the paper or reference implementation. */
  description: string;
  /** Batch fields it reads besides `responseMask`; `logProbs` (which carries the gradient) first. */
  requires: readonly BatchField[];
  defaults: Readonly<O>;
  /** One check per option; its message says what was expected. */
  validate: OptionChecks<O>;
  /** The op chain: any backend, autograd gives the gradient. */
  opChain: ObjectiveImpl<O>;
  /**
   * A fused host kernel for the host kernel path (wasm / cpu, see core's
   * `kernelPath`): the same numbers as the op chain in one pass with an
   * analytic gradient. Returns undefined where it does not apply (the op chain runs).
   */
  hostKernel?: (batch: TrainingBatch, o: O, context: ObjectiveContext) => ObjectiveResult | undefined;
}

/** A policy objective registered by name: reads batch fields, returns `{ loss, metrics }`. */
export interface Objective<O extends object = object> {
  readonly name: string;
  readonly description: string;
  readonly requires: readonly BatchField[];
  readonly defaults: Readonly<O>;
  /** Options merged over the defaults and checked (ConfigError naming `<name>.<option>`). */
  resolve(options?: Partial<O>): O;
  /** Resolves the options, validates the batch, runs the implementation of the current kernel path. */
  compute(batch: TrainingBatch, options?: Partial<O>, context?: ObjectiveContext): ObjectiveResult;
  /** The op chain on resolved options (parity tests compare it with the host kernel). */
  readonly opChain: ObjectiveImpl<O>;
  readonly hostKernel?: ObjectiveSpec<O>["hostKernel"];
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds objectives of every option type
export const objectives = createRegistry<Objective<any>>("objective");

/**
 * Defines an objective: one public op that resolves and checks its options,
 * validates the batch fields it requires, dispatches to the host kernel on the
 * host kernel path (else the op chain), and is registered under its name.
 * Adding an objective is one file that calls this, plus its conformance cases
 * (docs/extending.md).
 */
export function defineObjective<O extends object>(spec: ObjectiveSpec<O>): Objective<O> {
  const resolve = (options?: Partial<O>): O => resolveOptions(spec.name, spec.defaults, options, spec.validate);
  const objective: Objective<O> = {
    name: spec.name,
    description: spec.description,
    requires: spec.requires,
    defaults: spec.defaults,
    resolve,
    compute(batch, options, context = {}) {
      const o = resolve(options);
      validateBatch(batch, spec.requires);
      if (spec.hostKernel && kernelPath() === "host") {
        const fused = spec.hostKernel(batch, o, context);
        if (fused) return fused;
      }
      return spec.opChain(batch, o, context);
    },
    opChain: spec.opChain,
    ...(spec.hostKernel ? { hostKernel: spec.hostKernel } : {}),
  };
  objectives.register(spec.name, objective);
  return objective;
}

/** What help texts and docs list of a registered algorithm. */
export interface AlgorithmSummary {
  name: string;
  description: string;
  /** Batch fields it reads besides `responseMask`. */
  requires: readonly string[];
  /** Its options with their defaults. */
  defaults: Readonly<Record<string, unknown>>;
}

/** Every registered objective (plugins' included), by name: for `--help` and docs. */
export function describeObjectives(): AlgorithmSummary[] {
  return objectives.list().map((name) => {
    const o = objectives.get(name);
    return { name, description: o.description, requires: o.requires, defaults: o.defaults };
  });
}

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

/** Reads every metric scalar in one device read (after the step). */
export async function readMetrics(metrics: Record<string, Scalar>): Promise<Record<string, number>> {
  const names = Object.keys(metrics);
  const out: Record<string, number> = {};
  if (names.length === 0) return out;
  // The first value of each (a metric is a scalar; a user's may be int32 or [1]), as one float32 vector.
  const stacked = tf.tidy(() =>
    tf.concat(names.map((name) => tf.slice(tf.reshape(tf.cast(metrics[name]!, "float32"), [-1]), 0, 1))),
  );
  const values = await stacked.data();
  stacked.dispose();
  names.forEach((name, k) => {
    out[name] = values[k]!;
  });
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
