import { spawn } from "node:child_process";
import { chownSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { IsolationReport } from "./isolation.js";
import { TestCgroup } from "./cgroup.js";
import { watchUidMemory } from "./memory-watch.js";
import { procPids } from "./proc.js";
import { makeStageDir } from "./stages.js";

/** One program execution request. Paths in `argv` are relative to the sandbox cwd. */
export interface SandboxSpec {
  argv: string[];
  files: Record<string, string>;
  stdin: string;
  /** uid (and gid) the program runs as when privileges can be dropped. */
  uid: number;
  wallMs: number;
  cpuSec: number;
  /** RLIMIT_AS in bytes, per process; 0 = unlimited. */
  addressSpaceBytes: number;
  /** Resident memory of all the test's processes together, bytes; 0 = no whole-test limit. */
  memoryBytes: number;
  maxProcesses: number;
  outputLimitBytes: number;
  diskBytes: number;
  /**
   * File name (in SANDBOX_DIR) of Node's --report-on-fatalerror report: when the program aborts
   * and the report says OOMError, the channel gets "M" (out of memory).
   */
  fatalReport?: string;
  /** cgroup v2 directory for a per-test memory cgroup (else the memory limit is sampled from /proc). */
  cgroupParent?: string;
}

export interface SandboxOutcome {
  exitCode: number | null;
  signal: number | null;
  stdout: string;
  stderrTail: string;
  /** What the harness wrote on fd 3. */
  channel: string;
  /** The sandbox could not be set up (reported on fd 4, which the program never has). */
  setupError?: string;
  /** "aborted": stopped by `signal` (the runner closed), not by anything the program did. */
  killedFor?: "wall" | "output" | "memory" | "aborted";
  wallMs: number;
}

const STDERR_TAIL = 4096;
/** In `argv`, replaced by the directory the program runs in (where Node writes its fatal-error report). */
export const SANDBOX_DIR = "@SANDBOX_DIR@";
const OOM_TRIGGER = /"trigger":\s*"OOMError"/;
const OOM_TRIGGER_GREP = '"trigger": *"OOMError"';
// Runs as root inside the new mount/pid/net namespaces (pid 1 of the pid namespace), before
// privileges are dropped. Set-up failures go to fd 4, which is closed before the program starts,
// so a program cannot pass itself off as a sandbox failure. $stage is the host staging dir holding the program's files; cwd keeps
// pointing at it after /tmp is covered, so the files can still be copied in.
// Afterwards it relays Node's fatal-error report (a V8 heap OOM: the runtime aborts, status 134)
// to the harness channel as "M".
const SETUP_SCRIPT = `
uid=$1; gid=$2; disk=$3; report=$4; shift 4
fail() { echo "$1" >&4; exit 125; }
mount -t tmpfs -o "size=$disk,nr_inodes=4096,mode=0700,uid=$uid,gid=$gid,nosuid,nodev" tokenrl-sandbox /tmp || fail "tmpfs on /tmp"
cp -- * /tmp/ || fail "copy files"
for d in /var/tmp /run/lock /dev/shm; do
  if [ -d "$d" ]; then mount -t tmpfs -o size=4k,nr_inodes=8,mode=0755 tokenrl-empty "$d" || fail "hide $d"; fi
done
cd /tmp || fail "cd /tmp"
# cd exported PWD and OLDPWD (the host staging dir): the program gets only the documented variables.
unset OLDPWD PWD
"$@" 4>&-
rc=$?
if [ "$report" != - ] && [ $rc -eq 134 ] && grep -qs '${OOM_TRIGGER_GREP}' "/tmp/$report"; then printf M >&3; fi
exit $rc
`;

/** Channel room beyond the output limit: Node's fatal-error report (~10 KiB) arrives there on OOM. */
const CHANNEL_EXTRA_BYTES = 64 * 1024;

/** Synchronous stoppers of every sandbox this process has running. */
const live = new Set<() => void>();
let exitHookInstalled = false;

/**
 * Kills every running sandbox of this process and removes its staging dir, synchronously (usable
 * in a signal or 'exit' handler). Their pending results resolve with killedFor "aborted".
 */
export function abortAllSandboxes(): void {
  for (const stop of [...live]) stop();
}

/**
 * Runs one program under every protection `iso` reports as available, kills everything it started
 * when it ends, breaks a limit or `abortSignal` fires, and removes its files. Never throws for anything the program does.
 *
 * The first process is `setpriv --pdeathsig SIGKILL`, so the kernel kills it when this process dies
 * however it dies (SIGKILL included); it execs `unshare --kill-child`, whose death kills the pid
 * namespace's init and with it every process in the namespace.
 */
export function runSandboxed(
  spec: SandboxSpec,
  iso: IsolationReport,
  abortSignal?: AbortSignal,
): Promise<SandboxOutcome> {
  if (abortSignal?.aborted) {
    return Promise.resolve({
      exitCode: null,
      signal: null,
      stdout: "",
      stderrTail: "",
      channel: "",
      killedFor: "aborted",
      wallMs: 0,
    });
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", abortAllSandboxes);
  }
  const stage = makeStageDir();
  for (const [name, content] of Object.entries(spec.files)) writeFileSync(join(stage, name), content, { mode: 0o644 });
  const inner: string[] = [];
  if (iso.rlimits) {
    inner.push(
      iso.tools.prlimit!,
      `--as=${spec.addressSpaceBytes > 0 ? spec.addressSpaceBytes : "unlimited"}`,
      // soft limit sends SIGXCPU (reported as time_limit), the hard limit one second later SIGKILL.
      `--cpu=${spec.cpuSec}:${spec.cpuSec + 1}`,
      `--nproc=${spec.maxProcesses}`,
      `--fsize=${spec.diskBytes}`,
      "--nofile=256",
      "--core=0",
      "--",
    );
  }
  if (iso.dropUser) {
    inner.push(
      iso.tools.setpriv!,
      `--reuid=${spec.uid}`,
      `--regid=${spec.uid}`,
      "--clear-groups",
      "--no-new-privs",
      // Changing uid clears the parent-death signal set by the first setpriv; this one is set after
      // the change, so without a pid namespace the program itself still dies with the runner.
      "--pdeathsig",
      "SIGKILL",
      "--",
    );
  }
  const namespaced = iso.mounts && iso.pids && iso.network;
  inner.push(...spec.argv.map((a) => a.replaceAll(SANDBOX_DIR, namespaced ? "/tmp" : stage)));

  let outer: string[];
  let cwd: string;
  if (namespaced) {
    outer = [
      iso.tools.unshare!,
      "--mount",
      "--net",
      "--pid",
      "--fork",
      "--kill-child",
      "--mount-proc",
      "/bin/sh",
      "-c",
      SETUP_SCRIPT,
      "tokenrl-sandbox",
      String(spec.uid),
      String(spec.uid),
      String(spec.diskBytes),
      spec.fatalReport ?? "-",
      ...inner,
    ];
    cwd = stage;
  } else {
    // Degraded: run in the staging dir itself, which the sandbox uid must own to write to.
    if (iso.dropUser) {
      for (const name of [".", ...Object.keys(spec.files)]) {
        try {
          chownSync(join(stage, name), spec.uid, spec.uid);
        } catch {}
      }
    }
    outer = inner;
    cwd = stage;
  }
  if (iso.tools.setpriv) outer = [iso.tools.setpriv, "--pdeathsig", "SIGKILL", "--", ...outer];
  let cgroup: TestCgroup | undefined;
  if (spec.cgroupParent && spec.memoryBytes > 0) {
    try {
      cgroup = TestCgroup.create(spec.cgroupParent, `${stageName(stage)}-cg`, spec.memoryBytes);
    } catch {} // the /proc sampling below still limits the test
  }
  if (cgroup) {
    // The first process joins the test's cgroup, then execs the rest (same pid: the parent-death
    // signal still applies); everything the test starts is born inside the cgroup.
    outer = [
      "/bin/sh",
      "-c",
      `echo $$ > "$1/cgroup.procs" || { echo "join cgroup $1" >&4; exit 125; }; shift; exec "$@"${namespaced ? "" : " 4>&-"}`,
      "tokenrl-cgroup",
      cgroup.path,
      ...outer,
    ];
  }
  const command = outer[0]!;
  const args = outer.slice(1);

  const started = performance.now();
  return new Promise<SandboxOutcome>((resolve) => {
    const child = spawn(command, args, {
      cwd,
      detached: true, // own process group, so one kill reaches unshare and the namespace's init
      // fd 4 (set-up failures) only goes to the shells that close it before the program runs.
      stdio: ["pipe", "pipe", "pipe", "pipe", namespaced || cgroup ? "pipe" : "ignore"],
      env: { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8", HOME: "/tmp", TMPDIR: "/tmp" },
    });
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrBytes = 0;
    let stderrTail = Buffer.alloc(0);
    const channelChunks: Buffer[] = [];
    let channelBytes = 0;
    let killedFor: SandboxOutcome["killedFor"];
    let finished = false;
    let exitInfo: { code: number | null; sig: NodeJS.Signals | null } | undefined;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {}
    };
    const kill = (why: NonNullable<SandboxOutcome["killedFor"]>) => {
      if (exitInfo === undefined || why === "aborted") killedFor ??= why;
      killGroup();
    };
    const timer = setTimeout(() => kill("wall"), spec.wallMs);
    const stopWatch =
      spec.memoryBytes > 0 && iso.dropUser && !cgroup
        ? watchUidMemory(spec.uid, spec.memoryBytes, () => kill("memory"))
        : () => {};
    const abort = () => {
      kill("aborted");
      if (iso.dropUser) killAllOfUid(spec.uid);
      rmSync(stage, { recursive: true, force: true });
      finish(exitInfo?.code ?? null, exitInfo?.sig ?? null);
    };
    live.add(abort);
    abortSignal?.addEventListener("abort", abort, { once: true });
    child.stdout!.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > spec.outputLimitBytes) return kill("output");
      stdoutChunks.push(chunk);
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      stderrBytes += chunk.length;
      stderrTail = Buffer.concat([stderrTail, chunk]);
      if (stderrTail.length > STDERR_TAIL) stderrTail = stderrTail.subarray(stderrTail.length - STDERR_TAIL);
      if (stderrBytes > spec.outputLimitBytes) kill("output");
    });
    let setupText = "";
    const setup = child.stdio[4] as NodeJS.ReadableStream | null;
    setup?.on("data", (chunk: Buffer) => {
      if (setupText.length < 4096) setupText += chunk.toString("utf8");
    });
    setup?.on("error", () => {});
    const channel = child.stdio[3] as NodeJS.ReadableStream;
    channel.on("data", (chunk: Buffer) => {
      channelBytes += chunk.length;
      if (channelBytes > spec.outputLimitBytes + CHANNEL_EXTRA_BYTES) return kill("output");
      channelChunks.push(chunk);
    });
    channel.on("error", () => {});
    child.stdin!.on("error", () => {}); // EPIPE when the program exits without reading its input
    child.stdin!.end(spec.stdin);
    child.on("error", () => kill("wall"));
    child.on("exit", (code, sig) => {
      exitInfo = { code, sig };
      // Whatever is left (without a pid namespace: detached children holding our pipes) dies now.
      if (iso.dropUser) killAllOfUid(spec.uid);
      killGroup();
      setTimeout(() => {
        if (finished) return;
        for (const s of [child.stdout, child.stderr, channel, setup])
          (s as NodeJS.ReadableStream & { destroy(): void })?.destroy();
        finish(exitInfo!.code, exitInfo!.sig);
      }, 1000).unref();
    });
    child.on("close", (code, sig) => finish(exitInfo?.code ?? code, exitInfo?.sig ?? sig));
    const finish = (code: number | null, sig: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      stopWatch();
      live.delete(abort);
      abortSignal?.removeEventListener("abort", abort);
      const wallMs = performance.now() - started;
      if (iso.dropUser) killAllOfUid(spec.uid);
      if (cgroup) {
        if (cgroup.oomKilled()) killedFor ??= "memory";
        cgroup.remove();
      }
      if (!namespaced && spec.fatalReport && sig === "SIGABRT" && channelChunks.length === 0) {
        try {
          if (OOM_TRIGGER.test(readFileSync(join(stage, spec.fatalReport), "utf8")))
            channelChunks.push(Buffer.from("M"));
        } catch {}
      }
      rmSync(stage, { recursive: true, force: true });
      let exitCode: number | null = code;
      let signal: number | null = sig ? signalNumber(sig) : null;
      // The namespace's init is /bin/sh, which reports a program killed by signal N as exit 128+N.
      if (exitCode !== null && exitCode > 128 && exitCode <= 128 + 64 && iso.pids) {
        signal = exitCode - 128;
        exitCode = null;
      }
      const stderrText = stderrTail.toString("utf8");
      if (setupText !== "") {
        resolve({
          exitCode,
          signal,
          stdout: "",
          stderrTail: stderrText,
          channel: "",
          setupError: setupText.trim(),
          wallMs,
        });
        return;
      }
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(stdoutChunks).toString("utf8"),
        stderrTail: stderrText,
        channel: Buffer.concat(channelChunks).toString("utf8"),
        ...(killedFor ? { killedFor } : {}),
        wallMs,
      });
    };
  });
}

function stageName(stage: string): string {
  return stage.slice(stage.lastIndexOf("/") + 1);
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGXCPU: 24,
  SIGXFSZ: 25,
};
function signalNumber(name: string): number {
  return SIGNALS[name] ?? -1;
}

/**
 * SIGKILLs every process whose real uid is `uid`, repeating until none is left (a process can fork
 * between the scan and the kill). The slot's uid runs nothing else, so this is exact. Used after
 * every run: with a pid namespace there is normally nothing to find; without one this is what stops
 * detached children.
 */
export function killAllOfUid(uid: number): number {
  let killed = 0;
  for (let round = 0; round < 50; round++) {
    const pids = processesOfUid(uid);
    if (pids.length === 0) return killed;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
        killed++;
      } catch {}
    }
  }
  return killed;
}

/** Pids whose real uid is `uid`, read from /proc. */
export function processesOfUid(uid: number): number[] {
  const out: number[] = [];
  for (const e of procPids()) {
    try {
      const status = readFileSync(`/proc/${e}/status`, "utf8");
      const m = /^Uid:\s+(\d+)/m.exec(status);
      if (m && Number(m[1]) === uid) out.push(Number(e));
    } catch {}
  }
  return out;
}
