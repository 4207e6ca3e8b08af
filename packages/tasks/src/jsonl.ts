import { readFileSync } from "node:fs";
import { InvalidInputError } from "@tokenrl/base/errors";
import type { TaskExample } from "./types.js";

/**
 * Reads a JSONL file into records, every bad line reported with its number;
 * nothing is returned half-read. `toExample` turns one parsed object into an
 * example or returns a reason it cannot.
 */
export function readJsonlRecords<T>(
  path: string,
  toExample: (record: Record<string, unknown>, line: number) => T | string,
): T[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new InvalidInputError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const out: T[] = [];
  const problems: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (err) {
      problems.push(`${path}:${i + 1}: not JSON (${(err as Error).message})`);
      return;
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      problems.push(`${path}:${i + 1}: expected a JSON object`);
      return;
    }
    const made = toExample(record as Record<string, unknown>, i + 1);
    if (typeof made === "string") problems.push(`${path}:${i + 1}: ${made}`);
    else out.push(made);
  });
  if (problems.length) throw new InvalidInputError(`${problems.length} bad line(s):\n${problems.join("\n")}`);
  return out;
}

/**
 * Reads a benchmark in the `{id, problem, answer}` JSONL form (AIME 2024, AMC
 * 2023, MATH-500). The prompt is the problem as written (no template); ids
 * default to the line number.
 */
export function loadJsonlTasks(
  path: string,
  options: { promptField?: string; answerField?: string } = {},
): TaskExample[] {
  const promptField = options.promptField ?? "problem";
  const answerField = options.answerField ?? "answer";
  return readJsonlRecords(path, (record, line) => {
    const prompt = record[promptField];
    const answer = record[answerField];
    if (typeof prompt !== "string" || (typeof answer !== "string" && typeof answer !== "number"))
      return `needs a string "${promptField}" and a string or number "${answerField}"`;
    return { id: String(record.id ?? `${line}`), prompt, answer: String(answer), meta: { source: path } };
  });
}
