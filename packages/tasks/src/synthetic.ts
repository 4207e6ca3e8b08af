import { ConfigError } from "@tokenrl/base/errors";
import { createRng } from "@tokenrl/base/rng";
import type { Rng } from "@tokenrl/base/rng";
import { checkIndex, checkSplit, drawInSplit } from "./split.js";
import type { RewardShaping, SingleTurnTask, Split, TaskVerdict, VerifyRequest } from "./types.js";
import { checkShaping, shapeReward, tokensOf, verifyEach } from "./verdicts.js";

/**
 * Synthetic verifiable tasks with answers of a few tokens, small enough that a
 * policy trained from scratch on one CPU core learns them within minutes. Each
 * is seeded; the train and held-out streams are disjoint by construction (a
 * problem's split is a hash of its prompt, see split.ts).
 */
export interface SyntheticTaskOptions {
  /** Seed of the example stream. Default 0. */
  seed?: number;
  /** Digits per operand (`addition`) or string length (`reverse`, `last-digit`, `majority`). Default 3. */
  length?: number;
  reward?: RewardShaping;
}

const DIGITS = "0123456789";
const TERMINATOR = ".";

/** Reads the answer from a response: everything before the first terminator, trimmed. */
function readAnswer(response: string): string {
  const end = response.indexOf(TERMINATOR);
  return (end < 0 ? response : response.slice(0, end)).trim();
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

/** Exact-match verdict: the text before the first `.` equals the answer, and the `.` is there. */
export function exactVerdict(request: VerifyRequest, shaping: RewardShaping = {}): TaskVerdict {
  const extracted = readAnswer(request.response);
  const correct = extracted === request.example.answer && request.response.includes(TERMINATOR);
  return { correct, reward: shapeReward(correct, tokensOf(request), shaping), extracted };
}

export function createSyntheticTask(name: string, options: SyntheticTaskOptions = {}): SingleTurnTask {
  const spec = SPECS[name];
  if (!spec)
    throw new ConfigError("task", `unknown synthetic task "${name}"; known: ${SYNTHETIC_TASK_NAMES.join(", ")}`);
  const seed = options.seed ?? 0;
  const length = options.length ?? 3;
  if (!Number.isInteger(length) || length < 1 || length > 12) {
    throw new ConfigError("task.length", `must be an integer from 1 to 12, got ${length}`);
  }
  const shaping = checkShaping(options.reward);
  const root = createRng(seed);
  return {
    kind: "single-turn",
    name,
    alphabet: spec.alphabet,
    stop: [TERMINATOR],
    maxResponseLength: spec.answerLength(length) + 1,
    size: () => Number.POSITIVE_INFINITY,
    example(index, split: Split = "train") {
      checkIndex(index);
      checkSplit(split);
      const { prompt, answer } = drawInSplit(
        name,
        split,
        root.fork(`${split}:${index}`),
        (rng) => spec.make(rng, length),
        (p) => p.prompt,
      );
      return {
        id: `${name}/${split}/${index}`,
        prompt,
        answer,
        reference: `${answer}${TERMINATOR}`,
        meta: { split, length, difficulty: length },
      };
    },
    verify: (requests) => verifyEach(requests, (r) => exactVerdict(r, shaping)),
    close: async () => {},
  };
}
