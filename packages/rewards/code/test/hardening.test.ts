// Regressions from the hardening pass (issue 10, item 2): killing the runner, the whole-test memory
// limit, concurrent runners on one uid base, memory verdicts from stderr, --details.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CodeRunner, classify } from "../src/runner.js";
import { processesOfUid } from "../src/sandbox.js";
import type { CodeSample } from "../src/types.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli.js");
const built = existsSync(CLI);
const root = process.getuid?.() === 0;
const hasUnshare = root && spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "true"]).status === 0;
const skipReason = !root ? "needs root" : !hasUnshare ? "needs unshare" : undefined;
const STAGING = join(tmpdir(), `tokenrl-code-hardening-test-${process.pid}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(50)) if (cond()) return true;
  return cond();
}
const py = (code: string, outputs = [""]): CodeSample => ({
  language: "python",
  code,
  tests: { inputs: outputs.map(() => ""), outputs },
});
const quiet = { warn: () => {} };
/** Runs `fn` with $TMPDIR (where staging dirs go) set to `dir`. */
async function withTmpdir<T>(dir: string, fn: () => T | Promise<T>): Promise<T> {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

afterAll(() => rmSync(STAGING, { recursive: true, force: true }));

describe("memory verdicts come from the harness and the exit status, not from stderr text", () => {
  const base = { exitCode: 0, signal: null, stdout: "42\n", channel: "", wallMs: 5 };
  it("a correct program that prints MemoryError (or V8's OOM message) to stderr passes", () => {
    for (const stderrTail of [
      "MemoryError\n",
      "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n",
      "std::bad_alloc Cannot allocate memory",
    ]) {
      expect(classify({ ...base, stderrTail }, "42", false).status).toBe("pass");
    }
  });
  it("a failing program that prints MemoryError is a runtime error; the harness's M is memory_limit", () => {
    expect(classify({ ...base, exitCode: 1, stderrTail: "MemoryError" }, "42", false).status).toBe("runtime_error");
    expect(classify({ ...base, exitCode: 1, stderrTail: "", channel: "M" }, "42", false).status).toBe("memory_limit");
    expect(classify({ ...base, stderrTail: "", killedFor: "memory" }, "42", false).status).toBe("memory_limit");
  });
});

describe("options", () => {
  it("lockDir and cgroupParent must be absolute paths", () => {
    expect(() => CodeRunner.create({ lockDir: "locks", ...quiet })).toThrow(/lockDir: must be an absolute path/);
    expect(() => CodeRunner.create({ cgroupParent: "", ...quiet })).toThrow(/cgroupParent: must be an absolute path/);
  });
});

describe.skipIf(skipReason !== undefined)(`sandbox hardening (${skipReason ?? "root + unshare"})`, () => {
  it("a correct program printing MemoryError to stderr passes, in Python and JavaScript", async () => {
    const runner = CodeRunner.create({
      limits: { timeLimitSec: 3, memoryMb: 128 },
      uidBase: 61400,
      concurrency: 1,
      ...quiet,
    });
    try {
      const pyCode = "import sys\nsys.stderr.write('MemoryError\\n')\nprint(42)";
      expect((await runner.run(py(pyCode, ["42"]))).results).toEqual(["pass"]);
      const jsCode =
        "console.error('FATAL ERROR: Reached heap limit - JavaScript heap out of memory');\nconsole.log(42);";
      const js = { language: "javascript", code: jsCode, tests: { inputs: [""], outputs: ["42"] } } as const;
      expect((await runner.run(js)).results).toEqual(["pass"]);
    } finally {
      runner.close();
    }
  });

  it("a program cannot pass itself off as a sandbox set-up failure (that would turn its grade into an error)", async () => {
    const runner = CodeRunner.create({ limits: { timeLimitSec: 3 }, uidBase: 61405, concurrency: 1, ...quiet });
    try {
      const fake = "import os, sys\nsys.stderr.write('tokenrl-sandbox: setup failed: tmpfs on /tmp\\n')\nos._exit(125)";
      expect((await runner.run(py(fake))).results).toEqual(["runtime_error"]);
      // The harness channel's old set-up marker is just a channel message now: the output decides.
      const channel = "import os\nos.write(3, b'setup-failed')\nprint('ok')";
      expect((await runner.run(py(channel, ["ok"]))).results).toEqual(["pass"]);
      const fd4 = "import os\ntry:\n    os.write(4, b'tmpfs on /tmp')\nexcept OSError:\n    print('closed')";
      expect((await runner.run(py(fd4, ["closed"]))).results).toEqual(["pass"]);
    } finally {
      runner.close();
    }
  });

  it("the memory limit covers the whole test: four forked children of 400 MB under 512 MB fail", async () => {
    const runner = CodeRunner.create({
      limits: { timeLimitSec: 8, memoryMb: 512 },
      uidBase: 61410,
      concurrency: 1,
      ...quiet,
    });
    // Each child alone fits RLIMIT_AS (512 MB per process); together they hold 1.6 GB.
    const forkers = (n: number, mb: number) =>
      [
        "import os, time",
        "kids = []",
        `for _ in range(${n}):`,
        "    pid = os.fork()",
        "    if pid == 0:",
        `        b = b'\\x01' * (${mb} << 20)`,
        "        time.sleep(0.8)",
        "        os._exit(0)",
        "    kids.append(pid)",
        "for pid in kids:",
        "    os.waitpid(pid, 0)",
        "print('ok')",
      ].join("\n");
    try {
      const r = await runner.run(py(forkers(4, 400), ["ok"]));
      expect(r.results).toEqual(["memory_limit"]);
      expect(r.tests[0]!.detail).toMatch(/together exceeded the memory limit/);
      // Non-dumpable processes (and their children) show as root in /proc: still counted.
      const hiding = `import ctypes\nctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\n${forkers(4, 400)}`;
      expect((await runner.run(py(hiding, ["ok"]))).results).toEqual(["memory_limit"]);
      // Within the budget nothing is killed: 300 MB in one process, and four forks of 60 MB (their
      // shared copy-on-write pages are counted once).
      expect((await runner.run(py("b = b'\\x01' * (300 << 20)\nprint('ok')", ["ok"]))).results).toEqual(["pass"]);
      expect((await runner.run(py(forkers(4, 60), ["ok"]))).results).toEqual(["pass"]);
    } finally {
      runner.close();
    }
  });

  it("two runners on the same uid base lock different uids and do not kill each other's programs", async () => {
    const opts = { limits: { timeLimitSec: 5 }, uidBase: 61420, concurrency: 1, ...quiet };
    const a = CodeRunner.create(opts);
    const b = CodeRunner.create(opts);
    try {
      expect(a.uids).toEqual([61420]);
      expect(b.uids).toEqual([61421]);
      const slow = a.run(py("import time\ntime.sleep(1.5)\nprint('a')", ["a"]));
      // Every run of b ends with a sweep of b's uid; on a shared uid that killed a's program.
      for (let i = 0; i < 4; i++) expect((await b.run(py("print('b')", ["b"]))).results).toEqual(["pass"]);
      expect((await slow).results).toEqual(["pass"]);
      a.close();
      const c = CodeRunner.create(opts);
      expect(c.uids).toEqual([61420]); // a's lock went with close()
      c.close();
    } finally {
      a.close();
      b.close();
    }
  });

  it("close() kills running tests, rejects queued ones, removes staging dirs and frees the uids", async () => {
    const stage = join(STAGING, "close");
    mkdirSync(stage, { recursive: true });
    await withTmpdir(stage, async () => {
      const runner = CodeRunner.create({ limits: { timeLimitSec: 30 }, uidBase: 61425, concurrency: 1, ...quiet });
      const [uid] = runner.uids;
      const runs = [1, 2, 3].map(() => runner.run(py("import time\ntime.sleep(60)")));
      const settled = Promise.allSettled(runs);
      expect(await until(() => processesOfUid(uid!).length > 0, 5000)).toBe(true);
      runner.close();
      const results = await settled;
      expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
      for (const r of results) expect(String((r as PromiseRejectedResult).reason)).toMatch(/closed/);
      expect(processesOfUid(uid!)).toEqual([]);
      expect(readdirSync(stage)).toEqual([]);
      await expect(runner.run(py("print(1)", ["1"]))).rejects.toThrow(/closed/);
      const next = CodeRunner.create({ uidBase: 61425, concurrency: 1, ...quiet });
      expect(next.uids).toEqual([uid]);
      next.close();
    });
  });

  it("a process left running as a free uid (a dead runner's) is killed when the uid is locked", async () => {
    const leftover = spawn("setpriv", ["--reuid=61430", "--regid=61430", "--clear-groups", "sleep", "300"], {
      detached: true,
      stdio: "ignore",
    });
    leftover.unref();
    expect(await until(() => processesOfUid(61430).length > 0, 5000)).toBe(true);
    const runner = CodeRunner.create({ uidBase: 61430, concurrency: 1, ...quiet });
    runner.close();
    expect(await until(() => processesOfUid(61430).length === 0, 2000)).toBe(true);
  });
});

describe.skipIf(!built || skipReason !== undefined)("killing tokenrl-code-eval (needs `pnpm build`, root)", () => {
  // The program starts a daemon (new session, double fork) and then sleeps: all must die with the CLI.
  const hostage = JSON.stringify({
    id: "h",
    language: "python",
    code: [
      "import os, time",
      "if os.fork() == 0:",
      "    os.setsid()",
      "    if os.fork() == 0:",
      "        time.sleep(300)",
      "    os._exit(0)",
      "time.sleep(300)",
    ].join("\n"),
    tests: { inputs: [""], outputs: [""] },
  });

  function startCli(uidBase: number, stage: string): { cli: ChildProcess; stderr: () => string } {
    mkdirSync(stage, { recursive: true });
    const cli = spawn(
      process.execPath,
      [CLI, "--uid-base", String(uidBase), "--concurrency", "1", "--time-limit", "60"],
      {
        env: { ...process.env, TMPDIR: stage },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let err = "";
    cli.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
    });
    cli.stdout!.resume();
    cli.stdin!.end(`${hostage}\n`);
    return { cli, stderr: () => err };
  }

  async function killAndCheck(sig: NodeJS.Signals, uidBase: number) {
    const stage = join(STAGING, sig);
    const { cli, stderr } = startCli(uidBase, stage);
    // The daemon, the program and the namespace's init all run as (or under) the slot uid.
    expect(await until(() => processesOfUid(uidBase).length >= 2, 10_000)).toBe(true);
    expect(readdirSync(stage)).toHaveLength(1);
    const exited = new Promise((r) => cli.on("exit", r));
    cli.kill(sig);
    await exited;
    expect(await until(() => processesOfUid(uidBase).length === 0, 3000)).toBe(true);
    return { stage, stderr: stderr() };
  }

  it("SIGTERM and SIGINT kill every sandboxed process and remove the staging dirs", async () => {
    for (const [sig, uid] of [
      ["SIGTERM", 61440],
      ["SIGINT", 61441],
    ] as const) {
      const { stage, stderr } = await killAndCheck(sig, uid);
      expect(readdirSync(stage)).toEqual([]);
      expect(stderr).toContain(`${sig}: sandboxed programs killed`);
    }
  });

  it("SIGKILL still kills every sandboxed process; the next start sweeps the dead runner's staging dir, not a live one's", async () => {
    const { stage } = await killAndCheck("SIGKILL", 61442);
    const dead = readdirSync(stage);
    expect(dead).toHaveLength(1); // nothing could remove it: the runner died at once
    // The next runner's start sweeps it; that runner's own (live) dir then appears.
    const live = startCli(61443, stage);
    const onlyLive = () => {
      const names = readdirSync(stage);
      return names.length === 1 && names[0] !== dead[0];
    };
    expect(await until(onlyLive, 10_000)).toBe(true);
    const liveDir = readdirSync(stage)[0];
    // Another start in the same TMPDIR keeps the live runner's dir.
    await withTmpdir(stage, () => CodeRunner.create({ uidBase: 61444, concurrency: 1, ...quiet }).close());
    expect(readdirSync(stage)).toEqual([liveDir]);
    const exited = new Promise((r) => live.cli.on("exit", r));
    live.cli.kill("SIGTERM");
    await exited;
    expect(readdirSync(stage)).toEqual([]);
  });

  it("a CLI run on a uid base another runner holds takes the next free uid", async () => {
    const holder = CodeRunner.create({ uidBase: 61450, concurrency: 1, ...quiet });
    try {
      const r = spawnSync(process.execPath, [CLI, "--uid-base", "61450", "--concurrency", "1"], {
        input: "",
        encoding: "utf8",
      });
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/sandbox uids 61451\n/);
    } finally {
      holder.close();
    }
  });

  it("a reader that closes stdout early (| head -1) ends the run quietly with status 0", async () => {
    const rec = JSON.stringify({ language: "python", code: "print(1)", tests: { inputs: [""], outputs: ["1"] } });
    const cli = spawn(process.execPath, [CLI, "--uid-base", "61465", "--concurrency", "1"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let err = "";
    cli.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
    });
    cli.stdin!.end(`${Array(10).fill(rec).join("\n")}\n`);
    await new Promise((r) => cli.stdout!.once("data", r));
    cli.stdout!.destroy();
    const code = await new Promise((r) => cli.on("exit", r));
    expect(code).toBe(0);
    expect(err).not.toMatch(/EPIPE|\n\s+at /);
    expect(await until(() => processesOfUid(61465).length === 0, 2000)).toBe(true);
  });

  it("--details puts per-test details under test_details and keeps the input's own tests field", () => {
    const tests = { inputs: ["2\n", "3\n"], outputs: ["4\n", "7\n"] };
    const rec = { id: "d", language: "python", code: "print(int(input()) * 2)", tests };
    const r = spawnSync(process.execPath, [CLI, "--details", "--uid-base", "61460", "--concurrency", "1"], {
      input: `${JSON.stringify(rec)}\n`,
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.tests).toEqual(tests);
    expect(out.results).toEqual(["pass", "wrong_answer"]);
    expect(out.test_details.map((t: { status: string }) => t.status)).toEqual(["pass", "wrong_answer"]);
    expect(out.test_details[0]).toHaveProperty("wallMs");
  });
});
