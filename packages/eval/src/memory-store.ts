import type { SampleRecord, SampleStore } from "./types.js";

/** A SampleStore in memory (browsers, tests); `records` is what was appended. */
export function memoryStore(initial: readonly SampleRecord[] = []): SampleStore & { records: SampleRecord[] } {
  const records = [...initial];
  return {
    records,
    async load() {
      return [...records];
    },
    async append(rs) {
      records.push(...rs);
    },
  };
}
