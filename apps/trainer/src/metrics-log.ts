import { existsSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";

export type MetricsRecord = { phase: "sft" | "rl" | "eval"; step: number } & Record<string, number | string | boolean>;

/**
 * metrics.jsonl: one JSON line per step. On resume, lines past the checkpoint
 * (written by the run that was killed after its last checkpoint) are dropped,
 * so the log reads as one uninterrupted run.
 */
export class MetricsLog {
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }

  read(): MetricsRecord[] {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as MetricsRecord];
        } catch {
          return []; // a line cut by a kill mid-write
        }
      });
  }

  /** Keeps only the records a checkpoint at (`phase`, `step`) has seen. */
  truncateTo(phase: "sft" | "rl", step: number): void {
    const order = (p: string) => (p === "sft" ? 0 : 1);
    const keep = this.read().filter((r) => {
      const p = r.phase === "eval" ? String(r.during ?? "rl") : r.phase;
      return order(p) < order(phase) || (order(p) === order(phase) && r.step <= step);
    });
    writeFileSync(this.path, keep.map((r) => `${JSON.stringify(r)}\n`).join(""));
  }

  reset(): void {
    writeFileSync(this.path, "");
  }

  append(record: MetricsRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }
}
