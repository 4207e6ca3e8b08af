import { execSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The pool and CLI tests run dist/ (worker threads cannot load .ts): rebuild it when src/ is newer. */
export default function setup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const built = [join(root, "dist", "worker.js"), join(root, "dist", "cli.js")];
  const newestSrc = Math.max(...readdirSync(join(root, "src")).map((f) => statSync(join(root, "src", f)).mtimeMs));
  if (built.every((f) => existsSync(f) && statSync(f).mtimeMs >= newestSrc)) return;
  execSync("pnpm exec tsup --silent", { cwd: root, stdio: "inherit" });
}
