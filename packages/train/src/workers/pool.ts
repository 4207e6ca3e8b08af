import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ResourceLimits, Worker } from "node:worker_threads";
import { startWorker } from "@tokenrl/base/worker-threads";
import { ConfigError, InvalidInputError, backendInfo, tf } from "@tokenrl/core";
import type { BackendName, Tensor, Tensor2D, TrainingBatch } from "@tokenrl/core";
import { advantageEstimators } from "@tokenrl/advantages";
import { objectives } from "@tokenrl/objectives";
import { partitioners } from "@tokenrl/partitioners";
import { CharTokenizer } from "@tokenrl/policy";
import type { CausalLM, ModelConfig, PolicyTokenizer } from "@tokenrl/policy";
import { createRng } from "@tokenrl/core";
import { distinctPrompts } from "@tokenrl/rollout";
import type { RolloutEngine, RolloutSequence, SamplingParams } from "@tokenrl/rollout";
import { batchToTransfer } from "./batch-transfer.js";
import { WorkerCrashedError, WorkerTaskError } from "./errors.js";
import type { WorkerLossSpec } from "./loss.js";
import type { GlobalCounts } from "../loss.js";
import { combineShardMetrics, splitRange } from "../update.js";
import type {
  FaultInjection,
  ShardResult,
  SharedPrefix,
  TaskOp,
  TaskResults,
  TokenizerSpec,
  WorkerInit,
  WorkerReply,
  WorkerTask,
} from "./protocol.js";
import { planWorkers } from "./scheduler.js";
import { flatLayout, sharedFloats, tensorsFromShared, writeShared } from "./shared-weights.js";
import { type PrefixLayout, prefixBuffer } from "./shared-prefix.js";
import type { FlatLayout } from "./shared-weights.js";

/**
 * Policy workers by default: one per core on wasm / cpu (each wasm instance
 * computes on one thread in Node); 1 with the native backend, which already
 * threads every op over all cores.
 */
export function defaultWorkerCount(backend: string | undefined = backendInfo()?.name ?? tf.getBackend()): number {
  return planWorkers({ ...(backend !== undefined ? { backend } : {}) }).policyWorkers;
}

export interface WorkerPoolOptions {
  /** The main thread's policy: its config and trainable variables are what the workers mirror. */
  model: CausalLM;
  /** Needed for stop strings and response texts in rollout. */
  tokenizer?: PolicyTokenizer;
  /** Worker threads; default `defaultWorkerCount()`. */
  workers?: number;
  /**
   * Modules every worker imports before anything else (the same list the main
   * thread loaded: plugins that register objectives, estimators,
   * partitioners). Specifiers are resolved from the current directory; a
   * registry name the main thread has and a worker lacks is an error at start.
   */
  plugins?: readonly string[];
  /** The actor loss gradient tasks use; without it the pool only generates and scores. */
  loss?: WorkerLossSpec;
  /** Backend of the workers; default the main thread's (wasm or cpu). */
  backend?: BackendName;
  /** V8 heap limits per worker (`node:worker_threads`); exceeding them is reported as out of memory. */
  resourceLimits?: ResourceLimits;
  /**
   * Diagnostics: run one worker task at a time. Each task's time is then its cost
   * with no other worker running (`taskStats`); a machine whose cores slow each
   * other shows as the gap between this and the concurrent times.
   */
  exclusive?: boolean;
  /** Tests only: make one worker fail on purpose. */
  fault?: FaultInjection;
  /** The worker script; default the built `worker.js` beside this module. */
  workerScript?: URL;
}

/** Where the weight broadcast's time goes, cumulatively. */
export interface SyncStats {
  /** Broadcasts (one per optimiser step that changed the weights). */
  broadcasts: number;
  /** Bytes written to shared memory per broadcast. */
  bytes: number;
  /** Main thread: copying the variables into shared memory. */
  publishMs: number;
  /** Sum over workers of the time to load them from shared memory (they load in parallel). */
  workerReloadMs: number;
  /** Summing the workers' gradients (in parallel, in the workers) and making tensors of them on the main thread. */
  reduceMs: number;
}

/** Where rollout's time goes, cumulatively. */
export interface RolloutStats {
  /** generate calls. */
  calls: number;
  /** Their rows. */
  rows: number;
  /** Distinct prompts prefilled, once each, across the workers (with one worker, each generate prefills its own). */
  sharedPrefillPrompts: number;
  /** Per call, the slowest worker's share of the shared prefill, summed. */
  prefillMs: number;
  /** Per call, the slowest worker's generate task (decode, and prefill without the shared one), summed. */
  generateMs: number;
}

/**
 * How the workers' task time adds up, cumulatively, over every fan-out (one
 * task per worker: a prefill, a generate, a score, a gradient or a reduce).
 */
export interface WorkerTaskStats {
  fanOuts: number;
  /** Sum over tasks of the time from posting each to its reply: the workers' busy time. */
  busyMs: number;
  /** Sum over fan-outs of the slowest task's time: the part of the wall time the workers account for. */
  criticalMs: number;
}

/** The tasks of one fan-out record their times here. */
type FanOut = number[];

export interface ComputedGradients {
  /** The mini-batch gradient, in the model's trainableVariables() order; the caller disposes. */
  grads: Tensor[];
  /** Sum of the shard losses (each already scaled by the whole mini-batch's counts). */
  loss: number;
  metrics: Record<string, number>;
  tokens: number;
}

interface Pending {
  op: TaskOp;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Slot {
  index: number;
  worker: Worker;
  grads: SharedArrayBuffer;
  pending: Map<number, Pending>;
  exited: Promise<void>;
  alive: boolean;
}

function closedError(): ConfigError {
  return new ConfigError("pool", "the worker pool was closed");
}

/**
 * A pool of worker threads, each with its own tfjs backend instance and a copy
 * of the policy, for parallel rollout (`engine`), scoring (`score`) and
 * data-parallel gradients (`computeGradients`). The policy's weights reach the
 * workers through one SharedArrayBuffer: after an optimiser step the main
 * thread writes them once and each worker copies them into its backend before
 * its next task (no per-step serialisation through messages). Gradients come
 * back the same way, one buffer per worker, and are summed in worker order, so
 * the result depends only on how the shards were cut, not on timing.
 *
 * A worker that crashes, runs out of memory or exits stops the pool: every
 * other worker is terminated, and every pending and later call rejects with a
 * `WorkerCrashedError` that names the worker, the task and the cause.
 */
export class WorkerPool {
  readonly size: number;
  readonly registries: Record<string, string[]>;
  private readonly slots: Slot[];
  private readonly variables: tf.Variable[];
  private readonly modelConfig: ModelConfig;
  /** The workers' tokenizer: the one an engine decodes with. */
  private readonly tokenizer: PolicyTokenizer | undefined;
  private readonly layout: FlatLayout;
  private readonly weights: SharedArrayBuffer;
  private readonly sum: SharedArrayBuffer;
  private published: object[] = [];
  private version = 0;
  private nextId = 1;
  private failure: WorkerCrashedError | undefined;
  private closing = false;
  private readonly sync: SyncStats;
  private readonly tasks: WorkerTaskStats = { fanOuts: 0, busyMs: 0, criticalMs: 0 };
  private readonly exclusive: boolean;
  /** With `exclusive`, the last queued task: the next one is posted when it settles. */
  private exclusiveTail: Promise<unknown> = Promise.resolve();
  private readonly rollout: RolloutStats = {
    calls: 0,
    rows: 0,
    sharedPrefillPrompts: 0,
    prefillMs: 0,
    generateMs: 0,
  };

  private constructor(
    slots: Slot[],
    tokenizer: PolicyTokenizer | undefined,
    modelConfig: ModelConfig,
    variables: tf.Variable[],
    layout: FlatLayout,
    weights: SharedArrayBuffer,
    sum: SharedArrayBuffer,
    registries: Record<string, string[]>,
    exclusive: boolean,
  ) {
    this.exclusive = exclusive;
    this.slots = slots;
    this.size = slots.length;
    this.modelConfig = modelConfig;
    this.tokenizer = tokenizer;
    this.variables = variables;
    this.layout = layout;
    this.weights = weights;
    this.sum = sum;
    this.registries = registries;
    this.sync = { broadcasts: 0, bytes: layout.size * 4, publishMs: 0, workerReloadMs: 0, reduceMs: 0 };
  }

  /** Starts the workers and waits until each has loaded its backend, plugins and loss. */
  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    const n = options.workers ?? defaultWorkerCount();
    if (!Number.isInteger(n) || n < 1) throw new ConfigError("workers", `expected an integer >= 1, got ${n}`);
    const backend = options.backend ?? ((backendInfo()?.name ?? tf.getBackend()) as BackendName);
    if (backend !== "wasm" && backend !== "cpu" && backend !== "tensorflow")
      throw new ConfigError("backend", `workers run wasm, cpu or tensorflow, got "${backend}"`);
    const variables = options.model.trainableVariables();
    const layout = flatLayout(variables);
    const weights = sharedFloats(layout);
    const script = options.workerScript ?? defaultWorkerScript();
    const plugins = (options.plugins ?? []).map(resolvePlugin);
    const tokenizer = options.tokenizer ? tokenizerSpec(options.tokenizer) : undefined;
    const slots: Slot[] = [];
    const ready: Promise<Extract<WorkerReply, { kind: "ready" }>>[] = [];
    const allGrads = Array.from({ length: n }, () => sharedFloats(layout));
    const sum = sharedFloats(layout);
    for (let index = 0; index < n; index++) {
      const grads = allGrads[index]!;
      const init: WorkerInit = {
        index,
        backend,
        plugins,
        modelConfig: options.model.config,
        layout,
        weights,
        grads,
        allGrads,
        sum,
        ...(tokenizer ? { tokenizer } : {}),
        ...(options.loss ? { loss: resolveLoss(options.loss) } : {}),
        ...(options.fault ? { fault: options.fault } : {}),
      };
      // The parent's node options as a file worker takes them (`node --input-type=module -e` would fail it).
      const worker = startWorker(script, {
        workerData: init,
        ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
      });
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      slots.push({ index, worker, grads, pending: new Map(), exited, alive: true });
      ready.push(
        new Promise((resolve, reject) => {
          const onMessage = (m: WorkerReply) => {
            if (m.kind === "ready") resolve(m);
            else if (m.kind === "init-error") reject(new WorkerTaskError(index, "start", m.error));
            if (m.kind === "ready" || m.kind === "init-error") worker.off("message", onMessage);
          };
          worker.on("message", onMessage);
          worker.once("error", (err) => reject(crashError(index, err, "start")));
          worker.once("exit", (code) => reject(new WorkerCrashedError(index, "exit", `exit code ${code}`, "start")));
        }),
      );
    }
    let replies: Extract<WorkerReply, { kind: "ready" }>[];
    try {
      replies = await Promise.all(ready);
    } catch (err) {
      await Promise.all(slots.map((s) => s.worker.terminate()));
      throw err;
    }
    checkRegistries(replies[0]!.registries);
    const pool = new WorkerPool(
      slots,
      options.tokenizer,
      options.model.config,
      variables,
      layout,
      weights,
      sum,
      replies[0]!.registries,
      options.exclusive ?? false,
    );
    for (const slot of slots) pool.listen(slot);
    return pool;
  }

  /** Cumulative rollout counts and times. */
  rolloutStats(): RolloutStats {
    return { ...this.rollout };
  }

  /** Cumulative worker task times (busy and critical-path). */
  taskStats(): WorkerTaskStats {
    return { ...this.tasks };
  }

  /** Cumulative weight-broadcast and reduction costs. */
  syncStats(): SyncStats {
    return { ...this.sync };
  }

  /**
   * Copies the main thread's weights into shared memory when they changed since
   * the last broadcast (an optimiser's `assign` gives a variable new storage,
   * which is what is compared); workers reload before their next task.
   */
  publishWeights(): void {
    const ids = this.variables.map((v) => v.dataId);
    if (ids.length === this.published.length && ids.every((id, i) => id === this.published[i])) return;
    const started = performance.now();
    writeShared(this.weights, this.layout, this.variables);
    this.published = ids;
    this.version++;
    this.sync.broadcasts++;
    this.sync.publishMs += performance.now() - started;
  }

  /**
   * Generates for `prompts` with the rows dealt round-robin to the workers
   * (row b to worker b mod N), so each worker holds a share of every group:
   * a group's samples are alike in length, so every worker's rows end at about
   * the same step. With contiguous ranges a worker whose groups happened to
   * answer at length had ~15-40% more tokens than the other, and the call
   * waited for it. Row b of the whole call samples from
   * `createRng(seed).fork(b)` (or `params.seed`'s stream), so the tokens do
   * not depend on the worker count.
   */
  async generate(
    prompts: readonly (readonly number[])[],
    params: SamplingParams,
    options: { seed: number; groupIds?: readonly number[] },
  ): Promise<RolloutSequence[]> {
    // As the in-process generate: an empty call is the caller's mistake, not an empty answer.
    if (prompts.length === 0)
      throw new InvalidInputError("generate: prompts is empty; pass at least one prompt of token ids");
    if ((params.stop?.length ?? 0) > 0 && this.tokenizer === undefined)
      throw new ConfigError(
        "sampling.stop",
        "stop strings need a tokenizer to decode responses; pass createWorkerPool({ tokenizer }) (the workers decode with the pool's)",
      );
    this.publishWeights();
    const dealt = dealRows(prompts.length, this.size);
    const padTo = Math.max(...prompts.map((p) => p.length));
    const version = this.version;
    const shared = await this.sharedPrefill(prompts, padTo, dealt);
    let prefix = shared?.prefix;
    // Weights published by another call meanwhile: the shared prefill is of the old ones, and the one
    // buffer holds only the newest, so each worker prefills its own rows (with the new weights) instead.
    if (this.version !== version) prefix = undefined;
    const fan: FanOut = [];
    const parts = await Promise.all(
      dealt.map((rows, w) =>
        rows.length === 0
          ? Promise.resolve(undefined)
          : this.run<"generate">(
              w,
              {
                op: "generate",
                prompts: rows.map((b) => [...prompts[b]!]),
                params,
                padTo,
                seed: options.seed,
                rows,
                ...(options.groupIds ? { groupIds: rows.map((b) => options.groupIds![b]!) } : {}),
                ...(prefix ? { prefix: { ...prefix, distinct: rows.map((b) => prefix.distinct[b]!) } } : {}),
              },
              fan,
            ),
      ),
    );
    this.account(fan);
    const out = new Array<RolloutSequence>(prompts.length);
    this.rollout.calls++;
    this.rollout.rows += prompts.length;
    if (shared) {
      this.rollout.sharedPrefillPrompts += shared.prompts;
      this.rollout.prefillMs += shared.ms;
    }
    this.rollout.generateMs += Math.max(...parts.map((p) => p?.computeMs ?? 0));
    parts.forEach((part, w) => {
      if (!part) return;
      this.sync.workerReloadMs += part.reloadMs;
      part.sequences.forEach((s, i) => {
        out[dealt[w]![i]!] = s;
      });
    });
    return out;
  }

  /**
   * Prefills each distinct prompt of a call once across the workers: worker w
   * computes a contiguous share and writes it to one shared buffer, from which
   * every worker's generate then takes the prompts its rows need. Dealt
   * round-robin, every worker holds rows of every group, so without this each
   * one prefilled every prompt (all N of them the whole prefill). A prompt's
   * prefill does not depend on its batch-mates, so the tokens are those of an
   * unsplit call. Skipped where it saves nothing: one worker, one distinct
   * prompt, or no prompt with rows on two workers.
   */
  private async sharedPrefill(
    prompts: readonly (readonly number[])[],
    padTo: number,
    dealt: readonly (readonly number[])[],
  ): Promise<{ prefix: SharedPrefix; prompts: number; ms: number } | undefined> {
    if (this.size < 2) return undefined;
    // The same dedupe as each worker's generate, so the shares hold exactly the prompts it would prefill.
    const { unique: first, expand: distinct } = distinctPrompts(prompts);
    if (first.length < 2) return undefined;
    const owner = new Array<number>(first.length).fill(-1);
    let shared = false;
    dealt.forEach((rows, w) => {
      for (const b of rows) {
        const u = distinct[b]!;
        if (owner[u] !== -1 && owner[u] !== w) shared = true;
        owner[u] = w;
      }
    });
    if (!shared) return undefined;
    const c = this.modelConfig;
    const layout: PrefixLayout = {
      distinct: first.length,
      length: padTo,
      numLayers: c.numLayers,
      numKvHeads: c.numKvHeads,
      headDim: c.headDim,
      vocabSize: c.vocabSize,
    };
    const buffer = prefixBuffer(layout);
    const fan: FanOut = [];
    const replies = await Promise.all(
      splitRange(first.length, this.size).map(([start, end], w) =>
        start === end
          ? Promise.resolve(undefined)
          : this.run<"prefill">(
              w,
              {
                op: "prefill",
                prompts: first.slice(start, end).map((b) => [...prompts[b]!]),
                padTo,
                start,
                buffer,
                layout,
              },
              fan,
            ),
      ),
    );
    this.account(fan);
    for (const r of replies) if (r) this.sync.workerReloadMs += r.reloadMs;
    const ms = Math.max(...replies.map((r) => r?.computeMs ?? 0));
    return { prefix: { buffer, layout, distinct }, prompts: first.length, ms };
  }

  /**
   * A RolloutEngine over the pool, seeded as `createLocalEngine` is: call k
   * samples from `createRng(seed).fork(k)` and row b of it from `.fork(b)`, so
   * it draws the same tokens as an in-process engine with the same seed.
   */
  engine(options: { seed?: number; tokenizer?: PolicyTokenizer; padTokenId?: number } = {}): RolloutEngine {
    // The workers decode (texts, stop strings) with the tokenizer the pool was created with.
    const theirs = options.tokenizer;
    if (
      theirs &&
      theirs !== this.tokenizer &&
      (!this.tokenizer || JSON.stringify(tokenizerSpec(theirs)) !== JSON.stringify(tokenizerSpec(this.tokenizer)))
    )
      throw new ConfigError(
        "tokenizer",
        this.tokenizer === undefined
          ? "the pool has no tokenizer: pass it to createWorkerPool({ tokenizer }); the workers decode with the pool's"
          : "differs from the pool's: the workers decode with the tokenizer given to createWorkerPool",
      );
    const root = createRng(options.seed ?? 0);
    let calls = 0;
    const padTokenId = options.padTokenId ?? options.tokenizer?.padTokenId ?? 0;
    return {
      padTokenId,
      ...(options.tokenizer ? { tokenizer: options.tokenizer } : {}),
      generate: (prompts, params = {}) => this.generate(prompts, params, { seed: root.fork(calls++).seed }),
    };
  }

  /** Per-token log-probs (and entropies) of `batch`'s responses, rows split across workers; tensors on this thread. */
  async score(
    batch: TrainingBatch,
    options: { entropy?: boolean } = {},
  ): Promise<{ logProbs: Tensor2D; entropy?: Tensor2D }> {
    this.publishWeights();
    const [B, T] = batch.responseMask.shape;
    const ranges = splitRange(B, this.size);
    const fan: FanOut = [];
    const parts = await Promise.all(
      ranges.map(async ([start, end], w) => {
        if (start === end) return undefined;
        const rows = sliceRows(batch, start, end);
        try {
          return await this.run<"score">(
            w,
            {
              op: "score",
              batch: await batchToTransfer(rows),
              entropy: options.entropy ?? true,
            },
            fan,
          );
        } finally {
          tf.dispose(Object.values(rows) as Tensor[]);
        }
      }),
    );
    this.account(fan);
    const logProbs = new Float32Array(B * T);
    const entropy = options.entropy === false ? undefined : new Float32Array(B * T);
    parts.forEach((part, w) => {
      if (!part) return;
      this.sync.workerReloadMs += part.reloadMs;
      const offset = ranges[w]![0] * T;
      logProbs.set(part.logProbs, offset);
      if (entropy && part.entropy) entropy.set(part.entropy, offset);
    });
    return {
      logProbs: tf.tensor2d(logProbs, [B, T]),
      ...(entropy ? { entropy: tf.tensor2d(entropy, [B, T]) } : {}),
    };
  }

  /**
   * Data-parallel gradients of one mini-batch given as shards (whole groups,
   * each shard's loss scaled by the mini-batch's `counts`): shard i goes to
   * worker floor(i N / S), each worker sums its shards' gradients in order, and
   * the workers' sums are added here in worker order. Shard losses and metrics
   * are combined in shard order, so they are the same for every worker count.
   * `options.loss` overrides the pool's loss for this call (each worker builds
   * it once and keeps it).
   */
  async computeGradients(
    shards: readonly TrainingBatch[],
    counts: GlobalCounts,
    options: { loss?: WorkerLossSpec } = {},
  ): Promise<ComputedGradients> {
    if (shards.length === 0) throw new ConfigError("shards", "computeGradients needs at least one shard");
    this.publishWeights();
    const S = shards.length;
    const byWorker: number[][] = Array.from({ length: this.size }, () => []);
    for (let i = 0; i < S; i++) byWorker[Math.floor((i * this.size) / S)]!.push(i);
    const transfers = await Promise.all(shards.map((s) => batchToTransfer(s)));
    const used = byWorker.map((list, w) => ({ w, list })).filter((x) => x.list.length > 0);
    const fan: FanOut = [];
    const replies = await Promise.all(
      used.map(({ w, list }) =>
        this.run<"gradients">(
          w,
          {
            op: "gradients",
            shards: list.map((i) => transfers[i]!),
            counts: { tokens: counts.tokens, sequences: counts.sequences },
            ...(options.loss ? { loss: resolveLoss(options.loss) } : {}),
          },
          fan,
        ),
      ),
    );
    this.account(fan);
    const started = performance.now();
    let grads: Tensor[];
    if (used.length === 1) grads = tensorsFromShared(this.slots[used[0]!.w]!.grads, this.layout);
    else {
      // Reduce-scatter through shared memory: worker w adds slice w of every
      // gradient buffer, always in worker order, so the sum is the same
      // whichever worker computes which slice, and the main thread does no O(P) work.
      const order = used.map((u) => u.w);
      const reduce: FanOut = [];
      await Promise.all(
        splitRange(this.layout.size, this.size).map(([start, end], w) =>
          start === end
            ? Promise.resolve(undefined)
            : this.run<"reduce">(w, { op: "reduce", start, end, workers: order }, reduce),
        ),
      );
      this.account(reduce);
      grads = tensorsFromShared(this.sum, this.layout);
    }
    this.sync.reduceMs += performance.now() - started;
    const perShard: ShardResult[] = new Array(S);
    used.forEach(({ list }, k) => {
      const reply = replies[k]!;
      this.sync.workerReloadMs += reply.reloadMs;
      list.forEach((i, j) => {
        perShard[i] = reply.shards[j]!;
      });
    });
    let loss = 0;
    let tokens = 0;
    for (const s of perShard) {
      loss += s.loss;
      tokens += s.tokens;
    }
    return { grads, loss, metrics: combineShardMetrics(perShard), tokens };
  }

  /** Live tensors and bytes in each worker's backend (leak checks). */
  async memory(): Promise<{ numTensors: number; numBytes: number }[]> {
    return Promise.all(this.slots.map((_, w) => this.run<"memory">(w, { op: "memory" })));
  }

  /** Terminates every worker and waits until each thread has exited. Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    // Tasks in flight end with the pool, not never: a caller (or an exclusive queue behind it) would wait forever.
    const closed = closedError();
    for (const s of this.slots) {
      for (const p of s.pending.values()) p.reject(closed);
      s.pending.clear();
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    await Promise.all(this.slots.map((s) => s.exited));
  }

  /** The error that stopped the pool, if a worker failed. */
  get failed(): WorkerCrashedError | undefined {
    return this.failure;
  }

  /** Threads of this pool that have not exited yet. */
  get liveWorkers(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  /** Adds one fan-out's task times to `taskStats`. */
  private account(fan: FanOut): void {
    if (fan.length === 0) return;
    this.tasks.fanOuts++;
    for (const ms of fan) this.tasks.busyMs += ms;
    this.tasks.criticalMs += Math.max(...fan);
  }

  /** Posts `task` to worker `w` (with `exclusive`, once every earlier task has settled); its time goes to `fan`. */
  private run<O extends TaskOp>(
    w: number,
    task: DistributiveOmit<Extract<WorkerTask, { op: O }>, "id" | "weightsVersion">,
    fan?: FanOut,
  ): Promise<TaskResults[O]> {
    const slot = this.slots[w]!;
    const id = this.nextId++;
    const weightsVersion = this.version;
    const post = () =>
      new Promise<TaskResults[O]>((resolve, reject) => {
        // Checked when posted, so a queued (exclusive) task meets a pool that failed or closed while it waited.
        if (this.failure) return reject(this.failure);
        if (this.closing) return reject(closedError());
        const posted = performance.now();
        const done = (v: unknown) => {
          fan?.push(performance.now() - posted);
          resolve(v as TaskResults[O]);
        };
        slot.pending.set(id, { op: task.op, resolve: done, reject });
        slot.worker.postMessage({ ...task, id, weightsVersion });
      });
    if (!this.exclusive) return post();
    const queued = this.exclusiveTail.then(post, post);
    this.exclusiveTail = queued.catch(() => undefined);
    return queued;
  }

  private listen(slot: Slot): void {
    const { worker } = slot;
    worker.on("message", (m: WorkerReply) => {
      if (m.kind !== "result" && m.kind !== "error") return;
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (m.kind === "result") p.resolve(m.result);
      else p.reject(new WorkerTaskError(slot.index, p.op, m.error));
    });
    worker.on("error", (err) => this.fail(slot, crashError(slot.index, err, currentOp(slot))));
    worker.on("exit", (code) => {
      slot.alive = false;
      if (!this.closing)
        this.fail(slot, new WorkerCrashedError(slot.index, "exit", `exit code ${code}`, currentOp(slot)));
    });
  }

  private fail(slot: Slot, error: WorkerCrashedError): void {
    if (this.failure) return;
    this.failure = error;
    this.closing = true;
    for (const s of this.slots) {
      for (const p of s.pending.values()) p.reject(error);
      s.pending.clear();
      if (s !== slot) void s.worker.terminate();
    }
    void slot.worker.terminate();
  }
}

/** `WorkerPool.create` as a function. */
export function createWorkerPool(options: WorkerPoolOptions): Promise<WorkerPool> {
  return WorkerPool.create(options);
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function currentOp(slot: Slot): string | undefined {
  const first = slot.pending.values().next();
  return first.done ? undefined : first.value.op;
}

function crashError(index: number, err: unknown, task?: string): WorkerCrashedError {
  const e = err as { code?: string; message?: string };
  const oom = e?.code === "ERR_WORKER_OUT_OF_MEMORY";
  const detail = `${e?.code ? `${e.code}: ` : ""}${e?.message ?? String(err)}`;
  return new WorkerCrashedError(index, oom ? "out-of-memory" : "error", detail, task, err);
}

function sliceRows(batch: TrainingBatch, start: number, end: number): TrainingBatch {
  const out: Partial<Record<keyof TrainingBatch, Tensor>> = {};
  for (const field of ["promptIds", "promptMask", "responseIds", "responseMask"] as const) {
    const t = batch[field];
    if (t) out[field] = tf.slice(t, [start, 0], [end - start, -1]);
  }
  return out as TrainingBatch;
}

function tokenizerSpec(tokenizer: PolicyTokenizer): TokenizerSpec {
  if (tokenizer instanceof CharTokenizer) return { kind: "char", alphabet: [...tokenizer.alphabet] };
  const { tokenizer: tj, tokenizerConfig } = tokenizer.toHfFiles();
  return {
    kind: "hf",
    tokenizer: tj,
    tokenizerConfig,
    fallbacks: {
      eosTokenId: tokenizer.eosTokenId,
      padTokenId: tokenizer.padTokenId,
      ...(tokenizer.bosTokenId !== undefined ? { bosTokenId: tokenizer.bosTokenId } : {}),
    },
  };
}

function resolvePlugin(spec: string): string {
  // Relative paths are the user's files (as the trainer's --plugin); bare names are packages.
  if (spec.startsWith(".") || spec.startsWith("/")) return new URL(spec, `file://${process.cwd()}/`).href;
  try {
    return import.meta.resolve(spec);
  } catch {
    return spec;
  }
}

function resolveLoss(loss: WorkerLossSpec): WorkerLossSpec {
  return loss.kind === "module" ? { ...loss, module: resolvePlugin(loss.module) } : loss;
}

/** Every name the main thread has registered must exist in the workers (same plugins). */
function checkRegistries(worker: Record<string, string[]>): void {
  const main: Record<string, string[]> = {
    objective: objectives.list(),
    advantageEstimator: advantageEstimators.list(),
    partitioner: partitioners.list(),
  };
  for (const [kind, names] of Object.entries(main)) {
    const have = new Set(worker[kind] ?? []);
    const missing = names.filter((n) => !have.has(n));
    if (missing.length)
      throw new ConfigError(
        "plugins",
        `the workers lack the ${kind}(s) ${missing.join(", ")} registered on the main thread; pass the module that registers them in the pool's plugins`,
      );
  }
}

function defaultWorkerScript(): URL {
  const sibling = new URL("./worker.js", import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  // Running from source (tests): the built worker.
  const built = new URL("../../dist/workers/worker.js", import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new ConfigError(
    "workerScript",
    `no built worker script at ${fileURLToPath(sibling)} or ${fileURLToPath(built)}; run \`pnpm --filter @tokenrl/train build\``,
  );
}

/** Row indices `0..n-1` dealt round-robin to `workers` workers: worker w gets w, w + workers, ... */
export function dealRows(n: number, workers: number): number[][] {
  const out = Array.from({ length: workers }, () => [] as number[]);
  for (let b = 0; b < n; b++) out[b % workers]!.push(b);
  return out;
}
