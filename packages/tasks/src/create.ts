import { ConfigError } from "@tokenrl/base/errors";
import { type CodeTaskOptions, createCodeTask } from "./code.js";
import {
  ENVIRONMENT_TASK_NAMES,
  type EnvironmentTaskName,
  type EnvironmentTaskOptions,
  createEnvironmentTask,
} from "./episodes.js";
import { type MathTaskOptions, createMathTask } from "./math.js";
import { ARITH_CHAIN_NAME, type ArithChainOptions, createArithChainTask } from "./reasoning.js";
import { SYNTHETIC_TASK_NAMES, type SyntheticTaskOptions, createSyntheticTask } from "./synthetic.js";
import type { Task } from "./types.js";

/** A task by name and options, as a config file names it. */
export type TaskSpec =
  | ({ name: typeof ARITH_CHAIN_NAME } & ArithChainOptions)
  | ({ name: "addition" | "last-digit" | "majority" | "reverse" } & SyntheticTaskOptions)
  | ({ name: "math-jsonl" } & MathTaskOptions)
  | ({ name: "code-jsonl" } & CodeTaskOptions)
  | ({ name: EnvironmentTaskName } & EnvironmentTaskOptions);

export const TASK_NAMES: readonly string[] = [
  ARITH_CHAIN_NAME,
  ...SYNTHETIC_TASK_NAMES,
  "math-jsonl",
  "code-jsonl",
  ...ENVIRONMENT_TASK_NAMES,
];

/** Builds any built-in task; an unknown name is a ConfigError listing the known ones. */
export function createTask(spec: TaskSpec): Task {
  const { name, ...options } = spec as { name: string } & Record<string, unknown>;
  if (name === ARITH_CHAIN_NAME) return createArithChainTask(options as ArithChainOptions);
  if (SYNTHETIC_TASK_NAMES.includes(name)) return createSyntheticTask(name, options as SyntheticTaskOptions);
  if (name === "math-jsonl") return createMathTask(options as MathTaskOptions);
  if (name === "code-jsonl") return createCodeTask(options as CodeTaskOptions);
  if ((ENVIRONMENT_TASK_NAMES as readonly string[]).includes(name))
    return createEnvironmentTask(name as EnvironmentTaskName, options as EnvironmentTaskOptions);
  throw new ConfigError("task.name", `unknown task "${name}"; known: ${TASK_NAMES.join(", ")}`);
}

/** What a built-in task's verifier runs on: the math verifier's threads, code sandboxes, or nothing extra. */
export type RewardRuntime = "none" | "math" | "code";

/** The reward runtime of a task by name (what @tokenrl/train's `planWorkers` sizes). */
export function rewardRuntime(name: string): RewardRuntime {
  if (name === ARITH_CHAIN_NAME || name === "math-jsonl") return "math";
  if (name === "code-jsonl") return "code";
  return "none";
}

/**
 * `spec` with its verifier's pool sized to `workers` (the math verifier's
 * threads, the code runner's concurrent sandboxes) unless the spec sizes it
 * itself or brings its own pool; other tasks are returned unchanged.
 */
export function withRewardWorkers(spec: TaskSpec, workers: number): TaskSpec {
  if (!Number.isInteger(workers) || workers < 1)
    throw new ConfigError("rewardWorkers", `expected an integer >= 1, got ${workers}`);
  const kind = rewardRuntime(spec.name);
  if (kind === "math") {
    const s = spec as TaskSpec & { pool?: unknown; poolOptions?: { concurrency?: number } };
    if (s.pool || s.poolOptions?.concurrency !== undefined) return spec;
    return { ...s, poolOptions: { ...s.poolOptions, concurrency: workers } } as TaskSpec;
  }
  if (kind === "code") {
    const s = spec as TaskSpec & { codeRunner?: unknown; runner?: { concurrency?: number } };
    if (s.codeRunner || s.runner?.concurrency !== undefined) return spec;
    return { ...s, runner: { ...s.runner, concurrency: workers } } as TaskSpec;
  }
  return spec;
}
