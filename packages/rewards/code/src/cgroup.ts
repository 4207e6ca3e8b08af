import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processStartTime } from "./proc.js";

/**
 * cgroup v2 memory limits for whole tests, where the machine offers a cgroup whose children get
 * the memory controller: the runner's own cgroup (if it is the root, or the controller can be
 * enabled for its children) or `parent`, a cgroup delegated to the runner for this purpose.
 */
export interface CgroupSupport {
  /** Directory under which one child cgroup per test is made; undefined when unavailable. */
  parent?: string;
  /** Why cgroup v2 cannot be used (for the start-up log). */
  reason?: string;
}

function cgroup2Mount(): string | undefined {
  try {
    for (const line of readFileSync("/proc/self/mounts", "utf8").split("\n")) {
      const [, dir, type] = line.split(" ");
      if (type === "cgroup2" && dir) return dir;
    }
  } catch {}
  return undefined;
}

function words(file: string): string[] {
  try {
    return readFileSync(file, "utf8").trim().split(/\s+/);
  } catch {
    return [];
  }
}

export function detectCgroup(parent?: string): CgroupSupport {
  const mount = cgroup2Mount();
  if (!mount) return { reason: "no cgroup v2 hierarchy mounted" };
  let dir = parent;
  if (!dir) {
    const own = /^0::(.*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"))?.[1];
    if (own === undefined) return { reason: "this process is in no cgroup v2 group" };
    dir = join(mount, own);
  }
  if (!words(join(dir, "cgroup.controllers")).includes("memory"))
    return { reason: `cgroup v2 at ${dir} has no memory controller (it may be on a cgroup v1 hierarchy)` };
  if (!words(join(dir, "cgroup.subtree_control")).includes("memory")) {
    try {
      writeFileSync(join(dir, "cgroup.subtree_control"), "+memory");
    } catch (e) {
      return {
        reason: `cannot enable the memory controller below ${dir} (${(e as NodeJS.ErrnoException).code}): delegate an empty cgroup and pass it as cgroupParent`,
      };
    }
  }
  const probe = join(dir, `tokenrl-code-${process.pid}-probe`);
  try {
    mkdirSync(probe);
    const ok = existsSync(join(probe, "memory.max"));
    rmdirSync(probe);
    if (!ok) return { reason: `no memory.max in a child of ${dir}` };
  } catch (e) {
    return { reason: `cannot create a cgroup in ${dir} (${(e as NodeJS.ErrnoException).code})` };
  }
  return { parent: dir };
}

/** One test's cgroup: created with its limit before the test, read and removed after it. */
export class TestCgroup {
  /** Makes `parent/name` and sets its limits. */
  static create(parent: string, name: string, memoryBytes: number): TestCgroup {
    const path = join(parent, name);
    mkdirSync(path);
    return new TestCgroup(path, memoryBytes);
  }

  /** Sets the limits of the existing cgroup `path`. */
  constructor(
    readonly path: string,
    memoryBytes: number,
  ) {
    writeFileSync(join(this.path, "memory.max"), String(memoryBytes));
    // No swap (it would hide memory use), and an OOM kills the whole test, not one process of it.
    for (const [file, value] of [
      ["memory.swap.max", "0"],
      ["memory.oom.group", "1"],
    ] as const) {
      if (existsSync(join(this.path, file))) writeFileSync(join(this.path, file), value);
    }
  }

  /** True when the kernel's OOM killer acted in this cgroup (the test went over memory.max). */
  oomKilled(): boolean {
    try {
      const ev = readFileSync(join(this.path, "memory.events"), "utf8");
      return /^oom_kill [1-9]/m.test(ev) || /^oom_group_kill [1-9]/m.test(ev);
    } catch {
      return false;
    }
  }

  /** Kills what is left (cgroup.kill, Linux 5.14+) and removes the cgroup; a busy one is left for the sweep. */
  remove(): void {
    try {
      if (existsSync(join(this.path, "cgroup.kill"))) writeFileSync(join(this.path, "cgroup.kill"), "1");
    } catch {}
    try {
      rmdirSync(this.path);
    } catch {}
  }
}

/** Removes test cgroups left in `parent` by runners that are no longer alive (same naming as staging dirs). */
export function sweepStaleCgroups(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^tokenrl-code-(\d+)-(\d+)-/.exec(name);
    if (!m || processStartTime(Number(m[1])) === m[2]) continue;
    const path = join(parent, name);
    try {
      if (existsSync(join(path, "cgroup.kill"))) writeFileSync(join(path, "cgroup.kill"), "1");
      rmdirSync(path);
    } catch {}
  }
}
