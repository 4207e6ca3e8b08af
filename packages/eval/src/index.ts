export { passAtK } from "./pass-at-k.js";
export { majorityIndex } from "./majority.js";
export {
  bootstrapStderr,
  mean,
  pairedDifference,
  quantile,
  stdev,
  type BootstrapOptions,
  type PairedDifference,
} from "./bootstrap.js";
export { computeMetrics, type EvalMetrics, type ProblemOutcome, type ProblemScore } from "./metrics.js";
export {
  chatSource,
  completionsSource,
  tokenEngineSource,
  type CompletionClient,
  type EvalSampling,
  type TokenEngine,
} from "./sources.js";
export { problemSeed, runEval, type EvalProgress, type EvalRun, type RunEvalOptions } from "./run.js";
export { memoryStore } from "./memory-store.js";
export type * from "./types.js";
