import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processStartTime } from "./proc.js";

const PREFIX = "tokenrl-code-";
/** `tokenrl-code-<owner pid>-<owner start time>-<random>`: the name is the marker. */
const STAGE_NAME = /^tokenrl-code-(\d+)-(\d+)-[A-Za-z0-9]+$/;

let ownStartTime: string | undefined;

/** A staging dir whose name records this process (pid + start time), so a later sweep can tell it is alive. */
export function makeStageDir(): string {
  ownStartTime ??= processStartTime("self") ?? "0";
  return mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-${ownStartTime}-`));
}

/**
 * Removes staging dirs in `dir` left by runners that are no longer alive (killed with SIGKILL, or
 * by a power cut). A dir is kept while a process with its pid and the same start time runs, so a
 * live runner's dirs are never swept (a recycled pid has another start time). Returns the removed paths.
 */
export function sweepStaleStages(dir = tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = STAGE_NAME.exec(name);
    if (!m) continue;
    if (processStartTime(Number(m[1])) === m[2]) continue;
    const path = join(dir, name);
    try {
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {}
  }
  return removed;
}
