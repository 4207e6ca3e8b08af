import { TokenrlError } from "@tokenrl/base/errors";
import { type Command, parse } from "./args.js";
import { compareCommand } from "./commands/compare.js";
import { evalCommand } from "./commands/eval.js";
import { reportCommand } from "./commands/report.js";
import { scoreCommand } from "./commands/score.js";
import { serveCommand } from "./commands/serve.js";

export const COMMANDS: readonly Command[] = [evalCommand, compareCommand, reportCommand, serveCommand, scoreCommand];

const HELP = `tokenrl-bench: evaluate, compare and serve language models on verifiable benchmarks

usage: tokenrl-bench COMMAND [options]     (tokenrl-bench COMMAND --help for its options)

${COMMANDS.map((c) => `  ${c.name.padEnd(9)} ${c.summary}`).join("\n")}

examples:
  tokenrl-bench eval --benchmark aime24 --model ./checkpoint --n 16 --k 1,4,16 --out runs/aime24
  tokenrl-bench eval --benchmark math500 --base-url http://127.0.0.1:8000 --model Qwen/Qwen3-8B --api chat
  tokenrl-bench compare --recipes htpo,dapo --seeds 0,1 --steps 40 --out runs/compare
  tokenrl-bench serve --model ./checkpoint --port 8000
`;

/** Runs the CLI; returns the exit code (2 for bad usage, 1 for a failure). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(HELP);
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(
      `tokenrl-bench: unknown command "${name}"; commands: ${COMMANDS.map((c) => c.name).join(", ")}\n`,
    );
    return 2;
  }
  try {
    const { values, positionals } = parse(command, rest);
    if (values.help) {
      process.stdout.write(command.help);
      return 0;
    }
    return await command.run(values, positionals);
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (err instanceof TokenrlError || code.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`tokenrl-bench ${name}: ${(err as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`tokenrl-bench ${name}: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
