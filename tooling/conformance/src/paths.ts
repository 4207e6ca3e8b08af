import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the nearest folder above this module holding pnpm-workspace.yaml. */
export function repoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Where the public cases are: `$TOKENRL_CASES` when set, else the copy vendored
 * in this repository (`tooling/conformance/cases`, see its SOURCES.md), so a plain
 * clone checks all of them. Returns the path it looked at and whether it exists.
 */
export function defaultCasesDir(): { path: string; exists: boolean } {
  const fromEnv = process.env.TOKENRL_CASES;
  const path = fromEnv ? resolve(fromEnv) : join(packageDir(), "cases");
  return { path, exists: existsSync(path) };
}

/** tooling/conformance itself: dist/ or src/ sit one level below it. */
function packageDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..");
}
