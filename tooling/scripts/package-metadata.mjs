#!/usr/bin/env node
// Every public package is published with the same metadata: public access
// (scoped packages are otherwise restricted), where it lives, its licence file,
// its changelog, ESM-only exports with types, Node >= 20. `--check` (the
// default, run by `pnpm test`) lists what is missing; `--write` fills it in.
import { copyFileSync, existsSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { root, workspacePackages } from "./workspace.mjs";

const REPO = "https://github.com/tokenrl/tokenrl";
const COMMON_KEYWORDS = ["reinforcement-learning", "rlvr", "llm", "tokenrl"];
// What a user searching the registry would type for each package.
const KEYWORDS = {
  "@tokenrl/base": ["errors", "registry", "seeded-rng"],
  "@tokenrl/core": ["tensorflowjs", "wasm", "masked-ops", "loss-aggregation"],
  "@tokenrl/advantages": ["grpo", "dr-grpo", "rloo", "reinforce-plus-plus", "gae", "advantage-estimation"],
  "@tokenrl/partitioners": ["htpo", "token-entropy", "token-partition"],
  "@tokenrl/objectives": ["ppo", "grpo", "dapo", "gspo", "sapo", "cispo", "htpo", "cppo", "policy-loss"],
  "@tokenrl/policy": ["transformer", "qwen", "llama", "safetensors", "tokenizer", "tensorflowjs"],
  "@tokenrl/rollout": ["generation", "kv-cache", "sampling", "openai-compatible", "vllm", "agent"],
  "@tokenrl/reward-math": ["math-verify", "verifier", "latex", "reward"],
  "@tokenrl/reward-code": ["sandbox", "code-execution", "pass-at-k", "reward"],
  "@tokenrl/envs": ["alfworld", "webshop", "agentgym", "environment"],
  "@tokenrl/tasks": ["datasets", "aime", "math-500", "verifiable-rewards"],
  "@tokenrl/train": ["adamw", "ppo", "gradient-accumulation", "checkpoint"],
  "@tokenrl/eval": ["pass-at-k", "evaluation", "bootstrap", "benchmark"],
  "@tokenrl/report": ["html-report", "svg-charts", "training-curves"],
};
// Packages whose modules register algorithms, kernels or gradients when imported:
// a bundler must not drop them as unused.
const HAS_IMPORT_SIDE_EFFECTS = new Set([
  "@tokenrl/core",
  "@tokenrl/advantages",
  "@tokenrl/partitioners",
  "@tokenrl/objectives",
  "@tokenrl/policy",
  "@tokenrl/rollout",
  "@tokenrl/train",
  "@tokenrl/tasks",
]);

const args = process.argv.slice(2);
if (args.includes("--help")) {
  console.log(`usage: node tooling/scripts/package-metadata.mjs [--check | --write]

Checks (default) or fills in the publishing metadata of every public workspace
package: publishConfig.access "public", repository/homepage/bugs, keywords,
sideEffects, files (dist, README.md, CHANGELOG.md, BENCHMARKS.md where there is one),
a LICENSE file, license
Apache-2.0, engines.node >= 20, "type": "module" and types in every export.`);
  process.exit(0);
}
const write = args.includes("--write");

/** The fields a public package must have, with the value --write gives them. */
function expectations(pkg, dir) {
  const directory = relative(root, dir);
  return {
    license: "Apache-2.0",
    type: "module",
    publishConfig: { ...(pkg.publishConfig ?? {}), access: "public" },
    repository: { type: "git", url: `git+${REPO}.git`, directory },
    homepage: `${REPO}/tree/main/${directory}#readme`,
    bugs: { url: `${REPO}/issues` },
    keywords: [...new Set([...COMMON_KEYWORDS, ...(KEYWORDS[pkg.name] ?? []), ...(pkg.keywords ?? [])])],
    sideEffects: HAS_IMPORT_SIDE_EFFECTS.has(pkg.name),
    engines: { ...(pkg.engines ?? {}), node: ">=20" },
    // README links to BENCHMARKS.md, so it ships where there is one.
    files: [
      ...new Set([
        ...(pkg.files ?? ["dist"]),
        "README.md",
        "CHANGELOG.md",
        ...(existsSync(join(dir, "BENCHMARKS.md")) ? ["BENCHMARKS.md"] : []),
      ]),
    ],
  };
}

const problems = [];
let changed = 0;
for (const { dir, pkg } of workspacePackages()) {
  const path = join(dir, "package.json");
  if (pkg.private) continue;
  const where = relative(root, path);
  const want = expectations(pkg, dir);
  const next = { ...pkg };
  for (const [key, value] of Object.entries(want)) {
    if (JSON.stringify(pkg[key]) !== JSON.stringify(value)) {
      problems.push(`${where}: ${key} is ${JSON.stringify(pkg[key])}, expected ${JSON.stringify(value)}`);
      next[key] = value;
    }
  }
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    if (typeof target !== "object" || !target.types || !target.import || target.require) {
      problems.push(`${where}: exports["${subpath}"] must be ESM-only with "types" and "import"`);
    }
  }
  if (!existsSync(join(dir, "README.md"))) problems.push(`${where}: no README.md`);
  if (!existsSync(join(dir, "LICENSE"))) {
    problems.push(`${where}: no LICENSE file (npm ships the package folder's LICENSE, not the repository's)`);
    if (write) copyFileSync(join(root, "LICENSE"), join(dir, "LICENSE"));
  }
  if (write && JSON.stringify(next) !== JSON.stringify(pkg)) {
    writeFileSync(path, `${JSON.stringify(next, null, 2)}\n`);
    changed++;
  }
}

if (write) {
  console.log(`package metadata: ${changed} package.json files updated, ${problems.length} fields fixed`);
} else if (problems.length) {
  console.log(problems.join("\n"));
  console.log(
    `package metadata: ${problems.length} problems (node tooling/scripts/package-metadata.mjs --write fixes the fields)`,
  );
  process.exit(1);
} else {
  console.log("package metadata: every public package is ready to publish");
}
