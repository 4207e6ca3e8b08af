import { parseArgs } from "node:util";
import { defaultCasesDir } from "./paths.js";
import { summaryLine } from "./summary.js";

// TensorFlow.js and the op modules load only once there is work to do, so that
// --help and usage errors answer at once.
const BACKEND_NAMES = ["tensorflow", "wasm", "cpu"] as const;

const HELP = `usage: tokenrl-conformance [options] [DIR...]

Runs every case in every *.jsonl file of each DIR (or a single .jsonl file)
through the public API of the tokenrl packages and compares each value with
|got - want| <= atol + rtol * |want| (tooling/conformance/FORMAT.md).
Default DIR: the cases vendored in tooling/conformance/cases (325 reference
cases; $TOKENRL_CASES overrides).

Prints every failure (case id, field, largest error) and closes with the line
"N passed, M failed". Exits 1 when any case fails or cannot run (unknown op,
unknown param, missing input, malformed line), 2 on a usage error.

options:
  --backend NAME     tensor backend: ${BACKEND_NAMES.join(", ")} (default: the first that loads,
                     or $TOKENRL_BACKEND)
  --filter TEXT      only cases whose id contains TEXT (repeatable: any of them)
  --verbose          a line per case with its largest error, and per-op totals
  --help             this text`;

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`tokenrl-conformance: ${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const backend = values.backend;
  if (backend !== undefined && !(BACKEND_NAMES as readonly string[]).includes(backend)) {
    process.stderr.write(
      `tokenrl-conformance: --backend: unknown backend "${backend}"; expected one of ${BACKEND_NAMES.join(", ")}\n`,
    );
    return 2;
  }

  let dirs = positionals;
  if (dirs.length === 0) {
    const fallback = defaultCasesDir();
    if (!fallback.exists) {
      process.stderr.write(
        `tokenrl-conformance: the default cases folder ${fallback.path} does not exist (pass DIR, or set TOKENRL_CASES to a folder of *.jsonl cases)\n`,
      );
      return 1;
    }
    dirs = [fallback.path];
  }

  const [{ initBackend }, { loadOpModules }, { runConformance }] = await Promise.all([
    import("@tokenrl/core"),
    import("./load-ops.js"),
    import("./runner.js"),
  ]);
  await initBackend(backend ? { backend: backend as (typeof BACKEND_NAMES)[number] } : {});
  const loaded = await loadOpModules();
  for (const e of loaded.errors) process.stderr.write(`tokenrl-conformance: op module ${e.module}: ${e.message}\n`);
  if (values.verbose) process.stderr.write(`tokenrl-conformance: ops ${[...loaded.ops.keys()].sort().join(", ")}\n`);

  const summary = await runConformance(dirs, loaded, {
    filters: values.filter ?? [],
    verbose: values.verbose ?? false,
  });
  if (summary.passed + summary.failed === 0) {
    process.stderr.write(
      `tokenrl-conformance: no case${values.filter?.length ? " matched --filter" : " found"} in ${dirs.join(", ")}\n`,
    );
  }
  process.stdout.write(`${summaryLine(summary)}\n`);
  return summary.failed > 0 ? 1 : 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      backend: { type: "string" },
      filter: { type: "string", multiple: true },
      verbose: { type: "boolean", short: "v" },
      help: { type: "boolean", short: "h" },
    },
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tokenrl-conformance: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
