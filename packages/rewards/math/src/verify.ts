import type { Expr } from "./ast.js";
import { answersEqual, type CompareOptions, DEFAULT_COMPARE } from "./compare.js";
import { type ParsedAnswer, parseAnswer } from "./extract.js";
import { formatExpr } from "./format.js";

export type VerifyError = "timeout" | "parse_error" | "compare_error" | "invalid_input";

/** The verdict for one (gold, prediction) pair. */
export interface VerifyResult {
  /** True when the prediction matches the gold answer (Math-Verify's `verify`). */
  equal: boolean;
  /** Set when the pair could not be judged normally; `equal` is then false. */
  error?: VerifyError;
  /** What was extracted from the gold answer: normalised LaTeX/number text, or null if nothing was found. */
  goldParsed: string | null;
  /** What was extracted from the prediction, or null. */
  predictionParsed: string | null;
}

export interface VerifyOptions extends Partial<CompareOptions> {}

function display(p: ParsedAnswer): string | null {
  if (p.expr) return formatExpr(p.expr);
  return p.fallback ?? null;
}

/**
 * Compares every extracted form of the gold answer with every extracted form of
 * the prediction (parsed value against parsed value, text against text), as
 * Math-Verify's verify(parse(gold), parse(prediction)) does. Synchronous and
 * without a time limit: use a VerifierPool for untrusted input.
 */
export function verifySync(gold: string, prediction: string, options: VerifyOptions = {}): VerifyResult {
  const opts: CompareOptions = { ...DEFAULT_COMPARE, ...options };
  const g = parseAnswer(gold);
  const p = parseAnswer(prediction);
  const goldParsed = display(g);
  const predictionParsed = display(p);
  if (!g.expr && !g.fallback) return { equal: false, error: "parse_error", goldParsed, predictionParsed };
  let equal = false;
  let compareFailed = false;
  if (g.expr && p.expr) {
    try {
      equal = answersEqual(g.expr, p.expr, opts);
    } catch {
      compareFailed = true;
    }
  }
  if (!equal && g.fallback && p.fallback) {
    const a = g.fallback.trim();
    const b = p.fallback.trim();
    equal = a.length > 0 && a === b;
  }
  const result: VerifyResult = { equal, goldParsed, predictionParsed };
  if (!equal && compareFailed) result.error = "compare_error";
  return result;
}

export type { Expr, ParsedAnswer };
