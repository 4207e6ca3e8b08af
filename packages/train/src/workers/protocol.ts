import type { BackendName } from "@tokenrl/core";
import type { ModelConfig } from "@tokenrl/policy";
import type { RolloutSequence, SamplingParams } from "@tokenrl/rollout";
import type { WorkerLossSpec } from "./loss.js";
import type { FlatLayout } from "./shared-weights.js";
import type { TransferBatch } from "./batch-transfer.js";
import type { PrefixLayout } from "./shared-prefix.js";

/** How a worker rebuilds the main thread's tokenizer (only encode/decode are used: stop strings, texts). */
export type TokenizerSpec =
  | { kind: "char"; alphabet: string[] }
  | {
      kind: "hf";
      tokenizer: Record<string, unknown>;
      tokenizerConfig: Record<string, unknown>;
      fallbacks: { eosTokenId?: number; bosTokenId?: number; padTokenId?: number };
    };

/** A test-only fault: the worker fails on its `nth` (1-based) task of kind `op`. */
export interface FaultInjection {
  worker: number;
  op: TaskOp;
  nth: number;
  /** "throw": an uncaught exception; "exit": process.exit(70) inside the worker; "oom": allocate until the worker's heap limit. */
  mode: "throw" | "exit" | "oom";
}

export interface WorkerInit {
  index: number;
  backend: BackendName;
  plugins: string[];
  modelConfig: ModelConfig;
  layout: FlatLayout;
  weights: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  /** Every worker's `grads` buffer, in worker order (a reduce task adds a slice of them). */
  allGrads: SharedArrayBuffer[];
  /** Where reduce tasks write the summed gradient. */
  sum: SharedArrayBuffer;
  tokenizer?: TokenizerSpec;
  loss?: WorkerLossSpec;
  fault?: FaultInjection;
}

export type TaskOp = "prefill" | "generate" | "gradients" | "reduce" | "score" | "memory";

interface TaskBase {
  id: number;
  /** The weights version in shared memory; a worker that holds an older one reloads first. */
  weightsVersion: number;
}

export interface GenerateTask extends TaskBase {
  op: "generate";
  prompts: number[][];
  params: SamplingParams;
  /** Seed of the call's stream: row b of this task samples from createRng(seed).fork(rows[b]). */
  seed: number;
  /** Each row's index in the whole call (its sampling stream). */
  rows: number[];
  /** Left-pad every prompt to this length (the whole call's longest), so each row sees the same layout as unsplit. */
  padTo: number;
  groupIds?: number[];
  /** The call's distinct prompts, prefilled by the pool's prefill tasks: generate reads its rows' from here. */
  prefix?: SharedPrefix;
}

/** A call's shared prefill: the buffer, its layout, and each row's distinct prompt in it. */
export interface SharedPrefix {
  buffer: SharedArrayBuffer;
  layout: PrefixLayout;
  /** Per row of the task, the index of its prompt among the call's distinct ones. */
  distinct: number[];
}

/** Prefill distinct prompts `start ..` of a call (this worker's share) into the shared buffer. */
export interface PrefillTask extends TaskBase {
  op: "prefill";
  prompts: number[][];
  padTo: number;
  start: number;
  buffer: SharedArrayBuffer;
  layout: PrefixLayout;
}

export interface GradientsTask extends TaskBase {
  op: "gradients";
  shards: TransferBatch[];
  /** The whole mini-batch's valid tokens and non-empty rows. */
  counts: { tokens: number; sequences: number };
  /** A loss other than the pool's (built once per worker and kept). */
  loss?: WorkerLossSpec;
}

/** sum[i] = the listed workers' grads[i] added in list order, for i in [start, end): one slice of a parallel reduce. */
export interface ReduceTask extends TaskBase {
  op: "reduce";
  start: number;
  end: number;
  workers: number[];
}

export interface ScoreTask extends TaskBase {
  op: "score";
  batch: TransferBatch;
  entropy: boolean;
}

export interface MemoryTask extends TaskBase {
  op: "memory";
}

export type WorkerTask = PrefillTask | GenerateTask | GradientsTask | ReduceTask | ScoreTask | MemoryTask;

export interface ShardResult {
  loss: number;
  metrics: Record<string, number>;
  /** Valid tokens of the shard. */
  tokens: number;
}

export interface TaskResults {
  prefill: { reloadMs: number; computeMs: number };
  generate: { sequences: RolloutSequence[]; reloadMs: number; computeMs: number };
  /** The summed gradient of the worker's shards is in its `grads` buffer. */
  gradients: { shards: ShardResult[]; reloadMs: number; computeMs: number };
  reduce: { computeMs: number };
  score: { logProbs: Float32Array; entropy?: Float32Array; reloadMs: number; computeMs: number };
  memory: { numTensors: number; numBytes: number };
}

export type WorkerReply =
  | { kind: "ready"; registries: Record<string, string[]>; backend: string; threads: number }
  | { kind: "result"; id: number; result: TaskResults[TaskOp] }
  | { kind: "error"; id: number; error: SerializedError }
  /** Initialisation failed (bad plugin, unknown loss, backend): the pool does not start. */
  | { kind: "init-error"; error: SerializedError };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      ...(err.stack ? { stack: err.stack } : {}),
      ...(typeof code === "string" ? { code } : {}),
    };
  }
  return { name: "Error", message: String(err) };
}
