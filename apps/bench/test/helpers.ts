import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend } from "@tokenrl/core";
import { CharTokenizer, createPolicy, makeConfig, savePolicy } from "@tokenrl/policy";

/** A tiny random Qwen3-style checkpoint with a character tokenizer, saved in Hugging Face format. */
export async function tinyCheckpoint(seed = 7): Promise<string> {
  await initBackend({ log: null });
  const dir = mkdtempSync(join(tmpdir(), "bench-ckpt-"));
  const tokenizer = new CharTokenizer();
  const model = createPolicy(
    makeConfig({
      modelType: "qwen3",
      vocabSize: tokenizer.vocabSize,
      hiddenSize: 16,
      intermediateSize: 32,
      numLayers: 1,
      numHeads: 2,
      numKvHeads: 1,
      headDim: 8,
      eosTokenId: tokenizer.eosTokenId,
      padTokenId: tokenizer.padTokenId,
      initializerRange: 0.3,
      maxPositionEmbeddings: 512,
    }),
    { seed },
  );
  await savePolicy(dir, model, tokenizer, { dtype: "float32" });
  model.dispose();
  return dir;
}

/** A benchmark JSONL in the {id, problem, answer} form. */
export function writeBenchmark(rows: { id: string; problem: string; answer: string }[]): string {
  const dir = mkdtempSync(join(tmpdir(), "bench-data-"));
  const path = join(dir, "tiny.jsonl");
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join("\n"));
  return path;
}

/** Runs the CLI in-process, capturing stdout and stderr. */
export async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import("../src/cli-main.js");
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  const capture = (into: string[]) =>
    ((s: string) => {
      into.push(String(s));
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  try {
    const code = await main(args);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}
