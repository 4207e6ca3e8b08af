import type { Rational } from "./rational.js";

/**
 * The parsed form of an answer. Close to what latex2sympy2_extended builds in
 * sympy (that is what Math-Verify compares), but kept unevaluated: the
 * comparison code evaluates numerically or exactly as each rule needs.
 */
export type RelOp = "=" | "<" | "<=" | ">" | ">=" | "!=";

export type Expr =
  /** A literal; `float` marks a decimal literal (sympy Float), which switches comparison to 6-decimal rounding. */
  | { t: "num"; value: Rational; float: boolean }
  | { t: "const"; name: "pi" | "e" | "inf" }
  | { t: "sym"; name: string }
  | { t: "add"; args: Expr[] }
  /** `percent` marks a value written with a percent sign (`28\\%` is 28 * 1/100 with percent set). */
  | { t: "mul"; args: Expr[]; percent?: true }
  | { t: "pow"; base: Expr; exp: Expr }
  | { t: "fn"; name: string; args: Expr[] }
  /** `a \pm b` (a absent for a leading \pm): expands into two answers. */
  | { t: "pm"; a?: Expr; b: Expr }
  | { t: "matrix"; rows: Expr[][] }
  | { t: "rel"; op: RelOp; lhs: Expr; rhs: Expr }
  | { t: "and"; args: Expr[] }
  | { t: "set"; elems: Expr[] }
  | { t: "tuple"; elems: Expr[] }
  | { t: "interval"; lo: Expr; hi: Expr; lopen: boolean; ropen: boolean }
  | { t: "union"; args: Expr[] }
  | { t: "intersect"; args: Expr[] }
  | { t: "minus"; a: Expr; b: Expr }
  | { t: "namedset"; name: "R" | "N" | "Z" | "Q" | "C" | "empty" };

export const isSetLike = (e: Expr): boolean =>
  e.t === "set" ||
  e.t === "interval" ||
  e.t === "union" ||
  e.t === "intersect" ||
  e.t === "minus" ||
  e.t === "namedset";

export const isRelation = (e: Expr): boolean =>
  e.t === "rel" || (e.t === "and" && e.args.length > 0 && e.args.every((a) => a.t === "rel"));

export const isEquation = (e: Expr): boolean =>
  (e.t === "rel" && e.op === "=") ||
  (e.t === "and" && e.args.length > 0 && e.args.every((a) => a.t === "rel" && a.op === "="));

/** Like latex2sympy2_extended's is_expr_of_only_symbols: `x`, `AB`, `|AB|`, `A/S`, `(p, q)`. */
export function onlySymbols(e: Expr): boolean {
  switch (e.t) {
    case "sym":
      return true;
    case "mul":
    case "add":
      return e.args.length > 0 && e.args.every(onlySymbols);
    case "tuple":
      return e.elems.length > 0 && e.elems.every(onlySymbols);
    case "interval":
      return onlySymbols(e.lo) && onlySymbols(e.hi);
    case "pow":
      return e.exp.t === "num" && e.exp.value.n === -1n && e.exp.value.d === 1n && onlySymbols(e.base);
    case "fn":
      return e.args.length > 0 && e.args.every(onlySymbols);
    default:
      return false;
  }
}

export function firstRelation(e: Expr): Expr {
  return e.t === "and" ? e.args[0]! : e;
}
export function lastRelation(e: Expr): Expr {
  return e.t === "and" ? lastRelation(e.args[e.args.length - 1]!) : e;
}
export function isAssignment(e: Expr): boolean {
  if (e.t === "rel") return e.op === "=" && onlySymbols(e.lhs);
  if (e.t === "and" && e.args.length > 0) {
    const first = e.args[0]!;
    return e.args.every((a) => a.t === "rel" && a.op === "=") && first.t === "rel" && onlySymbols(first.lhs);
  }
  return false;
}
