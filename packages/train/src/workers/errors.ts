import { TokenrlError } from "@tokenrl/core";

/**
 * A pool worker died: an uncaught exception, an out-of-memory kill, or an
 * exit. `cause` is what the worker reported; the pool has stopped every other
 * worker, and every pending and later call rejects with this error.
 */
export class WorkerCrashedError extends TokenrlError {
  readonly worker: number;
  /** "error" (uncaught exception), "out-of-memory", or "exit". */
  readonly reason: "error" | "out-of-memory" | "exit";
  /** The task the worker was running, if any. */
  readonly task?: string;

  constructor(worker: number, reason: WorkerCrashedError["reason"], detail: string, task?: string, cause?: unknown) {
    const during = task ? ` during a ${task} task` : "";
    super(
      "WORKER",
      `worker ${worker} ${describe(reason)}${during}: ${detail}`,
      cause === undefined ? undefined : { cause },
    );
    this.worker = worker;
    this.reason = reason;
    if (task) this.task = task;
  }
}

function describe(reason: WorkerCrashedError["reason"]): string {
  if (reason === "out-of-memory") return "ran out of memory";
  if (reason === "exit") return "exited";
  return "crashed";
}

/** An error a worker's task threw (bad input, a NaN check), re-created on the main thread; the worker lives on. */
export class WorkerTaskError extends TokenrlError {
  readonly worker: number;
  readonly remoteName: string;
  constructor(worker: number, op: string, remote: { name: string; message: string; stack?: string }) {
    super("WORKER", `worker ${worker}: ${op} task failed: ${remote.name}: ${remote.message}`);
    this.worker = worker;
    this.remoteName = remote.name;
    if (remote.stack) this.stack = `${this.stack}\n--- in the worker ---\n${remote.stack}`;
  }
}
