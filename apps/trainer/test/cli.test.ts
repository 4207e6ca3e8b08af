import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const oneLine = async (args: string[], pattern: RegExp) => {
  const r = await runCli(args);
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  return r;
};

describe("tokenrl-train command line", () => {
  it("--help lists the registered presets, objectives, estimators and partitioners", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/presets: +cispo, cppo, dapo, dr-grpo, grpo, gspo, htpo, sapo/);
    expect(r.stdout).toMatch(/objectives: +cispo, cppo, gspo, htpo, ppo-clip, sapo/);
    expect(r.stdout).toMatch(/estimators: .*grpo.*rloo/);
    expect(r.stdout).toMatch(/partitioners: .*htpo/);
  });

  it("bad arguments are one-line errors naming them", async () => {
    await oneLine(["--steps", "-5"], /--steps|-5/);
    await oneLine(["--steps", "x"], /--steps: bad value "x"; expected an integer >= 0/);
    await oneLine(["extra"], /Unexpected argument 'extra'/);
    await oneLine(["--set", "constructor=1"], /constructor: unknown key/);
    await oneLine(["--set", "rl.groupsize=4"], /rl\.groupsize: unknown key; allowed here: steps, /);
    await oneLine(["--set", "rl.groupSize=0"], /rl\.groupSize: bad value 0; Too small/);
    await oneLine(["--set", 'plugins=["no-such-plugin-xyz"]', "--print-config"], /unknown plugin "no-such-plugin-xyz"/);
    await oneLine(["--set", "preset=ppo", "--print-config"], /unknown preset "ppo"/);
  }, 60_000);

  it("validates the whole recipe before any work: an unknown objective option writes nothing", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "trainer-recipe-")), "run");
    await oneLine(
      ["--out", out, "--quiet", "--set", "objective.options.clipHihg=0.3"],
      /htpo\.clipHihg: unknown option; htpo takes difficultyThreshold, /,
    );
    expect(existsSync(join(out, "config.json"))).toBe(false);
    expect(existsSync(join(out, "metrics.jsonl"))).toBe(false);
  }, 60_000);

  it("an unwritable output folder is an error before training", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trainer-unwritable-"));
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    await oneLine(
      ["--out", join(file, "run"), "--quiet"],
      /out: cannot write to the output folder .*a-file\/run \(ENOTDIR\)/,
    );
    mkdirSync(join(dir, "ro"), { mode: 0o500 });
    if (process.getuid?.() !== 0)
      await oneLine(["--out", join(dir, "ro", "run"), "--quiet"], /cannot write to the output folder/);
  }, 60_000);
});
