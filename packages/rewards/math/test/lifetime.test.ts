import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const INDEX = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "index.js")).href;

const dir = mkdtempSync(join(tmpdir(), "reward-math-lifetime-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let scripts = 0;

/** Runs an ES module script in a fresh node; resolves with its exit code, or "hung" if still alive after limitMs. */
function runScript(
  source: string,
  limitMs = 10_000,
  nodeFlags: string[] = [],
): Promise<{ code: number | "hung"; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const file = join(dir, `script-${++scripts}.mjs`);
    writeFileSync(file, source);
    const child = spawn(process.execPath, [...nodeFlags, file], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve({ code: "hung", stdout, stderr });
    }, limitMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

describe("the library does not hold the event loop open when idle", () => {
  it("`await verify(...)` on the shared pool prints its result and the process exits", async () => {
    const r = await runScript(
      `import { verify } from ${JSON.stringify(INDEX)};
       const r = await verify("$\\\\frac{1}{2}$", "\\\\boxed{0.5}");
       console.log(JSON.stringify(r));`,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ equal: true });
  });

  it("node run with a V8 flag (--max-old-space-size) still verifies: the workers inherit it, never fail to start", async () => {
    const r = await runScript(
      `import { verify } from ${JSON.stringify(INDEX)};
       const r = await verify("$3$", "\\\\boxed{3}");
       console.log(JSON.stringify(r));`,
      10_000,
      ["--max-old-space-size=600"],
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ equal: true });
  });

  it("an unclosed VerifierPool lets the process exit once its batch is done, and a second batch still runs", async () => {
    const r = await runScript(
      `import { VerifierPool } from ${JSON.stringify(INDEX)};
       const pool = new VerifierPool({ concurrency: 2 });
       const a = await pool.verifyBatch([{ gold: "$3$", prediction: "\\\\boxed{3}" }, { gold: "$3$", prediction: "\\\\boxed{4}" }]);
       await new Promise((r) => setTimeout(r, 50));
       const b = await pool.verify("$x+1$", "\\\\boxed{1+x}");
       console.log(JSON.stringify([...a.map((x) => x.equal), b.equal]));`,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([true, false, true]);
  });
});
