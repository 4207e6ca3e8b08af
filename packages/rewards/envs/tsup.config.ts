import { packageTsupConfig } from "../../../tooling/tsup.shared";

// The CLI is its own entry; splitting keeps one copy of the engines shared between
// the library entry and the CLI. The shebang banner lands on every emitted file,
// which is harmless for ESM (Node skips a leading hashbang) and makes dist/cli.js
// executable as the `tokenrl-env` bin.
export default packageTsupConfig(["src/index.ts", "src/cli.ts"], {
  splitting: true,
  banner: { js: "#!/usr/bin/env node" },
});
