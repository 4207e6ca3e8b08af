import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Where the read-only `shared/` folder (design docs, conformance cases,
 * Math-Verify fixtures, benchmark data) is: `$TOKENRL_SHARED`, else `../shared`
 * beside the repository. Undefined in a user's clone, where tests that need it
 * skip and say so.
 */
export function sharedDir(): string | undefined {
  const fromEnv = process.env.TOKENRL_SHARED;
  if (fromEnv) return existsSync(fromEnv) ? resolve(fromEnv) : undefined;
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
  const candidate = join(repoRoot, "..", "shared");
  return existsSync(candidate) ? candidate : undefined;
}

/** Path inside shared/, or undefined (with one console line saying what is skipped) when absent. */
export function sharedPath(relative: string, whatIsSkipped: string): string | undefined {
  const dir = sharedDir();
  const path = dir ? join(dir, relative) : undefined;
  if (!path || !existsSync(path)) {
    console.warn(
      `[skip] ${whatIsSkipped}: ${relative} not found (no ../shared beside the repo; set TOKENRL_SHARED to point at it)`,
    );
    return undefined;
  }
  return path;
}
