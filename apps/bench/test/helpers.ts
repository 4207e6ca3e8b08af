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

/** What a scripted server gets: the request body of /v1/completions. */
export interface ScriptedRequest {
  prompt: string;
  n: number;
  seed: number;
  max_tokens: number;
  temperature: number;
  [key: string]: unknown;
}

/**
 * An OpenAI-compatible /v1/completions server on loopback whose answers come
 * from `answer` (texts, or null for a 400): no log-probs, like a server
 * started without them. `requests` records every body.
 */
export async function scriptedServer(
  answer: (request: ScriptedRequest) => { text: string; finishReason?: "stop" | "length" }[] | null,
): Promise<{ url: string; requests: ScriptedRequest[]; close(): Promise<void> }> {
  const { createServer } = await import("node:http");
  const requests: ScriptedRequest[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const r = JSON.parse(body) as ScriptedRequest;
      requests.push(r);
      const texts = req.url === "/v1/completions" ? answer(r) : null;
      if (!texts) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "unknown request", type: "invalid_request_error" } }));
        return;
      }
      const choices = texts.map((t, index) => ({
        index,
        text: t.text,
        finish_reason: t.finishReason ?? "stop",
        logprobs: null,
      }));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "cmpl-scripted", object: "text_completion", model: "scripted", choices }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
