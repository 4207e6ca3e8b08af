import { packageTsupConfig } from "../../tooling/tsup.shared";

// errors/rng/registry are also entry points so that tensor-free packages (rewards,
// envs) can use them without loading TensorFlow.js; splitting keeps one copy of
// each class so `instanceof` holds across entry points.
export default packageTsupConfig(["src/index.ts", "src/errors.ts", "src/rng.ts", "src/registry.ts"], { splitting: true });
