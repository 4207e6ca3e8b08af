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

/**
 * One line per zod issue: `key: bad value <v>; <what is allowed>`, with the
 * key as a dotted path, so every error names the key, the value and the rule.
 */
export function formatIssues(error: z.ZodError, input: unknown): string {
  return error.issues
    .map((issue) => {
      if (issue.code === "unrecognized_keys") {
        const base = issue.path.map(String).join(".");
        return issue.keys.map((k) => `${base ? `${base}.` : ""}${k}: unknown key`).join("; ");
      }
      const key = issue.path.map(String).join(".") || "(top level)";
      return `${key}: bad value ${show(at(input, issue.path))}; ${issue.message}`;
    })
    .join("; ");
}
