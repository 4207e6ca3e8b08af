import { request as httpRequest } from "node:http";
import { CharTokenizer, createPolicy, makeConfig } from "@tokenrl/policy";
import type { CausalLM } from "@tokenrl/policy";

export const tokenizer = new CharTokenizer();

/** A one-layer, one-head model: cheap prefill for tests about batching long prompts, not about the model. */
export function microPolicy(options: { seed?: number; maxPositionEmbeddings?: number } = {}): CausalLM {
  return createPolicy(
    makeConfig({
      modelType: "qwen3",
      vocabSize: tokenizer.vocabSize,
      hiddenSize: 8,
      intermediateSize: 16,
      numLayers: 1,
      numHeads: 1,
      numKvHeads: 1,
      headDim: 8,
      eosTokenId: tokenizer.eosTokenId,
      padTokenId: tokenizer.padTokenId,
      initializerRange: 0.3,
      ...(options.maxPositionEmbeddings ? { maxPositionEmbeddings: options.maxPositionEmbeddings } : {}),
    }),
    { seed: options.seed ?? 3 },
  );
}

/** The fields of the server's JSON answers that tests read (each answer has some of them). */
export interface ReplyBody {
  error: { message: string; type: string; param: string | null; code: string | null };
  choices: {
    index: number;
    text: string;
    message: { role: string; content: string };
    finish_reason: string;
    logprobs: {
      tokens: string[];
      token_logprobs: number[];
      top_logprobs: Record<string, number>[] | null;
      text_offset: number[];
    };
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  status: string;
  healthy: boolean;
  runningRows: number;
}

export interface JsonReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: ReplyBody;
}

/** POSTs JSON with fetch and parses the answer. */
export async function post(url: string, body: unknown): Promise<JsonReply> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: Object.fromEntries(res.headers), body: text ? JSON.parse(text) : undefined };
}

export async function get(url: string): Promise<JsonReply> {
  const res = await fetch(url);
  return { status: res.status, headers: Object.fromEntries(res.headers), body: (await res.json()) as ReplyBody };
}

/**
 * A raw node:http POST: `chunks` are written one by one (no content-length,
 * so chunked encoding, unless `headers` set one); resolves with the status and
 * body, or rejects on a connection error (what a reset looks like).
 */
export function rawPost(
  url: string,
  chunks: readonly (string | Buffer)[],
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: "POST", headers: { "content-type": "application/json", ...headers } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    (async () => {
      for (const c of chunks) {
        if (!req.write(c)) await new Promise((r) => req.once("drain", r));
      }
      req.end();
    })().catch(reject);
  });
}

/** Polls `check` until it is true or `ms` pass; returns whether it became true. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}
