/** Per-test verdict codes. Only "pass" counts as solved. */
export const RESULT_CODES = [
  "pass",
  "wrong_answer",
  "runtime_error",
  "time_limit",
  "memory_limit",
  "output_limit",
  "compile_error",
] as const;
export type ResultCode = (typeof RESULT_CODES)[number];

export const LANGUAGES = ["python", "javascript"] as const;
export type Language = (typeof LANGUAGES)[number];

/**
 * Tests in LiveCodeBench's `input_output` shape. Without `fnName` each input is fed on stdin and
 * stdout is compared with the output. With `fnName` each input is the call's arguments, one JSON
 * value per line (LiveCodeBench) or an already-parsed argument array, and each output is the
 * expected return value as JSON text (LiveCodeBench) or an already-parsed value.
 */
export interface TestSuite {
  inputs: ReadonlyArray<string | readonly unknown[]>;
  outputs: readonly unknown[];
  fnName?: string;
}

export interface CodeSample {
  id?: string;
  language: Language;
  code: string;
  tests: TestSuite;
}

/** What happened in one test execution. */
export interface TestOutcome {
  status: ResultCode;
  /** Wall time of the sandboxed process, including sandbox set-up (a few ms). */
  wallMs: number;
  exitCode: number | null;
  /** Signal number that ended the program, if any (e.g. 24 = SIGXCPU from the CPU limit). */
  signal: number | null;
  /** Last few KiB of the program's stderr, for debugging; never used to decide "pass". */
  stderrTail: string;
  /** Short human-readable reason for a non-pass verdict. */
  detail?: string;
}

export interface SampleResult {
  id?: string;
  passed: boolean;
  results: ResultCode[];
  tests: TestOutcome[];
}

/** Resource limits applied to every test execution. */
export interface Limits {
  /** Wall-clock limit per test, seconds; the CPU-time rlimit is ceil(timeLimitSec). Default 6 (LiveCodeBench). */
  timeLimitSec: number;
  /** Address-space limit (RLIMIT_AS) for Python; V8 heap limit for JavaScript (see README). Default 512. */
  memoryMb: number;
  /** stdout (and separately stderr) bytes allowed before the program is killed. Default 1024 KiB. */
  outputLimitKb: number;
  /** RLIMIT_NPROC for the sandbox uid (processes + threads). Default 64 (Node needs ~12 threads). */
  maxProcesses: number;
  /** Size of the private tmpfs the program runs in (its cwd and /tmp). Default 64 MiB. */
  diskMb: number;
}

export const DEFAULT_LIMITS: Limits = {
  timeLimitSec: 6,
  memoryMb: 512,
  outputLimitKb: 1024,
  maxProcesses: 64,
  diskMb: 64,
};
