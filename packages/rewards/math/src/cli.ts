import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { VerifierPool } from "./pool.js";
import type { VerifyResult } from "./verify.js";

const HELP = `tokenrl-math-verify: verify math answers against gold answers (Math-Verify rules)

Usage: tokenrl-math-verify [FILE] [--timeout-ms N] [--concurrency N]

Reads JSON lines {"gold": ..., "prediction": ..., ...} from FILE (or standard input
when FILE is omitted or "-") and writes each line back to standard output with
"equal" added, plus "error" ("timeout", "parse_error", "invalid_input", ...) when a
pair could not be judged. Output line N always answers input line N: a line that is not valid JSON becomes
{"line": N, "equal": false, "error": "invalid_json", "message": ...} and the run goes
on; a blank (or whitespace-only) line is written back as an empty line and not
counted. A summary (count, equal, errors, time) is printed on standard error.
If standard output is closed early (e.g. piped into head), the run stops quietly
with exit status 0.

Options:
  --timeout-ms N    per-pair limit on parsing and comparison (default 5000, at most 2147483647)
  --concurrency N   worker threads (default: number of cores, at most 256)
  -h, --help        show this help
`;

const MAX_PENDING = 4096;

interface Args {
  file?: string;
  timeoutMs?: number;
  concurrency?: number;
}

function parseArgs(argv: string[]): Args | "help" {
  const args: Args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (max: number) => {
      const v = argv[++i];
      const n = Number(v);
      if (v === undefined || !Number.isInteger(n) || n < 1 || n > max)
        throw new Error(`${a} needs an integer from 1 to ${max}, got ${v ?? "nothing"}`);
      return n;
    };
    if (a === "-h" || a === "--help") return "help";
    else if (a === "--timeout-ms") args.timeoutMs = value(2 ** 31 - 1);
    else if (a === "--concurrency") args.concurrency = value(256);
    else if (a.startsWith("--")) throw new Error(`unknown option ${a} (see --help)`);
    else if (args.file === undefined) args.file = a;
    else throw new Error(`unexpected argument ${a} (one input file at most)`);
  }
  return args;
}

async function main(): Promise<number> {
  let args: Args | "help";
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`tokenrl-math-verify: ${(e as Error).message}\n`);
    return 2;
  }
  if (args === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  const input = args.file && args.file !== "-" ? createReadStream(args.file) : process.stdin;
  input.on("error", (e: Error) => {
    process.stderr.write(`tokenrl-math-verify: cannot read ${args.file}: ${e.message}\n`);
    process.exit(2);
  });
  let pool: VerifierPool;
  try {
    pool = new VerifierPool({ timeoutMs: args.timeoutMs, concurrency: args.concurrency });
  } catch (e) {
    process.stderr.write(`tokenrl-math-verify: ${(e as Error).message}\n`);
    return 2;
  }
  // A reader that went away (`... | head -1`) is not an error: stop quietly with status 0.
  let stopped = false;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (stopped) return;
    stopped = true;
    input.destroy();
    if (e.code !== "EPIPE") process.stderr.write(`tokenrl-math-verify: cannot write the output: ${e.message}\n`);
    void pool.close().finally(() => process.exit(e.code === "EPIPE" ? 0 : 1));
  });
  const started = performance.now();
  let count = 0;
  let equal = 0;
  let errors = 0;
  // Results are written in input order: each line waits for the one before it.
  let tail: Promise<void> = Promise.resolve();
  // At most MAX_PENDING lines are read ahead of the output, and a full stdout pipe is waited
  // for, so a huge input streams through in bounded memory.
  let pending = 0;
  const emit = (p: Promise<string>) => {
    pending++;
    tail = tail.then(async () => {
      const text = await p;
      pending--;
      if (!stopped && !process.stdout.write(`${text}\n`))
        await new Promise<void>((resolve) => {
          process.stdout.once("drain", resolve);
          process.stdout.once("error", () => resolve());
        });
    });
  };
  let lineNo = 0;
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (stopped) break;
    if (pending >= MAX_PENDING) {
      await tail;
      // The reader may have gone (and the pool closed) while we waited for the output.
      if (stopped) break;
    }
    lineNo++;
    if (line.trim() === "") {
      emit(Promise.resolve(""));
      continue;
    }
    count++;
    let record: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
        throw new Error("line is not a JSON object");
      record = parsed as Record<string, unknown>;
    } catch (e) {
      errors++;
      emit(
        Promise.resolve(
          JSON.stringify({ line: lineNo, equal: false, error: "invalid_json", message: (e as Error).message }),
        ),
      );
      continue;
    }
    const { gold, prediction } = record;
    if (typeof gold !== "string" || typeof prediction !== "string") {
      errors++;
      emit(
        Promise.resolve(
          JSON.stringify({
            ...record,
            equal: false,
            error: "invalid_input",
            message: `line ${lineNo}: "gold" and "prediction" must be strings`,
          }),
        ),
      );
      continue;
    }
    emit(
      pool.verify(gold, prediction).then((r: VerifyResult) => {
        if (r.equal) equal++;
        if (r.error && r.error !== "parse_error") errors++;
        const out: Record<string, unknown> = { ...record, equal: r.equal };
        if (r.error) out.error = r.error;
        return JSON.stringify(out);
      }),
    );
    if (count % 1000 === 0) process.stderr.write(`... ${count} lines read\n`);
  }
  await tail;
  if (stopped) return 0;
  await pool.close();
  const secs = (performance.now() - started) / 1000;
  process.stderr.write(`count=${count} equal=${equal} errors=${errors} time=${secs.toFixed(2)}s\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`tokenrl-math-verify: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  },
);
