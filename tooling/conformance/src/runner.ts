import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { tf } from "@tokenrl/core";
import { parseCase } from "./case.js";
import type { CaseLocation, ConformanceCase } from "./case.js";
import { compareField } from "./compare.js";
import type { FieldComparison } from "./compare.js";
import type { LoadedOps } from "./load-ops.js";
import { UnknownOpError } from "./op.js";
import type { OpResult } from "./op.js";

export interface RunOptions {
  /** Only cases whose id contains one of these substrings (all cases when empty). */
  filters?: readonly string[];
  /** Print a line for every case, not only failures. */
  verbose?: boolean;
  /** Where report lines go; default stdout. */
  print?: (line: string) => void;
}

export interface RunSummary {
  passed: number;
  failed: number;
  /** Per op: [passed, failed]. */
  byOp: Map<string, [number, number]>;
}

interface Source {
  /** A case, or the reason a line / file / folder could not be read. */
  entry: { kind: "case"; c: ConformanceCase } | { kind: "error"; id: string; message: string };
  where: CaseLocation;
}

/** Every `*.jsonl` file in each path (a path may also be one .jsonl file), in name order. */
function* readSources(paths: readonly string[]): Generator<Source> {
  for (const path of paths) {
    if (!existsSync(path)) {
      yield { entry: { kind: "error", id: path, message: "no such folder or file" }, where: { file: path, line: 0 } };
      continue;
    }
    const files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((f) => f.endsWith(".jsonl"))
          .sort()
          .map((f) => join(path, f))
      : [path];
    if (files.length === 0) {
      yield {
        entry: { kind: "error", id: path, message: "no *.jsonl files in this folder" },
        where: { file: path, line: 0 },
      };
    }
    for (const file of files) {
      const lines = readFileSync(file, "utf8").split("\n");
      for (let i = 0; i < lines.length; i++) {
        const text = lines[i]!.trim();
        if (!text) continue;
        const where = { file, line: i + 1 };
        try {
          yield { entry: { kind: "case", c: parseCase(text) }, where };
        } catch (err) {
          yield {
            entry: {
              kind: "error",
              id: `${basename(file)}:${i + 1}`,
              message: `malformed case: ${(err as Error).message}`,
            },
            where,
          };
        }
      }
    }
  }
}

function formatNumber(n: number | "NaN"): string {
  if (n === "NaN" || Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return String(n);
  return n === 0
    ? "0"
    : Math.abs(n) >= 1e-3 && Math.abs(n) < 1e5
      ? String(Number(n.toPrecision(7)))
      : n.toExponential(4);
}

function describeFailure(field: string, cmp: FieldComparison, c: ConformanceCase): string {
  if (cmp.shapeMismatch) return `${field}: ${cmp.shapeMismatch}`;
  const at = cmp.worstAt.length ? ` at [${cmp.worstAt.join("][")}]` : "";
  const want = cmp.worstWant;
  const allowed = want === "NaN" ? "NaN" : formatNumber(c.atol + c.rtol * Math.abs(want));
  return `${field}: largest error ${formatNumber(cmp.maxError)}${at} (got ${formatNumber(cmp.worstGot)}, want ${formatNumber(want)}, allowed ${allowed}); ${cmp.failed} of ${cmp.count} values out of tolerance`;
}

/** Compares one op result with the case's expectations; returns failure descriptions (empty = pass). */
export function checkResult(c: ConformanceCase, result: OpResult): { failures: string[]; notes: string[] } {
  const failures: string[] = [];
  const notes: string[] = [];
  if (typeof result !== "object" || result === null || typeof result.outputs !== "object" || result.outputs === null) {
    return { failures: ["the op returned no { outputs }"], notes };
  }
  for (const [field, want] of Object.entries(c.expected)) {
    if (field === "metrics") {
      if (typeof want !== "object" || want === null) {
        failures.push("expected.metrics: not an object of named scalars");
        continue;
      }
      for (const [name, wantMetric] of Object.entries(want as Record<string, unknown>)) {
        const got = result.metrics?.[name];
        // FORMAT.md: a runner compares the metrics the implementation reports.
        if (got === undefined) {
          notes.push(`metrics.${name}: not reported by the implementation, not compared`);
          continue;
        }
        const cmp = compareField(got, wantMetric, c.atol, c.rtol);
        if (cmp.failed) failures.push(describeFailure(`metrics.${name}`, cmp, c));
      }
      continue;
    }
    const got = result.outputs[field];
    if (got === undefined) {
      failures.push(
        `${field}: the op produced no such output (it produced ${Object.keys(result.outputs).join(", ") || "nothing"})`,
      );
      continue;
    }
    const cmp = compareField(got, want, c.atol, c.rtol);
    if (cmp.failed) failures.push(describeFailure(field, cmp, c));
    else notes.push(`${field}: largest error ${formatNumber(cmp.maxError)} over ${cmp.count} values`);
  }
  return { failures, notes };
}

/**
 * Runs every case in `paths` through the loaded op modules. Prints each
 * failure (id, field, largest error) and, with `verbose`, each pass; the
 * caller prints `summaryLine`. A case that cannot run (unknown op, unknown
 * param, missing input, malformed line, a throwing handler) is a failure.
 */
export async function runConformance(
  paths: readonly string[],
  loaded: LoadedOps,
  options: RunOptions = {},
): Promise<RunSummary> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const filters = options.filters ?? [];
  const summary: RunSummary = { passed: 0, failed: 0, byOp: new Map() };
  const tally = (op: string, ok: boolean) => {
    const t = summary.byOp.get(op) ?? [0, 0];
    t[ok ? 0 : 1]++;
    summary.byOp.set(op, t);
    if (ok) summary.passed++;
    else summary.failed++;
  };
  const known = [...loaded.ops.keys()].sort();
  const loadNote = loaded.errors.length
    ? ` (op modules not loaded: ${loaded.errors.map((e) => `${e.module}: ${e.message}`).join("; ")})`
    : "";

  for (const { entry, where } of readSources(paths)) {
    const place = where.line ? `${relative(process.cwd(), where.file) || where.file}:${where.line}` : where.file;
    if (entry.kind === "error") {
      if (filters.length && !filters.some((f) => entry.id.includes(f))) continue;
      print(`FAIL ${entry.id} [${place}]: ${entry.message}`);
      tally("(unreadable)", false);
      continue;
    }
    const c = entry.c;
    if (filters.length && !filters.some((f) => c.id.includes(f))) continue;
    const before = tf.memory().numTensors;
    let failures: string[];
    let notes: string[] = [];
    try {
      const op = loaded.ops.get(c.op);
      if (!op) throw new UnknownOpError(c.op, known, loadNote);
      const result = await op.handler({ id: c.id, op: c.op, params: c.params, inputs: c.inputs });
      ({ failures, notes } = checkResult(c, result));
    } catch (err) {
      const e = err as Error;
      failures = [`${e.name ?? "Error"}: ${e.message ?? String(err)}`];
    }
    const leaked = tf.memory().numTensors - before;
    if (leaked > 0) print(`WARN ${c.id}: the op left ${leaked} tensor${leaked === 1 ? "" : "s"} allocated`);
    if (failures.length) {
      print(`FAIL ${c.id} (${c.op}) [${place}]`);
      for (const f of failures) print(`     ${f}`);
      if (options.verbose) for (const n of notes) print(`     note: ${n}`);
    } else if (options.verbose) {
      print(`ok   ${c.id} (${c.op})${notes.length ? `: ${notes.join("; ")}` : ""}`);
    }
    tally(c.op, failures.length === 0);
  }
  if (options.verbose) {
    for (const [op, [p, f]] of [...summary.byOp].sort(([a], [b]) => a.localeCompare(b))) {
      print(`  ${op.padEnd(40)} ${p} passed, ${f} failed`);
    }
  }
  return summary;
}
