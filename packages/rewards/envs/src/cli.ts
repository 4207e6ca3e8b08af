/**
 * `tokenrl-env serve alfworld|webshop --port N`: serve an offline environment
 * over the AgentGym HTTP protocol, so the ALFWorld/WebShop adapters (or any
 * AgentGym client) can talk to it.
 */
import { createAlfWorldServer } from "./serve/alfworld-server.js";
import { HELP, parseCliArgs } from "./serve/args.js";
import type { JsonServer } from "./serve/http-server.js";
import { createWebShopServer } from "./serve/webshop-server.js";

async function main(argv: string[]): Promise<void> {
  let args: ReturnType<typeof parseCliArgs>;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    process.stderr.write(`tokenrl-env: ${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  const { which, port, host, seed, maxSteps, rate503, maxEnvs, evictIdleMs, maxBodyBytes } = args;
  const faults = rate503 ? { rate503, seed } : {};
  const limits = { maxEnvs, evictIdleMs, maxBodyBytes };
  const server: JsonServer =
    which === "alfworld"
      ? createAlfWorldServer({ seed, maxSteps, faults, limits })
      : createWebShopServer({ seed, faults, limits });
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
