import { packageTsupConfig } from "../../tooling/tsup.shared";

// errors/rng/registry are re-export entry points of @tokenrl/base (where the
// tensor-free parts live), kept so that existing imports keep working; one copy of
// each class, so `instanceof` holds across entry points.
//
// tfjs-core's gradient registrations exist only as extensionless ESM files that
// plain Node cannot import, so they are bundled here, as the @tensorflow/tfjs
// union package does; they register into tfjs-core's global registry and engine.
export default packageTsupConfig(["src/index.ts", "src/errors.ts", "src/rng.ts", "src/registry.ts"], {
  splitting: true,
  noExternal: [/^@tensorflow\/tfjs-core\/dist\/register_all_gradients/],
});
