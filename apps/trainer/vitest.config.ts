import { packageVitestConfig } from "../../tooling/vitest.shared";

export default packageVitestConfig({ testTimeout: 180_000 });
