import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

export type MetricValue = number | string | boolean | null;
export type MetricsRecord = { phase: string; step: number } & Record<string, MetricValue>;

/**
 * metrics.jsonl: one JSON object per line, appended as training goes. A line
 * cut short by a kill is skipped on read; `keep` rewrites the file with the
 * records a checkpoint has seen, so a resumed run's log reads as one
 * uninterrupted run.
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
          const r = JSON.parse(l) as MetricsRecord;
          return r && typeof r === "object" ? [r] : [];
        } catch {
          return []; // a line cut by a kill mid-write
        }
      });
  }

  /** Rewrites the log with only the records `predicate` keeps (atomically enough: one write). */
  keep(predicate: (r: MetricsRecord) => boolean): MetricsRecord[] {
    const kept = this.read().filter(predicate);
    writeFileSync(this.path, kept.map((r) => `${JSON.stringify(r)}\n`).join(""));
    return kept;
  }

  reset(): void {
    writeFileSync(this.path, "");
  }

  append(record: MetricsRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }
}
