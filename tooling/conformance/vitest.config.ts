import { packageVitestConfig } from "../vitest.shared";

export default packageVitestConfig();
