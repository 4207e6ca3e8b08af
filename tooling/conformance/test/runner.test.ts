import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend, tf, useBackend } from "@tokenrl/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "../../test-utils/backends.js";
import { checkParams, loadOpModules, matrix, runConformance, summaryLine } from "../src/index.js";
import type { LoadedOps, OpHandler } from "../src/index.js";

const tmp = mkdtempSync(join(tmpdir(), "tokenrl-conformance-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// The runner counts tensors around each case, so a backend must be ready (the CLI calls initBackend).
beforeAll(async () => {
  await initBackend({ log: null });
});

let dirCount = 0;
/** Writes one folder of .jsonl files ({ name: [case objects or raw lines] }) and returns its path. */
function caseDir(files: Record<string, (object | string)[]>): string {
  const dir = join(tmp, `cases-${dirCount++}`);
  mkdirSync(dir);
  for (const [name, lines] of Object.entries(files)) {
    writeFileSync(join(dir, name), `${lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n")}\n`);
  }
  return dir;
}

function testCase(id: string, op: string, extra: Record<string, unknown> = {}) {
  return { id, op, params: {}, inputs: { x: [[1, 2]] }, expected: { y: [[2, 4]] }, atol: 1e-6, rtol: 0, ...extra };
}

/** A synthetic op: y = 2x, with a `scale` param and a metric. */
const double: OpHandler = (c) => {
  checkParams(c, ["scale"]);
  const scale = (c.params.scale as number | undefined) ?? 2;
  return { outputs: { y: matrix(c, "x").map((row) => row.map((v) => v * scale)) }, metrics: { mean: 1.5 } };
};

function opsOf(handlers: Record<string, OpHandler>): LoadedOps {
  return {
    ops: new Map(Object.entries(handlers).map(([op, handler]) => [op, { handler, module: "test" }])),
    errors: [],
  };
}

async function run(dir: string, ops: LoadedOps, filters: string[] = []) {
  const lines: string[] = [];
  const summary = await runConformance([dir], ops, { print: (l) => lines.push(l), filters });
  return { summary, output: lines.join("\n") };
}

describe("runConformance", () => {
  it("passes a case whose outputs match and counts it", async () => {
    const { summary, output } = await run(caseDir({ "a.jsonl": [testCase("t/ok", "double")] }), opsOf({ double }));
    expect(summary).toMatchObject({ passed: 1, failed: 0 });
    expect(output).toBe("");
  });

  it("fails a case with an unknown op, naming the op and the known ones", async () => {
    const { summary, output } = await run(
      caseDir({ "a.jsonl": [testCase("t/unknown", "loss/nope")] }),
      opsOf({ double }),
    );
    expect(summary).toMatchObject({ passed: 0, failed: 1 });
    expect(output).toContain("FAIL t/unknown (loss/nope)");
    expect(output).toContain('UnknownOpError: unknown op "loss/nope"; known: double');
  });

  it("fails a case with an unknown param and one with a missing input", async () => {
    const dir = caseDir({
      "a.jsonl": [
        testCase("t/param", "double", { params: { scael: 3 } }),
        testCase("t/input", "double", { inputs: {} }),
      ],
    });
    const { summary, output } = await run(dir, opsOf({ double }));
    expect(summary).toMatchObject({ passed: 0, failed: 2 });
    expect(output).toContain("UnknownParamError: params.scael: unknown parameter for double; it takes scale");
    expect(output).toContain("MissingInputError: inputs.x: missing; double needs it");
  });

  it("prints the id, the field and the largest error of a numeric failure", async () => {
    // scale 2.5: y = [2.5, 5] against [2, 4]: errors 0.5 and 1, the largest at [0][1].
    const dir = caseDir({ "a.jsonl": [testCase("t/off", "double", { params: { scale: 2.5 } })] });
    const { summary, output } = await run(dir, opsOf({ double }));
    expect(summary.failed).toBe(1);
    expect(output).toContain("FAIL t/off (double)");
    expect(output).toContain(
      "y: largest error 1 at [0][1] (got 5, want 4, allowed 1.0000e-6); 2 of 2 values out of tolerance",
    );
  });

  it('expects NaN only where the case says "NaN"', async () => {
    const nan: OpHandler = () => ({ outputs: { y: [Number.NaN, 1] } });
    const dir = caseDir({
      "a.jsonl": [
        testCase("t/nan-expected", "nan", { expected: { y: ["NaN", 1] } }),
        testCase("t/nan-unexpected", "nan", { expected: { y: [0, 1] } }),
      ],
    });
    const { summary, output } = await run(dir, opsOf({ nan }));
    expect(summary).toMatchObject({ passed: 1, failed: 1 });
    expect(output).toContain("FAIL t/nan-unexpected");
    expect(output).toContain("y: largest error Infinity at [0] (got NaN, want 0");
  });

  it("compares the metrics the implementation reports and skips the others", async () => {
    const dir = caseDir({
      "a.jsonl": [
        testCase("t/metric-ok", "double", { expected: { y: [[2, 4]], metrics: { mean: 1.5, unreported: 7 } } }),
        testCase("t/metric-bad", "double", { expected: { y: [[2, 4]], metrics: { mean: 1.25 } } }),
      ],
    });
    const { summary, output } = await run(dir, opsOf({ double }));
    expect(summary).toMatchObject({ passed: 1, failed: 1 });
    expect(output).toContain("metrics.mean: largest error 0.25 (got 1.5, want 1.25");
  });

  it("fails a case whose op does not produce an expected field", async () => {
    const dir = caseDir({ "a.jsonl": [testCase("t/missing-out", "double", { expected: { z: 1 } })] });
    const { output } = await run(dir, opsOf({ double }));
    expect(output).toContain("z: the op produced no such output (it produced y)");
  });

  it("fails malformed lines, reads every .jsonl file, ignores other files, and filters by id", async () => {
    const dir = caseDir({
      "a.jsonl": [testCase("keep/1", "double"), "{not json"],
      "b.jsonl": [testCase("keep/2", "double"), testCase("drop/3", "double")],
      "notes.txt": ["ignored"],
    });
    const all = await run(dir, opsOf({ double }));
    expect(all.summary).toMatchObject({ passed: 3, failed: 1 });
    expect(all.output).toContain("FAIL a.jsonl:2");
    expect(all.output).toContain("malformed case: not valid JSON");
    const filtered = await run(dir, opsOf({ double }), ["keep/"]);
    expect(filtered.summary).toMatchObject({ passed: 2, failed: 0 });
  });

  it("fails a folder that does not exist or holds no case file", async () => {
    const { summary, output } = await run(join(tmp, "absent"), opsOf({ double }));
    expect(summary.failed).toBe(1);
    expect(output).toContain("no such folder or file");
    const empty = await run(caseDir({ "x.txt": ["nothing"] }), opsOf({ double }));
    expect(empty.summary.failed).toBe(1);
  });

  it("turns a handler's exception into a failure and warns about leaked tensors", async () => {
    const throwing: OpHandler = () => {
      throw new RangeError("bad thing");
    };
    const leaking: OpHandler = () => {
      tf.scalar(1); // deliberately not disposed
      return { outputs: { y: [[2, 4]] } };
    };
    const dir = caseDir({ "a.jsonl": [testCase("t/throws", "throwing"), testCase("t/leaks", "leaking")] });
    const { summary, output } = await run(dir, opsOf({ throwing, leaking }));
    expect(summary).toMatchObject({ passed: 1, failed: 1 });
    expect(output).toContain("RangeError: bad thing");
    expect(output).toContain("WARN t/leaks: the op left 1 tensor allocated");
  });

  it("closes with exactly `N passed, M failed`", () => {
    expect(summaryLine({ passed: 150, failed: 0 })).toBe("150 passed, 0 failed");
    expect(summaryLine({ passed: 0, failed: 1 })).toBe("0 passed, 1 failed");
  });
});

describe("loadOpModules", () => {
  it("merges every module's ops and reports modules that fail to load or clash", async () => {
    const dir = join(tmp, "ops");
    mkdirSync(dir);
    writeFileSync(join(dir, "a.mjs"), 'export const ops = { "x/one": () => ({ outputs: { v: 1 } }) };\n');
    writeFileSync(
      join(dir, "b.mjs"),
      'export const ops = { "x/one": () => ({ outputs: { v: 2 } }), "x/two": () => ({ outputs: {} }) };\n',
    );
    writeFileSync(join(dir, "broken.mjs"), 'import "@tokenrl/does-not-exist";\nexport const ops = {};\n');
    writeFileSync(join(dir, "empty.mjs"), "export const nothing = 1;\n");
    writeFileSync(join(dir, "types.d.ts"), "export {};\n");
    const loaded = await loadOpModules(dir);
    expect([...loaded.ops.keys()].sort()).toEqual(["x/one", "x/two"]);
    expect(loaded.ops.get("x/one")!.module).toBe("a");
    const messages = loaded.errors.map((e) => `${e.module}: ${e.message}`);
    expect(messages).toContain('b: op "x/one" is also defined by a; keeping a\'s');
    expect(messages.some((m) => m.startsWith("broken: failed to load"))).toBe(true);
    expect(messages).toContain("empty: exports no `ops` object");
  });

  it("names the modules that failed to load in an unknown-op failure", async () => {
    const loaded: LoadedOps = { ops: new Map(), errors: [{ module: "objectives", message: "failed to load: boom" }] };
    const { output } = await run(caseDir({ "a.jsonl": [testCase("kl/1", "kl")] }), loaded);
    expect(output).toContain(
      'unknown op "kl" (op modules not loaded: objectives: failed to load: boom); known: (none loaded)',
    );
  });

  it("finds the advantages op module in src/ops", async () => {
    const loaded = await loadOpModules();
    for (const op of ["advantage/grpo", "advantage/rloo", "advantage/gae", "aggregate"])
      expect(loaded.ops.has(op)).toBe(true);
  });
});

describe.each(TEST_BACKENDS)("the advantages op module on %s", (backend) => {
  let loaded: LoadedOps;
  beforeAll(async () => {
    await useBackend(backend);
    loaded = await loadOpModules();
  });

  it("runs advantage/grpo and aggregate cases through the public API", async () => {
    // GRPO, one group, scores 1 and 0: mean 0.5, unbiased std sqrt(0.5); a = +-0.5 / (0.7071068 + 1e-6) = +-0.7071058.
    // token-mean of [[1, 2], [3, (masked 100)]] = 6 / 3 = 2; seq-mean-token-sum-norm with C = 4: 6 / (2 * 4) = 0.75.
    const a = 0.5 / (Math.SQRT1_2 + 1e-6);
    const grpo = {
      id: "grpo/hand",
      op: "advantage/grpo",
      params: { normalizeByStd: true, epsilon: 1e-6 },
      inputs: {
        tokenRewards: [
          [0, 1],
          [0, 0],
        ],
        responseMask: [
          [1, 1],
          [1, 0],
        ],
        groupIds: [5, 5],
      },
      expected: {
        advantages: [
          [a, a],
          [-a, 0],
        ],
      },
      atol: 1e-6,
      rtol: 1e-5,
    };
    const agg = (id: string, mode: string, lossScaleFactor: number | null, value: number) => ({
      id,
      op: "aggregate",
      params: { mode, lossScaleFactor },
      inputs: {
        values: [
          [1, 2],
          [3, 100],
        ],
        responseMask: [
          [1, 1],
          [1, 0],
        ],
      },
      expected: { value },
      atol: 1e-6,
      rtol: 1e-6,
    });
    const dir = caseDir({
      "adv.jsonl": [grpo, agg("agg/tm", "token-mean", null, 2), agg("agg/norm", "seq-mean-token-sum-norm", 4, 0.75)],
    });
    const before = tf.memory().numTensors;
    const { summary, output } = await run(dir, loaded);
    expect(output).toBe("");
    expect(summary).toMatchObject({ passed: 3, failed: 0 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it("fails an advantage case with an unknown param or a missing input", async () => {
    const base = {
      op: "advantage/rloo",
      inputs: { tokenRewards: [[1], [0]], responseMask: [[1], [1]], groupIds: [0, 0] },
      expected: { advantages: [[1], [-1]] },
      atol: 1e-6,
      rtol: 0,
    };
    const dir = caseDir({
      "a.jsonl": [
        { ...base, id: "rloo/ok", params: {} },
        { ...base, id: "rloo/param", params: { epsilon: 1e-6 } },
        { ...base, id: "rloo/input", params: {}, inputs: { tokenRewards: [[1], [0]], responseMask: [[1], [1]] } },
      ],
    });
    const { summary, output } = await run(dir, loaded);
    expect(summary).toMatchObject({ passed: 1, failed: 2 });
    expect(output).toContain("params.epsilon: unknown parameter for advantage/rloo; it takes no parameters");
    expect(output).toContain("inputs.groupIds: missing; advantage/rloo needs it");
  });
});

describe("the CLI", () => {
  const root = fileURLToPath(new URL("../../..", import.meta.url));
  const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
  const tsx = join(root, "node_modules", ".bin", "tsx");
  const runCli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(tsx, [cli, ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 });

  it("closes with `N passed, M failed` on its own line and exits 1 on a failure", () => {
    const dir = caseDir({
      "a.jsonl": [
        {
          id: "agg/ok",
          op: "aggregate",
          params: { mode: "token-sum", lossScaleFactor: null },
          inputs: { values: [[1, 2]], responseMask: [[1, 1]] },
          expected: { value: 3 },
          atol: 1e-6,
          rtol: 0,
        },
        testCase("x/unknown", "no/such-op"),
      ],
    });
    const r = runCli(["--backend", "cpu", dir]);
    expect(r.status).toBe(1);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.at(-1)).toBe("1 passed, 1 failed");
    expect(r.stdout).toContain("FAIL x/unknown (no/such-op)");
  });

  it("runs the vendored cases by default, without any shared folder beside the repository", () => {
    const r = runCli(["--backend", "cpu", "--filter", "grpo/"], { TOKENRL_SHARED: join(tmp, "no-shared-here") });
    expect(r.status).toBe(0);
    const last = r.stdout.trimEnd().split("\n").at(-1) ?? "";
    const passed = Number(/^(\d+) passed, 0 failed$/.exec(last)?.[1] ?? 0);
    expect(passed).toBeGreaterThanOrEqual(25);
  });

  it("fails, naming the folder, when the default cases folder is missing", () => {
    const r = runCli([], { TOKENRL_CASES: join(tmp, "no-cases-here") });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("no-cases-here");
  });

  it("prints usage for --help and rejects an unknown backend", () => {
    const help = runCli(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("usage: tokenrl-conformance");
    expect(runCli(["--backend", "webgpu"]).status).toBe(2);
  });
});
