import { availableParallelism } from "node:os";
import { ConfigError, InvalidInputError, TokenrlError } from "@tokenrl/base/errors";
import { sweepStaleCgroups } from "./cgroup.js";
import { type ExactJson, parseExactJson, pythonEquals, stdoutMatches, toExactJson } from "./compare.js";
import { JS_HARNESS, PYTHON_HARNESS } from "./harness.js";
import { describeIsolation, detectIsolation, type IsolationReport } from "./isolation.js";
import { type ProbeReport, probeSandbox } from "./probe.js";
import { killAllOfUid, runSandboxed, SANDBOX_DIR, type SandboxOutcome } from "./sandbox.js";
import { accountUids, defaultLockDir, tryLockUid, type UidLease } from "./slots.js";
import { sweepStaleStages } from "./stages.js";
import {
  type CodeSample,
  DEFAULT_LIMITS,
  LANGUAGES,
  type Limits,
  type ResultCode,
  type SampleResult,
  type TestOutcome,
} from "./types.js";

export interface CodeRunnerOptions {
  limits?: Partial<Limits>;
  /** Parallel test executions; default and maximum: the number of cores. */
  concurrency?: number;
  /**
   * First sandbox uid. Each slot takes the next uid at or above it that is no account in /etc/passwd
   * and not locked by another live runner (machine-wide flock in `lockDir`); see `uids`. Default 61000.
   */
  uidBase?: number;
  /**
   * A cgroup v2 directory delegated to the runner (memory controller available, no processes in
   * it): each test gets a child cgroup with memory.max = the memory limit. Default: the runner's own
   * cgroup when usable; otherwise the limit is enforced by sampling /proc.
   */
  cgroupParent?: string;
  /** Where the uid lock files live. Default /run/lock/tokenrl-code (or /tmp/tokenrl-code-locks). */
  lockDir?: string;
  pythonPath?: string;
  nodePath?: string;
  /** Throw instead of running with a warning when a protection is missing. Default false. */
  requireFullIsolation?: boolean;
  /** Where isolation warnings go. Default: console.error with a loud prefix. */
  warn?: (message: string) => void;
}

/**
 * Extra address space Node needs beyond its heap: V8 reserves ~0.8-1 GiB of virtual memory per
 * isolate, and every worker thread is another isolate, so 1 GiB let only the main thread start (a
 * correct program with two workers aborted with "Failed to reserve virtual memory for CodeRange").
 * 8 GiB leaves room for 7 workers; reserved address space is not memory, which the whole-test
 * sum (or cgroup) bounds.
 */
const NODE_ADDRESS_SPACE_OVERHEAD_MB = 8192;
/** Node's resident memory outside the V8 heap (code, runtime, buffers: ~40 MiB at start), allowed on top of memoryMb. */
const NODE_RESIDENT_OVERHEAD_MB = 64;
/** How far above uidBase a runner looks for free uids. */
const UID_SEARCH_SPAN = 1024;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const NODE_FATAL_REPORT = ".tokenrl-node-fatal-report.json";

/** Sandbox failure that is not the program's fault (e.g. tmpfs could not be mounted). */
export class SandboxError extends TokenrlError {
  constructor(message: string) {
    super("SANDBOX", `code sandbox: ${message}`);
  }
}

/**
 * Runs code samples against their tests in the sandbox. Create once (isolation is probed then),
 * reuse for many samples; calls may overlap, executions are capped at `concurrency`.
 */
export class CodeRunner {
  readonly isolation: IsolationReport;
  readonly limits: Limits;
  readonly concurrency: number;
  readonly uidBase: number;
  /** The sandbox uid of each slot, held exclusively (locked) until `close()` or process exit. */
  readonly uids: readonly number[];
  private readonly freeSlots: number[];
  private readonly waiters: Array<{ resolve: (slot: number) => void; reject: (e: Error) => void }> = [];
  private readonly leases: UidLease[];
  private readonly aborter = new AbortController();
  private closed = false;

  private constructor(
    isolation: IsolationReport,
    limits: Limits,
    concurrency: number,
    uidBase: number,
    leases: UidLease[],
    uids: number[],
  ) {
    this.isolation = isolation;
    this.limits = limits;
    this.concurrency = concurrency;
    this.uidBase = uidBase;
    this.leases = leases;
    this.uids = uids;
    this.freeSlots = Array.from({ length: concurrency }, (_, i) => i);
  }

  static create(options: CodeRunnerOptions = {}): CodeRunner {
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    for (const [k, v] of Object.entries(limits)) {
      if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
        throw new ConfigError(`limits.${k}`, `must be a positive number, got ${String(v)}`);
      }
    }
    const cores = availableParallelism();
    const concurrency = options.concurrency ?? cores;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > cores) {
      throw new ConfigError(
        "concurrency",
        `must be an integer in [1, ${cores}] (the number of cores), got ${concurrency}`,
      );
    }
    const uidBase = options.uidBase ?? 61000;
    if (!Number.isInteger(uidBase) || uidBase < 1000 || uidBase + concurrency > 65534) {
      throw new ConfigError("uidBase", `must be an integer in [1000, ${65534 - concurrency}], got ${uidBase}`);
    }
    for (const key of ["lockDir", "cgroupParent"] as const) {
      const v = options[key];
      if (v !== undefined && (typeof v !== "string" || !v.startsWith("/")))
        throw new ConfigError(key, `must be an absolute path, got ${JSON.stringify(v)}`);
    }
    const isolation = detectIsolation({
      ...(options.pythonPath ? { pythonPath: options.pythonPath } : {}),
      ...(options.nodePath ? { nodePath: options.nodePath } : {}),
      ...(options.cgroupParent ? { cgroupParent: options.cgroupParent } : {}),
    });
    const warn = options.warn ?? ((m: string) => console.error(`[tokenrl/reward-code] WARNING: ${m}`));
    if (isolation.warnings.length > 0) {
      if (options.requireFullIsolation) {
        throw new SandboxError(`full isolation required but: ${isolation.warnings.join("; ")}`);
      }
      for (const w of isolation.warnings) warn(w);
    }
    // Staging dirs of runners that died (SIGKILL) are removed; a live runner's never are.
    sweepStaleStages();
    if (!isolation.dropUser) {
      return new CodeRunner(
        isolation,
        limits,
        concurrency,
        uidBase,
        [],
        Array(concurrency).fill(process.getuid?.() ?? 0),
      );
    }
    if (isolation.cgroup.parent) sweepStaleCgroups(isolation.cgroup.parent);
    if (!isolation.tools.flock) {
      warn(
        "flock not found (util-linux): sandbox uids cannot be locked, so two runners with overlapping uid ranges would kill each other's programs",
      );
      const uids = Array.from({ length: concurrency }, (_, i) => uidBase + i);
      return new CodeRunner(isolation, limits, concurrency, uidBase, [], uids);
    }
    const leases = lockUids(isolation.tools.flock, options.lockDir ?? defaultLockDir(), uidBase, concurrency);
    return new CodeRunner(
      isolation,
      limits,
      concurrency,
      uidBase,
      leases,
      leases.map((l) => l.uid),
    );
  }

  /**
   * Kills every program this runner has running, removes their staging dirs and releases the uid
   * locks, synchronously (safe in a signal handler). Runs still pending reject with a SandboxError.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Queued tests never start: after close() the uids may belong to another runner.
    for (const w of this.waiters.splice(0)) w.reject(new SandboxError("the runner is closed"));
    this.aborter.abort();
    for (const l of this.leases) {
      killAllOfUid(l.uid);
      l.release();
    }
  }

  /**
   * Runs a harmless probe (10 forks under a limit of 4, writes to / and `hostDir`, a loopback
   * connect) as slot 0's uid and reports what held. Run it before trusting the sandbox with hostile code.
   */
  async probe(hostDir = process.cwd()): Promise<ProbeReport> {
    const slot = await this.acquire();
    try {
      return await probeSandbox(this.isolation, this.uids[slot]!, hostDir, this.aborter.signal);
    } finally {
      this.release(slot);
    }
  }

  describe(): string {
    return describeIsolation(this.isolation);
  }

  /** Runs every test of one sample; never throws for anything the program does. */
  async run(sample: CodeSample): Promise<SampleResult> {
    validateSample(sample);
    const { inputs, outputs, fnName } = sample.tests;
    const outcomes = await Promise.all(inputs.map((input, i) => this.runTest(sample, input, outputs[i], fnName)));
    // A syntax error is a property of the program, not of one test: report it for every test.
    const compileFailure = outcomes.find((o) => o.status === "compile_error");
    const tests = compileFailure
      ? outcomes.map((o) => ({ ...o, status: "compile_error" as const, detail: compileFailure.detail }))
      : outcomes;
    const results = tests.map((t) => t.status);
    return {
      ...(sample.id !== undefined ? { id: sample.id } : {}),
      passed: results.length > 0 && results.every((r) => r === "pass"),
      results,
      tests,
    };
  }

  private async runTest(
    sample: CodeSample,
    input: string | readonly unknown[],
    expected: unknown,
    fnName: string | undefined,
  ): Promise<TestOutcome> {
    const slot = await this.acquire();
    try {
      const outcome = await runSandboxed(
        this.buildSpec(sample, input, fnName, slot),
        this.isolation,
        this.aborter.signal,
      );
      if (this.closed) throw new SandboxError("the runner was closed while the test ran");
      if (outcome.setupError !== undefined) throw new SandboxError(`set-up failed: ${outcome.setupError}`);
      return classify(outcome, expected, fnName !== undefined);
    } finally {
      this.release(slot);
    }
  }

  private buildSpec(sample: CodeSample, input: string | readonly unknown[], fnName: string | undefined, slot: number) {
    const L = this.limits;
    const files: Record<string, string> = {};
    let argv: string[];
    let addressSpaceBytes: number;
    let memoryMb = L.memoryMb;
    let fatalReport: string | undefined;
    if (sample.language === "python") {
      if (!this.isolation.python) throw new SandboxError("no python3 usable by the sandbox user (set pythonPath)");
      files["solution.py"] = sample.code;
      files["harness.py"] = PYTHON_HARNESS;
      argv = [this.isolation.python, "-I", "-B", "harness.py", fnName ? "call" : "stdio", ...(fnName ? [fnName] : [])];
      addressSpaceBytes = L.memoryMb * 1024 * 1024;
    } else {
      if (!this.isolation.node) throw new SandboxError("no node usable by the sandbox user (set nodePath)");
      files["solution.js"] = sample.code;
      files["harness.cjs"] = JS_HARNESS;
      argv = [
        this.isolation.node,
        `--max-old-space-size=${L.memoryMb}`,
        "--stack-size=8192",
        // On a V8 heap OOM Node writes a diagnostic report, which the sandbox turns into "M": the
        // verdict comes from the runtime itself, never from text the program can print.
        "--report-on-fatalerror",
        "--report-compact",
        `--report-directory=${SANDBOX_DIR}`,
        `--report-filename=${NODE_FATAL_REPORT}`,
        "harness.cjs",
        fnName ? "call" : "stdio",
        ...(fnName ? [fnName] : []),
      ];
      // V8 cannot start under a tight RLIMIT_AS; the heap limit above is the real memory bound.
      addressSpaceBytes = (L.memoryMb + NODE_ADDRESS_SPACE_OVERHEAD_MB) * 1024 * 1024;
      memoryMb += NODE_RESIDENT_OVERHEAD_MB;
      fatalReport = NODE_FATAL_REPORT;
    }
    if (fnName) files["args.json"] = JSON.stringify(callArguments(input));
    return {
      argv,
      files,
      stdin: fnName ? "" : String(input),
      uid: this.uids[slot]!,
      wallMs: Math.round(L.timeLimitSec * 1000),
      cpuSec: Math.max(1, Math.ceil(L.timeLimitSec)),
      addressSpaceBytes,
      memoryBytes: memoryMb * 1024 * 1024,
      maxProcesses: L.maxProcesses,
      outputLimitBytes: L.outputLimitKb * 1024,
      diskBytes: L.diskMb * 1024 * 1024,
      ...(fatalReport ? { fatalReport } : {}),
      ...(this.isolation.cgroup.parent ? { cgroupParent: this.isolation.cgroup.parent } : {}),
    };
  }

  private acquire(): Promise<number> {
    if (this.closed) return Promise.reject(new SandboxError("the runner is closed"));
    const slot = this.freeSlots.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private release(slot: number): void {
    const next = this.waiters.shift();
    if (next) next.resolve(slot);
    else this.freeSlots.push(slot);
  }
}

/**
 * Locks `count` sandbox uids at or above `base`, skipping accounts and uids other live runners hold.
 * Any process still running as a freshly locked uid was left by a runner that died: it is killed.
 */
function lockUids(flock: string, lockDir: string, base: number, count: number): UidLease[] {
  const accounts = accountUids();
  const leases: UidLease[] = [];
  const end = Math.min(65533, base + count + UID_SEARCH_SPAN);
  try {
    for (let uid = base; uid <= end && leases.length < count; uid++) {
      if (accounts.has(uid)) continue;
      const lease = tryLockUid(flock, lockDir, uid);
      if (!lease) continue;
      killAllOfUid(uid);
      leases.push(lease);
    }
  } catch (e) {
    for (const l of leases) l.release();
    throw new SandboxError(`cannot lock sandbox uids in ${lockDir}: ${(e as Error).message}`);
  }
  if (leases.length < count) {
    for (const l of leases) l.release();
    throw new SandboxError(
      `only ${leases.length} of ${count} sandbox uids in [${base}, ${end}] are free (the others are accounts or held by live runners; see ${lockDir})`,
    );
  }
  return leases;
}

/** LiveCodeBench call inputs are one JSON value per line; an array is taken as the arguments. */
function callArguments(input: string | readonly unknown[]): unknown[] {
  if (Array.isArray(input)) return [...input];
  return String(input)
    .split("\n")
    .map((line, k) => {
      try {
        return JSON.parse(line);
      } catch (e) {
        throw new InvalidInputError(
          `tests.inputs: line ${k + 1} of a function-call input is not JSON: ${line.slice(0, 80)}`,
          { cause: e },
        );
      }
    });
}

function validateSample(sample: CodeSample): void {
  if (typeof sample !== "object" || sample === null) throw new InvalidInputError("sample must be an object");
  if (!LANGUAGES.includes(sample.language)) {
    throw new InvalidInputError(
      `language: expected one of ${LANGUAGES.join(", ")}, got ${JSON.stringify(sample.language)}`,
    );
  }
  if (typeof sample.code !== "string")
    throw new InvalidInputError(`code: expected a string, got ${typeof sample.code}`);
  const t = sample.tests;
  if (typeof t !== "object" || t === null || !Array.isArray(t.inputs) || !Array.isArray(t.outputs)) {
    throw new InvalidInputError("tests: expected {inputs: [...], outputs: [...]}");
  }
  if (t.inputs.length !== t.outputs.length) {
    throw new InvalidInputError(`tests: ${t.inputs.length} inputs but ${t.outputs.length} outputs; they must pair up`);
  }
  if (t.fnName !== undefined && (typeof t.fnName !== "string" || !IDENTIFIER.test(t.fnName))) {
    throw new InvalidInputError(`tests.fnName: expected an identifier, got ${JSON.stringify(t.fnName)}`);
  }
  if (t.fnName === undefined) {
    t.inputs.forEach((x, i) => {
      if (typeof x !== "string")
        throw new InvalidInputError(`tests.inputs[${i}]: stdin tests need string inputs, got ${typeof x}`);
    });
  } else {
    t.inputs.forEach((x) => callArguments(x));
  }
}

function expectedReturn(expected: unknown) {
  // LiveCodeBench stores the expected return value as JSON text.
  if (typeof expected === "string") {
    try {
      return parseExactJson(expected);
    } catch {
      return toExactJson(expected);
    }
  }
  return toExactJson(expected);
}

/** Turns what the sandbox observed into a verdict. Order matters: limits first, then the harness's report. */
export function classify(o: SandboxOutcome, expected: unknown, callBased: boolean): TestOutcome {
  const base = { wallMs: Math.round(o.wallMs), exitCode: o.exitCode, signal: o.signal, stderrTail: o.stderrTail };
  const verdict = (status: ResultCode, detail?: string): TestOutcome => ({
    status,
    ...base,
    ...(detail ? { detail } : {}),
  });
  if (o.killedFor === "memory")
    return verdict("memory_limit", "the test's processes together exceeded the memory limit; killed");
  if (o.killedFor === "output") return verdict("output_limit", "output exceeded the limit; program killed");
  if (o.killedFor === "wall") return verdict("time_limit", "wall-clock limit reached; program killed");
  const tag = o.channel.slice(0, 1);
  const payload = o.channel.slice(2);
  if (tag === "C") return verdict("compile_error", payload);
  // Only the harness (Python MemoryError caught, V8 RangeError) or Node's own fatal-error report
  // (relayed by the sandbox) decide memory_limit: stderr is the program's to write.
  if (tag === "M") return verdict("memory_limit", "out of memory under the memory limit");

  if (o.signal === 24) return verdict("time_limit", "CPU-time limit reached (SIGXCPU)");
  if (o.signal === 25) return verdict("output_limit", "file-size limit reached (SIGXFSZ)");
  if (o.signal === 9) return verdict("time_limit", "killed by SIGKILL (hard CPU limit)");
  if (tag === "E") return verdict("runtime_error", payload);
  if (o.signal !== null) return verdict("runtime_error", `killed by signal ${o.signal}`);
  if (o.exitCode !== 0) return verdict("runtime_error", `exit code ${o.exitCode}`);
  if (!callBased) {
    return stdoutMatches(o.stdout, String(expected))
      ? verdict("pass")
      : verdict("wrong_answer", "stdout differs from the expected output");
  }
  if (tag === "U") return verdict("wrong_answer", `return value is not JSON-serialisable: ${payload}`);
  if (tag !== "R") return verdict("runtime_error", "the harness reported no return value");
  let actual: ExactJson;
  try {
    actual = parseExactJson(payload);
  } catch {
    return verdict("wrong_answer", "return value is not valid JSON");
  }
  return pythonEquals(actual, expectedReturn(expected))
    ? verdict("pass")
    : verdict("wrong_answer", "return value differs from the expected output");
}
