/**
 * `tokenrl-env serve alfworld|webshop --port N`: serve an offline environment
 * over the AgentGym HTTP protocol, so the ALFWorld/WebShop adapters (or any
 * AgentGym client) can talk to it.
 */
import { createAlfWorldServer } from "./serve/alfworld-server.js";
import type { JsonServer } from "./serve/http-server.js";
import { createWebShopServer } from "./serve/webshop-server.js";

const HELP = `Usage: tokenrl-env serve <alfworld|webshop> [options]

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
  --max-steps N       alfworld: steps before an unsolved game ends (default 50)
  --fault-503-rate R  answer this fraction of requests with 503 (testing clients)
  -h, --help          show this help
`;

function fail(message: string): never {
  process.stderr.write(`tokenrl-env: ${message}\n\n${HELP}`);
  process.exit(2);
}

function numberFlag(args: string[], name: string): number | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(args[i + 1]);
  if (args[i + 1] === undefined || !Number.isFinite(v)) fail(`${name} needs a number`);
  args.splice(i, 2);
  return v;
}

function stringFlag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined) fail(`${name} needs a value`);
  args.splice(i, 2);
  return v;
}

async function main(argv: string[]): Promise<void> {
  const args = [...argv];
  if (args.length === 0 || args.includes("--help") || args.includes("-h")) {
    process.stdout.write(HELP);
    return;
  }
  const [command, which] = args.splice(0, 2);
  if (command !== "serve") fail(`unknown command "${command}"`);
  if (which !== "alfworld" && which !== "webshop") fail(`serve needs "alfworld" or "webshop", got "${which ?? ""}"`);
  const port = numberFlag(args, "--port") ?? (which === "alfworld" ? 36001 : 36003);
  const host = stringFlag(args, "--host") ?? "127.0.0.1";
  const seed = numberFlag(args, "--seed") ?? 0;
  const maxSteps = numberFlag(args, "--max-steps");
  const rate503 = numberFlag(args, "--fault-503-rate");
  if (args.length > 0) fail(`unknown option(s): ${args.join(" ")}`);
  const faults = rate503 ? { rate503, seed } : {};
  const server: JsonServer =
    which === "alfworld" ? createAlfWorldServer({ seed, maxSteps, faults }) : createWebShopServer({ seed, faults });
  const url = await server.listen(port, host);
  process.stderr.write(`tokenrl-env: ${which} listening on ${url}\n`);
  const stop = () => {
    process.stderr.write("tokenrl-env: shutting down\n");
    void server.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`tokenrl-env: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
