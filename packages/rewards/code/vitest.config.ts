import { packageVitestConfig } from "../../../tooling/vitest.shared";

export default packageVitestConfig({ testTimeout: 30_000 });
