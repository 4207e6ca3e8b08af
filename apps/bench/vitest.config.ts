import { packageVitestConfig } from "../../tooling/vitest.shared";

export default packageVitestConfig({ testTimeout: 120_000 });
