import { ConfigError } from "@tokenrl/base/errors";
import { createRng } from "@tokenrl/base/rng";
import type { Rng } from "@tokenrl/base/rng";
import { MathVerifier, type MathVerifierOptions } from "./math-verifier.js";
import { checkIndex, checkSplit, drawInSplit } from "./split.js";
import type { SingleTurnTask, Split, TaskExample } from "./types.js";

/**
 * "arith-chain": a chain of additions and subtractions done one operation per
 * written step, the answer in `\boxed{}`:
 *
 *   prompt    "7a+2b-5c+4="
 *   response  "a:7+2=9 b:9-5=4 c:4+4=8 \boxed{8}"
 *
 * (with maxValue 99: "47a+8b-5c+9=" -> "a:47+8=55 b:55-5=50 c:50+9=59 \boxed{59}").
 *
 * Each operation carries a step letter, and each written step repeats it, the
 * running value, the operation and the new value: the step's inputs are found by
 * content (the letter, the last result), so what a policy must learn is the
 * arithmetic and the bookkeeping, as in a written derivation. Difficulty is the
 * number of operations (`minSteps`..`maxSteps`, drawn per prompt): every step
 * is one more chance to slip, so accuracy falls with it and one batch holds easy
 * and hard prompts. Responses are tens of characters (one token each under a
 * character tokenizer). Verified by @tokenrl/reward-math's verifier pool;
 * `reference` is the ground-truth derivation for the SFT warm-start.
 */
export interface ArithChainOptions extends Omit<MathVerifierOptions, "requireBoxed"> {
  /** Seed of the example streams. Default 0. */
  seed?: number;
  /** Fewest operations per problem. Default 1. */
  minSteps?: number;
  /** Most operations per problem. Default 6. */
  maxSteps?: number;
  /** Largest first number. Default maxValue. */
  maxStart?: number;
  /** Largest operand after the first. Default min(9, maxValue). */
  maxOperand?: number;
  /**
   * Largest running value: every value stays in 0..maxValue. Default 9 (single-digit
   * steps, which a ~0.1M-parameter model learns in a few hundred SFT steps); 99 gives
   * two-digit arithmetic with carries, for larger models and longer runs.
   */
  maxValue?: number;
}

export const ARITH_CHAIN_NAME = "arith-chain";
const BOX = "\\boxed{";
const STEP_LETTERS = "abcdefghijkl";
const ALPHABET = [...new Set(`0123456789+-=: ${STEP_LETTERS}${BOX}}`)].join("");

/** One arith-chain problem: the first value and the operations in order. */
export interface ChainProblem {
  start: number;
  ops: { sign: "+" | "-"; value: number }[];
}

function checkInt(path: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi)
    throw new ConfigError(path, `must be an integer from ${lo} to ${hi}, got ${v}`);
}

function makeProblem(rng: Rng, steps: number, maxStart: number, maxOperand: number, maxValue: number): ChainProblem {
  let value = rng.range(0, maxStart);
  const start = value;
  const ops: ChainProblem["ops"] = [];
  for (let i = 0; i < steps; i++) {
    // At most what keeps one of the two signs in range.
    const operand = rng.range(1, Math.min(maxOperand, Math.max(value, maxValue - value)));
    // Keep the running value in 0..maxValue: a forced sign when the other would leave the range.
    let sign: "+" | "-" = rng.int(2) === 0 ? "+" : "-";
    if (sign === "+" && value + operand > maxValue) sign = "-";
    if (sign === "-" && value - operand < 0) sign = "+";
    value += sign === "+" ? operand : -operand;
    ops.push({ sign, value: operand });
  }
  return { start, ops };
}

/** The prompt's expression: "47a+8b-5c+9". */
function renderPrompt(problem: ChainProblem): string {
  return `${problem.start}${problem.ops.map((o, i) => `${STEP_LETTERS[i]}${o.sign}${o.value}`).join("")}`;
}

/** The ground-truth derivation: one written step per operation, "a:47+8=55". */
export function arithChainDerivation(problem: ChainProblem): { steps: string[]; answer: number } {
  let value = problem.start;
  const steps = problem.ops.map((op, i) => {
    const before = value;
    value += op.sign === "+" ? op.value : -op.value;
    return `${STEP_LETTERS[i]}:${before}${op.sign}${op.value}=${value}`;
  });
  return { steps, answer: value };
}

export function createArithChainTask(options: ArithChainOptions = {}): SingleTurnTask {
  const seed = options.seed ?? 0;
  const minSteps = options.minSteps ?? 1;
  const maxSteps = options.maxSteps ?? 6;
  const maxValue = options.maxValue ?? 9;
  const maxStart = options.maxStart ?? maxValue;
  const maxOperand = options.maxOperand ?? Math.min(9, maxValue);
  checkInt("task.minSteps", minSteps, 1, 12);
  checkInt("task.maxSteps", maxSteps, minSteps, 12);
  checkInt("task.maxValue", maxValue, 1, 999);
  checkInt("task.maxStart", maxStart, 1, maxValue);
  checkInt("task.maxOperand", maxOperand, 1, maxValue);
  const verifier = new MathVerifier({ ...options, requireBoxed: true });
  const root = createRng(seed);
  // Longest response: every value and operand at its widest ("a:" value op operand "=" value " ", then the box).
  const valueWidth = String(maxValue).length;
  const operandWidth = String(maxOperand).length;
  const longest = maxSteps * (2 + valueWidth + 1 + operandWidth + 1 + valueWidth + 1) + BOX.length + valueWidth + 1;

  return {
    kind: "single-turn",
    name: ARITH_CHAIN_NAME,
    alphabet: ALPHABET,
    stop: ["}"],
    maxResponseLength: longest + 8,
    size: () => Number.POSITIVE_INFINITY,
    example(index: number, split: Split = "train"): TaskExample {
      checkIndex(index);
      checkSplit(split);
      const problem = drawInSplit(
        ARITH_CHAIN_NAME,
        split,
        root.fork(`${split}:${index}`),
        (rng) => makeProblem(rng, rng.range(minSteps, maxSteps), maxStart, maxOperand, maxValue),
        renderPrompt,
      );
      const { steps, answer } = arithChainDerivation(problem);
      return {
        id: `${ARITH_CHAIN_NAME}/${split}/${index}`,
        prompt: `${renderPrompt(problem)}=`,
        answer: String(answer),
        reference: `${steps.join(" ")} ${BOX}${answer}}`,
        meta: { split, difficulty: problem.ops.length, steps: problem.ops.length },
      };
    },
    verify: (requests) => verifier.verify(requests),
    close: () => verifier.close(),
  };
}
