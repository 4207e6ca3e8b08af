import { readFileSync, statSync } from "node:fs";
import { procPids } from "./proc.js";

/**
 * Whole-test memory limit without cgroups: every MEMORY_POLL_MS the resident memory of all
 * processes of each watched sandbox uid is summed, and a test over its budget is killed. A slot uid
 * runs only that test (uid locks), so the sum covers every process the test forked, detached or not.
 * Between two samples a test can overshoot; the kernel's own bound is RLIMIT_AS per process times
 * RLIMIT_NPROC processes.
 */
export const MEMORY_POLL_MS = 50;

interface Watch {
  limitBytes: number;
  onExceed: (bytes: number) => void;
}

const watches = new Map<number, Watch>();
let timer: NodeJS.Timeout | undefined;

/** Starts watching `uid`; returns the function that stops. One timer serves every watched uid. */
export function watchUidMemory(uid: number, limitBytes: number, onExceed: (bytes: number) => void): () => void {
  const w: Watch = { limitBytes, onExceed };
  watches.set(uid, w);
  if (timer === undefined) {
    timer = setInterval(tick, MEMORY_POLL_MS);
    timer.unref();
  }
  return () => {
    if (watches.get(uid) === w) watches.delete(uid);
    if (watches.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

function kib(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Private memory of one process: anonymous + shared-memory pages it has resident (fast, over-counts fork COW pages). */
function residentBytes(pid: string): number {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    return kib(s, "RssAnon") + kib(s, "RssShmem");
  } catch {
    return 0;
  }
}

/** The same, but pages shared between processes (fork copy-on-write) are split among them (exact, slower). */
function proportionalBytes(pid: string): number {
  try {
    const s = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    if (/^Pss_Anon:/m.test(s)) return kib(s, "Pss_Anon") + kib(s, "Pss_Shmem");
    return kib(s, "Pss");
  } catch {
    return 0;
  }
}

/**
 * Pids per watched uid. stat() of /proc/<pid> gives its effective uid without reading a file; the
 * directory keeps that owner when the process makes itself non-dumpable (the files inside become root's).
 */
function pidsByUid(): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const e of procPids()) {
    let uid: number;
    try {
      uid = statSync(`/proc/${e}`).uid;
    } catch {
      continue;
    }
    if (!watches.has(uid)) continue;
    const list = out.get(uid);
    if (list) list.push(e);
    else out.set(uid, [e]);
  }
  return out;
}

function tick(): void {
  for (const [uid, pids] of pidsByUid()) {
    const w = watches.get(uid);
    if (!w) continue;
    let fast = 0;
    for (const p of pids) fast += residentBytes(p);
    if (fast <= w.limitBytes) continue;
    let exact = 0;
    for (const p of pids) exact += proportionalBytes(p);
    if (exact > w.limitBytes) w.onExceed(exact);
  }
}
