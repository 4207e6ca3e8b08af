import { packageTsupConfig } from "../../tooling/tsup.shared";

// One entry per module, split so that the subpaths share one copy of each class
// (`instanceof` holds whichever entry a user imports).
export default packageTsupConfig(
  ["src/index.ts", "src/errors.ts", "src/rng.ts", "src/registry.ts", "src/worker-threads.ts"],
  {
    splitting: true,
  },
);
