import type { Expr, RelOp } from "./ast.js";
import { onlySymbols } from "./ast.js";
import { neg, parseDecimal, type Rational, rat, toNumber } from "./rational.js";

/**
 * A recursive-descent LaTeX math parser producing {@link Expr}. It covers what
 * answers contain (numbers, fractions, radicals, powers, functions, sets,
 * intervals, tuples, matrices, relations, `\pm`) and throws {@link LatexSyntaxError}
 * on anything else, which the caller treats as "could not parse" exactly as
 * Math-Verify treats a latex2sympy failure.
 */
export class LatexSyntaxError extends Error {}

type Tok =
  | { k: "num"; s: string }
  | { k: "cmd"; s: string } // without the backslash; "\\" for a row break
  | { k: "ch"; s: string }; // single character (letters, operators, brackets)

const SPACE_CMDS = new Set([
  ",",
  ";",
  ":",
  " ",
  "!",
  "quad",
  "qquad",
  "enspace",
  "thinspace",
  "medspace",
  "thickspace",
  "displaystyle",
  "textstyle",
  "limits",
  "nolimits",
  "left",
  "right",
  "mleft",
  "mright",
  "big",
  "Big",
  "bigg",
  "Bigg",
  "bigl",
  "bigr",
  "Bigl",
  "Bigr",
  "biggl",
  "biggr",
  "middle",
  "prime",
  "dots",
  "cdots",
  "ldots",
  "hfill",
  "nonumber",
  "notag",
]);
const UNICODE: Record<string, Tok> = {
  "×": { k: "cmd", s: "times" },
  "÷": { k: "cmd", s: "div" },
  "·": { k: "cmd", s: "cdot" },
  "⋅": { k: "cmd", s: "cdot" },
  "−": { k: "ch", s: "-" },
  "≤": { k: "cmd", s: "le" },
  "≥": { k: "cmd", s: "ge" },
  "≠": { k: "cmd", s: "ne" },
  π: { k: "cmd", s: "pi" },
  "∞": { k: "cmd", s: "infty" },
  "√": { k: "cmd", s: "sqrt" },
  "∪": { k: "cmd", s: "cup" },
  "∩": { k: "cmd", s: "cap" },
  "±": { k: "cmd", s: "pm" },
};

const MAX_TOKENS = 20_000;

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c) || c === "~" || c === "°") {
      i++;
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      const m = /^\d*\.?\d*/.exec(src.slice(i, i + 4000))!;
      let s = m[0];
      if (s.endsWith(".")) s = s.slice(0, -1);
      out.push({ k: "num", s });
      i += s.length;
      continue;
    }
    if (c === "\\") {
      const m = /^[a-zA-Z]+/.exec(src.slice(i + 1, i + 40));
      if (m) {
        i += 1 + m[0].length;
        if (
          m[0] === "operatorname" ||
          m[0] === "mathrm" ||
          m[0] === "text" ||
          m[0] === "textbf" ||
          m[0] === "mbox" ||
          m[0] === "textit" ||
          m[0] === "mathit" ||
          m[0] === "mathbf" ||
          m[0] === "textrm" ||
          m[0] === "textnormal" ||
          m[0] === "mathbb" ||
          m[0] === "mathcal" ||
          m[0] === "begin" ||
          m[0] === "end"
        ) {
          // Keep the raw braced argument as one token: it is a name, not math.
          let j = i;
          while (src[j] === " ") j++;
          if (src[j] === "{") {
            const close = src.indexOf("}", j);
            if (close < 0) throw new LatexSyntaxError(`unclosed \\${m[0]}{`);
            out.push({ k: "cmd", s: `${m[0]}{${src.slice(j + 1, close)}}` });
            i = close + 1;
            continue;
          }
        }
        if (!SPACE_CMDS.has(m[0])) out.push({ k: "cmd", s: m[0] });
        continue;
      }
      const next = src[i + 1];
      if (next === undefined) throw new LatexSyntaxError("trailing backslash");
      i += 2;
      if (next === "(") out.push({ k: "ch", s: "(" });
      else if (next === ")") out.push({ k: "ch", s: ")" });
      else if (next === "%") out.push({ k: "ch", s: "%" });
      else if (next === "$") continue;
      else if (!SPACE_CMDS.has(next)) out.push({ k: "cmd", s: next });
      continue;
    }
    const u = UNICODE[c];
    if (u) out.push(u);
    else out.push({ k: "ch", s: c });
    i++;
    if (out.length > MAX_TOKENS) throw new LatexSyntaxError("expression too long");
  }
  return out;
}

const FUNCTIONS = new Set([
  "sin",
  "cos",
  "tan",
  "sec",
  "csc",
  "cot",
  "arcsin",
  "arccos",
  "arctan",
  "arcsec",
  "arccsc",
  "arccot",
  "sinh",
  "cosh",
  "tanh",
  "ln",
  "log",
  "lg",
  "exp",
  "det",
]);
const RELATIONS: Record<string, RelOp | "approx" | "in" | "notin"> = {
  le: "<=",
  leq: "<=",
  leqslant: "<=",
  ge: ">=",
  geq: ">=",
  geqslant: ">=",
  lt: "<",
  gt: ">",
  ne: "!=",
  neq: "!=",
  approx: "approx",
  in: "in",
  notin: "notin",
  sim: "approx",
  simeq: "approx",
};
const MATRIX_ENVS = new Set(["pmatrix", "bmatrix", "Bmatrix", "matrix", "vmatrix", "Vmatrix", "smallmatrix", "array"]);

export const num = (value: Rational, float = false): Expr => ({ t: "num", value, float });
const MINUS_ONE = num(rat(-1n));

export function negate(e: Expr): Expr {
  if (e.t === "num") return num(neg(e.value), e.float);
  return { t: "mul", args: [MINUS_ONE, e] };
}

const numericValue = (e: Expr): number | undefined => {
  if (e.t === "num") return toNumber(e.value);
  if (e.t === "const" && e.name === "inf") return Number.POSITIVE_INFINITY;
  if (
    e.t === "mul" &&
    e.args.length === 2 &&
    e.args[0]!.t === "num" &&
    e.args[1]!.t === "const" &&
    e.args[1]!.name === "inf"
  )
    return toNumber(e.args[0]!.value) * Number.POSITIVE_INFINITY;
  if (e.t === "const" && e.name === "pi") return Math.PI;
  return undefined;
};

class Parser {
  private i = 0;
  private absDepth = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(o = 0): Tok | undefined {
    return this.toks[this.i + o];
  }
  private isCh(s: string, o = 0): boolean {
    const t = this.peek(o);
    return t !== undefined && t.k === "ch" && t.s === s;
  }
  private isCmd(s: string, o = 0): boolean {
    const t = this.peek(o);
    return t !== undefined && t.k === "cmd" && t.s === s;
  }
  private expectCh(s: string): void {
    if (!this.isCh(s)) throw new LatexSyntaxError(`expected "${s}" at token ${this.i}`);
    this.i++;
  }
  atEnd(): boolean {
    return this.i >= this.toks.length;
  }

  /** Top level: elements separated by "," and ";" (rows). */
  parseTop(): Expr {
    const rows = this.parseRows(() => this.atEnd());
    if (!this.atEnd()) throw new LatexSyntaxError(`unexpected token at ${this.i}`);
    return rowsToValue(rows);
  }

  private parseRows(stop: () => boolean, expand = true): Expr[][] {
    const rows: Expr[][] = [[]];
    if (stop()) return [];
    for (;;) {
      if (expand) rows[rows.length - 1]!.push(...this.parseElement());
      else rows[rows.length - 1]!.push(this.parseRelation());
      if (this.isCh(",")) this.i++;
      else if (this.isCh(";")) {
        this.i++;
        rows.push([]);
      } else break;
      if (stop()) break;
    }
    return rows.filter((r) => r.length > 0);
  }

  /** One comma-separated element: a relation chain or a set expression; `\pm` expands. */
  parseElement(): Expr[] {
    return expandPm(this.parseRelation());
  }

  private relOp(): RelOp | "approx" | "in" | "notin" | undefined {
    const t = this.peek();
    if (!t) return undefined;
    if (t.k === "cmd") return RELATIONS[t.s];
    if (t.k !== "ch") return undefined;
    const n = this.peek(1);
    const nextEq = n?.k === "ch" && n.s === "=";
    if (t.s === "=") return "=";
    if (t.s === "<") return nextEq ? "<=" : "<";
    if (t.s === ">") return nextEq ? ">=" : ">";
    if (t.s === "!" && nextEq) return "!=";
    return undefined;
  }

  private parseRelation(): Expr {
    let left = this.parseSetExpr();
    for (;;) {
      const op = this.relOp();
      if (!op) return left;
      const t = this.peek()!;
      this.i += t.k === "ch" && (op === "<=" || op === ">=" || op === "!=") ? 2 : 1;
      if (op === "notin") throw new LatexSyntaxError("\\notin is not supported");
      const right = this.parseSetExpr();
      if (op === "approx") {
        // Keep the exact side: `x \approx 11` means 11, `\frac{1}{3} \approx 0.33` means 1/3.
        left = onlySymbols(left) ? right : left;
        continue;
      }
      const rop: RelOp = op === "in" ? "=" : op;
      if (left.t === "rel") left = { t: "and", args: [left, { t: "rel", op: rop, lhs: left.rhs, rhs: right }] };
      else if (left.t === "and") {
        const last = left.args[left.args.length - 1]! as Extract<Expr, { t: "rel" }>;
        left = { t: "and", args: [...left.args, { t: "rel", op: rop, lhs: last.rhs, rhs: right }] };
      } else left = { t: "rel", op: rop, lhs: left, rhs: right };
    }
  }

  private parseSetExpr(): Expr {
    let left = this.parseAdditive();
    for (;;) {
      if (this.isCmd("cup")) {
        this.i++;
        const r = toSet(this.parseAdditive());
        left = { t: "union", args: [...(left.t === "union" ? left.args : [toSet(left)]), r] };
      } else if (this.isCmd("cap")) {
        this.i++;
        left = { t: "intersect", args: [toSet(left), toSet(this.parseAdditive())] };
      } else if (this.isCmd("setminus") || this.isCmd("backslash")) {
        this.i++;
        left = { t: "minus", a: toSet(left), b: toSet(this.parseAdditive()) };
      } else return left;
    }
  }

  private parseAdditive(): Expr {
    let terms: Expr[] = [];
    let pm: Expr | undefined;
    if (this.isCmd("pm") || this.isCmd("mp")) {
      this.i++;
      pm = { t: "pm", b: this.parseMul() };
    } else terms.push(this.parseMul());
    for (;;) {
      if (this.isCh("+")) {
        this.i++;
        terms.push(this.parseMul());
      } else if (this.isCh("-")) {
        this.i++;
        terms.push(negate(this.parseMul()));
      } else if (this.isCmd("pm") || this.isCmd("mp")) {
        this.i++;
        const a: Expr = terms.length === 1 ? terms[0]! : { t: "add", args: terms };
        const b = this.parseMul();
        pm = pm ? { t: "pm", a: { t: "add", args: [pm, a] }, b } : { t: "pm", a, b };
        terms = [];
      } else break;
    }
    if (pm) {
      if (terms.length === 0) return pm;
      return { t: "add", args: [pm, ...terms] };
    }
    return terms.length === 1 ? terms[0]! : { t: "add", args: terms };
  }

  private startsAtom(): boolean {
    const t = this.peek();
    if (!t) return false;
    if (t.k === "num") return true;
    if (t.k === "ch") {
      if (/^[a-zA-Z]$/.test(t.s)) return true;
      if (t.s === "(" || t.s === "[" || t.s === "{") return true;
      if (t.s === "|") return this.absDepth === 0;
      return false;
    }
    const s = t.s;
    if (
      s in RELATIONS ||
      s === "circ" ||
      s === "degree" ||
      s === "cup" ||
      s === "cap" ||
      s === "setminus" ||
      s === "pm" ||
      s === "mp" ||
      s === "times" ||
      s === "cdot" ||
      s === "div" ||
      s === "\\" ||
      s === "}" ||
      s === "rfloor" ||
      s === "rceil"
    )
      return false;
    if (s.startsWith("end{")) return false;
    if (s === "|") return this.absDepth === 0;
    return true;
  }

  private parseMul(noFunc = false): Expr {
    const factors: Expr[] = [this.parseUnary(noFunc)];
    for (;;) {
      if (this.isCh("*") || this.isCmd("times") || this.isCmd("cdot") || this.isCmd("ast")) {
        if (noFunc) break;
        this.i++;
        factors.push(this.parseUnary(noFunc));
      } else if (this.isCh("/") || this.isCmd("div") || this.isCh(":")) {
        if (noFunc) break;
        this.i++;
        const d = this.parseUnary(noFunc);
        const prev = factors.pop()!;
        factors.push(divide(prev, d));
      } else if (this.startsAtom()) {
        if (noFunc && this.peek()?.k === "cmd" && FUNCTIONS.has(this.peek()!.s)) break;
        factors.push(this.parsePostfix(noFunc));
      } else break;
    }
    return factors.length === 1 ? factors[0]! : { t: "mul", args: factors };
  }

  private parseUnary(noFunc: boolean): Expr {
    if (this.isCh("-")) {
      this.i++;
      return negate(this.parseUnary(noFunc));
    }
    if (this.isCh("+")) {
      this.i++;
      return this.parseUnary(noFunc);
    }
    return this.parsePostfix(noFunc);
  }

  private parsePostfix(noFunc: boolean): Expr {
    let base = this.parseAtom(noFunc);
    for (;;) {
      if (this.isCh("^")) {
        this.i++;
        if (this.isDegreeMark()) continue;
        const exp = this.parseScriptArg();
        base = { t: "pow", base, exp };
      } else if (this.isCh("!") && !this.isCh("=", 1)) {
        this.i++;
        base = { t: "fn", name: "factorial", args: [base] };
      } else if (this.isCh("%")) {
        this.i++;
        base = { t: "mul", args: [base, num(rat(1n, 100n))], percent: true };
      } else if (this.isCh("'") || this.isCmd("circ") || this.isCmd("degree")) {
        this.i++;
      } else return base;
    }
  }

  /** `^\circ`, `^{\circ}` and `^{\circ}C`: degrees are dropped, as Math-Verify does not convert them. */
  private isDegreeMark(): boolean {
    if (this.isCmd("circ") || this.isCmd("degree")) {
      this.i++;
      return true;
    }
    if (this.isCh("{") && (this.isCmd("circ", 1) || this.isCmd("degree", 1)) && this.isCh("}", 2)) {
      this.i += 3;
      return true;
    }
    if (this.isCh("{") && this.isCh("}", 1)) {
      this.i += 2;
      return true;
    }
    return false;
  }

  /** The argument of ^, _, \frac, \sqrt: a braced group or a single token (one digit of a number). */
  private parseScriptArg(): Expr {
    const t = this.peek();
    if (!t) throw new LatexSyntaxError("missing argument");
    if (t.k === "ch" && t.s === "{") {
      this.i++;
      // \pm stays unexpanded here so \frac{-1 \pm \sqrt{13}}{4} expands once, at the element.
      return this.parseGroupContent("}", false);
    }
    if (t.k === "num") {
      if (t.s.length > 1 && !t.s.includes(".")) {
        // x^23 is x^2 * 3 in LaTeX: take one digit, leave the rest.
        (this.toks as Tok[])[this.i] = { k: "num", s: t.s.slice(1) };
        return num(rat(BigInt(t.s[0]!)));
      }
      this.i++;
      return parseNumber(t.s);
    }
    if (t.k === "ch" && t.s === "-") {
      this.i++;
      return negate(this.parseScriptArg());
    }
    return this.parseAtom(true);
  }

  /** Contents of a braced group up to `close`; commas inside make a finite set. */
  private parseGroupContent(close: string, expand = true): Expr {
    const rows = this.parseRows(() => this.isCh(close) || this.atEnd(), expand);
    this.expectCh(close);
    if (rows.length === 0) return { t: "namedset", name: "empty" };
    return rowsToValue(rows);
  }

  private parseBracketed(open: "(" | "["): Expr {
    const elems: Expr[] = [];
    if (!(this.isCh(")") || this.isCh("]"))) {
      for (;;) {
        elems.push(...this.parseElement());
        if (this.isCh(",") || this.isCh(";")) this.i++;
        else break;
      }
    }
    const closer = this.peek();
    if (!closer || closer.k !== "ch" || (closer.s !== ")" && closer.s !== "]"))
      throw new LatexSyntaxError("unclosed bracket");
    this.i++;
    const close = closer.s;
    if (elems.length === 0) throw new LatexSyntaxError("empty brackets");
    if (elems.length === 1) {
      if (open === "(" && close === ")") return elems[0]!;
      if (open === "[" && close === "]") return elems[0]!;
      throw new LatexSyntaxError("mismatched brackets");
    }
    if (elems.length === 2) {
      const [lo, hi] = elems as [Expr, Expr];
      const lopen = open === "(";
      const ropen = close === ")";
      const l = numericValue(lo);
      const h = numericValue(hi);
      // An interval that would be empty is a pair of numbers, e.g. the point (3, 1).
      if (l !== undefined && h !== undefined && ((lopen && ropen && h <= l) || (!lopen && !ropen && h < l)))
        return { t: "tuple", elems };
      return { t: "interval", lo, hi, lopen, ropen };
    }
    if (open === "(" && close === ")") return { t: "tuple", elems };
    if (open === "[" && close === "]") return { t: "tuple", elems };
    throw new LatexSyntaxError("mismatched brackets");
  }

  private parseAtom(noFunc: boolean): Expr {
    const t = this.peek();
    if (!t) throw new LatexSyntaxError("unexpected end of input");
    this.i++;
    if (t.k === "num") {
      const n = parseNumber(t.s);
      // Mixed number: 2\frac{1}{2} is 2 + 1/2.
      if (!t.s.includes(".") && this.isCmd("frac")) {
        const save = this.i;
        this.i++;
        try {
          const f = this.parseFracArgs();
          if (f.t === "num" && !f.float) return { t: "add", args: [n, f] };
        } catch {
          /* not a mixed number */
        }
        this.i = save;
      }
      return n;
    }
    if (t.k === "ch") {
      const c = t.s;
      if (/^[a-zA-Z]$/.test(c)) return this.parseLetter(c);
      if (c === "(" || c === "[") return this.parseBracketed(c);
      if (c === "{") return this.parseGroupContent("}");
      if (c === "|") {
        this.absDepth++;
        const e = this.parseAdditive();
        this.absDepth--;
        this.expectCh("|");
        return { t: "fn", name: "abs", args: [e] };
      }
      throw new LatexSyntaxError(`unexpected "${c}"`);
    }
    return this.parseCommand(t.s, noFunc);
  }

  private parseLetter(c: string): Expr {
    let name = c;
    if (this.isCh("_")) {
      this.i++;
      const sub = this.peek();
      if (sub?.k === "ch" && sub.s === "{") {
        let j = this.i + 1;
        let text = "";
        while (j < this.toks.length && !(this.toks[j]!.k === "ch" && this.toks[j]!.s === "}"))
          text += this.toks[j++]!.s;
        this.i = j + 1;
        name = `${c}_${text}`;
      } else if (sub) {
        this.i++;
        name = `${c}_${sub.k === "num" ? sub.s[0] : sub.s}`;
        if (sub.k === "num" && sub.s.length > 1) {
          this.i--;
          (this.toks as Tok[])[this.i] = { k: "num", s: sub.s.slice(1) };
        }
      }
    }
    if (name === "e") return { t: "const", name: "e" };
    return { t: "sym", name: name.toLowerCase() };
  }

  private parseFracArgs(): Expr {
    const a = this.parseScriptArg();
    const b = this.parseScriptArg();
    return divide(a, b);
  }

  private parseCommand(s: string, noFunc: boolean): Expr {
    switch (s) {
      case "frac":
      case "dfrac":
      case "tfrac":
      case "cfrac":
        return this.parseFracArgs();
      case "binom":
      case "dbinom":
      case "tbinom": {
        const a = this.parseScriptArg();
        const b = this.parseScriptArg();
        return { t: "fn", name: "binom", args: [a, b] };
      }
      case "sqrt": {
        let index: Expr | undefined;
        if (this.isCh("[")) {
          this.i++;
          index = this.parseAdditive();
          this.expectCh("]");
        }
        const arg = this.parseScriptArg();
        return { t: "pow", base: arg, exp: index ? divide(num(rat(1n)), index) : num(rat(1n, 2n)) };
      }
      case "pi":
        return { t: "const", name: "pi" };
      case "infty":
      case "infin":
      case "infinity":
        return { t: "const", name: "inf" };
      case "emptyset":
      case "varnothing":
        return { t: "namedset", name: "empty" };
      case "{": {
        const rows = this.parseRows(() => this.isCmd("}") || this.atEnd());
        if (!this.isCmd("}")) throw new LatexSyntaxError("unclosed \\{");
        this.i++;
        return { t: "set", elems: rows.flat() };
      }
      case "|": {
        this.absDepth++;
        const e = this.parseAdditive();
        this.absDepth--;
        if (!this.isCmd("|")) throw new LatexSyntaxError("unclosed \\|");
        this.i++;
        return { t: "fn", name: "abs", args: [e] };
      }
      case "lfloor":
      case "lceil": {
        const e = this.parseAdditive();
        const close = s === "lfloor" ? "rfloor" : "rceil";
        if (!this.isCmd(close)) throw new LatexSyntaxError(`unclosed \\${s}`);
        this.i++;
        return { t: "fn", name: s === "lfloor" ? "floor" : "ceil", args: [e] };
      }
      case "overline":
      case "vec":
      case "hat":
      case "bar":
      case "tilde":
      case "mathbf":
      case "boldsymbol":
      case "overrightarrow":
      case "widehat":
        return this.parseScriptArg();
      case "sum":
      case "prod": {
        // \sum_{k=a}^{b} body: kept as fn(body, k, a, b); evaluated when the bounds are numbers.
        if (!this.isCh("_")) throw new LatexSyntaxError(`\\${s} without a lower bound`);
        this.i++;
        const lower = this.parseScriptArg();
        if (lower.t !== "rel" || lower.op !== "=" || lower.lhs.t !== "sym")
          throw new LatexSyntaxError(`\\${s} lower bound is not k = a`);
        if (!this.isCh("^")) throw new LatexSyntaxError(`\\${s} without an upper bound`);
        this.i++;
        const upper = this.parseScriptArg();
        const body = this.parseMul();
        return { t: "fn", name: s, args: [body, lower.lhs, lower.rhs, upper] };
      }
      case "%":
        throw new LatexSyntaxError("stray percent");
      default:
        break;
    }
    if (FUNCTIONS.has(s)) return this.parseFunction(s, noFunc);
    const braced = /^(\w+)\{(.*)\}$/s.exec(s);
    if (braced) {
      const [, cmd, body] = braced as unknown as [string, string, string];
      if (cmd === "begin") return this.parseEnvironment(body);
      if (cmd === "mathbb" || cmd === "mathcal") {
        const m: Record<string, Expr> = {
          R: { t: "namedset", name: "R" },
          N: { t: "namedset", name: "N" },
          Z: { t: "namedset", name: "Z" },
          Q: { t: "namedset", name: "Q" },
          C: { t: "namedset", name: "C" },
        };
        const v = m[body.trim()];
        if (!v) throw new LatexSyntaxError(`unknown \\${cmd}{${body}}`);
        return v;
      }
      if (cmd === "operatorname" && FUNCTIONS.has(body.trim())) return this.parseFunction(body.trim(), noFunc);
      return textValue(body);
    }
    throw new LatexSyntaxError(`unknown command \\${s}`);
  }

  private parseFunction(name: string, noFunc: boolean): Expr {
    let power: Expr | undefined;
    let base: Expr | undefined;
    for (;;) {
      if (this.isCh("^")) {
        this.i++;
        power = this.parseScriptArg();
      } else if (this.isCh("_")) {
        this.i++;
        base = this.parseScriptArg();
      } else break;
    }
    let arg: Expr;
    if (this.isCh("(")) {
      this.i++;
      arg = this.parseGroupContent(")", false);
    } else {
      if (noFunc && !this.startsAtom()) throw new LatexSyntaxError(`\\${name} without argument`);
      arg = this.parseMul(true);
    }
    let f: Expr;
    if (name === "log" && base) f = { t: "fn", name: "logb", args: [arg, base] };
    else if (name === "lg") f = { t: "fn", name: "logb", args: [arg, num(rat(10n))] };
    else f = { t: "fn", name: name === "log" ? "ln" : name, args: [arg] };
    if (power) {
      // \sin^{-1} x is arcsin x; \sin^2 x is (\sin x)^2.
      if (
        power.t === "num" &&
        power.value.n === -1n &&
        power.value.d === 1n &&
        f.t === "fn" &&
        /^(sin|cos|tan)$/.test(f.name)
      )
        return { t: "fn", name: `arc${f.name}`, args: f.args };
      return { t: "pow", base: f, exp: power };
    }
    return f;
  }

  private parseEnvironment(env: string): Expr {
    if (!MATRIX_ENVS.has(env)) throw new LatexSyntaxError(`unsupported environment ${env}`);
    if (env === "array" && this.isCh("{")) {
      while (!this.atEnd() && !this.isCh("}")) this.i++;
      this.i++;
    }
    const rows: Expr[][] = [[]];
    for (;;) {
      if (this.atEnd()) throw new LatexSyntaxError(`unclosed ${env}`);
      const t = this.peek()!;
      if (t.k === "cmd" && t.s.startsWith("end{")) {
        this.i++;
        break;
      }
      if (t.k === "cmd" && t.s === "\\") {
        this.i++;
        rows.push([]);
        continue;
      }
      if (t.k === "ch" && t.s === "&") {
        this.i++;
        continue;
      }
      rows[rows.length - 1]!.push(this.parseAdditive());
    }
    const full = rows.filter((r) => r.length > 0);
    if (full.length === 0 || full.some((r) => r.length !== full[0]!.length))
      throw new LatexSyntaxError("ragged matrix");
    const m: Expr = { t: "matrix", rows: full };
    if (env === "vmatrix") return { t: "fn", name: "det", args: [m] };
    return m;
  }
}

function textValue(body: string): Expr {
  // A multiple-choice letter written "(C)" is the letter C.
  const s = body.trim().replace(/^\(([A-Za-z])\)$/, "$1");
  if (s === "") throw new LatexSyntaxError("empty text");
  if (/^-?\d+(\.\d+)?$/.test(s)) return parseNumber(s);
  if (s === "e") return { t: "const", name: "e" };
  if (!/^[A-Za-z][A-Za-z0-9 _]*$/.test(s)) throw new LatexSyntaxError(`text "${s}" is not a value`);
  return { t: "sym", name: s.replace(/\s+/g, "").toLowerCase() };
}

export function parseNumber(s: string): Expr {
  const v = parseDecimal(s);
  if (!v) throw new LatexSyntaxError(`bad number ${s}`);
  return num(v, s.includes("."));
}

function divide(a: Expr, b: Expr): Expr {
  // A literal zero divisor ("12:00", "4/0") is not a value: the answer falls back to its text.
  if (b.t === "num" && b.value.n === 0n) throw new LatexSyntaxError("division by zero");
  if (
    a.t === "num" &&
    b.t === "num" &&
    !a.float &&
    !b.float &&
    b.value.n !== 0n &&
    a.value.d === 1n &&
    b.value.d === 1n
  )
    return num(rat(a.value.n * b.value.d, a.value.d * b.value.n));
  return { t: "mul", args: [a, { t: "pow", base: b, exp: MINUS_ONE }] };
}

function toSet(e: Expr): Expr {
  if (e.t === "tuple") return { t: "set", elems: e.elems };
  return e;
}

/** latex2sympy2_extended's rule: one value; a flat list is a set; rows of several values are a set of tuples. */
function rowsToValue(rows: Expr[][]): Expr {
  if (rows.length === 0) throw new LatexSyntaxError("empty expression");
  if (rows.length === 1) return rows[0]!.length === 1 ? rows[0]![0]! : { t: "set", elems: rows[0]! };
  if (rows.every((r) => r.length === 1)) return { t: "set", elems: rows.map((r) => r[0]!) };
  return { t: "set", elems: rows.map((r) => ({ t: "tuple", elems: r }) as Expr) };
}

/** Expands every `\pm` into its two branches (`a \pm b` -> a + b, a - b). */
export function expandPm(e: Expr): Expr[] {
  const out = expandInner(e);
  return out.length > 64 ? out.slice(0, 64) : out;
}

function expandInner(e: Expr): Expr[] {
  switch (e.t) {
    case "pm": {
      const bs = expandInner(e.b);
      if (!e.a) return bs.flatMap((b) => [negate(b), b]);
      const as = expandInner(e.a);
      return as.flatMap((a) =>
        bs.flatMap((b) => [{ t: "add", args: [a, b] } as Expr, { t: "add", args: [a, negate(b)] } as Expr]),
      );
    }
    case "add":
    case "mul": {
      const lists = e.args.map(expandInner);
      return cartesian(lists).map((args) => ({ ...e, args }) as Expr);
    }
    case "pow":
      return cartesian([expandInner(e.base), expandInner(e.exp)]).map(([base, exp]) => ({
        t: "pow",
        base: base!,
        exp: exp!,
      }));
    case "fn":
      return cartesian(e.args.map(expandInner)).map((args) => ({ t: "fn", name: e.name, args }));
    case "rel":
      return cartesian([expandInner(e.lhs), expandInner(e.rhs)]).map(([lhs, rhs]) => ({
        t: "rel",
        op: e.op,
        lhs: lhs!,
        rhs: rhs!,
      }));
    default:
      return [e];
  }
}

function cartesian(lists: Expr[][]): Expr[][] {
  let acc: Expr[][] = [[]];
  for (const l of lists) {
    const next: Expr[][] = [];
    for (const a of acc) for (const x of l) next.push([...a, x]);
    acc = next;
    if (acc.length > 64) return acc.slice(0, 64);
  }
  return acc;
}

const COMMA_NUMBER = /^\s*-?\d{1,3}(,\d{3})+(\.\d+)?\s*$/;

/** Parses normalised LaTeX (see normalizeLatex) into an Expr; throws LatexSyntaxError. */
/**
 * Scientific E-notation (1.2E5, 3e-4, 6.02e+23) as the product it stands for.
 * Only a number directly followed by e/E and an integer, with no letter or
 * digit around it, so 2e (2 times e) and e^{x} keep their meaning.
 */
const E_NOTATION = /(?<![A-Za-z0-9_.\\])(\d+(?:\.\d+)?|\.\d+)[eE]([+-]?\d+)(?![A-Za-z0-9.])/g;

export function parseLatex(src: string): Expr {
  if (COMMA_NUMBER.test(src)) return parseNumber(src.replace(/[,\s]/g, ""));
  src = src.replace(E_NOTATION, (_m, mantissa: string, exponent: string) => `${mantissa}\\times 10^{${exponent}}`);
  const toks = tokenize(src);
  if (toks.length === 0) throw new LatexSyntaxError("empty");
  const p = new Parser(toks);
  const e = p.parseTop();
  return e;
}
