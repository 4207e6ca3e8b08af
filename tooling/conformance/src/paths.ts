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
 * Where the public cases are: `$TOKENRL_SHARED/conformance/cases`, else
 * `../shared/conformance/cases` beside the repository (as tooling/test-utils
 * finds shared/). Returns the path it looked at and whether it exists.
 */
export function defaultCasesDir(): { path: string; exists: boolean } {
  const fromEnv = process.env.TOKENRL_SHARED;
  const root = repoRoot();
  const path = fromEnv
    ? join(resolve(fromEnv), "conformance", "cases")
    : join(root ?? process.cwd(), "..", "shared", "conformance", "cases");
  return { path, exists: existsSync(path) };
}
