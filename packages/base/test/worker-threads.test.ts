import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { fileWorkerExecArgv } from "../src/worker-threads.js";

describe("fileWorkerExecArgv", () => {
  it("inherits (undefined) unless the parent has --input-type", () => {
    expect(fileWorkerExecArgv([])).toBeUndefined();
    expect(fileWorkerExecArgv(["--max-old-space-size=4096", "--enable-source-maps"])).toBeUndefined();
  });

  it("drops --input-type and -e/-p with their code, keeps the rest in order", () => {
    expect(fileWorkerExecArgv(["--input-type=module", "--conditions=dev", "-e", "import('x')"])).toEqual([
      "--conditions=dev",
    ]);
    expect(fileWorkerExecArgv(["--input-type", "module", "--print", "1", "--expose-gc"])).toEqual(["--expose-gc"]);
    expect(fileWorkerExecArgv(["--eval=1", "--input-type=commonjs", "--trace-warnings"])).toEqual(["--trace-warnings"]);
  });
});

// The parent's node options reach a worker started from a file, with whatever flags the user ran node with.
describe("startWorker in a node started with options", () => {
  const dist = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "worker-threads.js")).href;
  const dir = mkdtempSync(join(tmpdir(), "base-worker-threads-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const workerFile = join(dir, "worker.mjs");
  writeFileSync(
    workerFile,
    `import { parentPort } from "node:worker_threads"; parentPort.postMessage({ execArgv: process.execArgv });`,
  );
  const main = `import { startWorker } from ${JSON.stringify(dist)};
    const w = startWorker(new URL(${JSON.stringify(pathToFileURL(workerFile).href)}));
    w.once("message", (m) => { console.log(JSON.stringify(m)); void w.terminate(); });
    w.once("error", (e) => { console.error("worker error: " + e.message); process.exitCode = 3; });`;
  const mainFile = join(dir, "main.mjs");
  writeFileSync(mainFile, main);

  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim()) as { execArgv: string[] };
  };

  it("a V8 flag (--max-old-space-size, which an explicit execArgv may not hold) is inherited", () => {
    expect(run(["--max-old-space-size=600", "--stack-trace-limit=20", mainFile]).execArgv).toEqual([
      "--max-old-space-size=600",
      "--stack-trace-limit=20",
    ]);
  });

  it("under `node --input-type=module -e` the worker starts, without --input-type", () => {
    expect(run(["--enable-source-maps", "--input-type=module", "-e", main]).execArgv).toEqual(["--enable-source-maps"]);
  });

  it("both at once: the V8 flag is left out of the worker's list (it is process-wide), the worker starts", () => {
    expect(
      run(["--max-old-space-size=600", "--enable-source-maps", "--input-type=module", "-e", main]).execArgv,
    ).toEqual(["--enable-source-maps"]);
  });
});
