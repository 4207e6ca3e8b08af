import { Decimal } from "decimal.js";
import type { Expr } from "./ast.js";
import { type Env, exactValue, piMultiple } from "./evaluate.js";
import * as Q from "./rational.js";
import { TRIG, exactTrigAtTurn, reduceTurn } from "./trig.js";

/**
 * Arbitrary-precision evaluation for the comparisons that doubles cannot
 * decide: values beyond float range (e^5000, 99999999!), below it (e^-1000),
 * or too large for a 1e-9 tolerance to mean anything (2^100*pi + 1). Every
 * value carries a bound on its absolute error (first-order propagation plus
 * the rounding of each operation), and two values are called equal only when
 * they agree within the bounds AND the bounds are tiny next to the values;
 * when they overlap but the bounds are wide (cancellation, overflow of even
 * decimal.js's 9e15 exponent), the answer is "undecidable", which callers
 * treat as not equal.
 */
interface Val {
  v: Decimal;
  /** Bound on |v - true value|. */
  err: Decimal;
}

type D = typeof Decimal;

const ctors = new Map<number, D>();
function ctor(precision: number): D {
  let c = ctors.get(precision);
  if (!c) {
    c = Decimal.clone({ precision, rounding: Decimal.ROUND_HALF_EVEN, maxE: 9e15, minE: -9e15 });
    ctors.set(precision, c);
  }
  return c;
}

class Undecidable extends Error {}
const fail = (): never => {
  throw new Undecidable();
};

// Bernoulli numbers B2..B32 (numerator, denominator) for Stirling's series of ln n!.
const BERNOULLI: readonly [bigint, bigint][] = [
  [1n, 6n],
  [-1n, 30n],
  [1n, 42n],
  [-1n, 30n],
  [5n, 66n],
  [-691n, 2730n],
  [7n, 6n],
  [-3617n, 510n],
  [43867n, 798n],
  [-174611n, 330n],
  [854513n, 138n],
  [-236364091n, 2730n],
  [8553103n, 6n],
  [-23749461029n, 870n],
  [8615841276005n, 14322n],
  [-7709321041217n, 510n],
];

class Evaluator {
  private readonly D: D;
  /** Relative rounding of one operation, with margin (decimal.js rounds to `precision` digits). */
  private readonly u: Decimal;
  private readonly pi: Decimal;

  constructor(
    private readonly precision: number,
    private readonly env: Env,
  ) {
    this.D = ctor(precision);
    this.u = new this.D(10).pow(-(precision - 5));
    this.pi = this.D.acos(-1);
  }

  private round(v: Decimal, extra: Decimal = new this.D(0)): Val {
    if (!v.isFinite()) fail();
    return { v, err: extra.plus(v.abs().times(this.u)) };
  }

  private rational(r: Q.Rational): Val {
    const v = new this.D(r.n.toString()).div(r.d.toString());
    const exact = r.d === 1n && r.n.toString().length < this.precision - 2;
    return exact ? { v, err: new this.D(0) } : this.round(v);
  }

  eval(e: Expr): Val {
    switch (e.t) {
      case "num":
        return this.rational(e.value);
      case "const":
        if (e.name === "pi") return this.round(this.pi);
        if (e.name === "e") return this.round(this.D.exp(1));
        return fail();
      case "sym": {
        const x = this.env.get(e.name);
        if (x === undefined || !Number.isFinite(x)) return fail();
        return { v: new this.D(x), err: new this.D(0) };
      }
      case "add": {
        let v = new this.D(0);
        let err = new this.D(0);
        for (const a of e.args) {
          const x = this.eval(a);
          v = v.plus(x.v);
          err = err.plus(x.err);
        }
        return this.round(v, err);
      }
      case "mul": {
        const xs = e.args.map((a) => this.eval(a));
        let v = new this.D(1);
        for (const x of xs) v = v.times(x.v);
        // Sum over i of err_i * prod_{j != i} |v_j| (first order).
        let err = new this.D(0);
        xs.forEach((xi, i) => {
          if (xi.err.isZero()) return;
          let t = xi.err;
          xs.forEach((xj, j) => {
            if (j !== i) t = t.times(xj.v.abs().plus(xj.err));
          });
          err = err.plus(t);
        });
        return this.round(v, err);
      }
      case "pow":
        return this.pow(e.base, e.exp);
      case "fn":
        return this.fn(e.name, e.args);
      default:
        return fail();
    }
  }

  private pow(baseE: Expr, expE: Expr): Val {
    const b = this.eval(baseE);
    const x = this.eval(expE);
    const xq = exactValue(expE);
    if (b.v.isZero() && b.err.isZero()) {
      if (x.v.gt(0)) return { v: new this.D(0), err: new this.D(0) };
      return fail();
    }
    // The base's sign must be known.
    if (b.v.abs().lte(b.err)) fail();
    let sign = 1;
    if (b.v.isNegative()) {
      // Real powers of a negative base: integer exponents, or rationals with an odd denominator.
      if (!xq || xq.d % 2n === 0n) fail();
      sign = xq!.n % 2n === 0n ? 1 : -1;
    }
    const mag = b.v.abs();
    const v = mag.pow(x.v).times(sign);
    if (!v.isFinite() || v.isZero()) fail();
    // d(b^x) = b^x (x db / b + ln|b| dx)
    const rel = x.v
      .abs()
      .times(b.err)
      .div(mag)
      .plus(x.err.isZero() ? 0 : mag.ln().abs().times(x.err));
    if (rel.gt(1e-3)) fail();
    return this.round(v, v.abs().times(rel));
  }

  private fn(name: string, args: Expr[]): Val {
    if (TRIG.has(name) && args.length === 1) {
      const turn = piMultiple(args[0]!);
      if (turn) return this.trigAtTurn(name, reduceTurn(turn));
    }
    switch (name) {
      case "factorial":
        return this.factorial(args[0]!);
      case "logb": {
        const a = this.fn("ln", [args[0]!]);
        const b = this.fn("ln", [args[1]!]);
        if (b.v.abs().lte(b.err)) fail();
        const v = a.v.div(b.v);
        return this.round(v, v.abs().times(safeRel(a).plus(safeRel(b))));
      }
      case "sum":
      case "prod":
        return this.series(name, args);
      default:
        break;
    }
    if (args.length !== 1) return fail();
    const a = this.eval(args[0]!);
    const D = this.D;
    const x = a.v;
    // value and |derivative| at x
    let v: Decimal;
    let d: Decimal;
    switch (name) {
      case "sin":
        v = D.sin(x);
        d = D.cos(x).abs();
        break;
      case "cos":
        v = D.cos(x);
        d = D.sin(x).abs();
        break;
      case "tan":
      case "cot":
      case "sec":
      case "csc": {
        const s = D.sin(x);
        const c = D.cos(x);
        const den = name === "tan" || name === "sec" ? c : s;
        if (den.abs().lte(a.err.times(2))) fail();
        v = name === "tan" ? s.div(c) : name === "cot" ? c.div(s) : new D(1).div(den);
        d = new D(1).div(den.times(den));
        break;
      }
      case "arcsin":
      case "arccos":
        if (x.abs().plus(a.err).gte(1)) {
          if (!a.err.isZero() || x.abs().gt(1)) fail();
        }
        v = name === "arcsin" ? D.asin(x) : D.acos(x);
        d = a.err.isZero() ? new D(0) : new D(1).div(new D(1).minus(x.times(x)).sqrt());
        break;
      case "arctan":
        v = D.atan(x);
        d = new D(1).div(x.times(x).plus(1));
        break;
      case "arccot":
      case "arcsec":
      case "arccsc": {
        if (x.abs().lte(a.err)) fail();
        const inv = new D(1).div(x);
        if (name !== "arccot" && inv.abs().gt(1)) fail();
        v = name === "arccot" ? D.atan(inv) : name === "arcsec" ? D.acos(inv) : D.asin(inv);
        // generous: |d/dx f(1/x)| <= |f'| / x^2, with |f'| bounded away from the edge by the check above
        d = new D(1).div(x.times(x)).times(name === "arccot" ? 1 : 1e6);
        break;
      }
      case "sinh":
        v = D.sinh(x);
        d = D.cosh(x);
        break;
      case "cosh":
        v = D.cosh(x);
        d = D.sinh(x).abs();
        break;
      case "tanh":
        v = D.tanh(x);
        d = new D(1).minus(v.times(v));
        break;
      case "ln":
        if (x.lte(a.err)) fail();
        v = D.ln(x);
        d = new D(1).div(x.minus(a.err));
        break;
      case "exp":
        v = D.exp(x);
        d = v;
        break;
      case "abs":
        v = x.abs();
        d = new D(1);
        break;
      case "floor":
      case "ceil": {
        const f = name === "floor" ? x.floor() : x.ceil();
        // An integer within the error of x could be on either side.
        if (!a.err.isZero() && (x.minus(x.floor()).lte(a.err) || x.ceil().minus(x).lte(a.err))) fail();
        return { v: f, err: new D(0) };
      }
      default:
        return fail();
    }
    if (!v.isFinite()) fail();
    return this.round(v, d.times(a.err).plus(d.times(x.abs()).times(this.u)));
  }

  private trigAtTurn(name: string, t: Q.Rational): Val {
    const exact = exactTrigAtTurn(name, t);
    if (exact === null) return fail();
    if (exact) return this.rational(exact);
    const angle = new this.D(t.n.toString()).div(t.d.toString()).times(this.pi);
    return this.fn(name, [numExpr(angle)]);
  }

  private factorial(arg: Expr): Val {
    const a = this.eval(arg);
    if (!a.err.isZero() || !a.v.isInteger() || a.v.isNegative()) return fail();
    const n = BigInt(a.v.toFixed(0));
    if (n <= 2000n) {
      let r = 1n;
      for (let i = 2n; i <= n; i++) r *= i;
      return this.rational(Q.rat(r));
    }
    // Stirling: ln n! = (n + 1/2) ln n - n + ln(2 pi)/2 + sum_k B_2k / (2k (2k-1) n^(2k-1)); the first
    // omitted term bounds the remainder.
    const D = this.D;
    const N = new D(n.toString());
    const lnN = N.ln();
    let s = N.plus(0.5).times(lnN).minus(N).plus(this.pi.times(2).ln().div(2));
    let remainder = new D(0);
    BERNOULLI.forEach(([bn, bd], i) => {
      const k = i + 1;
      const term = new D(bn.toString())
        .div(bd.toString())
        .div(2 * k * (2 * k - 1))
        .div(N.pow(2 * k - 1));
      if (i === BERNOULLI.length - 1) remainder = term.abs();
      else s = s.plus(term);
    });
    const errLn = remainder.plus(s.abs().times(this.u).times(10));
    const v = D.exp(s);
    if (!v.isFinite()) fail();
    return this.round(v, v.times(errLn.times(2)));
  }

  private series(kind: string, args: Expr[]): Val {
    const [body, variable, lo, hi] = args as [Expr, Expr, Expr, Expr];
    const a = exactValue(lo);
    const b = exactValue(hi);
    if (variable?.t !== "sym" || !a || !b || a.d !== 1n || b.d !== 1n || b.n - a.n > 10_000n) return fail();
    let acc: Val = { v: new this.D(kind === "sum" ? 0 : 1), err: new this.D(0) };
    const inner = new Map(this.env);
    const sub = new Evaluator(this.precision, inner);
    for (let k = a.n; k <= b.n; k++) {
      inner.set(variable.name, Number(k));
      const x = sub.eval(body);
      acc =
        kind === "sum"
          ? this.round(acc.v.plus(x.v), acc.err.plus(x.err))
          : this.round(acc.v.times(x.v), acc.err.times(x.v.abs()).plus(x.err.times(acc.v.abs())));
    }
    return acc;
  }
}

function safeRel(x: Val): Decimal {
  return x.v.isZero() ? new Decimal(Number.POSITIVE_INFINITY) : x.err.div(x.v.abs());
}

/** A decimal value as an expression node for re-entry into fn (exact rational of its digits). */
function numExpr(v: Decimal): Expr {
  const [mant, exp] = v.toExponential().split("e") as [string, string];
  const digits = mant.replace(".", "").replace("-", "");
  const frac = (mant.split(".")[1] ?? "").length;
  const shift = Number(exp) - frac;
  const n = BigInt(digits) * (v.isNegative() ? -1n : 1n);
  const value = shift >= 0 ? Q.rat(n * 10n ** BigInt(shift)) : Q.rat(n, 10n ** BigInt(-shift));
  return { t: "num", value, float: false };
}

/**
 * Whether g and p have equal values (at env's sample point): true or false when
 * decided, undefined when no precision up to MAX_PRECISION (700 digits) decides it. Equal
 * means: within the error bounds, and the bounds are below 1e-30, so e^{1000} and
 * e^{1000} + 1 differ, and so do e^{-1000} and 0 (e^{-1000} is known to ~50
 * significant digits), while sin^2(3) + cos^2(3) - 1 (rounding noise) equals 0.
 * The first pass runs at 50 digits; a second at enough digits for the values'
 * magnitude (and their cancellation) when the first cannot decide.
 */
export function preciseEqual(g: Expr, p: Expr, env: Env = new Map()): boolean | undefined {
  let precision = 50;
  for (let pass = 0; pass < 2; pass++) {
    let a: Val;
    let b: Val;
    try {
      const ev = new Evaluator(precision, env);
      a = ev.eval(g);
      b = ev.eval(p);
    } catch {
      // Undecidable, or decimal.js refusing an input beyond its range: more digits do not help.
      return undefined;
    }
    const diff = a.v.minus(b.v).abs();
    const tol = a.err.plus(b.err).times(4);
    if (diff.gt(tol)) return false;
    if (tol.isZero()) return true;
    if (tol.lte(EQUAL_WITHIN)) return true;
    // The bounds are too wide: retry with the digits they lack, if that is affordable.
    const lacking = tol.div(EQUAL_WITHIN).log(10).ceil().toNumber();
    precision += lacking + 10;
    if (!Number.isFinite(precision) || precision > MAX_PRECISION) return undefined;
  }
  return undefined;
}

/** Error bounds at or below this make agreement within them "equal". */
const EQUAL_WITHIN = new Decimal(1e-30);

/** Beyond this many digits a comparison is undecidable (decimal.js's pi has 1025). */
const MAX_PRECISION = 700;
