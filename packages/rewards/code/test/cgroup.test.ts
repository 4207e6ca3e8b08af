// The cgroup v2 path of the whole-test memory limit. This project's machines have no cgroup v2
// memory controller (it sits on a cgroup v1 hierarchy), so the kernel side is exercised only where
// one exists (the hardening test's four 400 MB forks then run under memory.max); here the plumbing
// is checked against a plain directory laid out like a cgroup.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { detectCgroup, TestCgroup } from "../src/cgroup.js";
import { detectIsolation } from "../src/isolation.js";
import { runSandboxed } from "../src/sandbox.js";
import { tryLockUid } from "../src/slots.js";

const FAKE = join(tmpdir(), `tokenrl-code-cgroup-test-${process.pid}`);
afterAll(() => rmSync(FAKE, { recursive: true, force: true }));

describe("TestCgroup", () => {
  it("sets memory.max, no swap and group OOM kill; reads oom_kill from memory.events", () => {
    mkdirSync(FAKE, { recursive: true });
    const name = "t1";
    mkdirSync(join(FAKE, name));
    // Control files exist in a real cgroup as soon as it is made; the fake gets them up front.
    for (const f of ["memory.swap.max", "memory.oom.group"]) writeFileSync(join(FAKE, name, f), "");
    const cg = new TestCgroup(join(FAKE, name), 512 * 1024 * 1024);
    expect(readFileSync(join(cg.path, "memory.max"), "utf8")).toBe("536870912");
    expect(readFileSync(join(cg.path, "memory.swap.max"), "utf8")).toBe("0");
    expect(readFileSync(join(cg.path, "memory.oom.group"), "utf8")).toBe("1");
    expect(cg.oomKilled()).toBe(false);
    writeFileSync(join(cg.path, "memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\noom_group_kill 0\n");
    expect(cg.oomKilled()).toBe(false);
    writeFileSync(join(cg.path, "memory.events"), "low 0\nhigh 0\nmax 9\noom 1\noom_kill 2\noom_group_kill 1\n");
    expect(cg.oomKilled()).toBe(true);
  });

  it("says why cgroup v2 is unusable for a directory without the memory controller", () => {
    mkdirSync(join(FAKE, "nomem"), { recursive: true });
    writeFileSync(join(FAKE, "nomem", "cgroup.controllers"), "cpu io pids\n");
    const r = detectCgroup(join(FAKE, "nomem"));
    expect(r.parent).toBeUndefined();
    expect(r.reason).toMatch(/no memory controller|no cgroup v2/);
  });
});

const iso = detectIsolation();
describe.skipIf(!iso.dropUser || !iso.pids || !iso.python)("sandbox with a test cgroup (root)", () => {
  it("the first process joins the test's cgroup before the program starts", async () => {
    const parent = join(FAKE, "parent");
    mkdirSync(parent, { recursive: true });
    const lease = tryLockUid(iso.tools.flock!, "/run/lock/tokenrl-code", 61470);
    if (!lease) throw new Error("uid 61470 is locked by another runner");
    try {
      const spec = {
        argv: [iso.python!, "-I", "-B", "p.py"],
        files: { "p.py": "print('ran')" },
        stdin: "",
        uid: 61470,
        wallMs: 5000,
        cpuSec: 5,
        addressSpaceBytes: 256 << 20,
        memoryBytes: 300 << 20,
        maxProcesses: 8,
        outputLimitBytes: 65536,
        diskBytes: 1 << 20,
        cgroupParent: parent,
      };
      const o = await runSandboxed(spec, iso);
      expect(o.stdout).toBe("ran\n");
      expect(o.exitCode).toBe(0);
      // A plain directory cannot be rmdir'ed with files in it, so the fake cgroup stays to be read.
      const [cg] = readdirSync(parent);
      expect(cg).toMatch(new RegExp(`^tokenrl-code-${process.pid}-\\d+-\\w+-cg$`));
      expect(readFileSync(join(parent, cg!, "memory.max"), "utf8")).toBe(String(300 << 20));
      // The pid written is the runner's child (it then exec'ed setpriv and unshare): a real pid then.
      expect(Number(readFileSync(join(parent, cg!, "cgroup.procs"), "utf8"))).toBeGreaterThan(1);
    } finally {
      lease.release();
    }
  });
});
