import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Backend selection is process-global, so each scenario runs in a fresh Node
// process against the built package (dist/), as a user would import it.
const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));

function runScript(body: string, env: Record<string, string | undefined>) {
  const dir = mkdtempSync(join(tmpdir(), "tokenrl-backend-"));
  const file = join(dir, "probe.mjs");
  writeFileSync(file, `import * as core from ${JSON.stringify(dist)};\n${body}\n`);
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.TOKENRL_BACKEND;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  return spawnSync(process.execPath, [file], { env: childEnv, encoding: "utf8", timeout: 60_000 });
}

describe("initBackend", () => {
  it("picks wasm when no native backend is installed and says why, once", () => {
    const r = runScript(
      "const a = await core.initBackend(); const b = await core.initBackend(); console.log(JSON.stringify([a.name, b.name, core.tf.getBackend()]));",
      {},
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual(["wasm", "wasm", "wasm"]);
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("tokenrl: tensor backend"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/tensor backend wasm \(no native backend: @tensorflow\/tfjs-node-gpu not installed/);
  });

  it("honours TOKENRL_BACKEND=cpu without printing tfjs's node banner", () => {
    const r = runScript("const a = await core.initBackend(); console.log(a.name, core.tf.getBackend());", {
      TOKENRL_BACKEND: "cpu",
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("cpu cpu");
    expect(r.stderr).toContain("forced by TOKENRL_BACKEND=cpu");
    expect(r.stderr).not.toMatch(/Hi there/);
  });

  it("fails clearly when a forced backend is missing", () => {
    const r = runScript(
      "try { await core.initBackend(); } catch (e) { console.log(e.name, e.code, e.message); process.exit(3); }",
      { TOKENRL_BACKEND: "tensorflow" },
    );
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(
      /^BackendUnavailableError BACKEND_UNAVAILABLE tensor backend "tensorflow" is not available/,
    );
    expect(r.stdout).toContain("install @tensorflow/tfjs-node");
  });

  it("rejects an unknown backend name with the list of known ones", () => {
    const r = runScript(
      "try { await core.initBackend(); } catch (e) { console.log(e.name, e.message); process.exit(3); }",
      { TOKENRL_BACKEND: "webgpu" },
    );
    expect(r.status).toBe(3);
    expect(r.stdout.trim()).toBe(
      'ConfigError TOKENRL_BACKEND: unknown backend "webgpu"; expected one of tensorflow, wasm, cpu',
    );
  });

  it("can be silenced and reports the wasm thread count", () => {
    const r = runScript("const a = await core.initBackend({ log: null }); console.log(a.threads);", {});
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("tokenrl: tensor backend");
    expect(Number(r.stdout.trim())).toBeGreaterThanOrEqual(1);
  });

  it("registers tfjs gradients for plain Node consumers of the built package", () => {
    const r = runScript(
      "await core.initBackend({ log: null }); const g = core.tf.grad((x) => core.tf.sum(core.tf.abs(x)))(core.tf.tensor1d([-2, 3])); console.log(JSON.stringify(Array.from(g.dataSync())));",
      {},
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual([-1, 1]);
  });
});
