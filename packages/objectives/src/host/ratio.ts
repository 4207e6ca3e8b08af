/**
 * Scalar pieces of the ratio rule that the fused host kernels (./*.kernel.ts)
 * share. They are tiny on purpose: V8 inlines them into the kernels' token
 * loops, where they cost nothing (measured).
 *
 * What the kernels do not share, on purpose: each keeps its own row loop
 * (`for (i < B) total += xRow(...)`) and its row function takes the arrays as
 * positional parameters. Both alternatives were measured on the kernels alone
 * (B x T = 64 x 2048): a shared `sumRows(io, (i, start, c) => xRow(...))`
 * driver made CISPO's kernel 15-20% slower, and row functions reading the
 * arrays from the `KernelIO` object made it 12% slower. A per-token callback
 * (one kernel body, the per-token rule passed in) would be a call V8 cannot
 * inline in the hottest loop, so each row function spells out its own rule.
 */

/** verl's clamp of a token log-ratio to [-20, 20] before the exp (NaN passes through). */
export function clampLogRatio(x: number): number {
  return x < -20 ? -20 : x > 20 ? 20 : x;
}

/** The ratio clipped to [lo, hi] as tfjs' clipByValue / torch.clamp (NaN passes through). */
export function clipRatio(r: number, lo: number, hi: number): number {
  return r < lo ? lo : r > hi ? hi : r;
}

/**
 * The clipped objectives' ratio range [lo, hi] = [1 - clipLow, 1 + clipHigh]
 * and dual-clip constant (`Infinity` when off, so the cap `-A dual` never applies).
 */
export interface ClipBounds {
  lo: number;
  hi: number;
  dual: number;
}

export function clipBounds(p: { clipLow: number; clipHigh: number; dualClip?: number | null }): ClipBounds {
  return { lo: 1 - p.clipLow, hi: 1 + p.clipHigh, dual: p.dualClip ?? Number.POSITIVE_INFINITY };
}
