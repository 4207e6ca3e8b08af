import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { TimeoutError, initBackend } from "@tokenrl/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LogProbsUnavailableError, RemoteEngineError, createRemoteEngine, generate } from "../src/index.js";
import { type CompletionsServer, createCompletionsHandler, createCompletionsServer } from "../src/node.js";
import { tinyPolicy, tokenizer } from "./helpers.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback server around `handler`; every test closes what it opens. */
async function listen(handler: Handler): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe("OpenAI-compatible server and remote engine over 127.0.0.1", () => {
  let model: ReturnType<typeof tinyPolicy>;
  let served: CompletionsServer;
  let url: string;
  let handler: Handler;
  beforeAll(async () => {
    await initBackend({ log: null });
    model = tinyPolicy();
    handler = createCompletionsHandler({ model, tokenizer, modelName: "tiny" });
    served = createCompletionsServer({ model, tokenizer, modelName: "tiny" });
    url = await served.listen();
  });
  afterAll(async () => {
    await served.close();
    model.dispose();
  });

  it("returns the local greedy tokens and log-probs, as token ids, through /v1/completions", async () => {
    const engine = createRemoteEngine({ baseUrls: [url], model: "tiny", tokenizer });
    const prompts = ["2+2=", "hi"].map((t) => tokenizer.encode(t));
    const params = { temperature: 0, maxTokens: 6, ignoreEos: true };
    const remote = await engine.generate(prompts, params);
    const local = await generate(model, prompts, { ...params, tokenizer });
    expect(remote.map((s) => s.responseIds)).toEqual(local.sequences.map((s) => s.responseIds));
    remote.forEach((s, b) =>
      s.rolloutLogProbs.forEach((lp, t) => expect(lp).toBeCloseTo(local.sequences[b]!.rolloutLogProbs[t]!, 5)),
    );
    expect(remote.map((s) => s.text)).toEqual(local.texts);
    expect(remote.every((s) => s.finishReason === "length")).toBe(true);
  });

  it("gives n samples per prompt, with the completions logprobs shape parsed", async () => {
    const engine = createRemoteEngine({ baseUrls: [url], model: "tiny", tokenizer, returnTokenIds: false });
    const choices = await engine.complete("abc", { n: 3, maxTokens: 4, seed: 5, ignoreEos: true });
    expect(choices).toHaveLength(3);
    for (const c of choices) {
      expect(c.tokens).toHaveLength(4);
      expect(c.logProbs).toHaveLength(4);
      // Character tokens map back to ids through the tokenizer.
      expect(c.tokenIds!.map((id) => tokenizer.decode([id])).join("")).toBe(c.text);
      expect(c.logProbs.every((lp) => lp <= 0)).toBe(true);
    }
  });

  it("parses the chat logprobs.content[] shape", async () => {
    const engine = createRemoteEngine({ baseUrls: [url], model: "tiny", tokenizer });
    const [c] = await engine.chat([{ role: "user", content: "hi" }], { maxTokens: 5, temperature: 0, ignoreEos: true });
    expect(c!.tokenIds).toHaveLength(c!.logProbs.length);
    expect(c!.logProbs.length).toBeGreaterThan(0);
  });

  it("retries 503 twice with back-off, then succeeds", async () => {
    let calls = 0;
    const flaky = await listen((req, res) => {
      calls++;
      if (calls <= 2) {
        res.writeHead(503, { "content-type": "application/json" });
        res.end('{"error":"busy"}');
        return;
      }
      handler(req, res);
    });
    try {
      const engine = createRemoteEngine({
        baseUrls: [flaky.url],
        model: "tiny",
        tokenizer,
        backoffMs: 5,
        maxAttempts: 4,
      });
      const out = await engine.generate([tokenizer.encode("x")], { maxTokens: 2, ignoreEos: true });
      expect(calls).toBe(3);
      expect(out[0]!.responseIds).toHaveLength(2);
      expect(engine.stats()[0]).toMatchObject({ requests: 3, failures: 2, inFlight: 0 });
      // With only two tries the second 503 is final, typed, and not retried further.
      calls = 0;
      const strict = createRemoteEngine({ baseUrls: [flaky.url], model: "tiny", backoffMs: 5, maxAttempts: 2 });
      const err = await strict.complete("x", { maxTokens: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteEngineError);
      expect(err).toMatchObject({ status: 503, attempts: 2, retryable: true });
      expect(calls).toBe(2);
    } finally {
      await flaky.close();
    }
  });

  it("retries a connection reset by the server", async () => {
    let calls = 0;
    const resetting = await listen((req, res) => {
      if (++calls === 1) {
        req.socket.destroy();
        return;
      }
      handler(req, res);
    });
    try {
      const engine = createRemoteEngine({ baseUrls: [resetting.url], model: "tiny", backoffMs: 5 });
      const [c] = await engine.complete("x", { maxTokens: 2, ignoreEos: true });
      expect(c!.logProbs).toHaveLength(2);
      expect(calls).toBe(2);
    } finally {
      await resetting.close();
    }
  });

  it("does not retry a 400", async () => {
    const engine = createRemoteEngine({ baseUrls: [url], model: "tiny", backoffMs: 5 });
    const err = await engine.complete("x", { maxTokens: 99999 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, attempts: 1, retryable: false });
    expect(engine.stats()[0]!.requests).toBe(1);
  });

  it("times out an attempt that does not answer", async () => {
    const silent = await listen(() => {
      /* never answers */
    });
    try {
      const engine = createRemoteEngine({
        baseUrls: [silent.url],
        model: "tiny",
        timeoutMs: 100,
        maxAttempts: 2,
        backoffMs: 5,
      });
      const started = Date.now();
      const err = await engine.complete("x").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(engine.stats()[0]).toMatchObject({ requests: 2, failures: 2, inFlight: 0 });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await silent.close();
    }
  });

  it("throws LogProbsUnavailableError when the server ignores logprobs", async () => {
    const stripped = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [{ index: 0, text: "ok", finish_reason: "stop", logprobs: null }] }));
    });
    try {
      const engine = createRemoteEngine({ baseUrls: [stripped.url], model: "tiny" });
      const err = await engine.complete("x").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LogProbsUnavailableError);
      expect((err as Error).message).toMatch(/logprobs\.token_logprobs/);
      const chatErr = await engine.chat([{ role: "user", content: "x" }]).catch((e: unknown) => e);
      expect((chatErr as Error).message).toMatch(/logprobs\.content/);
    } finally {
      await stripped.close();
    }
  });

  it("accepts answers without log-probs when the caller does not need them (evaluation), for completions and chat", async () => {
    const bodies: Record<string, unknown>[] = [];
    const textOnly = await listen((req, res) => {
      let raw = "";
      req.on("data", (d) => {
        raw += d;
      });
      req.on("end", () => {
        bodies.push(JSON.parse(raw));
        const chat = req.url === "/v1/chat/completions";
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            choices: [
              chat
                ? { index: 0, message: { role: "assistant", content: "\\boxed{4}" }, finish_reason: "stop" }
                : { index: 0, text: " 4", finish_reason: "length", logprobs: null },
            ],
          }),
        );
      });
    });
    try {
      const engine = createRemoteEngine({ baseUrls: [textOnly.url], model: "m", logProbs: false });
      const [c] = await engine.complete("2+2=", { maxTokens: 3 });
      expect(c).toEqual({ text: " 4", tokens: [], logProbs: [], finishReason: "length" });
      const [m] = await engine.chat([{ role: "user", content: "2+2?" }]);
      expect(m).toEqual({ text: "\\boxed{4}", tokens: [], logProbs: [], finishReason: "stop" });
      // Nothing asks for log-probs or vLLM's token ids, so a strict OpenAI-style server accepts the bodies.
      for (const b of bodies) {
        expect(b).not.toHaveProperty("logprobs");
        expect(b).not.toHaveProperty("top_logprobs");
        expect(b).not.toHaveProperty("return_tokens_as_token_ids");
      }
      // A call's own logProbs wins: asking for them makes their absence an error again.
      const err = await engine.complete("x", { logProbs: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LogProbsUnavailableError);
      // The default engine still requires them.
      const strict = createRemoteEngine({ baseUrls: [textOnly.url], model: "m" });
      expect(await strict.chat([{ role: "user", content: "x" }]).catch((e: unknown) => e)).toBeInstanceOf(
        LogProbsUnavailableError,
      );
    } finally {
      await textOnly.close();
    }
  });

  it("with logProbs: false, parses log-probs a server sends anyway, and this server sends none unless asked", async () => {
    const eager = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          choices: [
            { index: 0, text: "ab", finish_reason: "stop", logprobs: { tokens: ["a", "b"], token_logprobs: [-1, -2] } },
          ],
        }),
      );
    });
    try {
      const engine = createRemoteEngine({ baseUrls: [eager.url], model: "m", logProbs: false });
      const [c] = await engine.complete("x");
      expect(c).toMatchObject({ text: "ab", tokens: ["a", "b"], logProbs: [-1, -2] });
    } finally {
      await eager.close();
    }
    const ours = createRemoteEngine({ baseUrls: [url], model: "tiny", tokenizer, logProbs: false });
    const [plain] = await ours.complete("ab", { maxTokens: 3, ignoreEos: true });
    expect(plain!.logProbs).toEqual([]);
    const [withLp] = await ours.complete("ab", { maxTokens: 3, ignoreEos: true, logProbs: true });
    expect(withLp!.logProbs).toHaveLength(3);
  });

  it("refuses a response body over maxResponseBytes instead of buffering it", async () => {
    const flood = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      // 4 MiB of a never-ending JSON string, written in pieces.
      res.write('{"choices":[{"text":"');
      for (let i = 0; i < 64; i++) res.write("x".repeat(64 * 1024));
      res.end('"}]}');
    });
    try {
      const engine = createRemoteEngine({
        baseUrls: [flood.url],
        model: "m",
        logProbs: false,
        maxResponseBytes: 1 << 20,
      });
      const err = await engine.complete("x").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteEngineError);
      expect(err).toMatchObject({ status: 200, retryable: false, attempts: 1 });
      expect((err as Error).message).toMatch(/exceeds 1048576 bytes/);
      // Under the limit the same answer parses.
      const roomy = createRemoteEngine({ baseUrls: [flood.url], model: "m", logProbs: false });
      const [c] = await roomy.complete("x");
      expect(c!.text).toHaveLength(64 * 64 * 1024);
    } finally {
      await flood.close();
    }
  });

  it("balances round robin and least-in-flight across two servers", async () => {
    const seen = [0, 0];
    const servers = await Promise.all(
      [0, 1].map((i) =>
        listen((req, res) => {
          seen[i]!++;
          handler(req, res);
        }),
      ),
    );
    try {
      const urls = servers.map((s) => s.url);
      const rr = createRemoteEngine({ baseUrls: urls, model: "tiny", balancing: "round-robin" });
      for (let k = 0; k < 4; k++) await rr.complete("a", { maxTokens: 1 });
      expect(seen).toEqual([2, 2]);
      // Four different prompts at once: least-in-flight puts two on each server.
      seen.fill(0);
      const lif = createRemoteEngine({ baseUrls: urls, model: "tiny", tokenizer });
      const out = await lif.generate(
        ["a", "b", "c", "d"].map((t) => tokenizer.encode(t)),
        { maxTokens: 2 },
      );
      expect(out).toHaveLength(4);
      expect(seen).toEqual([2, 2]);
      expect(lif.stats().map((s) => s.requests)).toEqual([2, 2]);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});
