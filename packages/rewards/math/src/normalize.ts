/**
 * LaTeX normalisation applied to every extracted answer before it is parsed,
 * following the rules Math-Verify 0.8.0 applies (latex2sympy2_extended's
 * `normalize_latex` with basic_latex, units, malformed_operators and nits on).
 * Each rule is a small pass so the order, which matters, reads top to bottom.
 */

export type BoxedMode = "all" | "last" | "none";

const SEPARATOR = /\b(?:and|or)\b|,|;/;

interface Boxed {
  start: number; // index of "\boxed" / "\fbox"
  content: string;
}

/**
 * Finds `\boxed{...}` / `\fbox{...}` from the right, with nested braces. In
 * "last" mode earlier boxes are kept only while they sit close to the next one
 * (under 10 characters apart, or under 70 with "and"/"or"/","/";" between and
 * different content), so "\boxed{1} and \boxed{2}" yields "1,2" but a boxed
 * intermediate result three paragraphs up does not.
 */
export function extractBoxedContent(text: string, mode: "all" | "last"): string {
  const results: Boxed[] = [];
  let searchEnd = text.length;
  let maxPos = text.length;
  for (;;) {
    const b = text.lastIndexOf("\\boxed", searchEnd - 1);
    const f = text.lastIndexOf("\\fbox", searchEnd - 1);
    if (b < 0 && f < 0) break;
    const start = Math.max(b, f);
    let p = start + (b > f ? 6 : 5);
    while (p < maxPos && /\s/.test(text[p]!)) p++;
    if (p >= maxPos) break;
    if (text[p] !== "{") {
      if (results.length === 0) results.push({ start, content: text.slice(p) });
      break;
    }
    let depth = 1;
    let close = -1;
    for (let i = p + 1; i < maxPos; i++) {
      const c = text[i];
      if (c === "{") depth++;
      else if (c === "}" && --depth === 0) {
        close = i;
        break;
      }
    }
    if (close < 0) {
      if (results.length === 0) results.push({ start, content: text.slice(p) });
      break;
    }
    const content = text.slice(p + 1, close).trim();
    if (mode === "last" && results.length > 0) {
      const next = results[results.length - 1]!;
      const between = text.slice(close + 1, next.start);
      const close10 = between.length < 10;
      const separated = next.content !== content && between.length < 70 && SEPARATOR.test(between);
      if (!close10 && !separated) break;
    }
    if (results.length === 0 || results[results.length - 1]!.content !== content) results.push({ start, content });
    maxPos = start;
    searchEnd = start;
  }
  if (results.length === 0) return text;
  return results
    .map((r) => r.content)
    .reverse()
    .join(",");
}

const LEFT_DELIMS =
  "\\\\\\{|\\{|\\\\\\||\\||\\[|\\(|\\\\rbracl|\\\\lgroup|\\\\lbrace|\\\\lbrack|\\\\vert|\\\\lvert|\\\\lceil|\\\\lfloor|\\\\langle|\\\\llcorner|\\\\ulcorner";
const RIGHT_DELIMS =
  "\\\\\\}|\\}|\\\\\\||\\||\\]|\\)|\\\\rbrack|\\\\rgroup|\\\\rbrace|\\\\vert|\\\\rvert|\\\\rceil|\\\\rfloor|\\\\rangle|\\\\lrcorner|\\\\urcorner";
const LEFT_RE = new RegExp(`\\\\m?left(${LEFT_DELIMS})`, "g");
const RIGHT_RE = new RegExp(`\\\\m?right(${RIGHT_DELIMS})`, "g");
const PERMUTATION_RE = /\(([a-zA-Z0-9+\-*/\\ ]+?)\)_{([a-zA-Z0-9+\-*/\\ ]+?)}/g;
const REMOVE_RE = /\\mathrm\{th\}|\\!\s*|\\text\s*\{\s*\}|\\\$|\$|(?<!\\)["']|\\displaystyle/g;

// One left-to-right pass; at each position the first alternative that matches wins.
const REPLACEMENTS: Array<[string, string]> = [
  ["\\\\math(?:rm|it|bf)", "\\text"],
  ["\\\\text(?:normal|bf|it|rm)", "\\text"],
  ["\\\\(?:d|t|c)frac", "\\frac"],
  ["\\s\\.", " 0."],
  ["\\{\\.", "{0."],
  ["~=", "\\approx"],
  ["\\s*\\{\\s*,\\s*\\}", ","],
  ["(?<![a-zA-Z])(?:,?\\s*(?:and|or))(?![a-zA-Z])", ","],
  ["(?:,?\\s*\\\\text\\{\\s*(?:and|or)\\s*\\})", ","],
  ["(?<!\\\\)\\\\\\s", " "],
  ["infinity", "\\infty"],
  [",?(?:\\\\ldots)", " "],
  ["\\s*\\bpercentage\\b", "%"],
  ["\\s*\\bpercent\\b", "%"],
  ["\\s*\\bpct\\b", "%"],
  ["\\\\text\\{percent\\}", "%"],
  ["\\\\text\\{pct\\}", "%"],
  ["\\\\text\\{percentage\\}", "%"],
  ["(?<!\\\\)inf(?!inity)", "\\infty"],
  [" sqrt", "\\sqrt"],
];
const REPLACE_RE = new RegExp(REPLACEMENTS.map(([p], i) => `(?<r${i}>${p})`).join("|"), "g");

function applyReplacements(text: string): string {
  return text.replace(REPLACE_RE, (...args) => {
    const groups = args[args.length - 1] as Record<string, string | undefined>;
    for (let i = 0; i < REPLACEMENTS.length; i++) if (groups[`r${i}`] !== undefined) return REPLACEMENTS[i]![1];
    return args[0] as string;
  });
}

// Words that, trailing a number, are units or nouns to drop ("5 apples" -> 5).
const UNIT_WORDS = [
  "integerpoint",
  "feet",
  "sue",
  "digit",
  "pound",
  "meal",
  "edge",
  "student",
  "children ticket",
  "multiple",
  "east",
  "degree",
  "mph",
  "kmph",
  "ft",
  "m square",
  " m east",
  "sq m",
  "deg",
  "mile",
  "q .",
  "monkey",
  "prime",
  "ratio",
  "profit of rs",
  "rd",
  "o",
  "gm",
  "p . m",
  "lb",
  "tile",
  "per",
  "dm",
  "lt",
  "gain",
  "ab",
  "way",
  "west",
  "a .",
  "b .",
  "c .",
  "d .",
  "e .",
  "f .",
  "g .",
  "h .",
  "t",
  "h",
  "no change",
  "men",
  "soldier",
  "pie",
  "bc",
  "excess",
  "st",
  "inches",
  "noon",
  "cent",
  "by",
  "gal",
  "kmh",
  "c",
  "acre",
  "rise",
  "a . m",
  "th",
  "π r 2",
  "sq",
  "mark",
  "l",
  "toy",
  "coin",
  "sq . m",
  "gallon",
  "° f",
  "profit",
  "minw",
  "yr",
  "women",
  "am",
  "pm",
  "hr",
  "cu cm",
  "square",
  "v â € ™",
  "are",
  "rupee",
  "rounds",
  "cubic",
  "cc",
  "mtr",
  "s",
  "ohm",
  "number",
  "day",
  "hour",
  "minute",
  "min",
  "second",
  "man",
  "woman",
  "sec",
  "cube",
  "mt",
  "sq inch",
  "mp",
  "∏ cm ³",
  "hectare",
  "more",
  "unit",
  "cu . m",
  "cm 2",
  "rs .",
  "rs",
  "kg",
  "g",
  "month",
  "km",
  "m",
  "cm",
  "mm",
  "apple",
  "liter",
  "loss",
  "yard",
  "pure",
  "year",
  "increase",
  "decrease",
  "d",
  "less",
  "Surface",
  "litre",
  "pi sq m",
  "s .",
  "metre",
  "meter",
  "inch",
];
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const UNITS_RE = new RegExp(`(\\d|\\}|\\s)\\s*(?:(?:${UNIT_WORDS.map(escapeRe).join("|")})(?:s|es)?)\\s*$`);
const UNIT_TEXT_SUFFIX_RE = /(\\(?:text|mbox)\{.*?\})(\^\d|\{\^\d\})?$/;

function stripUnits(text: string): string {
  const noText = text.replace(UNIT_TEXT_SUFFIX_RE, "").trim();
  if (noText !== "" && noText !== text) text = noText;
  for (let i = 0; i < 2; i++) {
    const t = text.replace(UNITS_RE, "$1");
    if (t !== "" && t !== text) text = t;
  }
  return text;
}

function fixMalformedOperators(text: string): string {
  return text
    .replace(/\^\s?\((.*?)\)/g, "^{$1}")
    .replace(/sqrt\s?\((.*?)\)/g, "\\sqrt{$1}")
    .replace(/\\frac\s?(\d)\s?(\d+)/g, "\\frac{$1}{$2}")
    .replace(/\\log_\s?(\d)\s?(\d+)/g, "\\log_{$1}{$2}")
    .replace(/\\frac\s?{(.*?)}\s?(\d)/g, "\\frac{$1}{$2}")
    .replace(/\\frac\s?(\d)\s?{(.*?)}/g, "\\frac{$1}{$2}")
    .replace(/\\sqrt\s?(\d)/g, "\\sqrt{$1}")
    .replaceAll(" sqrt", "\\sqrt");
}

/** `\sqrt3` -> `\sqrt{3}`: a bare one-character radicand gets braces. */
function fixSqrt(text: string): string {
  if (!text.includes("\\sqrt")) return text;
  const parts = text.split("\\sqrt");
  let out = parts[0]!;
  for (let part of parts.slice(1)) {
    part = part.trimStart();
    out +=
      part.length > 0 && part[0] !== "{" && part[0] !== "[" ? `\\sqrt{${part[0]}}${part.slice(1)}` : `\\sqrt${part}`;
  }
  return out;
}

/** `\frac12` -> `\frac{1}{2}`, `\frac1{2}` -> `\frac{1}{2}`. */
function fixFracs(text: string): string {
  const parts = text.split("\\frac");
  let out = parts[0]!;
  for (let part of parts.slice(1)) {
    part = part.trimStart();
    out += "\\frac";
    if (part.length > 0 && part[0] === "{") out += part;
    else if (part.length < 2) return text;
    else if (part[1] !== "{") out += `{${part[0]}}{${part[1]}}${part.slice(2)}`;
    else out += `{${part[0]}}${part.slice(1)}`;
  }
  return out;
}

function fixSlash(text: string): string {
  const m = /^(-?\d+)\/(-?\d+)$/.exec(text);
  if (!m || String(Number(m[1])) !== m[1] || String(Number(m[2])) !== m[2]) return text;
  return `\\frac{${m[1]}}{${m[2]}}`;
}

export function normalizeLatex(text: string, boxed: BoxedMode = "all"): string {
  if (boxed !== "none") text = extractBoxedContent(text, boxed);

  text = text.replaceAll("\\mathrm{T}", "T").replaceAll("\\mathrm{d}", "d").replaceAll("{\\rm d}", "d");
  text = text
    .replaceAll("\\left[\\begin{matrix}", "\\begin{bmatrix}")
    .replaceAll("\\end{matrix}\\right]", "\\end{bmatrix}");
  text = text.replace(LEFT_RE, "$1").replace(RIGHT_RE, "$1");
  text = text.replace(PERMUTATION_RE, "\\frac{($1)!}{(($1)-($2))!}");
  text = text.replace(REMOVE_RE, "");
  text = applyReplacements(text);
  text = text.replace(/[\n\t]/g, " ");
  if (!text.includes("matrix")) text = text.replace(/\\\\(?=[a-zA-Z])/g, "\\");

  text = stripUnits(text);

  if (text.startsWith(".")) text = `0${text}`;
  if (text === "0.5") text = "\\frac{1}{2}";

  text = fixMalformedOperators(text);
  text = fixSqrt(text);
  text = fixFracs(text);
  text = fixSlash(text);
  return text.trim();
}
