import { existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { OpHandler } from "./op.js";

export interface LoadedOps {
  ops: Map<string, { handler: OpHandler; module: string }>;
  /** Modules that could not be imported or export no valid `ops`; their cases fail as unknown ops, with this reason. */
  errors: { module: string; message: string }[];
}

/** `ops/` beside this module: `src/ops` under vitest, `dist/ops` when built. */
export function defaultOpsDir(): string {
  return fileURLToPath(new URL("./ops/", import.meta.url));
}

function isOpModuleFile(name: string): boolean {
  if (name.endsWith(".d.ts") || name.includes(".test.")) return false;
  return /\.(js|mjs|ts|mts)$/.test(name);
}

/**
 * Imports every module in `dir` and merges their `ops` maps. An op exported by
 * two modules is an error (reported, the first one wins), so two packages
 * cannot silently claim the same case.
 */
export async function loadOpModules(dir: string = defaultOpsDir()): Promise<LoadedOps> {
  const loaded: LoadedOps = { ops: new Map(), errors: [] };
  if (!existsSync(dir)) {
    loaded.errors.push({ module: dir, message: "op module folder not found" });
    return loaded;
  }
  const files = readdirSync(dir).filter(isOpModuleFile).sort();
  // Under vitest both a .ts and (never, but defensively) a .js of one module could exist; load one per name.
  const seen = new Set<string>();
  for (const file of files) {
    const name = basename(file).replace(/\.(js|mjs|ts|mts)$/, "");
    if (seen.has(name)) continue;
    seen.add(name);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
    } catch (err) {
      loaded.errors.push({ module: name, message: `failed to load: ${(err as Error).message.split("\n")[0]}` });
      continue;
    }
    // `ops` is the map, or a function that builds it (from a registry, at load time).
    let ops = mod.ops;
    if (typeof ops === "function") {
      try {
        ops = (ops as () => unknown)();
      } catch (err) {
        loaded.errors.push({ module: name, message: `ops() failed: ${(err as Error).message.split("\n")[0]}` });
        continue;
      }
    }
    if (typeof ops !== "object" || ops === null) {
      loaded.errors.push({ module: name, message: "exports no `ops` object" });
      continue;
    }
    for (const [op, handler] of Object.entries(ops as Record<string, unknown>)) {
      if (typeof handler !== "function") {
        loaded.errors.push({ module: name, message: `ops["${op}"] is not a function` });
        continue;
      }
      const existing = loaded.ops.get(op);
      if (existing) {
        loaded.errors.push({
          module: name,
          message: `op "${op}" is also defined by ${existing.module}; keeping ${existing.module}'s`,
        });
        continue;
      }
      loaded.ops.set(op, { handler: handler as OpHandler, module: name });
    }
  }
  return loaded;
}
