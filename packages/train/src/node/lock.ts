import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { InvalidInputError } from "@tokenrl/core";

/** Thrown when another live process holds the run folder. */
export class RunFolderLockedError extends InvalidInputError {}

export interface RunLock {
  readonly path: string;
  release(): void;
}

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readInfo(path: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path, "utf8")) as LockInfo;
    return Number.isInteger(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the exclusive lock of a run folder (`<dir>/.lock`, created with
 * O_EXCL): a second trainer on the same folder is refused with the holder's
 * pid. A lock left by a process that no longer exists (kill -9) is taken
 * over. Released by `release()` and on process exit.
 */
export function lockRunFolder(dir: string): RunLock {
  const path = join(dir, ".lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const info = readInfo(path);
      const sameHost = info?.host === hostname();
      if (info && (!sameHost || alive(info.pid)) && info.pid !== process.pid) {
        throw new RunFolderLockedError(
          `run folder ${dir} is in use by another trainer (pid ${info.pid} on ${info.host}, since ${info.since}); stop it, wait for it, or use another --out`,
        );
      }
      // Stale (its process is gone), half-written, or ours: replace it.
      rmSync(path, { force: true });
      continue;
    }
    const info: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    writeSync(fd, `${JSON.stringify(info)}\n`);
    closeSync(fd);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.off("exit", release);
      if (readInfo(path)?.pid === process.pid) rmSync(path, { force: true });
    };
    process.on("exit", release);
    return { path, release };
  }
  throw new RunFolderLockedError(`run folder ${dir}: could not take ${path} (another trainer is starting there?)`);
}

/** Whether `dir` is locked by a live process other than this one. */
export function isRunFolderLocked(dir: string): boolean {
  const path = join(dir, ".lock");
  if (!existsSync(path)) return false;
  const info = readInfo(path);
  return Boolean(info && info.pid !== process.pid && alive(info.pid));
}
