import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { type CgroupSupport, detectCgroup } from "./cgroup.js";
import { MEMORY_POLL_MS } from "./memory-watch.js";

/**
 * What the machine lets the sandbox use, found once at start-up. Every field that is false means a
 * protection is missing; `warnings` says which, in words, and the runner prints them loudly.
 */
export interface IsolationReport {
  /** Running as root: needed to switch to the sandbox uid and to create namespaces. */
  root: boolean;
  tools: { unshare?: string; setpriv?: string; prlimit?: string; flock?: string };
  /** Programs run as a dedicated unprivileged uid (one per concurrency slot), so RLIMIT_NPROC applies. */
  dropUser: boolean;
  /** Network namespace: only a down loopback interface, no route anywhere. */
  network: boolean;
  /** Mount namespace: private tmpfs as cwd and /tmp; /var/tmp, /run/lock, /dev/shm hidden. */
  mounts: boolean;
  /** PID namespace: killing its init kills every process the program started, detached or not. */
  pids: boolean;
  /** rlimits (address space, CPU, processes, file size, open files, core) via prlimit. */
  rlimits: boolean;
  /**
   * cgroup v2 for the whole-test memory limit: `parent` when usable, else `reason`. Without it the
   * limit is enforced by sampling the slot uid's processes in /proc.
   */
  cgroup: CgroupSupport;
  /** Interpreters the sandbox uid can execute (pyenv shims under /root are not). */
  python?: string;
  node?: string;
  warnings: string[];
}

export interface DetectOptions {
  pythonPath?: string;
  nodePath?: string;
  /** A cgroup v2 directory delegated to the runner (memory controller available, no processes in it). */
  cgroupParent?: string;
}

const SEARCH_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), ...SEARCH_PATH];
  for (const d of dirs) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

/** True when a user that is neither owner nor group member can execute `file` (every parent o+x). */
export function executableByOthers(file: string): boolean {
  try {
    let p = realpathSync(file);
    if ((statSync(p).mode & 0o001) === 0) return false;
    for (p = dirname(p); ; p = dirname(p)) {
      if ((statSync(p).mode & 0o001) === 0) return false;
      if (p === "/") return true;
    }
  } catch {
    return false;
  }
}

function pickInterpreter(candidates: ReadonlyArray<string | undefined>, needOthers: boolean): string | undefined {
  for (const c of candidates) {
    if (!c || !existsSync(c)) continue;
    if (!needOthers || executableByOthers(c)) return realpathSync(c);
  }
  return undefined;
}

export function detectIsolation(options: DetectOptions = {}): IsolationReport {
  const warnings: string[] = [];
  const root = process.getuid?.() === 0;
  const tools = {
    unshare: findTool("unshare"),
    setpriv: findTool("setpriv"),
    prlimit: findTool("prlimit"),
    flock: findTool("flock"),
  };
  const dropUser = root && tools.setpriv !== undefined;
  if (!root)
    warnings.push(
      "not running as root: programs run as YOUR uid, so they can write wherever you can and RLIMIT_NPROC counts your own processes",
    );
  else if (!tools.setpriv)
    warnings.push("setpriv not found (util-linux): programs would run as root; refusing to drop privileges is unsafe");
  let namespaces = false;
  if (tools.unshare && root) {
    const r = spawnSync(
      tools.unshare,
      ["--mount", "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "true"],
      {
        timeout: 5000,
        stdio: "ignore",
      },
    );
    namespaces = r.status === 0;
    if (!namespaces)
      warnings.push(`unshare --mount --net --pid failed (status ${r.status}): no network, mount or pid namespace`);
  } else if (!tools.unshare) warnings.push("unshare not found (util-linux): no network, mount or pid namespace");
  else
    warnings.push(
      "namespaces need root here: programs can use the network, see host /tmp, and detached children survive unless swept by uid",
    );
  const rlimits = tools.prlimit !== undefined;
  if (!rlimits) warnings.push("prlimit not found (util-linux): NO memory, CPU or process-count limits");
  const python = pickInterpreter(
    [options.pythonPath, "/usr/bin/python3", "/usr/local/bin/python3", findTool("python3")],
    dropUser,
  );
  const node = pickInterpreter([options.nodePath, process.execPath, "/usr/bin/node", findTool("node")], dropUser);
  if (!python) warnings.push("no python3 the sandbox user can execute (pass pythonPath): Python samples will fail");
  if (!node) warnings.push("no node the sandbox user can execute (pass nodePath): JavaScript samples will fail");
  const cgroup: CgroupSupport = dropUser ? detectCgroup(options.cgroupParent) : { reason: "needs root" };
  if (options.cgroupParent && !cgroup.parent)
    warnings.push(`cgroupParent ${options.cgroupParent} unusable: ${cgroup.reason}`);
  return {
    root,
    tools,
    dropUser,
    network: namespaces,
    mounts: namespaces,
    pids: namespaces,
    rlimits,
    cgroup,
    ...(python ? { python } : {}),
    ...(node ? { node } : {}),
    warnings,
  };
}

/** One line per mechanism, for the start-up log. */
export function describeIsolation(r: IsolationReport): string {
  const on = (b: boolean) => (b ? "yes" : "NO");
  return [
    `unprivileged uid per slot: ${on(r.dropUser)}`,
    `network namespace: ${on(r.network)}`,
    `mount namespace (private tmpfs cwd + /tmp): ${on(r.mounts)}`,
    `pid namespace (kill-all on exit): ${on(r.pids)}`,
    `rlimits (AS, CPU, NPROC, FSIZE, NOFILE): ${on(r.rlimits)}`,
    `memory per test: ${
      r.cgroup.parent
        ? `cgroup v2 under ${r.cgroup.parent}`
        : r.dropUser
          ? `sum over the slot uid's processes every ${MEMORY_POLL_MS} ms (no cgroup v2: ${r.cgroup.reason})`
          : "per process only"
    }`,
    `python: ${r.python ?? "none"}`,
    `node: ${r.node ?? "none"}`,
  ].join("; ");
}
