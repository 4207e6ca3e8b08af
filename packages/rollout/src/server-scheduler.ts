import { createRng, gatherRows, tf } from "@tokenrl/core";
import type { Rng, Tensor2D } from "@tokenrl/core";
import { type GenerateStep, generate } from "./generate.js";
import type { GenerativeModel, TokenizerLike } from "./model.js";
import { type ResolvedSamplingParams, processLogits } from "./sampling.js";
import type { RolloutSequence } from "./sequence.js";

/** One alternative at a position: a token id and its log-prob under the sampling distribution. */
export interface TopLogProb {
  tokenId: number;
  logProb: number;
}

/** What a job's `onStep` hears about one of its rows after a decode step. */
export interface RowStep {
  tokenId: number;
  logProb: number;
  /** The row ended with this token (EOS, a stop token or string, max_tokens). */
  finished: boolean;
  /** The `topLogProbs` most likely tokens at this position, most likely first. */
  top?: TopLogProb[];
}

/** A request's rows: all share sampling parameters; each row has its own prompt and random stream. */
export interface EngineJob {
  prompts: readonly (readonly number[])[];
  /** One stream per row: row i's tokens depend on rngs[i] only, however the rows are batched. */
  rngs: readonly Rng[];
  /** Without `seed` (the streams are in `rngs`). */
  params: ResolvedSamplingParams;
  /** Alternatives to report per position; 0 for none. */
  topLogProbs: number;
  /** Aborting drops the job's queued rows, and its running batches once no other job needs them. */
  signal?: AbortSignal;
  onStep?: (row: number, step: RowStep) => void;
  /** A row's result, as soon as its batch ends (before the whole job resolves). */
  onRow?: (row: number, result: RowResult) => void;
}

export interface RowResult {
  sequence: RolloutSequence;
  /** Per generated token, when the job asked for topLogProbs. */
  top?: TopLogProb[][];
}

/** Why the engine refused or dropped work: `busy` (queue full, retry later), `failed` (the backend broke), `closed` (shutting down). */
export class EngineUnavailableError extends Error {
  constructor(
    readonly reason: "busy" | "failed" | "closed",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "EngineUnavailableError";
  }
}

export interface SchedulerOptions {
  model: GenerativeModel;
  tokenizer: TokenizerLike;
  /** Rows in one generate call. */
  maxBatchRows: number;
  /** Padded prompt tokens (rows x longest prompt) in one batch's prefill; a single row may exceed it. */
  maxBatchTokens: number;
  /** Estimated bytes of all running batches together (see `rowBytes`). */
  maxBatchBytes: number;
  /** Batches decoding at once, their steps interleaved (so a long batch does not hold back a short one). */
  maxConcurrentBatches: number;
  /** Rows waiting for a batch; more is `busy`. */
  maxQueuedRows: number;
  /** How long an idle engine waits for more requests before it starts a batch. */
  batchWindowMs: number;
  /** Peak bytes of one row with a prompt of promptLength tokens generating maxTokens. */
  rowBytes: (promptLength: number, maxTokens: number) => number;
  /** Called once when the backend is broken (see `isBackendCorrupted`). */
  onFatal: (err: unknown) => void;
}

export interface SchedulerStats {
  healthy: boolean;
  /** The error that broke the backend, when not healthy. */
  fatal?: string;
  queuedRows: number;
  runningBatches: number;
  runningRows: number;
  /** Batches started since creation, and the most rows one had. */
  batches: number;
  largestBatchRows: number;
}

interface JobState {
  job: EngineJob;
  /** Row indices not yet in a batch, in order. */
  queued: number[];
  results: (RowResult | undefined)[];
  unfinished: number;
  key: string;
  done: boolean;
  resolve: (rows: RowResult[]) => void;
  reject: (err: unknown) => void;
  detach: () => void;
}

interface BatchRow {
  state: JobState;
  row: number;
}

interface Batch {
  rows: BatchRow[];
  bytes: number;
  controller: AbortController;
}

/**
 * WebAssembly traps and allocation failures leave the wasm heap (and every
 * tensor in it, the weights included) in an unknown state: nothing computed
 * after one can be trusted, so the engine stops instead of answering from it.
 */
export function isBackendCorrupted(err: unknown): boolean {
  const wasm = (globalThis as { WebAssembly?: { RuntimeError: new () => Error } }).WebAssembly;
  if (wasm && err instanceof wasm.RuntimeError) return true;
  const message = err instanceof Error ? err.message : String(err);
  return /memory access out of bounds|null function or function signature mismatch|table index is out of bounds|unreachable|out of memory|Aborted\(|Maximum memory size exceeded|WebAssembly\.Memory/i.test(
    message,
  );
}

const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0)));

/** An Rng whose fork(b) is row b's own stream: how generate gives batched rows the streams of their requests. */
function rowStreams(rngs: readonly Rng[]): Rng {
  const base = createRng(0);
  return {
    ...base,
    fork: (label) => {
      const rng = rngs[Number(label)];
      if (!rng) throw new RangeError(`rowStreams: no stream for row ${String(label)}`);
      return rng;
    },
  };
}

function paramsKey(p: ResolvedSamplingParams): string {
  const { seed: _seed, ...rest } = p;
  return JSON.stringify(rest);
}

/**
 * Batches the rows of concurrent requests into the engine. Rows of requests
 * with the same sampling parameters share generate calls; a batch is filled
 * round robin over the waiting requests, starting after the request that led
 * the previous batch, so a request with n = 256 does not hold back a request
 * with n = 1. Up to `maxConcurrentBatches` batches decode at once, each step
 * followed by a yield to the event loop, so their steps interleave and HTTP
 * (health checks, new requests, disconnects) is served during long generations.
 * Memory: the estimated peak bytes of the running batches stay within
 * `maxBatchBytes`.
 */
export class BatchScheduler {
  private readonly queue: JobState[] = [];
  private readonly running = new Set<Batch>();
  private cursor = 0;
  private queuedRows = 0;
  private batches = 0;
  private largest = 0;
  private fatal: unknown;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: SchedulerOptions) {}

  get healthy(): boolean {
    return this.fatal === undefined;
  }

  stats(): SchedulerStats {
    return {
      healthy: this.healthy,
      ...(this.fatal !== undefined ? { fatal: String((this.fatal as Error)?.message ?? this.fatal) } : {}),
      queuedRows: this.queuedRows,
      runningBatches: this.running.size,
      runningRows: [...this.running].reduce((n, b) => n + b.rows.length, 0),
      batches: this.batches,
      largestBatchRows: this.largest,
    };
  }

  /** Whether one row with this prompt length and maxTokens fits the memory budget on its own. */
  fits(promptLength: number, maxTokens: number): boolean {
    return this.options.rowBytes(promptLength, maxTokens) <= this.options.maxBatchBytes;
  }

  /** Generates every row of `job`; resolves with them in row order. */
  submit(job: EngineJob): Promise<RowResult[]> {
    if (this.fatal !== undefined)
      return Promise.reject(
        new EngineUnavailableError("failed", "the model backend failed; this server must be restarted", {
          cause: this.fatal,
        }),
      );
    if (this.closed) return Promise.reject(new EngineUnavailableError("closed", "the server is shutting down"));
    const rows = job.prompts.length;
    if (this.queuedRows + rows > this.options.maxQueuedRows)
      return Promise.reject(
        new EngineUnavailableError(
          "busy",
          `the server has ${this.queuedRows} rows queued (limit ${this.options.maxQueuedRows}); retry later`,
        ),
      );
    if (job.signal?.aborted) return Promise.reject(job.signal.reason);
    return new Promise<RowResult[]>((resolve, reject) => {
      const state: JobState = {
        job,
        queued: job.prompts.map((_, i) => i),
        results: new Array(rows).fill(undefined),
        unfinished: rows,
        key: paramsKey(job.params),
        done: false,
        resolve,
        reject,
        detach: () => undefined,
      };
      if (job.signal) {
        const signal = job.signal;
        const onAbort = () => this.settle(state, signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        state.detach = () => signal.removeEventListener("abort", onAbort);
      }
      this.queue.push(state);
      this.queuedRows += rows;
      this.schedule();
    });
  }

  /** Refuses new work, drops queued work and aborts running batches; resolves when no batch is running. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const err = new EngineUnavailableError("closed", "the server is shutting down");
    for (const state of [...this.queue]) this.settle(state, err);
    for (const batch of this.running) batch.controller.abort(err);
    await this.idle();
  }

  /** Resolves when no batch is running. */
  idle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    // An idle engine waits a moment so that requests arriving together share a batch.
    const delay = this.running.size === 0 ? this.options.batchWindowMs : 0;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, delay);
  }

  private pump(): void {
    while (!this.closed && this.fatal === undefined && this.running.size < this.options.maxConcurrentBatches) {
      const batch = this.form();
      if (!batch) return;
      this.start(batch);
    }
  }

  /** The next batch, or undefined when nothing waits or the running batches leave no memory for one. */
  private form(): Batch | undefined {
    if (this.queue.length === 0) return undefined;
    const lead = this.cursor % this.queue.length;
    const key = this.queue[lead]!.key;
    // Round robin over the compatible jobs, starting at the lead job.
    const order: JobState[] = [];
    for (let k = 0; k < this.queue.length; k++) {
      const s = this.queue[(lead + k) % this.queue.length]!;
      if (s.key === key) order.push(s);
    }
    const maxTokens = this.queue[lead]!.job.params.maxTokens;
    const budget = this.options.maxBatchBytes - [...this.running].reduce((n, b) => n + b.bytes, 0);
    const rows: BatchRow[] = [];
    let longest = 0;
    let bytes = 0;
    let full = false;
    while (!full && rows.length < this.options.maxBatchRows) {
      let took = false;
      for (const s of order) {
        if (rows.length >= this.options.maxBatchRows) break;
        const row = s.queued[0];
        if (row === undefined) continue;
        const length = Math.max(longest, s.job.prompts[row]!.length);
        const next = (rows.length + 1) * this.options.rowBytes(length, maxTokens);
        // The prefill is one uninterrupted forward: its padded tokens bound how long the event loop waits.
        const tooLong = rows.length > 0 && (rows.length + 1) * length > this.options.maxBatchTokens;
        if (next > budget || tooLong) {
          full = true;
          break;
        }
        s.queued.shift();
        rows.push({ state: s, row });
        longest = length;
        bytes = next;
        took = true;
      }
      if (!took) break;
    }
    if (rows.length === 0) return undefined;
    // The next batch is led by the first job after this one that still waits.
    let nextLead: JobState | undefined;
    for (let k = 1; k <= this.queue.length && !nextLead; k++) {
      const s = this.queue[(lead + k) % this.queue.length]!;
      if (s.queued.length > 0) nextLead = s;
    }
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.queued.length === 0) this.queue.splice(i, 1);
    this.cursor = nextLead ? this.queue.indexOf(nextLead) : 0;
    this.queuedRows -= rows.length;
    return { rows, bytes, controller: new AbortController() };
  }

  private start(batch: Batch): void {
    this.running.add(batch);
    this.batches++;
    this.largest = Math.max(this.largest, batch.rows.length);
    const { model, tokenizer } = this.options;
    const params = batch.rows[0]!.state.job.params;
    const topK = Math.max(...batch.rows.map((r) => r.state.job.topLogProbs));
    const tops: TopLogProb[][][] = batch.rows.map(() => []);
    const onStep = async (step: GenerateStep): Promise<void> => {
      const stepTops = topK > 0 ? this.topLogProbs(step, batch, params, topK) : undefined;
      step.rows.forEach((b, i) => {
        const { state, row } = batch.rows[b]!;
        const top = stepTops?.[i]?.slice(0, state.job.topLogProbs);
        if (top) tops[b]!.push(top);
        if (state.done || !state.job.onStep) return;
        state.job.onStep(row, {
          tokenId: step.tokenIds[i]!,
          logProb: step.logProbs[i]!,
          finished: step.finished[i]!,
          ...(top ? { top } : {}),
        });
      });
      await yieldToEventLoop();
    };
    generate(
      model,
      batch.rows.map((r) => r.state.job.prompts[r.row]!),
      {
        ...params,
        tokenizer,
        rng: rowStreams(batch.rows.map((r) => r.state.job.rngs[r.row]!)),
        signal: batch.controller.signal,
        onStep,
      },
    )
      .then((result) => {
        result.sequences.forEach((sequence, b) => {
          const { state, row } = batch.rows[b]!;
          if (state.done) return;
          const result = { sequence, ...(state.job.topLogProbs > 0 ? { top: tops[b]! } : {}) };
          state.results[row] = result;
          state.job.onRow?.(row, result);
          if (--state.unfinished === 0) this.settle(state);
        });
      })
      .catch((err: unknown) => {
        if (isBackendCorrupted(err)) return this.fail(err);
        for (const { state } of batch.rows)
          this.settle(state, batch.controller.signal.aborted ? batch.controller.signal.reason : err);
      })
      .finally(() => {
        this.running.delete(batch);
        if (this.running.size === 0) for (const w of this.idleWaiters.splice(0)) w();
        if (this.queue.length > 0) this.schedule();
      });
  }

  /** The k most likely tokens of each row of the step under the sampling distribution (the one the log-probs are of). */
  private topLogProbs(step: GenerateStep, batch: Batch, params: ResolvedSamplingParams, k: number): TopLogProb[][] {
    const wanted = step.rows.map((b) => batch.rows[b]!.state.job.topLogProbs > 0);
    const rows = wanted.flatMap((w, i) => (w ? [i] : []));
    if (rows.length === 0) return [];
    const V = step.logits.shape[1];
    const kk = Math.min(k, V);
    const [values, indices] = tf.tidy(() => {
      const picked = gatherRows(step.logits, rows) as Tensor2D;
      const { values, indices } = tf.topk(processLogits(picked, params), kk);
      return [values as Tensor2D, indices as Tensor2D];
    });
    let v: Float32Array;
    let ix: Int32Array;
    try {
      v = values.dataSync() as Float32Array;
      ix = indices.dataSync() as Int32Array;
    } finally {
      tf.dispose([values, indices]);
    }
    const out: TopLogProb[][] = [];
    rows.forEach((i, r) => {
      const list: TopLogProb[] = [];
      for (let j = 0; j < kk; j++) {
        const logProb = v[r * kk + j]!;
        // Tokens top-k/top-p/min-p removed are not alternatives of this distribution.
        if (logProb === Number.NEGATIVE_INFINITY) break;
        list.push({ tokenId: ix[r * kk + j]!, logProb });
      }
      out[i] = list;
    });
    return out;
  }

  /** Resolves (no error) or rejects a job once, and drops its queued rows. */
  private settle(state: JobState, err?: unknown): void {
    if (state.done) return;
    state.done = true;
    state.detach();
    const index = this.queue.indexOf(state);
    if (index >= 0) {
      this.queue.splice(index, 1);
      if (index < this.cursor) this.cursor--;
    }
    this.queuedRows -= state.queued.length;
    state.queued = [];
    if (err === undefined) state.resolve(state.results as RowResult[]);
    else {
      state.reject(err);
      // A running batch left with rows of settled jobs only (cancelled, or failed elsewhere) stops at its next step.
      for (const batch of this.running)
        if (batch.rows.some((r) => r.state === state) && batch.rows.every((r) => r.state.done))
          batch.controller.abort(err);
    }
  }

  private fail(err: unknown): void {
    if (this.fatal !== undefined) return;
    this.fatal = err;
    const refusal = new EngineUnavailableError(
      "failed",
      `the model backend failed (${err instanceof Error ? err.message : String(err)}); this server must be restarted`,
      { cause: err },
    );
    for (const batch of this.running) {
      batch.controller.abort(refusal);
      for (const { state } of batch.rows) this.settle(state, refusal);
    }
    for (const state of [...this.queue]) this.settle(state, refusal);
    this.options.onFatal(err);
  }
}
