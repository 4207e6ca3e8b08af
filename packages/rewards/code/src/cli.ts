import { createReadStream, existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { CodeRunner } from "./runner.js";
import { type CodeSample, DEFAULT_LIMITS, RESULT_CODES, type ResultCode } from "./types.js";

const HELP = `tokenrl-code-eval: run generated programs against their tests in a sandbox

Usage: tokenrl-code-eval [options] [file.jsonl]     (reads stdin when no file is given)

Each input line: {"id", "language": "python"|"javascript", "code",
                  "tests": {"inputs": [...], "outputs": [...], "fnName"?: "name"}}
("fn_name" is accepted too.) Without fnName, inputs go to stdin and stdout is compared line by
line after stripping, with exact decimal comparison of numbers (LiveCodeBench rules). With fnName,
each input holds the arguments (one JSON value per line) and the return value is compared.

Each output line is the input record (every field kept) plus "passed": boolean and "results":
one of ${RESULT_CODES.join(", ")} per test (and "test_details" with --details);
input fields of those names are replaced. A bad line yields {"line", "error"} and the run goes on.
A summary goes to stderr.

Stopping: SIGINT (Ctrl-C), SIGTERM or SIGHUP kill every sandboxed program and remove its files
before exiting (status 128 + signal). After SIGKILL the kernel still kills the programs (parent-
death signal); their staging dirs are swept at the next start.

Options:
  --time-limit <s>        wall-clock limit per test in seconds (CPU limit = ceil) [${DEFAULT_LIMITS.timeLimitSec}]
  --memory-mb <n>         memory limit per test (all its processes together), MiB [${DEFAULT_LIMITS.memoryMb}]
  --output-limit-kb <n>   stdout/stderr bytes allowed before the program is killed, KiB [${DEFAULT_LIMITS.outputLimitKb}]
  --max-processes <n>     process/thread limit for the sandbox user [${DEFAULT_LIMITS.maxProcesses}]
  --concurrency <n>       parallel test executions (at most the number of cores) [cores]
  --uid-base <n>          first sandbox uid; each slot locks the next free uid at or above it, so
                          concurrent runs never share one [61000]
  --cgroup-parent <dir>   cgroup v2 dir delegated to the runner (memory controller, no processes);
                          each test gets a child with memory.max [the runner's own cgroup if usable]
  --details               also write per-test details ("test_details": status, wall time, exit
                          code, signal, stderr tail)
  --require-isolation     exit with an error instead of running when a protection is missing
  -h, --help              show this help
`;

function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`tokenrl-code-eval: --${name} must be a positive number, got "${v}"\n`);
    process.exit(2);
  }
  return n;
}

const OPTIONS = {
  "time-limit": { type: "string" },
  "memory-mb": { type: "string" },
  "output-limit-kb": { type: "string" },
  "max-processes": { type: "string" },
  concurrency: { type: "string" },
  "uid-base": { type: "string" },
  "cgroup-parent": { type: "string" },
  details: { type: "boolean" },
  "require-isolation": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function parseCli() {
  return parseArgs({ allowPositionals: true, options: OPTIONS });
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli();
  } catch (e) {
    process.stderr.write(`tokenrl-code-eval: ${(e as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(HELP);
    return;
  }
  const limits = Object.fromEntries(
    Object.entries({
      timeLimitSec: positive("time-limit", v["time-limit"]),
      memoryMb: positive("memory-mb", v["memory-mb"]),
      outputLimitKb: positive("output-limit-kb", v["output-limit-kb"]),
      maxProcesses: positive("max-processes", v["max-processes"]),
    }).filter(([, x]) => x !== undefined),
  );
  if (positionals.length > 1) {
    process.stderr.write("tokenrl-code-eval: at most one input file\n");
    process.exit(2);
  }
  if (positionals[0] !== undefined && !existsSync(positionals[0])) {
    process.stderr.write(`tokenrl-code-eval: no such input file: ${positionals[0]}\n`);
    process.exit(2);
  }
  const concurrency = positive("concurrency", v.concurrency);
  const uidBase = positive("uid-base", v["uid-base"]);
  let runner: CodeRunner;
  try {
    runner = CodeRunner.create({
      limits,
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(uidBase !== undefined ? { uidBase } : {}),
      ...(v["cgroup-parent"] ? { cgroupParent: v["cgroup-parent"] } : {}),
      ...(v["require-isolation"] ? { requireFullIsolation: true } : {}),
    });
  } catch (e) {
    process.stderr.write(`tokenrl-code-eval: ${(e as Error).message}\n`);
    process.exit(2);
  }
  for (const [sig, n] of [
    ["SIGINT", 2],
    ["SIGTERM", 15],
    ["SIGHUP", 1],
  ] as const) {
    process.once(sig, () => {
      runner.close();
      process.stderr.write(`tokenrl-code-eval: ${sig}: sandboxed programs killed, stopped\n`);
      process.exit(128 + n);
    });
  }
  // A closed stdout (`| head`) ends the run quietly instead of with a stack trace.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    runner.close();
    if (e.code === "EPIPE") process.exit(0);
    process.stderr.write(`tokenrl-code-eval: stdout: ${e.message}\n`);
    process.exit(1);
  });
  process.stderr.write(`tokenrl-code-eval: isolation: ${runner.describe()}; sandbox uids ${runner.uids.join(",")}\n`);
  const input = positionals[0] ? createReadStream(positionals[0]) : process.stdin;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });

  const counts = Object.fromEntries(RESULT_CODES.map((c) => [c, 0])) as Record<ResultCode, number>;
  let samples = 0;
  let passed = 0;
  let errors = 0;
  let lineNo = 0;
  const started = Date.now();
  // Records are evaluated concurrently (the runner caps executions) but written in input order.
  const pending: Array<Promise<string>> = [];
  const inFlightCap = runner.concurrency * 4;
  const flush = async () => {
    const next = pending.shift();
    if (next) {
      const text = await next;
      process.stdout.write(`${text}\n`);
    }
  };
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === "") continue;
    const at = lineNo;
    pending.push(
      (async () => {
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(line);
          if (typeof record !== "object" || record === null || Array.isArray(record))
            throw new Error("not a JSON object");
        } catch (e) {
          errors++;
          return JSON.stringify({ line: at, error: `invalid JSON: ${(e as Error).message}` });
        }
        try {
          const tests = (record.tests ?? {}) as Record<string, unknown>;
          const fnName = tests.fnName ?? tests.fn_name;
          const sample = {
            language: record.language,
            code: record.code,
            tests: { inputs: tests.inputs, outputs: tests.outputs, ...(fnName != null ? { fnName } : {}) },
          } as CodeSample;
          const result = await runner.run(sample);
          samples++;
          if (result.passed) passed++;
          for (const r of result.results) counts[r]++;
          return JSON.stringify({
            ...record,
            passed: result.passed,
            results: result.results,
            ...(v.details ? { test_details: result.tests } : {}),
          });
        } catch (e) {
          errors++;
          return JSON.stringify({
            ...(record.id !== undefined ? { id: record.id } : {}),
            line: at,
            error: (e as Error).message,
          });
        }
      })(),
    );
    while (pending.length >= inFlightCap) await flush();
  }
  while (pending.length > 0) await flush();
  runner.close();
  const secs = (Date.now() - started) / 1000;
  const tally = RESULT_CODES.filter((c) => counts[c] > 0)
    .map((c) => `${c}=${counts[c]}`)
    .join(" ");
  process.stderr.write(
    `tokenrl-code-eval: ${samples} samples, ${passed} passed (${samples ? ((100 * passed) / samples).toFixed(1) : "0.0"}%), ${errors} bad lines; tests: ${tally || "none"}; ${secs.toFixed(1)} s\n`,
  );
}

main().catch((e) => {
  // An I/O error (unreadable input) is a message; anything else is a bug and keeps its stack.
  const err = e as NodeJS.ErrnoException;
  process.stderr.write(`tokenrl-code-eval: ${err.code ? err.message : (err.stack ?? err)}\n`);
  process.exit(1);
});
