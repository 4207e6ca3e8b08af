export {
  BUILTIN_BENCHMARKS,
  benchmarkFromTask,
  builtinBenchmarkPath,
  loadBenchmark,
  type Benchmark,
} from "./benchmark.js";
export { openModel, loadLocal, type Api, type ModelSpec, type ModelSource } from "./engine.js";
export { evaluate, writeEvalReport, type EvalOptions, type EvalResults } from "./commands/eval.js";
export {
  compare,
  compareMarkdown,
  type CompareOptions,
  type CompareResults,
  type RecipeSummary,
} from "./commands/compare.js";
export { collect } from "./commands/report.js";
export { startServer, type ServeOptions } from "./commands/serve.js";
export { scoreTexts, type ScoredText } from "./commands/score.js";
export { COMMANDS, main } from "./cli-main.js";
export { pool, runNode } from "./jobs.js";
