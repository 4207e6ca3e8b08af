import type { Expr } from "./ast.js";
import * as Q from "./rational.js";
import { TRIG, exactTrigAtTurn, reduceTurn } from "./trig.js";

/**
 * Exact evaluation over rationals where the expression allows it (integers,
 * fractions, integer powers, perfect roots, factorials); undefined otherwise.
 */
export function exactValue(e: Expr): Q.Rational | undefined {
  switch (e.t) {
    case "num":
      return e.value;
    case "add": {
      let acc = Q.ZERO;
      for (const a of e.args) {
        const v = exactValue(a);
        if (!v) return undefined;
        acc = Q.add(acc, v);
      }
      return acc;
    }
    case "mul": {
      let acc = Q.ONE;
      for (const a of e.args) {
        const v = exactValue(a);
        if (!v) return undefined;
        acc = Q.mul(acc, v);
      }
      return acc;
    }
    case "pow": {
      const b = exactValue(e.base);
      const x = exactValue(e.exp);
      if (!b || !x) return undefined;
      if (b.n === 0n && x.n <= 0n) return undefined;
      if (x.d === 1n) return Q.powInt(b, x.n);
      if (x.d > 64n) return undefined;
      const root = Q.exactRoot(b, Number(x.d));
      return root ? Q.powInt(root, x.n) : undefined;
    }
    case "fn": {
      if (e.name === "factorial") {
        const v = exactValue(e.args[0]!);
        return v ? Q.factorial(v) : undefined;
      }
      if (e.name === "abs") {
        const v = exactValue(e.args[0]!);
        return v ? (v.n < 0n ? Q.neg(v) : v) : undefined;
      }
      if (e.name === "binom") {
        const n = exactValue(e.args[0]!);
        const k = exactValue(e.args[1]!);
        if (!n || !k || n.d !== 1n || k.d !== 1n || k.n < 0n || k.n > 5000n) return undefined;
        let r = Q.ONE;
        for (let i = 0n; i < k.n; i++) r = Q.div(Q.mul(r, Q.rat(n.n - i)), Q.rat(i + 1n));
        return r;
      }
      if (TRIG.has(e.name) && e.args.length === 1) {
        const turn = piMultiple(e.args[0]!);
        return turn ? (exactTrigAtTurn(e.name, reduceTurn(turn)) ?? undefined) : undefined;
      }
      if (e.name === "floor" || e.name === "ceil") {
        const v = exactValue(e.args[0]!);
        if (!v) return undefined;
        let f = v.n / v.d;
        if (v.n < 0n && f * v.d !== v.n) f -= 1n;
        if (e.name === "ceil" && f * v.d !== v.n) f += 1n;
        return Q.rat(f);
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** r when e is exactly r*pi (pi, 3\pi/4, 10^{30}\pi, \frac{2\pi}{3} + 2k\pi); undefined otherwise. */
export function piMultiple(e: Expr): Q.Rational | undefined {
  switch (e.t) {
    case "const":
      return e.name === "pi" ? Q.ONE : undefined;
    case "num":
      return e.value.n === 0n ? Q.ZERO : undefined;
    case "mul": {
      let turn: Q.Rational | undefined;
      let factor = Q.ONE;
      for (const a of e.args) {
        const r = exactValue(a);
        if (r) {
          factor = Q.mul(factor, r);
          continue;
        }
        if (turn) return undefined;
        turn = piMultiple(a);
        if (!turn) return undefined;
      }
      return turn && Q.mul(turn, factor);
    }
    case "add": {
      let acc = Q.ZERO;
      for (const a of e.args) {
        const r = piMultiple(a);
        if (!r) return undefined;
        acc = Q.add(acc, r);
      }
      return acc;
    }
    default:
      return undefined;
  }
}

export type Env = ReadonlyMap<string, number>;

const FNS: Record<string, (x: number) => number> = {
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  sec: (x) => 1 / Math.cos(x),
  csc: (x) => 1 / Math.sin(x),
  cot: (x) => 1 / Math.tan(x),
  arcsin: Math.asin,
  arccos: Math.acos,
  arctan: Math.atan,
  arcsec: (x) => Math.acos(1 / x),
  arccsc: (x) => Math.asin(1 / x),
  arccot: (x) => Math.atan(1 / x),
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  ln: Math.log,
  exp: Math.exp,
  abs: Math.abs,
  floor: Math.floor,
  ceil: Math.ceil,
};

function gammaInt(n: number): number {
  if (!Number.isInteger(n) || n < 0) return Number.NaN;
  if (n > 170) return Number.POSITIVE_INFINITY;
  let r = 1;
  for (let i = 2; i <= n; i++) r *= i;
  return r;
}

/**
 * Set by numericValue when a double cannot be trusted for comparison: a
 * result overflowed, underflowed to 0, or left the range where a 1e-9
 * tolerance separates distinct values (|v| > 1e15 or 0 < |v| < 1e-15 from a
 * product, power or function). Such comparisons go to preciseEqual instead.
 */
export interface EvalState {
  unsafe: boolean;
}

const BIG = 1e15;
const SMALL = 1e-15;
const outOfRange = (v: number): boolean => !Number.isFinite(v) || Math.abs(v) > BIG || (v !== 0 && Math.abs(v) < SMALL);

/** Real-valued evaluation; symbols come from env (missing ones give NaN). `state` collects range problems. */
export function numericValue(e: Expr, env: Env = new Map(), state?: EvalState): number {
  switch (e.t) {
    case "num": {
      const v = Q.toNumber(e.value);
      if (state && outOfRange(v)) state.unsafe = true;
      return v;
    }
    case "const":
      return e.name === "pi" ? Math.PI : e.name === "e" ? Math.E : Number.POSITIVE_INFINITY;
    case "sym":
      return env.get(e.name) ?? Number.NaN;
    case "add": {
      let s = 0;
      let finite = true;
      for (const a of e.args) {
        const v = numericValue(a, env, state);
        finite &&= Number.isFinite(v);
        s += v;
      }
      // A tiny sum is cancellation, not underflow: only overflow counts here.
      if (state && finite && (!Number.isFinite(s) || Math.abs(s) > BIG)) state.unsafe = true;
      return s;
    }
    case "mul": {
      let p = 1;
      let finite = true;
      let zeroFactor = false;
      for (const a of e.args) {
        const v = numericValue(a, env, state);
        finite &&= Number.isFinite(v);
        zeroFactor ||= v === 0;
        p *= v;
      }
      if (state && finite && (outOfRange(p) || (p === 0 && !zeroFactor))) state.unsafe = true;
      return p;
    }
    case "pow": {
      const b = numericValue(e.base, env, state);
      const x = numericValue(e.exp, env, state);
      let r: number;
      if (b < 0 && !Number.isInteger(x)) {
        // Real odd roots of negatives: (-8)^(1/3) = -2, as a real-domain CAS gives.
        const ex = exactValue(e.exp);
        if (ex && ex.d % 2n === 1n) {
          const root = -(Math.abs(b) ** (1 / Number(ex.d)));
          r = root ** Number(ex.n);
        } else r = Number.NaN;
      } else r = b ** x;
      if (state && Number.isFinite(b) && Number.isFinite(x) && (outOfRange(r) || (r === 0 && b !== 0)))
        state.unsafe = true;
      return r;
    }
    case "fn": {
      const r = fnValue(e, env, state);
      if (state && (outOfRange(r) || (r === 0 && e.name === "exp")) && !Number.isNaN(r)) {
        // Unless the argument itself was infinite (1/oo-style limits stay as they were).
        if (e.args.every((a) => Number.isFinite(numericValue(a, env)))) state.unsafe = true;
      }
      return r;
    }
    default:
      return Number.NaN;
  }
}

function fnValue(e: Extract<Expr, { t: "fn" }>, env: Env, state?: EvalState): number {
  if (e.name === "factorial") return gammaInt(numericValue(e.args[0]!, env, state));
  if (e.name === "sum" || e.name === "prod") return seriesValue(e.name, e.args, env);
  if (e.name === "logb")
    return Math.log(numericValue(e.args[0]!, env, state)) / Math.log(numericValue(e.args[1]!, env, state));
  if (e.name === "binom") {
    const n = numericValue(e.args[0]!, env, state);
    const k = numericValue(e.args[1]!, env, state);
    return gammaInt(n) / (gammaInt(k) * gammaInt(n - k));
  }
  const f = FNS[e.name];
  if (!f || e.args.length !== 1) return Number.NaN;
  if (TRIG.has(e.name)) {
    // At a rational multiple of pi the angle is reduced exactly first: sin(10^30 pi) = 0.
    const turn = piMultiple(e.args[0]!);
    if (turn) {
      const t = reduceTurn(turn);
      const exact = exactTrigAtTurn(e.name, t);
      if (exact === null) return Number.NaN;
      return exact ? Q.toNumber(exact) : f(Q.toNumber(t) * Math.PI);
    }
  }
  return f(numericValue(e.args[0]!, env, state));
}

/** A finite sum or product with numeric integer bounds (at most 10,000 terms); NaN otherwise. */
function seriesValue(kind: string, args: Expr[], env: Env): number {
  const [body, variable, lo, hi] = args as [Expr, Expr, Expr, Expr];
  const a = numericValue(lo, env);
  const b = numericValue(hi, env);
  if (variable.t !== "sym" || !Number.isInteger(a) || !Number.isInteger(b) || b - a > 10_000) return Number.NaN;
  const inner = new Map(env);
  let acc = kind === "sum" ? 0 : 1;
  for (let k = a; k <= b; k++) {
    inner.set(variable.name, k);
    const v = numericValue(body, inner);
    acc = kind === "sum" ? acc + v : acc * v;
  }
  return acc;
}

/** Free symbols of an expression, sorted. */
export function freeSymbols(e: Expr, out: Set<string> = new Set()): Set<string> {
  switch (e.t) {
    case "sym":
      out.add(e.name);
      break;
    case "add":
    case "mul":
    case "fn":
    case "and":
    case "union":
    case "intersect":
      for (const a of e.args) freeSymbols(a, out);
      break;
    case "pow":
      freeSymbols(e.base, out);
      freeSymbols(e.exp, out);
      break;
    case "rel":
      freeSymbols(e.lhs, out);
      freeSymbols(e.rhs, out);
      break;
    case "set":
    case "tuple":
      for (const a of e.elems) freeSymbols(a, out);
      break;
    case "interval":
      freeSymbols(e.lo, out);
      freeSymbols(e.hi, out);
      break;
    case "matrix":
      for (const r of e.rows) for (const c of r) freeSymbols(c, out);
      break;
    case "pm":
      if (e.a) freeSymbols(e.a, out);
      freeSymbols(e.b, out);
      break;
    case "minus":
      freeSymbols(e.a, out);
      freeSymbols(e.b, out);
      break;
    default:
      break;
  }
  return out;
}

// Fixed sample values (both signs, away from common poles like 0, ±1, π/2).
const SAMPLES = [0.7317, 1.3719, -0.5843, 2.2291, -1.8377, 0.2963, 3.1071, -2.6149];

/** Sample environments: one per sample point, each symbol shifted so symbols differ. */
export function sampleEnvs(symbols: readonly string[]): Env[] {
  const envs: Env[] = [];
  for (let k = 0; k < SAMPLES.length; k++) {
    const m = new Map<string, number>();
    symbols.forEach((s, j) => m.set(s, SAMPLES[(k + 3 * j) % SAMPLES.length]! + 0.137 * j));
    envs.push(m);
  }
  return envs;
}

export function closeEnough(a: number, b: number, rel = 1e-9): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
}
