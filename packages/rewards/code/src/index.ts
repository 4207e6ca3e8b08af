export { CodeRunner, type CodeRunnerOptions, SandboxError, classify } from "./runner.js";
export { detectIsolation, describeIsolation, type IsolationReport } from "./isolation.js";
export { passAtK, meanPassAtK } from "./pass-at-k.js";
export {
  stdoutMatches,
  strippedLines,
  parseDecimal,
  decimalEquals,
  parseExactJson,
  pythonEquals,
  toExactJson,
  type Decimal,
  type ExactJson,
} from "./compare.js";
export { processesOfUid } from "./sandbox.js";
export type { ProbeReport } from "./probe.js";
export {
  RESULT_CODES,
  LANGUAGES,
  DEFAULT_LIMITS,
  type ResultCode,
  type Language,
  type TestSuite,
  type CodeSample,
  type TestOutcome,
  type SampleResult,
  type Limits,
} from "./types.js";
