import { packageTsupConfig } from "../../tooling/tsup.shared";

// `.` renders HTML strings anywhere (browser included); `./node` writes files and reads run folders.
export default packageTsupConfig(["src/index.ts", "src/node.ts"], { splitting: true });
