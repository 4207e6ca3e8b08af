import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..");
// The trainer's CLI as this package sees it (its devDependency's bin).
const cli = join(pkg, "node_modules", "@tokenrl", "trainer", "dist", "cli.js");

it("tokenrl-train loads this package as a plugin and trains with its objective", () => {
  const out = mkdtempSync(join(tmpdir(), "custom-objective-"));
  const r = spawnSync(
    process.execPath,
    [cli, "--config", join(pkg, "train.yaml"), "--out", out, "--quiet", "--fresh"],
    {
      cwd: pkg,
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  expect(r.status, r.stderr).toBe(0);
  const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
  expect(config.recipe.objective.name).toBe("vanilla-pg");
  const rl = readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((x) => x.phase === "rl" && !x.skipped);
  expect(rl.length).toBeGreaterThan(0);
  // The objective's own metric, under the trainer's actor/ prefix: the plugin's code ran.
  for (const x of rl) expect(Number.isFinite(x["actor/advantageMean"])).toBe(true);
}, 180_000);

it("without the plugin the objective is unknown, a one-line error naming it", () => {
  const r = spawnSync(
    process.execPath,
    [cli, "--config", join(pkg, "train.yaml"), "--set", "plugins=[]", "--print-config"],
    { cwd: pkg, encoding: "utf8", timeout: 60_000 },
  );
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(/unknown objective "vanilla-pg"/);
});

it("tokenrl-train --help lists the plugin's objective with its description and options", () => {
  const r = spawnSync(process.execPath, [cli, "--config", join(pkg, "train.yaml"), "--help"], {
    cwd: pkg,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/objectives: .*vanilla-pg/);
  expect(r.stdout).toMatch(/vanilla-pg: vanilla policy gradient: -A logp .*\n +options: aggregation, lossScaleFactor/);
});
