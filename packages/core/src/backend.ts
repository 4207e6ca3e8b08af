import "@tensorflow/tfjs-backend-cpu";
import * as wasmBackend from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { BackendUnavailableError, ConfigError } from "@tokenrl/base/errors";
import { sliceInHeap } from "./heap-slice.js";
import { reduceGradientsWithFill } from "./reduce-gradients.js";
import { shareIdentityData } from "./shared-identity.js";
import { tf } from "./tf.js";

// Clones (every tensor the gradient tape saves) share their data on wasm instead of copying it.
shareIdentityData("wasm");
// Slices and splits copy inside the wasm heap instead of reading the whole input out of it once per output.
sliceInHeap("wasm");
// Sum's and Mean's gradients take their ones from the backend's Fill, not from a new JS array.
reduceGradientsWithFill();

/** The tensor backends tokenrl selects among, fastest first. */
export const BACKEND_NAMES = ["tensorflow", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  name: BackendName;
  /** Why this backend was chosen, in words, e.g. "forced by TOKENRL_BACKEND=cpu". */
  reason: string;
  /** Worker threads the backend computes with (1 for wasm in Node 20; see README). */
  threads: number;
  /** The npm package that provides the native backend, when `name` is "tensorflow". */
  nativePackage?: string;
}

export interface InitBackendOptions {
  /** Force one backend; default: `process.env.TOKENRL_BACKEND`, else the first that loads. */
  backend?: BackendName;
  /** Where the single start-up line goes; default: stderr. `null` silences it. */
  log?: ((line: string) => void) | null;
}

const NATIVE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

/** The backend chosen by `initBackend`, or undefined before it ran. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

function parseBackendName(value: string, source: string): BackendName {
  const name = value.trim().toLowerCase();
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new ConfigError(source, `unknown backend "${value}"; expected one of ${BACKEND_NAMES.join(", ")}`);
}

async function loadNative(): Promise<{ pkg: string } | { error: string }> {
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    try {
      require.resolve(pkg);
    } catch {
      failures.push(`${pkg} not installed`);
      continue;
    }
    try {
      // The native packages register the "tensorflow" backend on import.
      await import(pkg);
      if (tf.findBackendFactory("tensorflow")) return { pkg };
      failures.push(`${pkg} loaded but registered no "tensorflow" backend`);
    } catch (err) {
      failures.push(`${pkg} failed to load (${(err as Error).message.split("\n")[0]})`);
    }
  }
  return { error: failures.join("; ") };
}

async function activate(name: BackendName): Promise<boolean> {
  if (name === "cpu") {
    // tfjs-backend-cpu prints a "use tfjs-node" banner in Node unless told it is not needed.
    tf.env().set("IS_TEST", true);
  }
  try {
    const ok = await tf.setBackend(name);
    if (ok) await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Selects and initialises the tensor backend once per process: the native
 * `tensorflow` backend when `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`
 * loads, else `wasm`, else `cpu`. `TOKENRL_BACKEND` (or `options.backend`) forces
 * one, and a forced backend that cannot load is an error, not a silent fallback.
 * Prints one line saying which backend and why.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const forcedRaw = options.backend ?? process.env.TOKENRL_BACKEND;
  const forced = forcedRaw ? parseBackendName(forcedRaw, options.backend ? "backend" : "TOKENRL_BACKEND") : undefined;
  if (current && (!forced || forced === current.name)) return current;
  if (pending && !forced) return pending;
  pending = choose(forced, options.backend ? "backend option" : "TOKENRL_BACKEND");
  try {
    current = await pending;
  } finally {
    pending = undefined;
  }
  const log = options.log === undefined ? (line: string) => process.stderr.write(`${line}\n`) : options.log;
  log?.(
    `tokenrl: tensor backend ${current.name} (${current.reason}; ${current.threads} thread${current.threads === 1 ? "" : "s"})`,
  );
  return current;
}

async function choose(forced: BackendName | undefined, forcedBy: string): Promise<BackendInfo> {
  if (forced) {
    let nativePackage: string | undefined;
    if (forced === "tensorflow") {
      const native = await loadNative();
      if ("error" in native)
        throw new BackendUnavailableError(
          "tensorflow",
          `${native.error}; install @tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (CUDA)`,
        );
      nativePackage = native.pkg;
    }
    if (!(await activate(forced))) throw new BackendUnavailableError(forced, `tf.setBackend("${forced}") failed`);
    return {
      name: forced,
      reason: `forced by ${forcedBy}=${forced}`,
      threads: threadsOf(forced),
      ...(nativePackage ? { nativePackage } : {}),
    };
  }
  const native = await loadNative();
  if ("pkg" in native && (await activate("tensorflow"))) {
    return {
      name: "tensorflow",
      reason: `native ${native.pkg} loaded`,
      threads: threadsOf("tensorflow"),
      nativePackage: native.pkg,
    };
  }
  const why = "error" in native ? native.error : "native backend failed to initialise";
  if (await activate("wasm")) return { name: "wasm", reason: `no native backend: ${why}`, threads: threadsOf("wasm") };
  if (await activate("cpu"))
    return { name: "cpu", reason: `no native backend (${why}) and wasm failed to initialise`, threads: 1 };
  throw new BackendUnavailableError("any", "neither tensorflow, wasm nor cpu could be initialised");
}

function threadsOf(name: BackendName): number {
  if (name === "wasm") return wasmBackend.getThreadsCount();
  if (name === "tensorflow") return availableParallelism();
  return 1;
}

/**
 * Switches the active backend (used by tests that run the same op on every
 * backend). Unlike `initBackend` it does not log and does not consult the environment.
 */
export async function useBackend(name: BackendName): Promise<void> {
  if (name === "tensorflow") {
    const native = await loadNative();
    if ("error" in native) throw new BackendUnavailableError("tensorflow", native.error);
  }
  if (!(await activate(name))) throw new BackendUnavailableError(name, `tf.setBackend("${name}") failed`);
  current = { name, reason: "selected by useBackend", threads: threadsOf(name) };
}
