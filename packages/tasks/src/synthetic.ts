import { ConfigError } from "@tokenrl/core/errors";
import { createRng } from "@tokenrl/core/rng";
import type { Rng } from "@tokenrl/core/rng";
import type { Task, TaskExample, TaskVerdict } from "./types.js";

/**
 * Synthetic verifiable tasks, small enough that a policy trained from scratch
 * on one CPU core shows learning within minutes: the demo and the trainer's
 * built-in task. Each is seeded, with disjoint train and test streams.
 */
export interface SyntheticTaskOptions {
  /** Seed of the example stream. Default 0. */
  seed?: number;
  /** Digits per operand (`addition`) or string length (`reverse`, `last-digit`, `majority`). */
  length?: number;
}

const DIGITS = "0123456789";
const TERMINATOR = ".";

/** Reads the answer from a response: everything before the first terminator, trimmed. */
function readAnswer(response: string): string {
  const end = response.indexOf(TERMINATOR);
  return (end < 0 ? response : response.slice(0, end)).trim();
}

function exactVerdict(response: string, example: TaskExample): TaskVerdict {
  const extracted = readAnswer(response);
  const correct = extracted === example.answer && response.includes(TERMINATOR);
  return { correct, reward: correct ? 1 : 0, extracted };
}

function digitString(rng: Rng, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += DIGITS[rng.int(10)];
  return s;
}

interface Spec {
  alphabet: string;
  answerLength: (length: number) => number;
  make: (rng: Rng, length: number) => { prompt: string; answer: string };
}

const SPECS: Record<string, Spec> = {
  /** "c:4721=" -> "1.": the last digit of the string. A random policy is right 1 time in 10. */
  "last-digit": {
    alphabet: `${DIGITS}c:=${TERMINATOR}`,
    answerLength: () => 1,
    make: (rng, length) => {
      const s = digitString(rng, length);
      return { prompt: `c:${s}=`, answer: s[s.length - 1]! };
    },
  },
  /** "m:01101=" -> "1.": the majority bit of an odd-length bit string. */
  majority: {
    alphabet: `01m:=${TERMINATOR}`,
    answerLength: () => 1,
    make: (rng, length) => {
      const n = length % 2 === 1 ? length : length + 1;
      let s = "";
      let ones = 0;
      for (let i = 0; i < n; i++) {
        const bit = rng.int(2);
        ones += bit;
        s += String(bit);
      }
      return { prompt: `m:${s}=`, answer: ones * 2 > n ? "1" : "0" };
    },
  },
  /** "r:123=" -> "321.". */
  reverse: {
    alphabet: `${DIGITS}r:=${TERMINATOR}`,
    answerLength: (length) => length,
    make: (rng, length) => {
      const s = digitString(rng, length);
      return { prompt: `r:${s}=`, answer: [...s].reverse().join("") };
    },
  },
  /** "12+7=" -> "19.". */
  addition: {
    alphabet: `${DIGITS}+=${TERMINATOR}`,
    answerLength: (length) => length + 1,
    make: (rng, length) => {
      const a = rng.int(10 ** length);
      const b = rng.int(10 ** length);
      return { prompt: `${a}+${b}=`, answer: String(a + b) };
    },
  },
};

export const SYNTHETIC_TASK_NAMES = Object.keys(SPECS).sort();

export function createSyntheticTask(name: string, options: SyntheticTaskOptions = {}): Task {
  const spec = SPECS[name];
  if (!spec)
    throw new ConfigError("task", `unknown synthetic task "${name}"; known: ${SYNTHETIC_TASK_NAMES.join(", ")}`);
  const seed = options.seed ?? 0;
  const length = options.length ?? 3;
  if (!Number.isInteger(length) || length < 1 || length > 12) {
    throw new ConfigError("task.length", `must be an integer from 1 to 12, got ${length}`);
  }
  const root = createRng(seed);
  return {
    name,
    alphabet: spec.alphabet,
    stop: [TERMINATOR],
    maxResponseLength: spec.answerLength(length) + 1,
    example(index, split = "train") {
      if (!Number.isInteger(index) || index < 0)
        throw new ConfigError("index", `must be a non-negative integer, got ${index}`);
      const { prompt, answer } = spec.make(root.fork(`${split}:${index}`), length);
      return { id: `${name}/${split}/${index}`, prompt, answer, meta: { split, length } };
    },
    verify: exactVerdict,
  };
}
