// What the repository scripts share: where the workspace packages are, and how
// a README's code blocks are read.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Every workspace package folder under packages/, packages/rewards/ and apps/, with its package.json. */
export function workspacePackages() {
  const found = [];
  for (const parent of ["packages", "packages/rewards", "apps"]) {
    const abs = join(root, parent);
    if (!existsSync(abs)) continue;
    for (const name of readdirSync(abs)) {
      const dir = join(abs, name);
      const manifest = join(dir, "package.json");
      if (existsSync(manifest)) found.push({ dir, pkg: JSON.parse(readFileSync(manifest, "utf8")) });
    }
  }
  return found;
}

/** The ```js / ```ts blocks of a README: `{ lang, info, code }` in order (`info` holds flags such as "no-run"). */
export function readmeBlocks(text) {
  return [...text.matchAll(/^```(js|ts|javascript|typescript)[ \t]*([^\n]*)\n([\s\S]*?)^```/gm)].map(
    ([, lang, info, code]) => ({ lang, info, code }),
  );
}
