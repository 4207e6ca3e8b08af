import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";

/** Runs `node args...` with stdout and stderr to `logPath`; rejects with the log's path on a non-zero exit. */
export function runNode(args: readonly string[], logPath: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(logPath, { flags: "a" });
    log.write(`$ node ${args.join(" ")}\n`);
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on("error", (err) => {
      log.end();
      reject(err);
    });
    child.on("close", (code, signal) => {
      log.end(() => {
        if (code === 0) resolve();
        else reject(new Error(`node ${args.slice(0, 2).join(" ")} ... exited with ${signal ?? code}; see ${logPath}`));
      });
    });
  });
}

/** Runs `tasks` with at most `limit` in flight; the first failure is thrown after the running ones settle. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (failure === undefined && next < items.length) {
        const i = next++;
        try {
          await work(items[i]!, i);
        } catch (err) {
          failure ??= err;
        }
      }
    }),
  );
  if (failure !== undefined) throw failure;
}
