import { ConfigError } from "@tokenrl/base/errors";
import { alphabetOf, splitDataset } from "./dataset.js";
import { loadJsonlTasks } from "./jsonl.js";
import { MathVerifier, type MathVerifierOptions } from "./math-verifier.js";
import type { SingleTurnTask, Split, TaskExample } from "./types.js";

/** The usual zero-RL math prompt (DeepSeek-R1 / Qwen2.5-Math / DAPO): `{problem}` is replaced by the problem. */
export const DEFAULT_MATH_TEMPLATE =
  "{problem}\nPlease reason step by step, and put your final answer within \\boxed{}.";

type Source = string | readonly TaskExample[];

export interface MathTaskOptions extends MathVerifierOptions {
  /** One `{id, problem, answer}` JSONL file (or its records), split into train and held-out by content hash. */
  path?: Source;
  /** Training problems; with `test`, train drops every problem also in test. */
  train?: Source;
  /** Held-out problems. */
  test?: Source;
  /** Prompt template with a `{problem}` placeholder. Default DEFAULT_MATH_TEMPLATE. */
  template?: string;
  /** Generation budget in tokens. Default 1024. */
  maxResponseLength?: number;
  /** Stop strings; default none (end at EOS). */
  stop?: readonly string[];
  /** Seed of the training order. Default 0. */
  seed?: number;
  /** Task name in ids and logs. Default "math". */
  name?: string;
}

function load(source: Source | undefined): readonly TaskExample[] | undefined {
  if (source === undefined) return undefined;
  return typeof source === "string" ? loadJsonlTasks(source) : source;
}

/** Math word problems from JSONL, rewarded by @tokenrl/reward-math's verifier pool (binary, DAPO +-1, overlong). */
export function createMathTask(options: MathTaskOptions): SingleTurnTask {
  const name = options.name ?? "math";
  const template = options.template ?? DEFAULT_MATH_TEMPLATE;
  if (!template.includes("{problem}"))
    throw new ConfigError("task.template", `must contain "{problem}", got ${JSON.stringify(template)}`);
  const maxResponseLength = options.maxResponseLength ?? 1024;
  if (!Number.isInteger(maxResponseLength) || maxResponseLength < 1)
    throw new ConfigError("task.maxResponseLength", `must be a positive integer, got ${maxResponseLength}`);
  if (options.path === undefined && options.train === undefined && options.test === undefined)
    throw new ConfigError("task.path", "give a JSONL path (split by hash) or train and/or test paths");
  const data = splitDataset(
    name,
    { all: load(options.path), train: load(options.train), test: load(options.test) },
    (e) => e.prompt,
    options.seed ?? 0,
  );
  const verifier = new MathVerifier(options);
  const render = (problem: string) => template.split("{problem}").join(problem);
  const texts = [...data.train, ...data.test].map((e) => e.prompt);
  return {
    kind: "single-turn",
    name,
    alphabet: alphabetOf(texts, `${template.replace("{problem}", "")}\\boxed{}`),
    stop: options.stop ?? [],
    maxResponseLength,
    size: (split) => data.size(split),
    example(index: number, split: Split = "train"): TaskExample {
      const e = data.at(index, split);
      return {
        id: `${name}/${split}/${e.id}`,
        prompt: render(e.prompt),
        answer: e.answer,
        meta: { ...e.meta, split, problem: e.prompt, sourceId: e.id },
      };
    },
    verify: (requests) => verifier.verify(requests),
    close: () => verifier.close(),
  };
}
