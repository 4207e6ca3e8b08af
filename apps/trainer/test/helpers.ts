import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { vi } from "vitest";

/** A run small enough for a test: addition of 1-digit numbers, a 1-layer 16-wide model, 4 prompts x 4 samples. */
export const TINY = {
  workers: 1,
  task: { name: "addition", options: { length: 1 } },
  model: { hiddenSize: 16, intermediateSize: 32, numLayers: 1, numHeads: 2, numKvHeads: 1, maxPositionEmbeddings: 32 },
  sft: { steps: 20, batchSize: 32, learningRate: 1e-2 },
  rl: { steps: 4, promptsPerStep: 4, groupSize: 4, maxGenerationBatches: 2, miniBatches: 2 },
  eval: { examples: 8, every: 2 },
  checkpoint: { every: 1 },
};

export const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

export function records(out: string, phase?: string) {
  const path = join(out, "metrics.jsonl");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return []; // a line being written
      }
    })
    .filter((r) => phase === undefined || r.phase === phase);
}

/** The records without wall-clock fields (timing_s/*, workers/*, perf/throughput), for run-to-run comparison. */
export function deterministic(rs: Record<string, unknown>[]) {
  return rs.map((r) =>
    Object.fromEntries(
      Object.entries(r).filter(
        ([k]) => !k.startsWith("timing_s/") && !k.startsWith("workers/") && k !== "perf/throughput",
      ),
    ),
  );
}

/** Runs the CLI; resolves with exit code, signal and output. `onStderr`/`killWhen` steer it. */
export function runCli(args: string[], options: { killWhen?: () => boolean } = {}) {
  return new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => {
        stdout += d;
      });
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      const timer = options.killWhen
        ? setInterval(() => {
            if (options.killWhen!()) child.kill("SIGKILL");
          }, 5)
        : undefined;
      child.on("error", reject);
      child.on("exit", (code, signal) => {
        if (timer) clearInterval(timer);
        resolve({ code, signal, stdout, stderr });
      });
    },
  );
}

/** Runs `run` with process.stderr captured (not printed); resolves with its result and every chunk written. */
export async function withStderr<T>(run: () => Promise<T>): Promise<{ result: T; written: string[] }> {
  const written: string[] = [];
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  try {
    return { result: await run(), written };
  } finally {
    spy.mockRestore();
  }
}
