import { ConfigError, createRegistry, tf } from "@tokenrl/core";
import type { BatchField, Scalar, Tensor2D, TrainingBatch } from "@tokenrl/core";

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
  /** Batch fields the partitioner reads besides `responseMask`. */
  readonly requires: readonly BatchField[];
  readonly defaults: Readonly<O>;
  /** Names of the cells `partition` returns, in a stable order. */
  cellNames(options?: Partial<O>): readonly C[];
  partition(batch: TrainingBatch, options?: Partial<O>): Partition<C>;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds partitioners of every option type
export const partitioners = createRegistry<Partitioner<any>>("partitioner");

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

/** Reads the token count of every cell (one device read per cell; for logging, not inside a loss). */
export async function readCounts<C extends string>(partition: Partition<C>): Promise<Record<C, number>> {
  const out = {} as Record<C, number>;
  for (const name of Object.keys(partition.counts) as C[]) out[name] = (await partition.counts[name].data())[0]!;
  return out;
}

/** Merges user options over defaults, rejecting keys the partitioner does not know. */
export function resolveOptions<O extends object>(kind: string, defaults: Readonly<O>, options: Partial<O> = {}): O {
  for (const key of Object.keys(options)) {
    if (!(key in defaults)) {
      throw new ConfigError(`${kind}.${key}`, `unknown option; expected one of ${Object.keys(defaults).join(", ")}`);
    }
  }
  const merged = { ...defaults } as O;
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

export function assertRatio(path: string, value: number, { allowZero = false, allowOne = true } = {}): void {
  const ok = Number.isFinite(value) && (allowZero ? value >= 0 : value > 0) && (allowOne ? value <= 1 : value < 1);
  if (!ok)
    throw new ConfigError(
      path,
      `expected a ratio in ${allowZero ? "[" : "("}0, 1${allowOne ? "]" : ")"}, got ${value}`,
    );
}
