import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "@tokenrl/base/errors";
import type { EvalProblem, Verifier } from "@tokenrl/eval";
import {
  type EpisodeTask,
  type Task,
  type TaskExample,
  type TaskSpec,
  createMathTask,
  createTask,
} from "@tokenrl/tasks";

/** Benchmarks shipped in @tokenrl/tasks (packages/tasks/data, with SOURCES.md). */
export const BUILTIN_BENCHMARKS = {
  aime24: "AIME 2024 I + II (30 problems)",
  amc23: "AMC 12 2023 (40 problems)",
  math500: "MATH-500 (500 problems, PRM800K test split)",
} as const;

/** The folder of the installed @tokenrl/tasks package: the nearest node_modules/@tokenrl/tasks up from here. */
function tasksPackageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "node_modules", "@tokenrl", "tasks");
    if (existsSync(join(candidate, "package.json"))) return candidate;
    const up = dirname(dir);
    if (up === dir)
      throw new ConfigError(
        "--benchmark",
        "cannot find the installed @tokenrl/tasks package (its data/ holds the built-ins)",
      );
    dir = up;
  }
}

export function builtinBenchmarkPath(name: string): string {
  return join(tasksPackageDir(), "data", `${name}.jsonl`);
}

/** A benchmark ready to evaluate: problems with their prompts, the task's verifier, and how to release it. */
export interface Benchmark {
  name: string;
  problems: EvalProblem[];
  verifier: Verifier;
  /** Strings that end a response for this task (none for math: EOS). */
  stop: readonly string[];
  /** The task's own generation budget. */
  maxResponseLength: number;
  /** Set for agent tasks (ALFWorld, WebShop): samples are episodes run by the task's agent loop. */
  episodes?: { task: EpisodeTask; example(id: string): TaskExample };
  close(): Promise<void>;
}

/** Eval problems from a task's held-out split, the task's verifier as eval's Verifier. */
export function benchmarkFromTask(name: string, task: Task, limit = Number.POSITIVE_INFINITY): Benchmark {
  const size = Math.min(task.size("test"), limit);
  if (!Number.isFinite(size))
    throw new ConfigError("--limit", `task "${task.name}" has an unbounded held-out stream; give --limit N`);
  const examples = new Map<string, TaskExample>();
  const problems: EvalProblem[] = [];
  for (let i = 0; i < size; i++) {
    const e = task.example(i, "test");
    const id = typeof e.meta?.sourceId === "string" ? e.meta.sourceId : e.id;
    examples.set(id, e);
    problems.push({ id, problem: e.prompt, answer: e.answer });
  }
  return {
    name,
    problems,
    stop: task.stop,
    maxResponseLength: task.maxResponseLength,
    verifier: {
      async verify(items) {
        const verdicts = await task.verify(
          items.map(({ problem, response, responseTokens, finishReason, episodeReward }) => ({
            example: examples.get(problem.id)!,
            response,
            ...(responseTokens !== undefined ? { responseTokens } : {}),
            ...(finishReason !== undefined ? { finishReason } : {}),
            ...(episodeReward !== undefined ? { episodeReward } : {}),
          })),
        );
        return verdicts.map((v) => ({
          correct: v.correct,
          extracted: v.extracted,
          ...(v.error !== undefined ? { error: v.error } : {}),
        }));
      },
    },
    close: () => task.close(),
    ...(task.kind === "episode" ? { episodes: { task, example: (id: string) => examples.get(id)! } } : {}),
  };
}

/**
 * A createTask spec from a task-spec object: `{name, ...options}` as tasks
 * takes it, or the trainer config's `{name, options: {...}}` form (its reward
 * settings do not change the verdicts, so they are dropped).
 */
function taskSpecOf(value: unknown): TaskSpec | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as { name?: unknown; options?: unknown };
  if (typeof v.name !== "string") return undefined;
  if (typeof v.options === "object" && v.options !== null)
    return { name: v.name, ...(v.options as Record<string, unknown>) } as TaskSpec;
  const { reward: _r, verifyTimeoutMs: _t, ...rest } = v as Record<string, unknown>;
  return rest as unknown as TaskSpec;
}

/**
 * `--benchmark`: a built-in name (aime24, amc23, math500), a `{id, problem,
 * answer}` JSONL file, or `task:NAME` / a task-spec JSON file (`{"name": ...}`,
 * e.g. a trainer run's config task) whose held-out split is evaluated.
 */
export function loadBenchmark(spec: string, options: { template?: string; limit?: number } = {}): Benchmark {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const math = (name: string, path: string) =>
    benchmarkFromTask(
      name,
      createMathTask({ test: path, name, ...(options.template ? { template: options.template } : {}) }),
      limit,
    );
  if (spec in BUILTIN_BENCHMARKS) return math(spec, builtinBenchmarkPath(spec));
  if (spec.startsWith("task:")) {
    const name = spec.slice(5);
    return benchmarkFromTask(name, createTask({ name } as TaskSpec), limit);
  }
  if (!existsSync(spec))
    throw new ConfigError(
      "--benchmark",
      `"${spec}" is neither a built-in (${Object.keys(BUILTIN_BENCHMARKS).join(", ")}), task:NAME, nor an existing file`,
    );
  if (spec.endsWith(".json")) {
    const parsed = JSON.parse(readFileSync(spec, "utf8")) as { task?: unknown; name?: unknown };
    const taskSpec = taskSpecOf(parsed.task ?? parsed);
    if (!taskSpec)
      throw new ConfigError("--benchmark", `${spec} is not a task spec: it needs "name" (or "task": {"name": ...})`);
    return benchmarkFromTask(taskSpec.name, createTask(taskSpec), limit);
  }
  return math(
    resolve(spec)
      .split("/")
      .pop()!
      .replace(/\.jsonl$/, ""),
    spec,
  );
}
