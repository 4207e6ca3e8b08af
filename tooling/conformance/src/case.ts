import { ConformanceError } from "./op.js";

/** One line of a `*.jsonl` case file (tooling/conformance/FORMAT.md). */
export interface ConformanceCase {
  id: string;
  op: string;
  params: Record<string, unknown>;
  inputs: Record<string, unknown>;
  /** Fields as in FORMAT.md; numbers, nested arrays of numbers, or the string "NaN". `metrics` is a map of scalars. */
  expected: Record<string, unknown>;
  atol: number;
  rtol: number;
  source?: string;
}

/** Where a case came from, for failure messages. */
export interface CaseLocation {
  file: string;
  line: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses and checks one line; throws a BAD_CASE ConformanceError naming the bad field. */
export function parseCase(text: string): ConformanceCase {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConformanceError("BAD_CASE", `not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(raw)) throw new ConformanceError("BAD_CASE", "a case must be a JSON object");
  const bad = (field: string, want: string) =>
    new ConformanceError("BAD_CASE", `${field}: expected ${want}, got ${JSON.stringify(raw[field]) ?? "nothing"}`);
  if (typeof raw.id !== "string" || !raw.id) throw bad("id", "a non-empty string");
  if (typeof raw.op !== "string" || !raw.op) throw bad("op", "a non-empty string");
  for (const field of ["params", "inputs", "expected"]) if (!isObject(raw[field])) throw bad(field, "an object");
  for (const field of ["atol", "rtol"]) {
    if (typeof raw[field] !== "number" || !((raw[field] as number) >= 0)) throw bad(field, "a number >= 0");
  }
  if (raw.expected && isObject(raw.expected) && Object.keys(raw.expected).length === 0) {
    throw bad("expected", "at least one expected field");
  }
  return raw as unknown as ConformanceCase;
}
