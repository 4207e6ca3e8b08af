import type { z } from "zod";

function at(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const k of path) v = v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k as string] : undefined;
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return "missing";
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

type Def = { type?: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType>; options?: z.ZodType[] };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The keys an object schema allows at `path` (through defaults, optionals, nullables and unions). */
export function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let nodes: z.ZodType[] = [schema];
  const unwrap = (s: z.ZodType): z.ZodType[] => {
    const d = defOf(s);
    if (d.innerType) return unwrap(d.innerType);
    if (d.options) return d.options.flatMap(unwrap);
    return [s];
  };
  for (const key of path) {
    nodes = nodes.flatMap(unwrap).flatMap((s) => {
      const child = defOf(s).shape?.[String(key)];
      return child ? [child] : [];
    });
  }
  return [...new Set(nodes.flatMap(unwrap).flatMap((s) => Object.keys(defOf(s).shape ?? {})))];
}

/**
 * One clause per zod issue: `key: bad value <v>; <what is allowed>`, with the
 * key as a dotted path, so every error names the key, the value and the rule;
 * an unknown key lists the keys allowed there (when `schema` is given).
 */
export function formatIssues(error: z.ZodError, input: unknown, schema?: z.ZodType): string {
  return error.issues
    .map((issue) => {
      if (issue.code === "unrecognized_keys") {
        const base = issue.path.map(String).join(".");
        const allowed = schema ? allowedKeys(schema, issue.path) : [];
        return issue.keys
          .map(
            (k) =>
              `${base ? `${base}.` : ""}${k}: unknown key${allowed.length ? `; allowed here: ${allowed.join(", ")}` : ""}`,
          )
          .join("; ");
      }
      const key = issue.path.map(String).join(".") || "(top level)";
      return `${key}: bad value ${show(at(input, issue.path))}; ${issue.message}`;
    })
    .join("; ");
}
