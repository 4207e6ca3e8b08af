import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CodeRunner } from "../src/runner.js";
import { processesOfUid } from "../src/sandbox.js";
import type { CodeSample } from "../src/types.js";

// Slot uids used only by this file (the CLI test uses others), so "no stray processes" is exact.
const UID_BASE = 61100;
const CONCURRENCY = 2;
// A private staging root, so "temp dirs removed" is checked without seeing other tests' dirs.
const STAGING = join(tmpdir(), `tokenrl-code-sandbox-test-${process.pid}`);
const PACKAGE_DIR = join(import.meta.dirname, "..");

let runner: CodeRunner;
const full = process.getuid?.() === 0;

const py = (code: string, inputs: string[] = [""], outputs: string[] = [""]): CodeSample => ({
  language: "python",
  code,
  tests: { inputs, outputs },
});
const js = (code: string, inputs: string[] = [""], outputs: string[] = [""]): CodeSample => ({
  language: "javascript",
  code,
  tests: { inputs, outputs },
});

beforeAll(() => {
  mkdirSync(STAGING, { recursive: true });
  process.env.TMPDIR = STAGING;
  runner = CodeRunner.create({
    limits: { timeLimitSec: 1.5, memoryMb: 128, outputLimitKb: 64, maxProcesses: 32, diskMb: 8 },
    concurrency: CONCURRENCY,
    uidBase: UID_BASE,
    warn: () => {},
  });
});

afterAll(() => {
  // The machine is left clean: no process of any sandbox uid, no staging dir left behind.
  for (const uid of runner.uids) expect(processesOfUid(uid)).toEqual([]);
  runner.close();
  expect(readdirSync(STAGING)).toEqual([]);
  rmSync(STAGING, { recursive: true, force: true });
});

describe.skipIf(!full)("sandbox (root: full isolation)", () => {
  it("reports every isolation mechanism as available on this machine", () => {
    const iso = runner.isolation;
    expect([iso.dropUser, iso.network, iso.mounts, iso.pids, iso.rlimits]).toEqual([true, true, true, true, true]);
    expect(iso.warnings).toEqual([]);
  });

  it("a harmless probe confirms: unprivileged uid, process limit, read-only / and repo, no network", async () => {
    const p = await runner.probe(PACKAGE_DIR);
    expect(p.uid).toBeGreaterThanOrEqual(UID_BASE);
    expect(p.forksSucceeded).toBeLessThanOrEqual(3);
    expect(p).toMatchObject({
      processLimitWorks: true,
      rootWritable: false,
      hostDirWritable: false,
      networkBlocked: true,
      ok: true,
    });
  });

  it("gives the program only PATH, LANG, HOME and TMPDIR (no PWD/OLDPWD naming the host staging dir)", async () => {
    const code = "import os\nprint(','.join(sorted(os.environ)))";
    const r = await runner.run(py(code, [""], ["HOME,LANG,PATH,TMPDIR"]));
    expect(r.results).toEqual(["pass"]);
    const j = await runner.run(
      js("console.log(Object.keys(process.env).sort().join(','))", [""], ["HOME,LANG,PATH,TMPDIR"]),
    );
    expect(j.results).toEqual(["pass"]);
  });

  it("runs a correct JavaScript program that starts worker threads (each V8 isolate reserves ~1 GiB of address space)", async () => {
    const code =
      "const { Worker } = require('worker_threads'); let n = 0;\n" +
      "for (let i = 0; i < 2; i++) new Worker('1 + 1', { eval: true }).on('exit', () => { if (++n === 2) console.log('ok'); });";
    const r = await runner.run(js(code, [""], ["ok"]));
    expect(r.results).toEqual(["pass"]);
  });

  it("grades ordinary Python and JavaScript programs", async () => {
    const add = "a, b = map(int, input().split())\nprint(a + b)";
    expect((await runner.run(py(add, ["1 2", "2 2"], ["3", "5"]))).results).toEqual(["pass", "wrong_answer"]);
    expect((await runner.run(py("raise ValueError('boom')"))).results).toEqual(["runtime_error"]);
    expect((await runner.run(py("def f(:\n  pass", ["", ""], ["", ""]))).results).toEqual([
      "compile_error",
      "compile_error",
    ]);
    const jsAdd =
      "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\nconsole.log(a + b);";
    expect((await runner.run(js(jsAdd, ["1 2"], ["3"]))).results).toEqual(["pass"]);
    expect((await runner.run(js("let x = ;"))).results).toEqual(["compile_error"]);
    expect((await runner.run(js("throw new Error('boom')"))).results).toEqual(["runtime_error"]);
  });

  it("grades function-call tests with a class Solution method (LiveCodeBench call format)", async () => {
    const tests = { inputs: ["[1, 2, 3]\n2", "[5]\n0"], outputs: ["[3, 4, 5]", "[5]"], fnName: "addAll" };
    const pySol =
      "class Solution:\n    def addAll(self, nums: List[int], k: int) -> List[int]:\n        return tuple(x + k for x in nums)";
    expect((await runner.run({ language: "python", code: pySol, tests })).results).toEqual(["pass", "pass"]);
    const jsSol = "class Solution { addAll(nums, k) { return nums.map((x) => x + k + (k === 0 ? 1 : 0)); } }";
    expect((await runner.run({ language: "javascript", code: jsSol, tests })).results).toEqual([
      "pass",
      "wrong_answer",
    ]);
    const missing = "def other():\n    return 1";
    expect((await runner.run({ language: "python", code: missing, tests })).results).toEqual([
      "compile_error",
      "compile_error",
    ]);
  });

  it("stops an infinite loop (time_limit) within the wall limit", async () => {
    const t0 = Date.now();
    expect((await runner.run(py("while True:\n    pass"))).results).toEqual(["time_limit"]);
    expect((await runner.run(py("import time\ntime.sleep(60)"))).results).toEqual(["time_limit"]);
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it("stops a memory hog (memory_limit) in Python and JavaScript", async () => {
    expect((await runner.run(py("x = bytearray(1 << 30)"))).results).toEqual(["memory_limit"]);
    expect((await runner.run(py("a = []\nwhile True:\n    a.append([0] * 1000000)"))).results).toEqual([
      "memory_limit",
    ]);
    // Node's start, GC thrashing near the heap limit and its fatal-error report take ~1 s, more on
    // a loaded machine: this one gets a wall limit that cannot race it.
    const slow = CodeRunner.create({
      limits: { timeLimitSec: 6, memoryMb: 128 },
      concurrency: 1,
      uidBase: UID_BASE + 10,
      warn: () => {},
    });
    try {
      const jsHog = "const a = [];\nfor (;;) a.push(new Array(1e6).fill(1.5));";
      const r = await slow.run(js(jsHog));
      expect(r.results).toEqual(["memory_limit"]);
      expect(r.tests[0]!.signal).toBe(6); // V8 aborted (heap OOM), not killed by the memory sampler
    } finally {
      slow.close();
    }
  });

  it("kills a program printing without end (output_limit), on stdout and on stderr", async () => {
    expect((await runner.run(py("while True:\n    print('x' * 10000)"))).results).toEqual(["output_limit"]);
    expect((await runner.run(py("import sys\nwhile True:\n    sys.stderr.write('y' * 10000)"))).results).toEqual([
      "output_limit",
    ]);
    expect((await runner.run(js("for (;;) process.stdout.write('z'.repeat(10000));"))).results).toEqual([
      "output_limit",
    ]);
  });

  it("cannot write outside its private temp dir; /tmp inside is private", async () => {
    const marker = `tokenrl-pwned-${process.pid}`;
    const targets = ["/", PACKAGE_DIR, "/var/tmp", "/dev/shm", "/run/lock", "/tmp"];
    const code = [
      "import os",
      `for d in ${JSON.stringify(targets)}:`,
      "    try:",
      `        open(os.path.join(d, ${JSON.stringify(marker)}), 'w').write('x')`,
      "        print('wrote')",
      "    except OSError:",
      "        print('denied')",
    ].join("\n");
    // /tmp is the sandbox's own tmpfs, so writing there works but lands nowhere on the host.
    const expected = ["denied", "denied", "denied", "denied", "denied", "wrote"].join("\n");
    expect((await runner.run(py(code, [""], [expected]))).results).toEqual(["pass"]);
    for (const d of [...targets, tmpdir(), "/tmp"]) expect(existsSync(join(d, marker))).toBe(false);
    const unguarded = `open(${JSON.stringify(join(PACKAGE_DIR, marker))}, 'w').write('x')`;
    expect((await runner.run(py(unguarded))).results).toEqual(["runtime_error"]);
    expect(existsSync(join(PACKAGE_DIR, marker))).toBe(false);
  });

  it("cannot open a network connection, not even to a server on the host's loopback", async () => {
    let connections = 0;
    const server: Server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const code = `import socket\ns = socket.create_connection(("127.0.0.1", ${port}), timeout=1)\nprint("connected")`;
      const r = await runner.run(py(code, [""], ["connected"]));
      expect(r.results).toEqual(["runtime_error"]);
      expect(r.tests[0]!.stderrTail).toMatch(/Network is unreachable/);
      const jsCode = `require("net").connect(${port}, "127.0.0.1").on("connect", () => console.log("connected"));`;
      expect((await runner.run(js(jsCode, [""], ["connected"]))).results).toEqual(["runtime_error"]);
    } finally {
      server.close();
    }
    expect(connections).toBe(0);
  });

  it("kills children that detached with setsid, including a daemon that outlives the program", async () => {
    const daemon = [
      "import os, subprocess, sys, time",
      "subprocess.Popen(['sleep', '300'], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)",
      "if os.fork() == 0:",
      "    os.setsid()",
      "    if os.fork() == 0:",
      "        time.sleep(300)",
      "    os._exit(0)",
      "print('done')",
    ].join("\n");
    expect((await runner.run(py(daemon, [""], ["done"]))).results).toEqual(["pass"]);
    const jsDaemon =
      "require('child_process').spawn('sleep', ['300'], { detached: true, stdio: 'ignore' }).unref();\nconsole.log('done');";
    expect((await runner.run(js(jsDaemon, [""], ["done"]))).results).toEqual(["pass"]);
    // A detached child that keeps the output pipe open while the program loops: killed at the limit.
    const holder = "import subprocess\nsubprocess.Popen(['setsid', 'sleep', '300'])\nwhile True:\n    pass";
    expect((await runner.run(py(holder))).results).toEqual(["time_limit"]);
    for (const uid of runner.uids) expect(processesOfUid(uid)).toEqual([]);
  });

  it("contains a fork bomb (only after the process-limit probe passed)", async () => {
    const p = await runner.probe(PACKAGE_DIR);
    // Without a working RLIMIT_NPROC a fork bomb would take the shared machine down: never run it then.
    expect(p.processLimitWorks).toBe(true);
    if (!p.processLimitWorks) return;
    const bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass";
    const t0 = Date.now();
    const r = await runner.run(py(bomb));
    expect(r.results).toEqual(["time_limit"]);
    expect(Date.now() - t0).toBeLessThan(6000);
    for (const uid of runner.uids) expect(processesOfUid(uid)).toEqual([]);
  });
});
