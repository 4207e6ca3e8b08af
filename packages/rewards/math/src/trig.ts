import * as Q from "./rational.js";

/**
 * Trigonometric functions at rational multiples of pi, exactly: sin(k*pi) is 0
 * for any integer k however large, because the angle is reduced modulo 2*pi in
 * rational arithmetic before any rounding.
 */
export const TRIG = new Set(["sin", "cos", "tan", "sec", "csc", "cot"]);

/** r mod 2, in [0, 2): the same angle r*pi within one turn. */
export function reduceTurn(r: Q.Rational): Q.Rational {
  const period = 2n * r.d;
  const m = ((r.n % period) + period) % period;
  return Q.rat(m, r.d);
}

const HALF = Q.rat(1n, 2n);

/** sin(t*pi) for t in [0, 2) when it is rational (t a multiple of 1/6 or 1/2); undefined otherwise. */
function sinTurn(t: Q.Rational): Q.Rational | undefined {
  // Reflect into [0, 1/2]: sin(t) = sin(1 - t) on [0, 1], sin(t) = -sin(t - 1) on [1, 2).
  let sign = 1n;
  let x = t;
  if (Q.cmp(x, Q.ONE) >= 0) {
    x = Q.sub(x, Q.ONE);
    sign = -1n;
  }
  if (Q.cmp(x, HALF) > 0) x = Q.sub(Q.ONE, x);
  let v: Q.Rational | undefined;
  if (x.n === 0n) v = Q.ZERO;
  else if (Q.eq(x, Q.rat(1n, 6n))) v = HALF;
  else if (Q.eq(x, HALF)) v = Q.ONE;
  return v && Q.rat(sign * v.n, v.d);
}

/**
 * The exact value of a trigonometric function at t*pi (t already reduced to
 * [0, 2)): a rational when there is one, null at a pole, undefined when the
 * value is irrational (sin(pi/3) = sqrt(3)/2).
 */
export function exactTrigAtTurn(name: string, t: Q.Rational): Q.Rational | null | undefined {
  const s = sinTurn(t);
  const c = sinTurn(reduceTurn(Q.add(t, HALF)));
  const ratio = (a: Q.Rational | undefined, b: Q.Rational | undefined): Q.Rational | null | undefined => {
    if (b && b.n === 0n) return null;
    if (a && a.n === 0n) return Q.ZERO;
    if (a && b) return Q.div(a, b);
    // tan(pi/4) = 1 though sin and cos there are irrational: equal magnitudes.
    const q = Q.sub(t, Q.rat(t.n / t.d));
    if (Q.eq(q, Q.rat(1n, 4n))) return Q.ONE;
    if (Q.eq(q, Q.rat(3n, 4n))) return Q.rat(-1n);
    return undefined;
  };
  switch (name) {
    case "sin":
      return s;
    case "cos":
      return c;
    case "csc":
      return s === undefined ? undefined : s.n === 0n ? null : Q.div(Q.ONE, s);
    case "sec":
      return c === undefined ? undefined : c.n === 0n ? null : Q.div(Q.ONE, c);
    case "tan":
      return ratio(s, c);
    case "cot":
      return ratio(c, s);
    default:
      return undefined;
  }
}
