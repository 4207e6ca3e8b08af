#!/usr/bin/env node
// What a user gets from npm: packs every public package (pnpm pack turns
// `workspace:*` into real versions), installs the tarballs into a scratch
// project outside the workspace, then checks each package's README examples
// there, as written: `tsc` under strict settings (JavaScript blocks with
// checkJs), and a run under plain Node ESM (TypeScript blocks as tsc emitted them). Third-party dependencies come from the npm registry.
// Closes with "N passed, M failed".
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { readmeBlocks, root, workspacePackages } from "./workspace.mjs";

const args = process.argv.slice(2);
if (args.includes("--help")) {
  console.log(`usage: node tooling/scripts/pack-install.mjs [--keep]

Packs every public workspace package, installs the tarballs into a scratch
project in the system temp folder (outside the workspace), and checks every
\`\`\`js / \`\`\`ts block of each package README there: strict tsc, then a run
under plain Node (blocks fenced "no-run" are type-checked only).
--keep leaves the scratch project in place and prints its path.`);
  process.exit(0);
}
const keep = args.includes("--keep");

function run(cmd, cmdArgs, cwd, timeout = 600_000) {
  return spawnSync(cmd, cmdArgs, { cwd, encoding: "utf8", timeout, env: { ...process.env, npm_config_fund: "false" } });
}

function publicPackages() {
  return workspacePackages().filter(({ pkg }) => !pkg.private);
}

const scratch = mkdtempSync(join(tmpdir(), "tokenrl-user-"));
const tarballs = join(scratch, "tarballs");
mkdirSync(tarballs);
const packages = publicPackages();
const files = {};
for (const { dir, pkg } of packages) {
  const r = run("pnpm", ["pack", "--pack-destination", tarballs], dir);
  if (r.status !== 0) {
    console.error(`pack ${pkg.name} failed:\n${r.stderr || r.stdout}`);
    process.exit(1);
  }
  // pnpm pack prints the tarball's path as its last line.
  const tgz = r.stdout.trim().split("\n").at(-1);
  files[pkg.name] = `file:${tgz}`;
}

const project = join(scratch, "user-project");
mkdirSync(project);
writeFileSync(
  join(project, "package.json"),
  JSON.stringify(
    {
      name: "tokenrl-user-project",
      private: true,
      type: "module",
      dependencies: files,
      // The tarballs depend on each other by version; point those at the tarballs too.
      overrides: files,
      devDependencies: { typescript: "5.9.3", "@types/node": "^20.19.0" },
    },
    null,
    2,
  ),
);
writeFileSync(
  join(project, "tsconfig.json"),
  JSON.stringify(
    {
      compilerOptions: {
        strict: true,
        module: "NodeNext",
        moduleResolution: "NodeNext",
        target: "ES2022",
        lib: ["ES2023", "DOM"],
        allowJs: true,
        checkJs: true,
        // Emitted even on a type error, so that a TypeScript example still runs.
        outDir: "out",
        skipLibCheck: false,
      },
      include: ["examples/**/*.mts", "examples/**/*.mjs"],
    },
    null,
    2,
  ),
);
console.log(`== npm install of ${packages.length} tarballs into ${project}`);
const install = run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], project);
if (install.status !== 0) {
  console.error(`npm install failed:\n${install.stderr || install.stdout}`);
  process.exit(1);
}
const inWorkspace = relative(root, project).startsWith("..") === false;
if (inWorkspace) throw new Error(`scratch project ${project} is inside the workspace`);

const examples = join(project, "examples");
mkdirSync(examples);
const runnable = [];
for (const { dir, pkg } of packages) {
  const readme = join(dir, "README.md");
  if (!existsSync(readme)) continue;
  const text = readFileSync(readme, "utf8");
  readmeBlocks(text).forEach(({ lang, info, code }, i) => {
    const stem = `${basename(dir)}-${i + 1}`;
    // JavaScript is checked as JavaScript (checkJs) and runs as written; TypeScript
    // is checked as TypeScript and runs as tsc emitted it.
    const js = lang.startsWith("j");
    const source = join(examples, `${stem}.${js ? "mjs" : "mts"}`);
    writeFileSync(source, code);
    if (/no-run/.test(info)) return;
    runnable.push({
      file: js ? source : join(project, "out", `${stem}.mjs`),
      where: `${pkg.name} README example ${i + 1}`,
    });
  });
}

let passed = 0;
let failed = 0;
const tsc = run(join(project, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], project);
if (tsc.status === 0) {
  passed++;
  console.log("ok   tsc (strict) over every README example");
} else {
  failed++;
  console.log(`FAIL tsc (strict) over the README examples\n${tsc.stdout.trim()}`);
}
for (const { file, where } of runnable) {
  const started = performance.now();
  const r = run(process.execPath, [file], project, 180_000);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (r.status === 0) {
    passed++;
    console.log(`ok   ${where} under plain Node (${seconds}s)`);
  } else {
    failed++;
    const tail = (r.stderr || r.stdout).trim().split("\n").slice(-12).join("\n");
    console.log(`FAIL ${where} under plain Node (exit ${r.status ?? r.signal}, ${seconds}s)\n${tail}`);
  }
}
if (keep) console.log(`scratch project kept at ${project}`);
else rmSync(scratch, { recursive: true, force: true });
console.log(`pack and install: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
