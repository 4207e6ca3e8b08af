import { createRegistry, kernelPath, resolveOptions, show, tf, validateBatch } from "@tokenrl/core";
import type { BatchField, OptionCheck, OptionChecks, Scalar, Tensor2D, TrainingBatch } from "@tokenrl/core";

/**
 * A partition of a batch's response tokens into named cells: one float32 0/1
 * mask `[B, T]` per cell (always inside `responseMask`) and the cell's token
 * count as a scalar tensor, so objectives and metrics can use the same split
 * without reading anything back to the host. Cells may be disjoint (HTPO's
 * eight cells) or nested (HTPO's detach subsets); each partitioner says which.
 */
export interface Partition<C extends string = string> {
  /** Name of the partitioner that produced it. */
  readonly partitioner: string;
  readonly masks: Readonly<Record<C, Tensor2D>>;
  readonly counts: Readonly<Record<C, Scalar>>;
}

/** A registered way of partitioning a batch. */
export interface Partitioner<O extends object = object, C extends string = string> {
  readonly name: string;
  /** One line: what the cells are and where the rule comes from. */
  readonly description: string;
  /** Batch fields the partitioner reads besides `responseMask` (checked before it runs). */
  readonly requires: readonly BatchField[];
  readonly defaults: Readonly<O>;
  /** Names of the cells `partition` returns, in a stable order. */
  readonly cells: readonly C[];
  /** The options merged over the defaults and checked (ConfigError naming `<name>.<option>`). */
  resolve(options?: Partial<O>): O;
  partition(batch: TrainingBatch, options?: Partial<O>): Partition<C>;
}

/** What `definePartitioner` needs: the tensor implementation and, optionally, a host one. */
export interface PartitionerSpec<O extends object, C extends string> {
  name: string;
  description: string;
  requires: readonly BatchField[];
  defaults: Readonly<O>;
  /** One check per option (its message says what was expected). */
  validate: OptionChecks<O>;
  /** Rules between options, after the per-option checks (throw a ConfigError). */
  validateAll?: (o: O) => void;
  cells: readonly C[];
  /** The tensor-op implementation: any backend, no host reads. */
  tensor: (batch: TrainingBatch, o: O) => Partition<C>;
  /** A host implementation for the host kernel path (see core's `kernelPath`). */
  host?: (batch: TrainingBatch, o: O) => Partition<C>;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds partitioners of every option type
export const partitioners = createRegistry<Partitioner<any, string>>("partitioner");

/**
 * Defines a partitioner: resolves and checks its options, validates the
 * batch fields it requires, runs the host implementation on the host kernel
 * path and the tensor one elsewhere, and registers it under its name.
 */
export function definePartitioner<O extends object, C extends string>(spec: PartitionerSpec<O, C>): Partitioner<O, C> {
  const resolve = (options?: Partial<O>): O => {
    const o = resolveOptions(spec.name, spec.defaults, options, spec.validate);
    spec.validateAll?.(o);
    return o;
  };
  const partitioner: Partitioner<O, C> = {
    name: spec.name,
    description: spec.description,
    requires: spec.requires,
    defaults: spec.defaults,
    cells: spec.cells,
    resolve,
    partition(batch, options) {
      const o = resolve(options);
      validateBatch(batch, spec.requires);
      return spec.host && kernelPath() === "host" ? spec.host(batch, o) : spec.tensor(batch, o);
    },
  };
  partitioners.register(spec.name, partitioner);
  return partitioner;
}

/** Every registered partitioner (plugins' included), by name: for `--help` and docs. */
export function describePartitioners(): {
  name: string;
  description: string;
  requires: readonly string[];
  defaults: Readonly<Record<string, unknown>>;
  cells: readonly string[];
}[] {
  return partitioners.list().map((name) => {
    const p = partitioners.get(name);
    return { name, description: p.description, requires: p.requires, defaults: p.defaults, cells: p.cells };
  });
}

/** Builds a Partition from masks, counting each cell on the device. */
export function makePartition<C extends string>(partitioner: string, masks: Record<C, Tensor2D>): Partition<C> {
  const counts = {} as Record<C, Scalar>;
  for (const name of Object.keys(masks) as C[]) counts[name] = tf.sum(masks[name]) as Scalar;
  return { partitioner, masks, counts };
}

/** Frees every mask and count of a partition. */
export function disposePartition(partition: Partition): void {
  tf.dispose([...Object.values<Tensor2D>(partition.masks), ...Object.values<Scalar>(partition.counts)]);
}

/** Reads the token count of every cell in one device read (for logging, not inside a loss). */
export async function readCounts<C extends string>(partition: Partition<C>): Promise<Record<C, number>> {
  const names = Object.keys(partition.counts) as C[];
  const out = {} as Record<C, number>;
  if (names.length === 0) return out;
  const stacked = tf.stack(names.map((name) => partition.counts[name]));
  const values = await stacked.data();
  stacked.dispose();
  names.forEach((name, k) => {
    out[name] = values[k]!;
  });
  return out;
}

/** A ratio in (0, 1] (or [0, 1] with `allowZero`, [.., 1) without `allowOne`). */
export function ratio({ allowZero = false, allowOne = true } = {}): OptionCheck {
  return (v) => {
    const ok =
      typeof v === "number" && Number.isFinite(v) && (allowZero ? v >= 0 : v > 0) && (allowOne ? v <= 1 : v < 1);
    return ok ? undefined : `expected a ratio in ${allowZero ? "[" : "("}0, 1${allowOne ? "]" : ")"}, got ${show(v)}`;
  };
}

/** Any finite number; `what` names it in the message. */
export function finiteNumber(what = "a finite number"): OptionCheck {
  return (v) => (typeof v === "number" && Number.isFinite(v) ? undefined : `expected ${what}, got ${show(v)}`);
}
