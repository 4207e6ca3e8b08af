import { type PoolOptions, VerifierPool } from "@tokenrl/reward-math";
import { checkShaping, shapeReward, tokensOf, verifyEach } from "./verdicts.js";
import type { RewardShaping, TaskVerdict, VerifyRequest } from "./types.js";

export interface MathVerifierOptions {
  /** A pool to share (not closed by the task); default: the task makes its own and closes it. */
  pool?: VerifierPool;
  /** Options of the task's own pool (concurrency, per-pair timeoutMs). */
  poolOptions?: PoolOptions;
  reward?: RewardShaping;
  /** Count a response as correct only if it has a `\boxed{...}` (default false: Math-Verify's extraction rules). */
  requireBoxed?: boolean;
}

/**
 * The gold answer as the verifier should read it. A bare answer ("\\pi", "6 - 5i",
 * "1,-2", as MATH-500 and most JSONL sets store them) is wrapped in `\\boxed{}`, as
 * verl's math_verify reward does: Math-Verify extracts a gold like a prediction, and
 * undelimited LaTeX does not parse ("\\pi") or yields its last number ("6 - 5i" -> 5).
 */
export function goldForVerifier(answer: string): string {
  const a = answer.trim();
  // Already delimited: an unescaped $, a box, \( or \[.
  if (/(^|[^\\])\$|\\boxed\s*\{|\\fbox\s*\{|\\\(|\\\[/.test(a)) return a;
  return `\\boxed{${a}}`;
}

/** Batched math verification on @tokenrl/reward-math's worker pool, with reward shaping. */
export class MathVerifier {
  private readonly pool: VerifierPool;
  private readonly ownsPool: boolean;
  private readonly shaping: RewardShaping;
  private readonly requireBoxed: boolean;
  private closed = false;

  constructor(options: MathVerifierOptions = {}) {
    this.shaping = checkShaping(options.reward);
    this.requireBoxed = options.requireBoxed ?? false;
    this.ownsPool = !options.pool;
    this.pool = options.pool ?? new VerifierPool(options.poolOptions);
  }

  verify(requests: readonly VerifyRequest[]): Promise<TaskVerdict[]> {
    // The pool's own deadline (per pair) replaces a stuck worker; the outer one only guards the pool itself.
    const outerMs = this.pool.timeoutMs * 4 + 1000;
    return verifyEach(
      requests,
      async (r) => {
        const tokens = tokensOf(r);
        if (this.requireBoxed && !r.response.includes("\\boxed{"))
          return { correct: false, reward: shapeReward(false, tokens, this.shaping), extracted: "" };
        const result = await this.pool.verify(goldForVerifier(r.example.answer), r.response);
        // A verifier timeout or crash is the sample's failure, not a wrong answer.
        if (result.error === "timeout" || result.error === "compare_error")
          return { correct: false, reward: 0, extracted: "", error: `math verifier: ${result.error}` };
        return {
          correct: result.equal,
          reward: shapeReward(result.equal, tokens, this.shaping),
          extracted: result.predictionParsed ?? "",
        };
      },
      outerMs,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.close();
  }
}
