#!/usr/bin/env node
// Runs every ```js / ```ts example in the packages' and apps' READMEs as
// written, from inside its package folder (so the package's own name and its
// dependencies resolve as they would for a user). A block fenced as
// ```js no-run or ```ts no-run is shown, not run (e.g. one that needs a GPU or
// a real ALFWorld server). Closes with "N passed, M failed".
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { readmeBlocks, root, workspacePackages } from "./workspace.mjs";

const args = process.argv.slice(2);
if (args.includes("--help")) {
  console.log(
    "usage: node tooling/scripts/readme-examples.mjs [PACKAGE_DIR...]\nRuns the js/ts code blocks of each package README; exits 1 if any fails.",
  );
  process.exit(0);
}

function packageDirs() {
  return workspacePackages()
    .map(({ dir }) => dir)
    .filter((dir) => existsSync(join(dir, "README.md")));
}

const tsx = join(root, "node_modules", ".bin", "tsx");
const dirs = args.length ? args.map((a) => join(process.cwd(), a)) : packageDirs();
let passed = 0;
let failed = 0;
for (const dir of dirs) {
  const text = readFileSync(join(dir, "README.md"), "utf8");
  const blocks = readmeBlocks(text);
  let index = 0;
  for (const { lang, info, code } of blocks) {
    index++;
    if (/no-run/.test(info)) continue;
    const ts = lang.startsWith("t");
    const file = join(dir, `.readme-example-${index}.${ts ? "mts" : "mjs"}`);
    writeFileSync(file, code);
    const started = performance.now();
    const r = spawnSync(ts ? tsx : process.execPath, [file], {
      cwd: dir,
      encoding: "utf8",
      timeout: 180_000,
      env: { ...process.env, TOKENRL_BACKEND: process.env.TOKENRL_BACKEND ?? "" },
    });
    rmSync(file, { force: true });
    const where = `${relative(root, dir)}/README.md example ${index}`;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (r.status === 0) {
      passed++;
      console.log(`ok   ${where} (${seconds}s)`);
    } else {
      failed++;
      console.log(
        `FAIL ${where} (exit ${r.status ?? r.signal}, ${seconds}s)\n${(r.stderr || r.stdout)
          .trim()
          .split("\n")
          .slice(-15)
          .map((l) => (l.length > 300 ? `${l.slice(0, 300)}...` : l))
          .join("\n")}`,
      );
    }
  }
}
console.log(`README examples: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
