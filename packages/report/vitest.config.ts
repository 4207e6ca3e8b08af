import { packageVitestConfig } from "../../tooling/vitest.shared";

export default packageVitestConfig();
