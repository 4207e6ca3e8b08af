import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { Worker } from "node:worker_threads";
import { ConfigError } from "@tokenrl/base/errors";
import { startWorker } from "@tokenrl/base/worker-threads";
import type { VerifyOptions, VerifyResult } from "./verify.js";

/**
 * Runs verifications on worker threads so that one pathological answer (an
 * exponent tower, megabytes of braces) cannot stall a batch: every task has a
 * deadline, and a worker that misses it is terminated and replaced while the
 * other workers keep going.
 */
export interface PoolOptions {
  /** Worker threads; default: the number of cores (os.availableParallelism()). */
  concurrency?: number;
  /** Per-pair limit on parsing + comparison, in milliseconds; default 5000 (Math-Verify's 5 s). */
  timeoutMs?: number;
  /** Comparison settings passed to every verification (e.g. floatRounding). */
  verify?: VerifyOptions;
  /** Where the built worker script is; default: worker.js beside this module (dist/). */
  workerUrl?: URL;
  /**
   * Pairs in flight per worker (default 4): the next ones wait in the worker's
   * port while it checks the current one, so it never idles for a message
   * round trip. A short answer verifies in ~80 us, about what a round trip
   * costs: one at a time, 256 arith-chain answers took 13-24 ms on 2 workers;
   * 4 ahead, 10-12 ms. Pairs go ahead only into a backlog every worker is busy
   * with, so none is sent behind a slow pair while another worker could take
   * it. Each pair's deadline still counts only its own run (it starts when the
   * pair before it answers), and the pairs behind one that times out or
   * crashes its worker go back to the queue. 8 gained nothing more.
   */
  pipelineDepth?: number;
}

export interface VerifyPair {
  gold: string;
  prediction: string;
}

interface Task {
  id: number;
  gold: string;
  prediction: string;
  timeoutMs: number;
  resolve: (r: VerifyResult) => void;
}

interface Slot {
  worker: Worker;
  /** Set once the worker has loaded and warmed up; deadlines start only then. */
  ready: boolean;
  /** Sent and unanswered, in the order the worker runs them: the first is running. */
  tasks: Task[];
  /** The running task's deadline. */
  timer?: NodeJS.Timeout;
  /** When the running task started (performance.now()). */
  headSince: number;
}

function defaultWorkerUrl(): URL {
  const beside = new URL("./worker.js", import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  // Running from src/ (tests): use the built worker.
  return new URL("../dist/worker.js", import.meta.url);
}

function checkPositiveInt(path: string, v: number | undefined, max: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > max))
    throw new ConfigError(path, `must be an integer from 1 to ${max}, got ${v}`);
}

/** setTimeout's largest delay (a larger one fires at once, with only a warning). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** Each worker is a thread with its own heap; more than this is a typo, not a machine. */
const MAX_CONCURRENCY = 256;
const MAX_PIPELINE_DEPTH = 64;

export class VerifierPool {
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly pipelineDepth: number;
  private readonly options: VerifyOptions;
  private readonly workerUrl: URL;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private dispatching = false;
  /** Set when a worker failed to start (e.g. dist/ missing or broken). */
  startupError: Error | undefined;
  private closed = false;
  /** Workers terminated because a task ran past its deadline. */
  timeouts = 0;

  constructor(options: PoolOptions = {}) {
    checkPositiveInt("concurrency", options.concurrency, MAX_CONCURRENCY);
    checkPositiveInt("timeoutMs", options.timeoutMs, MAX_TIMEOUT_MS);
    checkPositiveInt("pipelineDepth", options.pipelineDepth, MAX_PIPELINE_DEPTH);
    this.pipelineDepth = options.pipelineDepth ?? 4;
    this.concurrency = options.concurrency ?? Math.max(1, availableParallelism());
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.options = options.verify ?? {};
    this.workerUrl = options.workerUrl ?? defaultWorkerUrl();
    if (!existsSync(fileURLToPath(this.workerUrl)))
      throw new ConfigError(
        "workerUrl",
        `worker script not found at ${fileURLToPath(this.workerUrl)} (run the package build first)`,
      );
  }

  /** Verifies one pair; never rejects: failures come back as `{ equal: false, error }`. */
  verify(gold: string, prediction: string, timeoutMs = this.timeoutMs): Promise<VerifyResult> {
    if (this.closed) return Promise.reject(new ConfigError("pool", "verify() called after close()"));
    try {
      checkPositiveInt("timeoutMs", timeoutMs, MAX_TIMEOUT_MS);
    } catch (error) {
      return Promise.reject(error);
    }
    if (typeof gold !== "string" || typeof prediction !== "string") {
      return Promise.resolve({ equal: false, error: "invalid_input", goldParsed: null, predictionParsed: null });
    }
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, gold, prediction, timeoutMs, resolve });
      this.dispatch();
    });
  }

  /** Verifies many pairs in parallel; results are in input order. */
  verifyBatch(pairs: readonly VerifyPair[]): Promise<VerifyResult[]> {
    return Promise.all(pairs.map((p) => this.verify(p.gold, p.prediction)));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0))
      t.resolve({ equal: false, error: "timeout", goldParsed: null, predictionParsed: null });
    await Promise.all(
      this.slots.splice(0).map(async (s) => {
        if (s.timer) clearTimeout(s.timer);
        for (const t of s.tasks.splice(0))
          t.resolve({ equal: false, error: "timeout", goldParsed: null, predictionParsed: null });
        await s.worker.terminate();
      }),
    );
  }

  private spawn(): Slot {
    // The parent's node options as a file worker takes them: V8 flags inherited, --input-type dropped.
    const worker = startWorker(this.workerUrl);
    const slot: Slot = { worker, ready: false, tasks: [], headSince: 0 };
    worker.on("message", (msg: { id: number; result: VerifyResult; ready?: boolean }) => {
      if (msg.ready) {
        slot.ready = true;
        this.dispatch();
        return;
      }
      if (slot.tasks[0]?.id !== msg.id) return;
      this.finish(slot, msg.result);
    });
    worker.on("error", (err) => {
      if (!slot.ready) return this.failStartup(slot, err);
      this.replace(slot, "compare_error");
    });
    worker.on("exit", (code) => {
      // The pool's own terminations come here too, for slots it has already dropped.
      if (!this.slots.includes(slot)) return;
      if (!slot.ready)
        return this.failStartup(slot, new Error(`verifier worker exited (code ${code}) before it was ready`));
      if (slot.tasks.length > 0) return this.replace(slot, "compare_error");
      // An idle worker that died is dropped, so the next pair starts a new one instead of timing out on it.
      this.slots.splice(this.slots.indexOf(slot), 1);
      this.dispatch();
    });
    return slot;
  }

  /** A worker that cannot even start would be replaced forever: fail the queue instead. */
  private failStartup(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate();
    this.startupError = err;
    for (const t of this.queue.splice(0))
      t.resolve({ equal: false, error: "compare_error", goldParsed: null, predictionParsed: null });
    this.syncRefs();
  }

  private finish(slot: Slot, result: VerifyResult): void {
    const task = slot.tasks.shift()!;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    // The worker went on to the next pair as it answered: that pair's deadline starts now.
    this.startDeadline(slot);
    task.resolve(result);
    this.dispatch();
  }

  private startDeadline(slot: Slot): void {
    const head = slot.tasks[0];
    if (!head) return;
    slot.headSince = performance.now();
    slot.timer = setTimeout(() => this.replace(slot, "timeout"), head.timeoutMs);
  }

  private replace(slot: Slot, error: "timeout" | "compare_error"): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    // The running pair fails; the ones sent behind it never started, so they go back to the front of the queue.
    const [task, ...behind] = slot.tasks.splice(0);
    if (slot.timer) clearTimeout(slot.timer);
    void slot.worker.terminate();
    this.slots.splice(i, 1);
    if (error === "timeout") this.timeouts++;
    this.queue.unshift(...behind);
    task?.resolve({ equal: false, error, goldParsed: null, predictionParsed: null });
    this.dispatch();
  }

  /**
   * Hands out queued tasks in a microtask, so that a batch queued in one go
   * (`verifyBatch`) is handed out whole: whether pairs go ahead depends on how
   * many wait (`aheadSlot`).
   */
  private dispatch(): void {
    if (this.closed || this.dispatching) return;
    this.dispatching = true;
    queueMicrotask(() => {
      this.dispatching = false;
      if (this.closed) return;
      this.assign();
      this.syncRefs();
    });
  }

  /**
   * A worker holds the event loop open only while it has work (a task, or a
   * queued task it is starting up for); an idle pool lets the process exit
   * without close(). Called after every listener is attached: adding a
   * 'message' listener re-refs a worker's port, so unref() at spawn time alone
   * is undone.
   */
  private syncRefs(): void {
    const waiting = this.queue.length > 0;
    for (const s of this.slots) {
      if (s.tasks.length > 0 || (!s.ready && waiting)) s.worker.ref();
      else s.worker.unref();
    }
  }

  private assign(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.ready && s.tasks.length === 0);
      if (!slot) {
        // Start workers up to the limit; queued tasks go out as each one reports ready.
        const starting = this.slots.filter((s) => !s.ready).length;
        const wanted = Math.min(this.concurrency - this.slots.length, this.queue.length - starting);
        for (let k = 0; k < wanted; k++) this.slots.push(this.spawn());
        slot = this.aheadSlot();
        if (!slot) return;
      }
      const task = this.queue.shift()!;
      slot.tasks.push(task);
      if (slot.tasks.length === 1) this.startDeadline(slot);
      slot.worker.postMessage({ id: task.id, gold: task.gold, prediction: task.prediction, options: this.options });
    }
  }

  /**
   * The busy worker to send the next pair ahead to, or none. Only into a
   * backlog that every worker is busy with: with a worker still starting, or
   * no more pairs waiting than there are workers, a pair sent ahead could sit
   * behind a slow one while another worker idles (a pair once sent stays with
   * its worker). The least loaded first; between equals, the one whose current
   * pair started last (the one that has run longest is the likelier to be slow).
   */
  private aheadSlot(): Slot | undefined {
    if (this.slots.some((s) => !s.ready) || this.queue.length <= this.slots.length) return undefined;
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (s.tasks.length >= this.pipelineDepth) continue;
      if (
        !best ||
        s.tasks.length < best.tasks.length ||
        (s.tasks.length === best.tasks.length && s.headSince > best.headSince)
      )
        best = s;
    }
    return best;
  }
}

let shared: VerifierPool | undefined;

/**
 * Verifies one pair on a shared pool (created on first use, sized to the cores).
 * The pool's workers are unref'd when idle, so `await verify(...)` in a script
 * does not keep the process alive afterwards.
 */
export function verify(gold: string, prediction: string, options: { timeoutMs?: number } = {}): Promise<VerifyResult> {
  shared ??= new VerifierPool();
  return shared.verify(gold, prediction, options.timeoutMs);
}

/** Verifies a batch on a fresh pool that is closed afterwards. */
export async function verifyBatch(pairs: readonly VerifyPair[], options: PoolOptions = {}): Promise<VerifyResult[]> {
  const pool = new VerifierPool(options);
  try {
    return await pool.verifyBatch(pairs);
  } finally {
    await pool.close();
  }
}
