import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync } from "node:fs";
import { dirname } from "node:path";
import { InvalidInputError } from "@tokenrl/base/errors";
import type { SampleRecord, SampleStore } from "./types.js";

function isRecord(v: unknown): v is SampleRecord {
  const r = v as SampleRecord;
  return (
    typeof r === "object" &&
    r !== null &&
    typeof r.problemId === "string" &&
    Number.isInteger(r.sample) &&
    typeof r.response === "string" &&
    typeof r.extracted === "string" &&
    typeof r.correct === "boolean"
  );
}

/**
 * samples.jsonl as a SampleStore: one JSON record per line, appended after each
 * problem. A last line cut short by a kill is dropped (its problem is
 * regenerated); any other bad line is an error naming it, so a foreign file is
 * never silently merged.
 */
export function jsonlSampleStore(path: string): SampleStore {
  let checkedTail = false;
  return {
    async load() {
      if (!existsSync(path)) return [];
      const lines = readFileSync(path, "utf8").split("\n");
      const out: SampleRecord[] = [];
      lines.forEach((line, i) => {
        if (!line.trim()) return;
        const last = lines.slice(i + 1).every((l) => !l.trim());
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          if (last) return;
          throw new InvalidInputError(`${path}:${i + 1}: not JSON; delete the file to start over`);
        }
        if (!isRecord(value))
          throw new InvalidInputError(
            `${path}:${i + 1}: not a sample record (needs problemId, sample, response, extracted, correct)`,
          );
        out.push(value);
      });
      return out;
    },
    async append(records) {
      if (!records.length) return;
      mkdirSync(dirname(path), { recursive: true });
      // A partial last line from an earlier kill is cut off before appending, so the file stays valid JSONL.
      if (!checkedTail && existsSync(path)) {
        const text = readFileSync(path, "utf8");
        if (text.length && !text.endsWith("\n"))
          truncateSync(path, Buffer.byteLength(text.slice(0, text.lastIndexOf("\n") + 1)));
      }
      checkedTail = true;
      appendFileSync(path, `${records.map((r) => JSON.stringify(r)).join("\n")}\n`);
    },
  };
}
