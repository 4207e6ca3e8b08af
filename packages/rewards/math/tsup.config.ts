import { packageTsupConfig } from "../../../tooling/tsup.shared";

// The worker is its own entry: the pool starts it as `dist/worker.js`. The shebang
// banner is for the CLI bin; a hashbang line is valid at the top of any ES module.
export default packageTsupConfig(["src/index.ts", "src/worker.ts", "src/cli.ts"], {
  splitting: true,
  banner: { js: "#!/usr/bin/env node" },
});
