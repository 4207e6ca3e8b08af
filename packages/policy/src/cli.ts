import { runPolicyCli } from "./commands.js";

process.exitCode = await runPolicyCli(process.argv.slice(2));
