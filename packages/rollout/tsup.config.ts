import { packageTsupConfig } from "../../tooling/tsup.shared";

export default packageTsupConfig(["src/index.ts", "src/node.ts"]);
