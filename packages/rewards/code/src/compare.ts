/**
 * Output comparison with LiveCodeBench's rules (lcb_runner/evaluation/testing_util.py):
 * - stdin/stdout tests: strip the whole output, split on "\n", strip each line; the line counts must
 *   match, and each line must be equal as text or, failing that, equal as a whitespace-separated
 *   list of Python `Decimal`s ("1.0" == "1" == "1e0"). There is no float tolerance: LCB chose exact
 *   decimals because np.isclose(50000000000000000, 50000000000000001) is True.
 * - function-call tests: Python `prediction == expected` after a top-level tuple becomes a list.
 *   Numbers are compared as exact decimals (Python's 1 == 1.0 and arbitrary-size ints), booleans
 *   compare as 0/1 against numbers like in Python.
 */

/** LiveCodeBench's `get_stripped_lines`. */
export function strippedLines(text: string): string[] {
  return pyStrip(text)
    .split("\n")
    .map((line) => pyStrip(line));
}

/** True when `actual` stdout matches `expected` under LiveCodeBench's stdio rules. */
export function stdoutMatches(actual: string, expected: string): boolean {
  const got = strippedLines(actual);
  const want = strippedLines(expected);
  if (got.length !== want.length) return false;
  for (let i = 0; i < got.length; i++) {
    const a = got[i]!;
    const b = want[i]!;
    if (a === b) continue;
    const da = decimalsOf(a);
    const db = decimalsOf(b);
    if (da === undefined || db === undefined || da.length !== db.length) return false;
    for (let j = 0; j < da.length; j++) if (!decimalEquals(da[j]!, db[j]!)) return false;
  }
  return true;
}

// Python's str.strip() with no argument strips Unicode whitespace; JS trim() covers the same set
// for the characters that appear in judge outputs (space, \t, \n, \r, \v, \f, NBSP, ...).
function pyStrip(s: string): string {
  return s.trim();
}

function decimalsOf(line: string): Decimal[] | undefined {
  const out: Decimal[] = [];
  for (const token of line.split(/\s+/)) {
    if (token === "") continue;
    const d = parseDecimal(token);
    if (d === undefined) return undefined;
    out.push(d);
  }
  return out;
}

/** An exact decimal: sign * digits * 10^exponent with `digits` free of leading/trailing zeros. */
export type Decimal =
  | { kind: "finite"; negative: boolean; digits: string; exponent: number }
  | { kind: "infinite"; negative: boolean }
  | { kind: "nan" };

const DECIMAL_RE = /^([+-])?(?:(\d[\d_]*)(?:\.(\d[\d_]*)?)?|\.(\d[\d_]*))(?:[eE]([+-]?\d[\d_]*))?$/;

/** Parses the literals Python's `Decimal(str)` accepts (ints, fractions, exponents, inf, nan). */
export function parseDecimal(text: string): Decimal | undefined {
  const s = text.trim();
  const special = /^([+-])?(inf|infinity|s?nan\d*)$/i.exec(s);
  if (special) {
    if (special[2]!.toLowerCase().includes("nan")) return { kind: "nan" };
    return { kind: "infinite", negative: special[1] === "-" };
  }
  const m = DECIMAL_RE.exec(s);
  if (!m) return undefined;
  // Python accepts single underscores between digits only ("1_000"), not "1__0" or "1_".
  for (const part of [m[2], m[3], m[4], m[5]]) if (part !== undefined && /__|_$/.test(part)) return undefined;
  const intPart = (m[2] ?? "").replaceAll("_", "");
  const fracPart = (m[3] ?? m[4] ?? "").replaceAll("_", "");
  let exponent = Number((m[5] ?? "0").replaceAll("_", "")) - fracPart.length;
  let digits = (intPart + fracPart).replace(/^0+/, "");
  if (digits === "") return { kind: "finite", negative: false, digits: "", exponent: 0 };
  const trailing = digits.length - digits.replace(/0+$/, "").length;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  return { kind: "finite", negative: m[1] === "-", digits, exponent };
}

/** Python Decimal `==`: value equality, NaN equal to nothing, -0 == 0. */
export function decimalEquals(a: Decimal, b: Decimal): boolean {
  if (a.kind === "nan" || b.kind === "nan") return false;
  if (a.kind === "infinite" || b.kind === "infinite") {
    return a.kind === b.kind && a.negative === b.negative;
  }
  if (a.digits === "" || b.digits === "") return a.digits === b.digits;
  return a.negative === b.negative && a.digits === b.digits && a.exponent === b.exponent;
}

/** A parsed JSON value whose numbers keep their exact text (Python ints are unbounded). */
export type ExactJson =
  | { t: "num"; v: Decimal }
  | { t: "str"; v: string }
  | { t: "bool"; v: boolean }
  | { t: "null" }
  | { t: "arr"; v: ExactJson[] }
  | { t: "obj"; v: Map<string, ExactJson> };

/**
 * JSON parser that keeps numbers exact and accepts Python's json.dumps extensions NaN, Infinity and
 * -Infinity. Throws SyntaxError on malformed text.
 */
export function parseExactJson(text: string): ExactJson {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`invalid JSON at offset ${i}: ${what}`);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const value = (): ExactJson => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const map = new Map<string, ExactJson>();
      ws();
      if (text[i] === "}") {
        i++;
        return { t: "obj", v: map };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a string key");
        const key = stringLiteral();
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        map.set(key, value());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return { t: "obj", v: map };
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const arr: ExactJson[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return { t: "arr", v: arr };
      }
      for (;;) {
        arr.push(value());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return { t: "arr", v: arr };
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return { t: "str", v: stringLiteral() };
    for (const [word, v] of [
      ["true", { t: "bool", v: true }],
      ["false", { t: "bool", v: false }],
      ["null", { t: "null" }],
      ["NaN", { t: "num", v: { kind: "nan" } }],
      ["Infinity", { t: "num", v: { kind: "infinite", negative: false } }],
      ["-Infinity", { t: "num", v: { kind: "infinite", negative: true } }],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v as ExactJson;
      }
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 4096));
    if (!m) return fail("expected a value");
    i += m[0].length;
    return { t: "num", v: parseDecimal(m[0])! };
  };
  const stringLiteral = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    if (i >= text.length) fail("unterminated string");
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const out = value();
  ws();
  if (i !== text.length) fail("trailing characters");
  return out;
}

/** Converts an already-parsed JS value (from a JSONL record) to ExactJson. */
export function toExactJson(value: unknown): ExactJson {
  if (value === null || value === undefined) return { t: "null" };
  if (typeof value === "boolean") return { t: "bool", v: value };
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { t: "num", v: { kind: "nan" } };
    if (!Number.isFinite(value)) return { t: "num", v: { kind: "infinite", negative: value < 0 } };
    return { t: "num", v: parseDecimal(String(value))! };
  }
  if (typeof value === "bigint") return { t: "num", v: parseDecimal(value.toString())! };
  if (typeof value === "string") return { t: "str", v: value };
  if (Array.isArray(value)) return { t: "arr", v: value.map(toExactJson) };
  return { t: "obj", v: new Map(Object.entries(value as object).map(([k, v]) => [k, toExactJson(v)])) };
}

/** Python `==` on JSON-shaped values (bool is an int subclass: True == 1). */
export function pythonEquals(a: ExactJson, b: ExactJson): boolean {
  const asNum = (x: ExactJson): Decimal | undefined =>
    x.t === "num" ? x.v : x.t === "bool" ? parseDecimal(x.v ? "1" : "0") : undefined;
  const na = asNum(a);
  const nb = asNum(b);
  if (na !== undefined || nb !== undefined) return na !== undefined && nb !== undefined && decimalEquals(na, nb);
  if (a.t !== b.t) return false;
  switch (a.t) {
    case "str":
      return a.v === (b as typeof a).v;
    case "null":
      return true;
    case "arr": {
      const bv = (b as typeof a).v;
      return a.v.length === bv.length && a.v.every((x, k) => pythonEquals(x, bv[k]!));
    }
    case "obj": {
      const bv = (b as typeof a).v;
      if (a.v.size !== bv.size) return false;
      for (const [k, x] of a.v) {
        const y = bv.get(k);
        if (y === undefined || !pythonEquals(x, y)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
