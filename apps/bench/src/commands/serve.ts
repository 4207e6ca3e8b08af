import { ConfigError } from "@tokenrl/base/errors";
import { type CompletionsServer, createCompletionsServer } from "@tokenrl/rollout/node";
import { type Command, int, str } from "../args.js";
import { loadLocal } from "../engine.js";

export interface ServeOptions {
  model: string;
  host?: string;
  port?: number;
  name?: string;
  seed?: number;
  chatTemplate?: boolean;
  maxTokens?: number;
  maxN?: number;
  /** Largest request body in bytes (default: rollout's, max(64 KiB, 32 x context length)). */
  maxBodyBytes?: number;
}

/**
 * rollout's hardened OpenAI-compatible server over a local checkpoint, with the
 * checkpoint's chat template for /v1/chat/completions. Resolves once listening.
 */
export async function startServer(o: ServeOptions): Promise<{ server: CompletionsServer; url: string; name: string }> {
  const { policy, chat } = await loadLocal(o.model, o.chatTemplate ?? true);
  const name = o.name ?? o.model.replace(/\/+$/, "").split("/").pop() ?? "tokenrl";
  const server = createCompletionsServer({
    model: policy.model,
    tokenizer: policy.tokenizer,
    modelName: name,
    seed: o.seed ?? 0,
    ...(chat ? { chatTemplate: chat } : {}),
    ...(o.maxTokens !== undefined ? { maxTokensLimit: o.maxTokens } : {}),
    ...(o.maxN !== undefined ? { maxN: o.maxN } : {}),
    ...(o.maxBodyBytes !== undefined ? { maxBodyBytes: o.maxBodyBytes } : {}),
  });
  const url = await server.listen(o.port ?? 8000, o.host ?? "127.0.0.1");
  return { server, url, name };
}

export const serveCommand: Command = {
  name: "serve",
  summary: "an OpenAI-compatible server for a local checkpoint",
  help: `tokenrl-bench serve: serve a local checkpoint over the OpenAI API (loopback by default)

usage: tokenrl-bench serve --model DIR [--host 127.0.0.1] [--port 8000] [--name NAME] [--seed 0] [--max-body-bytes N]

  --model DIR          Hugging Face checkpoint directory (config.json, model.safetensors, tokenizer.json)
  --host H             interface to bind (default 127.0.0.1; 0.0.0.0 exposes it to the network)
  --port N             default 8000 (0 = any free port)
  --name NAME          the model name served at /v1/models and required as "model" (default: the folder name)
  --seed S             seed of requests that send none (default 0)
  --no-chat-template   chat requests use the plain "User:/Assistant:" template instead of tokenizer_config.json's
  --max-tokens N       largest max_tokens accepted (default min(4096, context - 1))
  --max-n N            largest n x prompts per request (default 256)
  --max-body-bytes N   largest request body; a larger one gets a 413 (default max(64 KiB, 32 x context length))

Endpoints: GET /v1/models, GET /health, POST /v1/completions, POST /v1/chat/completions (logprobs, top_logprobs,
n, stop, seed, max_tokens, stream with server-sent events, usage). Stops on SIGINT / SIGTERM.
`,
  options: {
    model: { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    name: { type: "string" },
    seed: { type: "string" },
    "no-chat-template": { type: "boolean" },
    "max-tokens": { type: "string" },
    "max-n": { type: "string" },
    "max-body-bytes": { type: "string" },
  },
  async run(v) {
    const model = str(v, "model");
    if (!model) throw new ConfigError("--model", "is required: a checkpoint directory");
    const { server, url, name } = await startServer({
      model,
      host: str(v, "host") ?? "127.0.0.1",
      port: int(v, "port", 8000),
      seed: int(v, "seed", 0),
      ...(str(v, "name") ? { name: str(v, "name")! } : {}),
      ...(v["no-chat-template"] ? { chatTemplate: false } : {}),
      ...(str(v, "max-tokens") ? { maxTokens: int(v, "max-tokens", 1, 1) } : {}),
      ...(str(v, "max-n") ? { maxN: int(v, "max-n", 1, 1) } : {}),
      ...(str(v, "max-body-bytes") ? { maxBodyBytes: int(v, "max-body-bytes", 1, 1) } : {}),
    });
    server.closeOnSignals();
    process.stdout.write(`serving ${name} at ${url}/v1 (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => server.server.once("close", () => resolve()));
    return Number(process.exitCode ?? 0);
  },
};
