import { readdirSync, readFileSync } from "node:fs";

/** The numeric entries of /proc (one per process), or none where /proc cannot be read. */
export function procPids(): string[] {
  try {
    return readdirSync("/proc").filter((e) => {
      const c = e.charCodeAt(0);
      return c >= 48 && c <= 57;
    });
  } catch {
    return [];
  }
}

/** Start time of `pid` in clock ticks since boot (field 22 of /proc/pid/stat), or undefined if it is gone. */
export function processStartTime(pid: number | "self"): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is parenthesised and may contain spaces and ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}
