import { spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** A workspace CLI next to a package's main entry (dist/index.js -> dist/cli.js). */
function cliOf(pkg) {
  return join(dirname(fileURLToPath(import.meta.resolve(pkg))), "cli.js");
}

export const trainerCli = () => cliOf("@tokenrl/trainer");
export const benchCli = () => cliOf("@tokenrl/bench");

/** Runs `node args...`, output appended to `logPath`; rejects naming the log on a non-zero exit. */
export function runNode(args, logPath) {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(logPath, { flags: "a" });
    log.write(`$ node ${args.join(" ")}\n`);
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on("error", (err) => log.end(() => reject(err)));
    child.on("close", (code, signal) =>
      log.end(() =>
        code === 0
          ? resolve()
          : reject(new Error(`${args[0]} ${args[1] ?? ""} exited with ${signal ?? code}; see ${logPath}`)),
      ),
    );
  });
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

export function readJsonl(path) {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}
