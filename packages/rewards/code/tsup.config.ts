import { packageTsupConfig } from "../../../tooling/tsup.shared";

// cli.ts is the `tokenrl-code-eval` bin; the shebang banner is harmless on the library entry
// (Node ignores a leading #! in ES modules) and one config avoids two builds racing on `clean`.
export default packageTsupConfig(["src/index.ts", "src/cli.ts"], { banner: { js: "#!/usr/bin/env node" } });
