import { Worker, type WorkerOptions } from "node:worker_threads";

// The one place that starts worker threads from files for tokenrl (the math
// verifier's pool, the policy workers). A worker inherits its parent's node
// options by default, V8 flags such as --max-old-space-size included (they are
// process-wide anyway); an explicit `execArgv` that contains one is rejected
// with ERR_WORKER_INVALID_EXEC_ARGV. So the options are passed explicitly only
// when something must be dropped: --input-type (and -e/-p with their code),
// which a worker started from a file rejects, as in `node --input-type=module -e`.

const INPUT_TYPE = /^--input-type(=|$)/;
const CODE_FLAGS = new Set(["-e", "--eval", "-p", "--print", "-pe"]);

/**
 * The `execArgv` for a worker started from a file, given the parent's
 * (`process.execArgv`): undefined (inherit) unless the parent has --input-type;
 * then the parent's options without --input-type and without -e/-p and the
 * code they carry.
 */
export function fileWorkerExecArgv(parent: readonly string[]): string[] | undefined {
  if (!parent.some((a) => INPUT_TYPE.test(a))) return undefined;
  const out: string[] = [];
  for (let i = 0; i < parent.length; i++) {
    const a = parent[i]!;
    if (a === "--input-type" || CODE_FLAGS.has(a)) {
      i++; // and its value
      continue;
    }
    if (INPUT_TYPE.test(a) || /^--(eval|print)=/.test(a)) continue;
    out.push(a);
  }
  return out;
}

/** The flags an ERR_WORKER_INVALID_EXEC_ARGV names ("Initiated Worker with invalid execArgv flags: --a, --b"). */
function rejectedFlags(err: unknown): string[] | undefined {
  if ((err as { code?: string } | null)?.code !== "ERR_WORKER_INVALID_EXEC_ARGV") return undefined;
  const listed = /flags: (.+)$/.exec(String((err as Error).message))?.[1];
  return listed ? listed.split(", ").map((f) => f.trim()) : [];
}

/**
 * `new Worker(script, options)` with the parent's node options as a file
 * worker accepts them (`fileWorkerExecArgv`). Where the parent has both
 * --input-type and a V8 flag, the explicit list is rejected; the flags Node
 * names are then left out (they still apply: V8 flags are process-wide), and
 * failing that, every option.
 */
export function startWorker(script: string | URL, options: Omit<WorkerOptions, "execArgv" | "eval"> = {}): Worker {
  const execArgv = fileWorkerExecArgv(process.execArgv);
  if (execArgv === undefined) return new Worker(script, options);
  try {
    return new Worker(script, { ...options, execArgv });
  } catch (err) {
    const rejected = rejectedFlags(err);
    if (rejected === undefined) throw err;
    const kept = execArgv.filter((a) => !rejected.includes(a));
    try {
      return new Worker(script, { ...options, execArgv: kept });
    } catch (again) {
      if (rejectedFlags(again) === undefined) throw again;
      // Loaders and --conditions go too: say so, or a worker that then fails to resolve a module is a riddle.
      process.emitWarning(
        `worker started without the parent's node options (${execArgv.join(" ")}): Node refused them in a worker`,
        { code: "TOKENRL_WORKER_EXEC_ARGV" },
      );
      return new Worker(script, { ...options, execArgv: [] });
    }
  }
}
