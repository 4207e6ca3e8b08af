import { ConfigError } from "@tokenrl/base/errors";
import { createRng } from "@tokenrl/base/rng";
import type { Rng } from "@tokenrl/base/rng";
import { MathVerifier, type MathVerifierOptions } from "./math-verifier.js";
import { checkIndex, checkSplit, drawInSplit } from "./split.js";
import type { SingleTurnTask, Split, TaskExample } from "./types.js";

/**
 * "arith-chain": a chain of additions and subtractions reduced one operation
 * per step, the derivation written out, the answer in `\boxed{}`:
 *
 *   prompt    "47+8-5+9="
 *   response  "55-5+9=50+9=59 \boxed{59}"
 *
 * Difficulty is the number of operations (`minSteps`..`maxSteps`, drawn per
 * prompt): every step is one more chance to slip, so a policy's accuracy falls
 * with it and one batch holds easy and hard prompts. Responses are tens of
 * characters (one token each under a character tokenizer), a miniature of the
 * long chain-of-thought responses the papers train on. Verified by
 * @tokenrl/reward-math's verifier pool; `reference` is the ground-truth
 * derivation for the SFT warm-start.
 */
export interface ArithChainOptions extends Omit<MathVerifierOptions, "requireBoxed"> {
  /** Seed of the example streams. Default 0. */
  seed?: number;
  /** Fewest operations per problem. Default 1. */
  minSteps?: number;
  /** Most operations per problem. Default 6. */
  maxSteps?: number;
  /** Largest first number (the running value stays in 0..99). Default 99. */
  maxStart?: number;
  /** Largest operand after the first. Default 9. */
  maxOperand?: number;
}

export const ARITH_CHAIN_NAME = "arith-chain";
const BOX = "\\boxed{";
const ALPHABET = `0123456789+-= ${BOX}}`;
const MAX_VALUE = 99;

interface ChainProblem {
  start: number;
  ops: { sign: "+" | "-"; value: number }[];
}

function checkInt(path: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new ConfigError(path, `must be an integer from ${lo} to ${hi}, got ${v}`);
}

function makeProblem(rng: Rng, steps: number, maxStart: number, maxOperand: number): ChainProblem {
  let value = rng.range(0, maxStart);
  const start = value;
  const ops: ChainProblem["ops"] = [];
  for (let i = 0; i < steps; i++) {
    const operand = rng.range(1, maxOperand);
    // Keep the running value in 0..99: a forced sign when the other would leave the range.
    let sign: "+" | "-" = rng.int(2) === 0 ? "+" : "-";
    if (sign === "+" && value + operand > MAX_VALUE) sign = "-";
    if (sign === "-" && value - operand < 0) sign = "+";
    value += sign === "+" ? operand : -operand;
    ops.push({ sign, value: operand });
  }
  return { start, ops };
}

function render(first: number, ops: ChainProblem["ops"]): string {
  return `${first}${ops.map((o) => `${o.sign}${o.value}`).join("")}`;
}

/** The ground-truth derivation: each step folds the first operation into the running value. */
export function arithChainDerivation(problem: ChainProblem): { steps: string[]; answer: number } {
  let value = problem.start;
  const steps: string[] = [];
  problem.ops.forEach((op, i) => {
    value += op.sign === "+" ? op.value : -op.value;
    steps.push(render(value, problem.ops.slice(i + 1)));
  });
  return { steps, answer: value };
}

export function createArithChainTask(options: ArithChainOptions = {}): SingleTurnTask {
  const seed = options.seed ?? 0;
  const minSteps = options.minSteps ?? 1;
  const maxSteps = options.maxSteps ?? 6;
  const maxStart = options.maxStart ?? 99;
  const maxOperand = options.maxOperand ?? 9;
  checkInt("task.minSteps", minSteps, 1, 12);
  checkInt("task.maxSteps", maxSteps, minSteps, 12);
  checkInt("task.maxStart", maxStart, 1, MAX_VALUE);
  checkInt("task.maxOperand", maxOperand, 1, 50);
  const verifier = new MathVerifier({ ...options, requireBoxed: true });
  const root = createRng(seed);
  // Longest response: every intermediate value and the answer two digits, operands at their widest.
  const operandWidth = String(maxOperand).length;
  let longest = 0;
  for (let j = 1; j <= maxSteps; j++) longest += 2 + (maxSteps - j) * (1 + operandWidth) + 1;
  longest += ` ${BOX}99}`.length - 1;

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
        (rng) => makeProblem(rng, rng.range(minSteps, maxSteps), maxStart, maxOperand),
        (p) => render(p.start, p.ops),
      );
      const { steps, answer } = arithChainDerivation(problem);
      return {
        id: `${ARITH_CHAIN_NAME}/${split}/${index}`,
        prompt: `${render(problem.start, problem.ops)}=`,
        answer: String(answer),
        reference: `${steps.join("=")} ${BOX}${answer}}`,
        meta: { split, difficulty: problem.ops.length, steps: problem.ops.length },
      };
    },
    verify: (requests) => verifier.verify(requests),
    close: () => verifier.close(),
  };
}
