import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ConfigError } from "@tokenrl/core";

/** Packages a plugin must share with the trainer: a second copy means a second tfjs engine and registries. */
const SHARED = [
  "@tensorflow/tfjs-core",
  "@tokenrl/core",
  "@tokenrl/objectives",
  "@tokenrl/advantages",
  "@tokenrl/partitioners",
  "@tokenrl/train",
];

/**
 * The folder of package `name` as Node would find it from `fromDir`: the
 * enclosing package itself when it has that name (self-reference), else the
 * first node_modules/<name> walking up; real path.
 */
function packageDir(name: string, fromDir: string, self = false): string | undefined {
  let dir = fromDir;
  for (;;) {
    const own = join(dir, "package.json");
    if (self && existsSync(own)) {
      try {
        if ((JSON.parse(readFileSync(own, "utf8")) as { name?: string }).name === name) return realpathSync(dir);
      } catch {
        // not a package.json we can read: keep looking
      }
    }
    const candidate = join(dir, "node_modules", name, "package.json");
    if (existsSync(candidate)) return realpathSync(dirname(candidate));
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The ESM entry file of a package folder (exports "." import/default, else module/main, else index.js). */
function entryOf(dir: string): string {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    exports?: unknown;
    module?: string;
    main?: string;
  };
  let e: unknown = pkg.exports;
  if (e && typeof e === "object" && "." in (e as object)) e = (e as Record<string, unknown>)["."];
  for (let i = 0; i < 4 && e && typeof e === "object"; i++) {
    const o = e as Record<string, unknown>;
    e = o.import ?? o.node ?? o.default;
  }
  return join(dir, typeof e === "string" ? e : (pkg.module ?? pkg.main ?? "index.js"));
}

const here = dirname(fileURLToPath(import.meta.url));

export interface ResolvedPlugin {
  spec: string;
  /** The file imported. */
  file: string;
  /** The plugin's package folder (or the file's folder). */
  dir: string;
}

/**
 * Resolves a plugin (a package name, or a file path relative to `baseDir`)
 * and checks that it would load the trainer's own copies of tfjs and the
 * registries: a plugin with its own copy is an error naming both folders,
 * before anything of it runs.
 */
export function resolvePlugin(spec: string, baseDir: string): ResolvedPlugin {
  const isPath = spec.startsWith(".") || isAbsolute(spec) || spec.endsWith(".js") || spec.endsWith(".mjs");
  let file: string;
  let dir: string;
  if (isPath) {
    file = resolve(baseDir, spec);
    if (!existsSync(file)) throw new ConfigError("plugins", `plugin "${spec}" not found: no file ${file}`);
    dir = dirname(file);
  } else {
    const found = packageDir(spec, baseDir, true) ?? packageDir(spec, process.cwd(), true);
    if (!found)
      throw new ConfigError(
        "plugins",
        `unknown plugin "${spec}": no package of that name is installed (looked up from ${baseDir})`,
      );
    dir = found;
    file = entryOf(dir);
  }
  // tfjs is found from where @tokenrl/core is (it is core's dependency), on both sides.
  const ourCore = packageDir("@tokenrl/core", here);
  const theirCore = packageDir("@tokenrl/core", dir);
  for (const name of SHARED) {
    const tfjs = name.startsWith("@tensorflow/");
    const theirs = packageDir(name, dir) ?? (tfjs && theirCore ? packageDir(name, theirCore) : undefined);
    const ours = tfjs ? (ourCore ? packageDir(name, ourCore) : undefined) : packageDir(name, here);
    if (theirs && ours && theirs !== ours) {
      throw new ConfigError(
        "plugins",
        `plugin "${spec}" brings its own copy of ${name} (${theirs}; the trainer's is ${ours}): declare ${name} as a peerDependency of the plugin so both load one instance`,
      );
    }
  }
  return { spec, file, dir };
}

/** Imports every plugin in order (after `resolvePlugin`'s checks); a plugin that throws is an error naming it. */
export async function loadPlugins(specs: readonly string[], baseDir: string): Promise<ResolvedPlugin[]> {
  const loaded: ResolvedPlugin[] = [];
  for (const spec of specs) {
    const plugin = resolvePlugin(spec, baseDir);
    try {
      await import(pathToFileURL(plugin.file).href);
    } catch (err) {
      throw new ConfigError("plugins", `plugin "${spec}" failed to load: ${(err as Error).message}`);
    }
    loaded.push(plugin);
  }
  return loaded;
}
