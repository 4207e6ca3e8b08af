import { readFileSync } from "node:fs";
import { InvalidInputError } from "@tokenrl/core/errors";
import type { TaskExample } from "./types.js";

/**
 * Reads a benchmark in the `{id, problem, answer}` JSONL form (AIME 2024, AMC
 * 2023, MATH-500 as in shared/data). A bad line is reported with its number and
 * the file is not half-read: every problem is collected first.
 */
export function loadJsonlTasks(
  path: string,
  options: { promptField?: string; answerField?: string } = {},
): TaskExample[] {
  const promptField = options.promptField ?? "problem";
  const answerField = options.answerField ?? "answer";
  const lines = readFileSync(path, "utf8").split("\n");
  const out: TaskExample[] = [];
  const problems: string[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line);
    } catch (err) {
      problems.push(`${path}:${i + 1}: not JSON (${(err as Error).message})`);
      return;
    }
    const prompt = record[promptField];
    const answer = record[answerField];
    if (typeof prompt !== "string" || (typeof answer !== "string" && typeof answer !== "number")) {
      problems.push(`${path}:${i + 1}: needs a string "${promptField}" and a string or number "${answerField}"`);
      return;
    }
    out.push({ id: String(record.id ?? `${i + 1}`), prompt, answer: String(answer), meta: { source: path } });
  });
  if (problems.length) throw new InvalidInputError(`${problems.length} bad line(s):\n${problems.join("\n")}`);
  return out;
}
