import { packageTsupConfig } from "../../tooling/tsup.shared";

// `.` is browser-safe (no node: imports); `./node` adds the samples.jsonl file store.
export default packageTsupConfig(["src/index.ts", "src/node.ts"], { splitting: true });
