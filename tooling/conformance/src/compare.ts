/**
 * Element-wise comparison: a value passes when |got - want| <= atol + rtol |want|.
 * The string "NaN" in `want` means NaN is expected there (and only NaN passes);
 * NaN or a missing element where a number is expected is a failure.
 */
export interface FieldComparison {
  /** Elements compared. */
  count: number;
  /** Elements out of tolerance. */
  failed: number;
  /** The largest |got - want| over failing elements (Infinity for NaN mismatches), else over all. */
  maxError: number;
  /** Index of the worst element, e.g. [1, 2]; [] for a scalar. */
  worstAt: number[];
  worstGot: number;
  worstWant: number | "NaN";
  /** Set when the shapes differ; nothing else is meaningful then. */
  shapeMismatch?: string;
}

type Nested = unknown;

function shapeOf(v: Nested): number[] {
  const shape: number[] = [];
  let cur: unknown = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

function isExpectedLeaf(v: unknown): v is number | "NaN" {
  return typeof v === "number" || v === "NaN";
}

export function compareField(got: Nested, want: Nested, atol: number, rtol: number): FieldComparison {
  const result: FieldComparison = { count: 0, failed: 0, maxError: 0, worstAt: [], worstGot: Number.NaN, worstWant: 0 };
  let worstFailing = false;
  const visit = (g: unknown, w: unknown, at: number[]): boolean => {
    if (Array.isArray(w)) {
      if (!Array.isArray(g) || g.length !== w.length) return false;
      for (let i = 0; i < w.length; i++) if (!visit(g[i], w[i], [...at, i])) return false;
      return true;
    }
    if (!isExpectedLeaf(w))
      throw new Error(`expected value at [${at.join("][")}] is ${JSON.stringify(w)}, not a number or "NaN"`);
    if (typeof g !== "number") return false;
    result.count++;
    let error: number;
    let ok: boolean;
    if (w === "NaN") {
      ok = Number.isNaN(g);
      error = ok ? 0 : Number.POSITIVE_INFINITY;
    } else {
      error = Number.isNaN(g) ? Number.POSITIVE_INFINITY : Math.abs(g - w);
      ok = error <= atol + rtol * Math.abs(w);
    }
    if (!ok) result.failed++;
    // Report the worst failing element; when everything passes, the largest error seen.
    if ((!ok && (!worstFailing || error > result.maxError)) || (ok && !worstFailing && error >= result.maxError)) {
      worstFailing = !ok;
      result.maxError = error;
      result.worstAt = at;
      result.worstGot = g;
      result.worstWant = w;
    }
    return true;
  };
  if (!visit(got, want, [])) {
    result.shapeMismatch = `got shape [${shapeOf(got).join(", ")}], want [${shapeOf(want).join(", ")}]`;
    result.failed = Math.max(result.failed, 1);
  }
  return result;
}
