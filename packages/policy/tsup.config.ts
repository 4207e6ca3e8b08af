import { packageTsupConfig } from "../../tooling/tsup.shared";

// The CLI is its own entry (bin/tokenrl-policy.js imports dist/cli.js); splitting
// keeps one copy of the library shared by both entries. The shebang is harmless
// on the library entry: Node accepts a hashbang line in ES modules.
export default packageTsupConfig(["src/index.ts", "src/cli.ts"], {
  splitting: true,
  banner: { js: "#!/usr/bin/env node" },
});
