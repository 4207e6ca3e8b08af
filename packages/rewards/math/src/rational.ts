/**
 * Exact rationals over BigInt. Gold answers are mostly integers and fractions,
 * and comparing them exactly (not as doubles) keeps 180-digit integers and
 * 1/3 vs 0.333333 apart the way a CAS would.
 */
export interface Rational {
  readonly n: bigint;
  readonly d: bigint; // always > 0, gcd(n, d) = 1
}

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

export function rat(n: bigint, d = 1n): Rational {
  if (d === 0n) throw new RangeError("rational with zero denominator");
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d);
  return g > 1n ? { n: n / g, d: d / g } : { n, d };
}

export const ZERO = rat(0n);
export const ONE = rat(1n);

export function add(a: Rational, b: Rational): Rational {
  return rat(a.n * b.d + b.n * a.d, a.d * b.d);
}
export function sub(a: Rational, b: Rational): Rational {
  return rat(a.n * b.d - b.n * a.d, a.d * b.d);
}
export function mul(a: Rational, b: Rational): Rational {
  return rat(a.n * b.n, a.d * b.d);
}
export function div(a: Rational, b: Rational): Rational {
  return rat(a.n * b.d, a.d * b.n);
}
export function neg(a: Rational): Rational {
  return { n: -a.n, d: a.d };
}
export function eq(a: Rational, b: Rational): boolean {
  return a.n === b.n && a.d === b.d;
}
export function cmp(a: Rational, b: Rational): number {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}
export function isInt(a: Rational): boolean {
  return a.d === 1n;
}

/** Integer power; exponents are bounded so a tower like 9^9^9 cannot allocate gigabytes. */
export function powInt(a: Rational, e: bigint): Rational | undefined {
  const mag = e < 0n ? -e : e;
  const bits = Math.max(bitLength(a.n), bitLength(a.d));
  if (mag > 100_000n || Number(mag) * bits > 200_000) return undefined;
  let n = a.n ** mag;
  let d = a.d ** mag;
  if (e < 0n) [n, d] = [d, n];
  if (d === 0n) return undefined;
  return rat(n, d);
}

function bitLength(x: bigint): number {
  if (x < 0n) x = -x;
  return x === 0n ? 0 : x.toString(2).length;
}

export function toNumber(a: Rational): number {
  const n = Number(a.n);
  const d = Number(a.d);
  if (Number.isFinite(n) && Number.isFinite(d)) return n / d;
  // Both huge: scale down by a common power of ten before dividing.
  const ns = a.n.toString();
  const ds = a.d.toString();
  const shift = Math.max(ns.length, ds.length) - 300;
  const scale = 10n ** BigInt(Math.max(shift, 0));
  return Number(a.n / scale) / Number(a.d / scale || 1n);
}

/** Parses "123", "-4.50", ".5" into an exact rational. */
export function parseDecimal(text: string): Rational | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return undefined;
  const intPart = m[2] || "0";
  const frac = m[3] ?? "";
  const n = BigInt(intPart + frac) * (m[1] === "-" ? -1n : 1n);
  return rat(n, 10n ** BigInt(frac.length));
}

export function factorial(a: Rational): Rational | undefined {
  if (a.d !== 1n || a.n < 0n || a.n > 2000n) return undefined;
  let r = 1n;
  for (let i = 2n; i <= a.n; i++) r *= i;
  return rat(r);
}

/** Exact k-th root of a rational when one exists (sqrt(9/4) = 3/2), else undefined. */
export function exactRoot(a: Rational, k: number): Rational | undefined {
  if (a.n < 0n && k % 2 === 0) return undefined;
  const rn = intRoot(a.n < 0n ? -a.n : a.n, k);
  const rd = intRoot(a.d, k);
  if (rn === undefined || rd === undefined) return undefined;
  return rat(a.n < 0n ? -rn : rn, rd);
}

function intRoot(x: bigint, k: number): bigint | undefined {
  if (x < 2n) return x;
  const approx = BigInt(Math.round(toNumber(rat(x)) ** (1 / k)));
  for (const c of [approx - 1n, approx, approx + 1n]) if (c >= 0n && c ** BigInt(k) === x) return c;
  return undefined;
}
