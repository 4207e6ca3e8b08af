/**
 * Argument parsing for `tokenrl-env`, separate from the process wiring so it can
 * be tested without spawning a process.
 */
import { ConfigError } from "@tokenrl/base/errors";

export const HELP = `Usage: tokenrl-env serve <alfworld|webshop> [options]

Serve an offline environment with the AgentGym server's routes and bodies:
  alfworld  a generated text household (ALFWorld's 6 task types, games 0-2419
            train, 2420-2619 held-out), routes / /create /reset /step
            /available_actions /observation /detail
  webshop   a generated shop (BM25 search, item pages, options, Buy Now,
            WebShop's reward; sessions 0-499 held-out, 500-5999 train), routes
            / /list_envs /create /reset /step /available_actions
            /instruction_text /observation /state

Options:
  --port N            port to listen on (default 36001 alfworld, 36003 webshop; 0 = any free port)
  --host H            address to bind (default 127.0.0.1)
  --seed S            seed of the generated games / catalogue (default 0)
  --max-steps N       alfworld: steps before an unsolved game ends, a positive
                      integer (default 50)
  --max-envs N        most environments alive at once (default 1024); creating one
                      more evicts the least recently used one if it has been idle
                      for --evict-idle-ms, else /create answers {"error": ...}
  --evict-idle-ms N   idle time after which an environment may be evicted
                      (default 60000)
  --max-body-bytes N  largest request body; larger ones get 413 (default 1048576)
  --fault-503-rate R  answer this fraction of requests with 503 (testing clients)

Both servers also answer POST /close ({"id"} alfworld, {"env_idx"} webshop) to
free an environment, as AgentGym's TextCraft and BabyAI servers do. A search
uses at most its first 500 characters.
  -h, --help          show this help
`;

export interface ServeArgs {
  readonly which: "alfworld" | "webshop";
  readonly port: number;
  readonly host: string;
  readonly seed: number;
  readonly maxSteps: number | undefined;
  readonly rate503: number | undefined;
  readonly maxEnvs: number | undefined;
  readonly evictIdleMs: number | undefined;
  readonly maxBodyBytes: number | undefined;
}

/** `{ help: true }` for --help / no arguments; throws ConfigError naming the bad argument. */
export function parseCliArgs(argv: readonly string[]): { help: true } | ({ help: false } & ServeArgs) {
  const args = [...argv];
  if (args.length === 0 || args.includes("--help") || args.includes("-h")) return { help: true };
  const [command, which] = args.splice(0, 2);
  if (command !== "serve") throw new ConfigError("command", `unknown command "${command}" (expected "serve")`);
  if (which !== "alfworld" && which !== "webshop") {
    throw new ConfigError("environment", `serve needs "alfworld" or "webshop", got "${which ?? ""}"`);
  }
  const port = numberFlag(args, "--port") ?? (which === "alfworld" ? 36001 : 36003);
  const host = stringFlag(args, "--host") ?? "127.0.0.1";
  const seed = numberFlag(args, "--seed") ?? 0;
  const maxSteps = numberFlag(args, "--max-steps");
  const rate503 = numberFlag(args, "--fault-503-rate");
  const maxEnvs = numberFlag(args, "--max-envs");
  const evictIdleMs = numberFlag(args, "--evict-idle-ms");
  const maxBodyBytes = numberFlag(args, "--max-body-bytes");
  if (args.length > 0) throw new ConfigError("options", `unknown option(s): ${args.join(" ")}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError("--port", `expected 0-65535, got ${port}`);
  if (rate503 !== undefined && !(rate503 >= 0 && rate503 <= 1)) {
    throw new ConfigError("--fault-503-rate", `expected a number in [0, 1], got ${rate503}`);
  }
  if (!Number.isInteger(seed)) throw new ConfigError("--seed", `expected an integer, got ${seed}`);
  if (maxSteps !== undefined && which !== "alfworld")
    throw new ConfigError("--max-steps", "applies to alfworld only (WebShop has no step limit)");
  positiveInt("--max-steps", maxSteps);
  positiveInt("--max-envs", maxEnvs);
  positiveInt("--max-body-bytes", maxBodyBytes);
  if (evictIdleMs !== undefined && !(Number.isInteger(evictIdleMs) && evictIdleMs >= 0))
    throw new ConfigError("--evict-idle-ms", `expected a non-negative integer, got ${evictIdleMs}`);
  return { help: false, which, port, host, seed, maxSteps, rate503, maxEnvs, evictIdleMs, maxBodyBytes };
}

function positiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 1))
    throw new ConfigError(name, `expected a positive integer, got ${v}`);
}

function numberFlag(args: string[], name: string): number | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(args[i + 1]);
  if (args[i + 1] === undefined || !Number.isFinite(v))
    throw new ConfigError(name, `needs a number, got ${JSON.stringify(args[i + 1])}`);
  args.splice(i, 2);
  return v;
}

function stringFlag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined) throw new ConfigError(name, "needs a value");
  args.splice(i, 2);
  return v;
}
