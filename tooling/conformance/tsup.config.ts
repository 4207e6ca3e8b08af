import { packageTsupConfig } from "../tsup.shared";

// Every file in src/ops is its own entry: the runner discovers op modules by
// listing dist/ops at run time, so a package's op module can be added (or be
// missing) without editing the runner. Splitting keeps one copy of op.ts, so
// its error classes stay `instanceof`-comparable across modules.
export default packageTsupConfig(["src/index.ts", "src/cli.ts", "src/ops/*.ts"], {
  splitting: true,
  banner: { js: "#!/usr/bin/env node" },
});
