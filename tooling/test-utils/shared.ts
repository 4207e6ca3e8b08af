import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The public reference data the tests read, vendored in this repository with
 * their SOURCES (copied from the project's shared folder), keyed by the path
 * they have there. A user's clone has all of them, so nothing skips.
 */
const VENDORED: ReadonlyArray<readonly [prefix: string, repoPath: string]> = [
  ["conformance/cases", "tooling/conformance/cases"],
  ["fixtures/math-verify", "packages/rewards/math/test/fixtures/math-verify"],
  ["data", "packages/tasks/data"],
];

/** The repository path of a reference file or folder (`conformance/cases/aggregate.jsonl`, `data/aime24.jsonl`). */
export function referencePath(relative: string): string {
  for (const [prefix, repoPath] of VENDORED) {
    if (relative === prefix || relative.startsWith(`${prefix}/`)) {
      const path = join(repoRoot, repoPath, relative.slice(prefix.length));
      if (!existsSync(path))
        throw new Error(`reference data ${relative} is missing from the repository (expected at ${path})`);
      return path;
    }
  }
  throw new Error(`no vendored reference data for ${relative}; known: ${VENDORED.map(([p]) => p).join(", ")}`);
}

/**
 * Kept for the tests written when the data lived only outside the repository:
 * now always the vendored path (the second argument is unused).
 */
export function sharedPath(relative: string, _whatIsSkipped?: string): string {
  return referencePath(relative);
}
