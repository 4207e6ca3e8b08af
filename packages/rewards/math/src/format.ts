import type { Expr } from "./ast.js";

/** A readable one-line form of a parsed answer (for results, logs and the CLI). */
export function formatExpr(e: Expr): string {
  switch (e.t) {
    case "num":
      return e.value.d === 1n ? e.value.n.toString() : `${e.value.n}/${e.value.d}`;
    case "const":
      return e.name === "inf" ? "oo" : e.name === "pi" ? "pi" : "E";
    case "sym":
      return e.name;
    case "add":
      return `(${e.args.map(formatExpr).join(" + ")})`;
    case "mul":
      return e.args.map(formatExpr).join("*");
    case "pow":
      return `${formatExpr(e.base)}^(${formatExpr(e.exp)})`;
    case "fn":
      return `${e.name}(${e.args.map(formatExpr).join(", ")})`;
    case "pm":
      return `${e.a ? formatExpr(e.a) : ""} ± ${formatExpr(e.b)}`;
    case "matrix":
      return `Matrix([${e.rows.map((r) => `[${r.map(formatExpr).join(", ")}]`).join(", ")}])`;
    case "rel":
      return `${formatExpr(e.lhs)} ${e.op} ${formatExpr(e.rhs)}`;
    case "and":
      return e.args.map(formatExpr).join(" & ");
    case "set":
      return `{${e.elems.map(formatExpr).join(", ")}}`;
    case "tuple":
      return `(${e.elems.map(formatExpr).join(", ")})`;
    case "interval":
      return `${e.lopen ? "(" : "["}${formatExpr(e.lo)}, ${formatExpr(e.hi)}${e.ropen ? ")" : "]"}`;
    case "union":
      return e.args.map(formatExpr).join(" U ");
    case "intersect":
      return e.args.map(formatExpr).join(" n ");
    case "minus":
      return `${formatExpr(e.a)} \\ ${formatExpr(e.b)}`;
    case "namedset":
      return e.name === "empty" ? "EmptySet" : e.name;
  }
}
