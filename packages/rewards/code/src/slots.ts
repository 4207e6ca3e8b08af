import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Machine-wide lock directory for sandbox uids. Not under $TMPDIR: two runners with different
 * TMPDIRs must still see each other's locks.
 */
export function defaultLockDir(): string {
  return existsSync("/run/lock") ? "/run/lock/tokenrl-code" : "/tmp/tokenrl-code-locks";
}

/** A sandbox uid held exclusively by this process until `release()` or process death. */
export interface UidLease {
  uid: number;
  release(): void;
}

/**
 * Takes an exclusive flock(2) on `<lockDir>/uid-<uid>.lock`. The lock lives on an open file
 * description that only this process holds (opened close-on-exec; `flock -n 3` locks it through
 * the inherited descriptor and exits), so the kernel drops it when this process dies, however it
 * dies: no stale-lock guessing. Returns undefined when another live process holds it.
 */
export function tryLockUid(flock: string, lockDir: string, uid: number): UidLease | undefined {
  mkdirSync(lockDir, { recursive: true, mode: 0o755 });
  const fd = openSync(join(lockDir, `uid-${uid}.lock`), "a", 0o644);
  const r = spawnSync(flock, ["--nonblock", "--exclusive", "--conflict-exit-code", "75", "3"], {
    stdio: ["ignore", "ignore", "pipe", fd],
    timeout: 10_000,
  });
  if (r.status === 0) {
    let released = false;
    return {
      uid,
      release() {
        if (released) return;
        released = true;
        try {
          closeSync(fd);
        } catch {}
      },
    };
  }
  closeSync(fd);
  if (r.status === 75) return undefined;
  throw new Error(`flock on ${join(lockDir, `uid-${uid}.lock`)} failed (status ${r.status}): ${r.stderr}`);
}

/** Uids that belong to accounts in /etc/passwd: never used as sandbox uids (the sweep would kill their processes). */
export function accountUids(): Set<number> {
  const out = new Set<number>();
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const uid = Number(line.split(":")[2]);
      if (line && Number.isInteger(uid)) out.add(uid);
    }
  } catch {}
  return out;
}
