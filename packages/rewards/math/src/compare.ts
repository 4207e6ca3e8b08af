import {
  type Expr,
  firstRelation,
  isAssignment,
  isEquation,
  isRelation,
  isSetLike,
  lastRelation,
  type RelOp,
} from "./ast.js";
import { closeEnough, type EvalState, exactValue, freeSymbols, numericValue, sampleEnvs } from "./evaluate.js";
import { negate } from "./latex-parser.js";
import { preciseEqual } from "./precise.js";
import * as Q from "./rational.js";

/**
 * Equality of two parsed answers, gold first: the rules (and their asymmetry)
 * of Math-Verify's `sympy_expr_eq`. Symbolic equality is decided by exact
 * rational arithmetic where possible and otherwise by evaluating both sides at
 * several fixed real sample points.
 */
export interface CompareOptions {
  /** Decimal places floats are rounded to when one side is a float literal (Math-Verify: 6). */
  floatRounding: number;
}

export const DEFAULT_COMPARE: CompareOptions = { floatRounding: 6 };

type Rel = Extract<Expr, { t: "rel" }>;

export function answersEqual(gold: Expr, pred: Expr, opts: CompareOptions = DEFAULT_COMPARE): boolean {
  const gA = isAssignment(gold);
  const pA = isAssignment(pred);
  const gE = isEquation(gold);
  const pE = isEquation(pred);
  // Chains like x = 5+5+1 = 11 keep the first left side and the last right side.
  if (gA) gold = { t: "rel", op: "=", lhs: (firstRelation(gold) as Rel).lhs, rhs: (lastRelation(gold) as Rel).rhs };
  if (pA) pred = { t: "rel", op: "=", lhs: (firstRelation(pred) as Rel).lhs, rhs: (lastRelation(pred) as Rel).rhs };
  // The gold decides the reading: "3" vs "x = 3" compares 3 with 3, "k = 1" vs "1" likewise.
  if (pE && !gE) pred = (lastRelation(pred) as Rel).rhs;
  else if (gA && !pE) gold = (lastRelation(gold) as Rel).rhs;

  if (isRelation(gold) && isSetLike(pred)) gold = relationToSet(gold) ?? gold;

  if (structEqual(gold, pred)) return true;
  if (isRelation(gold) && isRelation(pred)) return relationsEqual(gold, pred, opts);
  if (isSetLike(gold) || isSetLike(pred) || gold.t === "tuple" || pred.t === "tuple")
    return setsEqual(gold, pred, opts);
  if (gold.t === "sym" || pred.t === "sym") return symbolsEqual(gold, pred);
  if (isRelation(gold) || isRelation(pred)) return false;
  if (valuesEqual(gold, pred, opts)) return true;
  // A gold written with a percent sign also accepts the bare number: 28\% vs 28 (but not 28/100 vs 28).
  return gold.t === "mul" && gold.percent === true && valuesEqual(gold.args[0]!, pred, opts);
}

export function structEqual(a: Expr, b: Expr): boolean {
  return key(a) === key(b);
}

/** A canonical text of an expression: sums and (non-matrix) products compare in any argument order. */
function key(e: Expr): string {
  return JSON.stringify(e, (_k, v) => {
    if (typeof v === "bigint") return v.toString();
    if (v && (v.t === "add" || v.t === "mul") && !v.args.some((a: Expr) => a.t === "matrix")) {
      const args = (v.args as Expr[]).map(key).sort();
      return { ...v, args };
    }
    return v;
  });
}

// ---------- symbols ----------

function symbolsEqual(g: Expr, p: Expr): boolean {
  const isE = (e: Expr) => e.t === "const" && e.name === "e";
  if ((g.t === "sym" && g.name === "e" && isE(p)) || (p.t === "sym" && p.name === "e" && isE(g))) return true;
  const concat = (e: Expr): string | undefined => {
    if (e.t !== "mul") return undefined;
    let s = "";
    for (const a of e.args) {
      if (a.t === "sym") s += a.name;
      else if (isE(a)) s += "e";
      else return undefined;
    }
    return s;
  };
  if (g.t === "sym" && p.t === "mul") return concat(p)?.toLowerCase() === g.name.toLowerCase();
  if (p.t === "sym" && g.t === "mul") return concat(g)?.toLowerCase() === p.name.toLowerCase();
  if (g.t === "sym" && p.t === "sym") return g.name.toLowerCase() === p.name.toLowerCase();
  return false;
}

// ---------- numbers and expressions ----------

const isFloatAtom = (e: Expr): boolean =>
  (e.t === "num" && e.float) ||
  (e.t === "mul" && e.args.length === 2 && e.args[0]!.t === "num" && e.args[0]!.float && e.args[1]!.t === "num");

function roundTo(x: number, places: number): number {
  if (Math.abs(x) >= 1e9) return x;
  const f = 10 ** places;
  return Math.round(x * f) / f;
}

function valuesEqual(g: Expr, p: Expr, opts: CompareOptions): boolean {
  const gm = matrixValue(g);
  const pm = matrixValue(p);
  if (gm || pm) {
    if (!gm || !pm || gm.length !== pm.length || gm[0]!.length !== pm[0]!.length) return false;
    return gm.every((row, i) => row.every((c, j) => valuesEqual(c, pm[i]![j]!, opts)));
  }
  const gx = exactValue(g);
  const px = exactValue(p);
  if (isFloatAtom(g) || isFloatAtom(p)) {
    const a = gx ? Q.toNumber(gx) : numericValue(g);
    const b = px ? Q.toNumber(px) : numericValue(p);
    if (Number.isFinite(a) && Number.isFinite(b)) {
      if (Math.abs(a) >= 1e9 || Math.abs(b) >= 1e9) return closeEnough(a, b, 1e-14);
      return roundTo(a, opts.floatRounding) === roundTo(b, opts.floatRounding);
    }
  }
  if (gx && px) return Q.eq(gx, px);
  return symbolicEqual(g, p);
}

/**
 * Equal as functions of their free symbols: checked at fixed real sample points.
 * Doubles decide when they are trustworthy; a point where either side left the
 * double's safe range (overflow, underflow, huge magnitudes) is decided in
 * arbitrary precision, and a point nothing can decide counts as not equal
 * (no symbols) or is skipped (symbols; at least 3 decided points are needed).
 */
export function symbolicEqual(g: Expr, p: Expr): boolean {
  const syms = [...freeSymbols(g), ...freeSymbols(p)].filter((s, i, a) => a.indexOf(s) === i).sort();
  if (syms.length === 0) return pointEqual(g, p, new Map(), 1e-9) === true;
  let valid = 0;
  for (const env of sampleEnvs(syms)) {
    const eq = pointEqual(g, p, env, 1e-8);
    if (eq === false) return false;
    if (eq === true) valid++;
  }
  return valid >= 3;
}

/** g = p at one point: true, false, or undefined (no value there, or undecidable). */
function pointEqual(g: Expr, p: Expr, env: ReadonlyMap<string, number>, rel: number): boolean | undefined {
  const state: EvalState = { unsafe: false };
  const a = numericValue(g, env, state);
  const b = numericValue(p, env, state);
  // Overflow first: a NaN from oo - oo, oo / oo or oo * 0 (e^{1000} - e^{1000}) is a range problem, not a
  // missing value, and arbitrary precision decides it (or says undecidable).
  if (state.unsafe) return preciseEqual(g, p, env);
  if (Number.isNaN(a) || Number.isNaN(b)) return undefined;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return env.size === 0 ? a === b : undefined;
  if (!closeEnough(a, b, rel)) return false;
  // Equal only by closeEnough's absolute floor (e^{-25} vs e^{-26}, or rounding noise vs 0): decide precisely.
  const m = Math.max(Math.abs(a), Math.abs(b));
  if (a !== b && m < 1 && Math.abs(a - b) > rel * m) return preciseEqual(g, p, env);
  return true;
}

// ---------- matrices ----------

function matrixValue(e: Expr): Expr[][] | undefined {
  if (e.t === "matrix") return e.rows;
  if (e.t === "add") {
    const ms = e.args.map(matrixValue);
    if (ms.some((m) => !m)) return undefined;
    const first = ms[0]!;
    if (ms.some((m) => m!.length !== first.length || m![0]!.length !== first[0]!.length)) return undefined;
    return first.map((row, i) => row.map((_c, j) => ({ t: "add", args: ms.map((m) => m![i]![j]!) }) as Expr));
  }
  if (e.t === "mul") {
    let acc: Expr[][] | undefined;
    const scalars: Expr[] = [];
    for (const a of e.args) {
      const m = matrixValue(a);
      if (!m) {
        scalars.push(a);
        continue;
      }
      if (!acc) acc = m;
      else {
        if (acc[0]!.length !== m.length) return undefined;
        const left: Expr[][] = acc;
        acc = left.map((row) =>
          m[0]!.map(
            (_c, j) => ({ t: "add", args: row.map((x, k) => ({ t: "mul", args: [x, m[k]![j]!] }) as Expr) }) as Expr,
          ),
        );
      }
    }
    if (!acc) return undefined;
    return scalars.length ? acc.map((row) => row.map((c) => ({ t: "mul", args: [...scalars, c] }) as Expr)) : acc;
  }
  return undefined;
}

// ---------- relations ----------

const INVERSE: Record<RelOp, RelOp> = { "<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!=" };
const diff = (a: Expr, b: Expr): Expr => ({ t: "add", args: [a, negate(b)] });

function relationsEqual(g: Expr, p: Expr, opts: CompareOptions): boolean {
  if (g.t === "and" && p.t === "and") {
    return g.args.length === p.args.length && g.args.every((a, i) => relationsEqual(a, p.args[i]!, opts));
  }
  if (g.t !== "rel" || p.t !== "rel") return false;
  if (g.op === p.op && answersEqual(diff(g.lhs, g.rhs), diff(p.lhs, p.rhs), opts)) return true;
  if (INVERSE[g.op] === p.op && answersEqual(diff(g.lhs, g.rhs), diff(p.rhs, p.lhs), opts)) return true;
  return sameSolutions(g, p);
}

/**
 * Stands in for solving both relations: f(x) op 0 and h(x) op' 0 have the same
 * solutions when f/h is a constant (positive for same-direction inequalities,
 * negative for opposite ones). Covers 2x+4y=8 vs x+2y=4 and x^2/4+y^2/3=1 scaled.
 */
function sameSolutions(g: Rel, p: Rel): boolean {
  const f = diff(g.lhs, g.rhs);
  const h = diff(p.lhs, p.rhs);
  const gs = [...freeSymbols(f)].sort();
  const ps = [...freeSymbols(h)].sort();
  if (gs.length === 0 || gs.join(",") !== ps.join(",")) return false;
  let ratio: number | undefined;
  let valid = 0;
  for (const env of sampleEnvs(gs)) {
    const state: EvalState = { unsafe: false };
    const a = numericValue(f, env, state);
    const b = numericValue(h, env, state);
    // A point where doubles overflowed or underflowed says nothing about the ratio.
    if (state.unsafe) continue;
    if (!Number.isFinite(a) || !Number.isFinite(b) || Math.abs(b) < 1e-12 || Math.abs(a) < 1e-12) continue;
    const r = a / b;
    if (ratio === undefined) ratio = r;
    else if (!closeEnough(ratio, r, 1e-8)) return false;
    valid++;
  }
  if (ratio === undefined || valid < 3) return false;
  if (g.op === "=" || g.op === "!=") return p.op === g.op;
  const dir = (op: RelOp) => (op === "<" || op === "<=" ? -1 : 1);
  const strict = (op: RelOp) => op === "<" || op === ">";
  if (strict(g.op) !== strict(p.op) || p.op === "=" || p.op === "!=") return false;
  return ratio > 0 ? dir(g.op) === dir(p.op) : dir(g.op) !== dir(p.op);
}

// ---------- sets ----------

interface Piece {
  lo: number;
  hi: number;
  lopen: boolean;
  ropen: boolean;
  /** The endpoint expressions when known, so 1/3 stays exact when turned back into an interval. */
  loE?: Expr;
  hiE?: Expr;
}

function setsEqual(g: Expr, p: Expr, opts: CompareOptions): boolean {
  const a: Expr = isSetLike(g) || g.t === "tuple" ? g : { t: "set", elems: [g] };
  const b: Expr = isSetLike(p) || p.t === "tuple" ? p : { t: "set", elems: [p] };
  if (a.t === "interval" && b.t === "interval") {
    return (
      a.lopen === b.lopen && a.ropen === b.ropen && answersEqual(a.lo, b.lo, opts) && answersEqual(a.hi, b.hi, opts)
    );
  }
  if (structEqual(dedupe(a), dedupe(b))) return true;
  if (isSetLike(a) && isSetLike(b)) {
    const pa = pieces(a);
    const pb = pieces(b);
    if (pa && pb && piecesEqual(pa, pb)) return true;
  }
  const da = dedupe(a);
  const db = dedupe(b);
  if ((da.t === "set" || da.t === "tuple") && (db.t === "set" || db.t === "tuple")) {
    if (elementsEqual(da, db, opts)) return true;
    // A gold x_1 = 2, x_2 = 3 lists the solutions of x: "x = 2 or x = 3" (or "2 and 3") names the same ones.
    const gold = indexedSolutions(da);
    const values = gold && solutionValues(db, gold.base);
    return values !== undefined && elementsEqual({ t: "set", elems: gold!.values }, { t: "set", elems: values }, opts);
  }
  // (1,2) parses as an open interval; the pair 1,2 compares with its endpoints.
  if (a.t === "interval" && (b.t === "set" || b.t === "tuple") && a.lopen && a.ropen && dedupe(b).t !== "interval") {
    const bb = dedupe(b);
    if ((bb.t === "set" || bb.t === "tuple") && bb.elems.length === 2)
      return elementsEqual({ t: "tuple", elems: [a.lo, a.hi] }, bb, opts);
  }
  if (b.t === "interval" && (a.t === "set" || a.t === "tuple") && b.lopen && b.ropen) {
    const aa = dedupe(a);
    if ((aa.t === "set" || aa.t === "tuple") && aa.elems.length === 2)
      return elementsEqual(aa, { t: "tuple", elems: [b.lo, b.hi] }, opts);
  }
  return false;
}

const INDEXED = /^([A-Za-z]+)_\{?[0-9A-Za-z]+\}?$/;

/** `x_1 = a, x_2 = b` (two or more, one base name): the base and the values. */
function indexedSolutions(e: Extract<Expr, { t: "set" | "tuple" }>): { base: string; values: Expr[] } | undefined {
  if (e.elems.length < 2) return undefined;
  let base: string | undefined;
  const values: Expr[] = [];
  for (const x of e.elems) {
    if (x.t !== "rel" || x.op !== "=" || x.lhs.t !== "sym") return undefined;
    const m = INDEXED.exec(x.lhs.name);
    if (!m || (base !== undefined && m[1] !== base)) return undefined;
    base = m[1]!;
    values.push(x.rhs);
  }
  return base === undefined ? undefined : { base, values };
}

/** The values of a prediction's elements: `x = a` or `x_k = a` for the base x, or bare values. */
function solutionValues(e: Extract<Expr, { t: "set" | "tuple" }>, base: string): Expr[] | undefined {
  const out: Expr[] = [];
  for (const x of e.elems) {
    if (x.t === "rel") {
      if (x.op !== "=" || x.lhs.t !== "sym") return undefined;
      const name = x.lhs.name;
      if (name !== base && INDEXED.exec(name)?.[1] !== base) return undefined;
      out.push(x.rhs);
    } else if (isRelation(x)) return undefined;
    else out.push(x);
  }
  return out;
}

/** A finite set drops repeated elements ({3, 3} is {3}). */
function dedupe(e: Expr): Expr {
  if (e.t !== "set") return e;
  const seen = new Set<string>();
  const elems: Expr[] = [];
  for (const x of e.elems) {
    const v = exactValue(x);
    const k = v ? `q${v.n}/${v.d}` : key(x);
    if (!seen.has(k)) {
      seen.add(k);
      elems.push(x);
    }
  }
  return { t: "set", elems };
}

function elementsEqual(
  a: Extract<Expr, { t: "set" | "tuple" }>,
  b: Extract<Expr, { t: "set" | "tuple" }>,
  opts: CompareOptions,
): boolean {
  if (a.elems.length !== b.elems.length) return false;
  const n = a.elems.length;
  const ordered = a.t === "tuple" || (a.t === "set" && b.t === "tuple" && false);
  if (ordered) return a.elems.every((x, i) => answersEqual(x, b.elems[i]!, opts));
  if (n > 12) return a.elems.every((x, i) => answersEqual(x, b.elems[i]!, opts));
  // Gold is a set: any order of the prediction may match (a perfect matching).
  const eq: boolean[][] = a.elems.map((x) => b.elems.map((y) => safeEqual(x, y, opts)));
  const used = new Array<boolean>(n).fill(false);
  const match = (i: number): boolean => {
    if (i === n) return true;
    for (let j = 0; j < n; j++) {
      if (!used[j] && eq[i]![j]) {
        used[j] = true;
        if (match(i + 1)) return true;
        used[j] = false;
      }
    }
    return false;
  };
  return match(0);
}

function safeEqual(a: Expr, b: Expr, opts: CompareOptions): boolean {
  try {
    return answersEqual(a, b, opts);
  } catch {
    return false;
  }
}

function endpoint(e: Expr): number | undefined {
  if (freeSymbols(e).size > 0) return undefined;
  const state: EvalState = { unsafe: false };
  const v = numericValue(e, new Map(), state);
  // 2^2023 and 2^2024 would both be Infinity, e^-1000 and e^-2000 both 0: such endpoints are not
  // ordered as doubles (intervals compare their endpoints with answersEqual instead).
  if (state.unsafe && (!Number.isFinite(v) || Math.abs(v) < 1e-300)) return undefined;
  if (e.t === "mul" && e.args.some((a) => a.t === "const" && a.name === "inf")) return Number.isNaN(v) ? undefined : v;
  return Number.isNaN(v) ? undefined : v;
}

/** A numeric set as sorted disjoint pieces (a point is a closed zero-width piece); undefined if symbolic. */
function pieces(e: Expr): Piece[] | undefined {
  switch (e.t) {
    case "namedset":
      if (e.name === "R") return [{ lo: -Infinity, hi: Infinity, lopen: true, ropen: true }];
      if (e.name === "empty") return [];
      return undefined;
    case "interval": {
      const lo = endpoint(e.lo);
      const hi = endpoint(e.hi);
      if (lo === undefined || hi === undefined) return undefined;
      return normalizePieces([{ lo, hi, lopen: e.lopen || lo === -Infinity, ropen: e.ropen || hi === Infinity }]);
    }
    case "set": {
      const out: Piece[] = [];
      for (const x of e.elems) {
        const v = endpoint(x);
        if (v === undefined || !Number.isFinite(v)) return undefined;
        out.push({ lo: v, hi: v, lopen: false, ropen: false });
      }
      return normalizePieces(out);
    }
    case "tuple":
      return undefined;
    case "union": {
      const all: Piece[] = [];
      for (const a of e.args) {
        const p = pieces(a);
        if (!p) return undefined;
        all.push(...p);
      }
      return normalizePieces(all);
    }
    case "intersect": {
      let acc = pieces(e.args[0]!);
      for (const a of e.args.slice(1)) {
        const p = pieces(a);
        if (!acc || !p) return undefined;
        acc = intersectPieces(acc, p);
      }
      return acc;
    }
    case "minus": {
      const a = pieces(e.a);
      const b = pieces(e.b);
      if (!a || !b) return undefined;
      return intersectPieces(a, complementPieces(b));
    }
    default:
      return undefined;
  }
}

function normalizePieces(ps: Piece[]): Piece[] {
  const valid = ps.filter((p) => p.lo < p.hi || (p.lo === p.hi && !p.lopen && !p.ropen));
  valid.sort((x, y) => x.lo - y.lo || Number(x.lopen) - Number(y.lopen));
  const out: Piece[] = [];
  for (const p of valid) {
    const last = out[out.length - 1];
    if (last && (p.lo < last.hi || (p.lo === last.hi && !(last.ropen && p.lopen)))) {
      if (p.hi > last.hi || (p.hi === last.hi && !p.ropen)) {
        if (p.hi > last.hi) {
          last.ropen = p.ropen;
          last.hiE = p.hiE;
        } else last.ropen = last.ropen && p.ropen;
        last.hi = Math.max(last.hi, p.hi);
      }
      if (p.lo === last.lo) last.lopen = last.lopen && p.lopen;
    } else out.push({ ...p });
  }
  return out;
}

function complementPieces(ps: Piece[]): Piece[] {
  const out: Piece[] = [];
  let lo = -Infinity;
  let lopen = true;
  for (const p of ps) {
    out.push({ lo, hi: p.lo, lopen, ropen: !p.lopen || p.lo === -Infinity });
    lo = p.hi;
    lopen = !p.ropen;
  }
  out.push({ lo, hi: Infinity, lopen: lopen || lo === Infinity, ropen: true });
  return normalizePieces(out);
}

function intersectPieces(a: Piece[], b: Piece[]): Piece[] {
  const out: Piece[] = [];
  for (const x of a)
    for (const y of b) {
      const lo = Math.max(x.lo, y.lo);
      const hi = Math.min(x.hi, y.hi);
      const loE = x.lo >= y.lo ? x.loE : y.loE;
      const hiE = x.hi <= y.hi ? x.hiE : y.hiE;
      const lopen = x.lo === y.lo ? x.lopen || y.lopen : x.lo > y.lo ? x.lopen : y.lopen;
      const ropen = x.hi === y.hi ? x.ropen || y.ropen : x.hi < y.hi ? x.ropen : y.ropen;
      out.push({ lo, hi, lopen, ropen, loE, hiE });
    }
  return normalizePieces(out);
}

function piecesEqual(a: Piece[], b: Piece[]): boolean {
  if (a.length !== b.length) return false;
  const near = (x: number, y: number) => x === y || closeEnough(x, y, 1e-9);
  return a.every((p, i) => {
    const q = b[i]!;
    return near(p.lo, q.lo) && near(p.hi, q.hi) && p.lopen === q.lopen && p.ropen === q.ropen;
  });
}

/** `-1 < x < 3` -> (-1, 3); `x >= 2` -> [2, oo); `x = 3` -> {3}: one variable expression against constants. */
export function relationToSet(e: Expr): Expr | undefined {
  const rels = e.t === "and" ? e.args : [e];
  if (rels.length === 1) {
    const single = oneSidedSet(rels[0]!);
    if (single) return single;
  }
  let variable: string | undefined;
  let variableExpr: Expr | undefined;
  let acc: Piece[] = [{ lo: -Infinity, hi: Infinity, lopen: true, ropen: true }];
  for (const r of rels) {
    if (r.t !== "rel") return undefined;
    let op = r.op;
    let v: Expr;
    let c: number;
    let cE: Expr;
    const right = endpoint(r.rhs);
    const left = endpoint(r.lhs);
    if (right !== undefined && freeSymbols(r.lhs).size > 0) {
      v = r.lhs;
      c = right;
      cE = r.rhs;
    } else if (left !== undefined && freeSymbols(r.rhs).size > 0) {
      v = r.rhs;
      c = left;
      cE = r.lhs;
      op = INVERSE[op];
    } else return undefined;
    const k = key(v);
    if (variable !== undefined && variable !== k) return undefined;
    variable = k;
    variableExpr = v;
    let p: Piece[];
    switch (op) {
      case "<":
        p = [{ lo: -Infinity, hi: c, lopen: true, ropen: true }];
        break;
      case "<=":
        p = [{ lo: -Infinity, hi: c, lopen: true, ropen: false }];
        break;
      case ">":
        p = [{ lo: c, hi: Infinity, lopen: true, ropen: true }];
        break;
      case ">=":
        p = [{ lo: c, hi: Infinity, lopen: false, ropen: true }];
        break;
      case "=":
        p = [{ lo: c, hi: c, lopen: false, ropen: false }];
        break;
      default:
        p = complementPieces([{ lo: c, hi: c, lopen: false, ropen: false }]);
    }
    for (const q of p) {
      if (q.lo === c) q.loE = cE;
      if (q.hi === c) q.hiE = cE;
    }
    acc = intersectPieces(acc, p);
  }
  // 1 <= |z| <= 3/2 constrains z to [-3/2, -1] U [1, 3/2]: the solution set for z, as a CAS solves it.
  if (variableExpr?.t === "fn" && variableExpr.name === "abs" && variableExpr.args[0]!.t === "sym") {
    const nonNeg = intersectPieces(acc, [{ lo: 0, hi: Infinity, lopen: false, ropen: true }]);
    const mirrored = nonNeg.map((q) => ({
      lo: -q.hi,
      hi: -q.lo,
      lopen: q.ropen,
      ropen: q.lopen,
      loE: q.hiE && negate(q.hiE),
      hiE: q.loE && negate(q.loE),
    }));
    acc = normalizePieces([...mirrored, ...nonNeg]);
  }
  return piecesToExpr(acc);
}

/**
 * `x > c` with a constant c that doubles cannot order (2^{2023}, e^{-1000}) as the
 * interval (c, oo), built from the expressions so the endpoints compare exactly.
 */
function oneSidedSet(r: Expr): Expr | undefined {
  if (r.t !== "rel" || r.op === "=" || r.op === "!=") return undefined;
  let op: RelOp = r.op;
  let v = r.lhs;
  let c = r.rhs;
  if (freeSymbols(c).size > 0) {
    [v, c] = [c, v];
    op = INVERSE[op];
  }
  if (freeSymbols(c).size > 0 || freeSymbols(v).size === 0 || endpoint(c) !== undefined) return undefined;
  if (v.t === "fn" && v.name === "abs") return undefined;
  const inf: Expr = { t: "const", name: "inf" };
  if (op === "<" || op === "<=") return { t: "interval", lo: negate(inf), hi: c, lopen: true, ropen: op === "<" };
  return { t: "interval", lo: c, hi: inf, lopen: op === ">", ropen: true };
}

function numOf(x: number): Expr {
  if (x === Infinity) return { t: "const", name: "inf" };
  if (x === -Infinity) return negate({ t: "const", name: "inf" });
  const s = String(x);
  const r = /e/.test(s) ? undefined : Q.parseDecimal(s);
  return { t: "num", value: r ?? Q.rat(BigInt(Math.round(x))), float: false };
}

function piecesToExpr(ps: Piece[]): Expr {
  const parts: Expr[] = ps.map((p) =>
    p.lo === p.hi
      ? { t: "set", elems: [p.loE ?? numOf(p.lo)] }
      : { t: "interval", lo: p.loE ?? numOf(p.lo), hi: p.hiE ?? numOf(p.hi), lopen: p.lopen, ropen: p.ropen },
  );
  if (parts.length === 0) return { t: "namedset", name: "empty" };
  return parts.length === 1 ? parts[0]! : { t: "union", args: parts };
}
