import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { InvalidInputError, initBackend, tf } from "@tokenrl/core";
import type { Tensor2D } from "@tokenrl/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../src/index.js";
import type { GenerativeModel } from "../src/index.js";
import { type CompletionsServer, createCompletionsServer, estimateRowBytes } from "../src/node.js";
import { tinyPolicy } from "./helpers.js";
import { type ReplyBody, get, microPolicy, post, rawPost, tokenizer, waitFor } from "./server-helpers.js";

// What a WebAssembly trap throws (the global's type is not in this package's lib).
const WasmRuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: new (m: string) => Error } })
  .WebAssembly.RuntimeError;

/** `model`, whose forward throws what `fault()` returns, when it returns an error. */
function failing(model: ReturnType<typeof tinyPolicy>, fault: () => Error | undefined): GenerativeModel {
  return {
    config: model.config,
    createCache: (b, l) => model.createCache(b, l),
    forward: (ids, opts) => {
      const err = fault();
      if (err) throw err;
      return model.forward(ids, opts as Parameters<typeof model.forward>[1]);
    },
  };
}

/** Every error is OpenAI's shape. */
function expectOpenAIError(body: ReplyBody, param: string | null, code?: string | null): void {
  expect(Object.keys(body)).toEqual(["error"]);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.param).toBe(param);
  expect(typeof body.error.type).toBe("string");
  if (code !== undefined) expect(body.error.code).toBe(code);
  else expect("code" in body.error).toBe(true);
}

describe("completions server under bad input, faults and abuse (issue 10, item 1)", () => {
  let model: ReturnType<typeof tinyPolicy>;
  let served: CompletionsServer;
  let url: string;
  const fatal: unknown[] = [];
  beforeAll(async () => {
    await initBackend({ log: null });
    model = tinyPolicy();
    served = createCompletionsServer({ model, tokenizer, modelName: "tiny", onFatal: (e) => fatal.push(e) });
    url = await served.listen();
  });
  afterAll(async () => {
    await served.close();
    model.dispose();
  });

  it("answers an 8,000-character prompt with max_tokens 1 with a 400 context_length_exceeded, and keeps serving", async () => {
    const tensors = tf.memory().numTensors;
    const r = await post(`${url}/v1/completions`, { model: "tiny", prompt: "a".repeat(8000), max_tokens: 1 });
    expect(r.status).toBe(400);
    expectOpenAIError(r.body, "prompt", "context_length_exceeded");
    // The tiny model's context is maxPositionEmbeddings = 2048: 8000 + 1 tokens is over it.
    expect(r.body.error.message).toContain("maximum context length is 2048 tokens");
    expect(r.body.error.message).toContain("8001 tokens (8000 in the prompt, 1 for the completion)");
    expect(r.body.error.type).toBe("invalid_request_error");
    const ok = await post(`${url}/v1/completions`, { prompt: "ab", max_tokens: 3, ignore_eos: true });
    expect(ok.status).toBe(200);
    expect(ok.body.choices[0]!.text).toHaveLength(3);
    expect((await get(`${url}/health`)).body.status).toBe("ok");
    expect(tf.memory().numTensors).toBe(tensors);
    expect(fatal).toEqual([]);
  });

  it("puts the context limit exactly at prompt + max_tokens = context length, for text, token ids and chat", async () => {
    const small = createCompletionsServer({ model, tokenizer, contextLength: 64, onFatal: (e) => fatal.push(e) });
    const base = await small.listen();
    try {
      // 60 + 4 = 64 fits; 60 + 5 = 65 does not.
      expect((await post(`${base}/v1/completions`, { prompt: "x".repeat(60), max_tokens: 4 })).status).toBe(200);
      const over = await post(`${base}/v1/completions`, { prompt: "x".repeat(60), max_tokens: 5 });
      expect(over.status).toBe(400);
      expectOpenAIError(over.body, "prompt", "context_length_exceeded");
      const ids = await post(`${base}/v1/completions`, { prompt: new Array(64).fill(5), max_tokens: 1 });
      expect(ids.status).toBe(400);
      // PLAIN_TEMPLATE: "User: " + 55 chars + "\n" + "Assistant: " = 73 tokens.
      const chat = await post(`${base}/v1/chat/completions`, {
        messages: [{ role: "user", content: "y".repeat(55) }],
        max_tokens: 1,
      });
      expect(chat.status).toBe(400);
      expectOpenAIError(chat.body, "messages", "context_length_exceeded");
      expect(chat.body.error.message).toContain("74 tokens (73 in the prompt, 1 for the completion)");
      // Without max_tokens, completions default to 16 tokens clipped to the room left (64 - 60 = 4).
      const clipped = await post(`${base}/v1/completions`, { prompt: "x".repeat(60), ignore_eos: true });
      expect(clipped.status).toBe(200);
      expect(clipped.body.usage.completion_tokens).toBe(4);
    } finally {
      await small.close();
    }
  });

  it("answers n: 256, max_tokens: 1 with a 600-character prompt in engine-sized batches, the prompt counted once", async () => {
    const micro = microPolicy();
    const budget = 64 << 20;
    const rowBytes = estimateRowBytes(micro.config);
    const server = createCompletionsServer({
      model: micro,
      tokenizer,
      maxBatchBytes: budget,
      onFatal: (e) => fatal.push(e),
    });
    const base = await server.listen();
    const tensors = tf.memory().numTensors;
    try {
      const r = await post(`${base}/v1/completions`, { prompt: "q".repeat(600), n: 256, max_tokens: 1, seed: 3 });
      expect(r.status).toBe(200);
      expect(r.body.choices.map((c) => c.index)).toEqual([...Array(256).keys()]);
      expect(r.body.usage).toEqual({ prompt_tokens: 600, completion_tokens: 256, total_tokens: 856 });
      const stats = server.stats();
      // The running batches' estimated peak stays within the budget, so 256 rows took several batches.
      expect(stats.largestBatchRows * rowBytes(600, 1)).toBeLessThanOrEqual(budget);
      expect(stats.batches).toBeGreaterThanOrEqual(Math.ceil(256 / stats.largestBatchRows));
      expect(stats.batches).toBeGreaterThan(1);
      expect(tf.memory().numTensors).toBe(tensors);
    } finally {
      await server.close();
      micro.dispose();
    }
  });

  it("keeps each batch's prefill within maxBatchTokens padded prompt tokens", async () => {
    const server = createCompletionsServer({ model, tokenizer, maxBatchTokens: 100, onFatal: (e) => fatal.push(e) });
    const base = await server.listen();
    try {
      const r = await post(`${base}/v1/completions`, { prompt: "w".repeat(30), n: 10, max_tokens: 1 });
      expect(r.body.choices).toHaveLength(10);
      // 3 rows x 30 tokens = 90 <= 100 < 4 x 30: batches of 3, 3, 3, 1.
      expect(server.stats()).toMatchObject({ largestBatchRows: 3, batches: 4 });
    } finally {
      await server.close();
    }
  });

  it("drops a stream whose client stops reading once maxBufferedBytes wait unsent, instead of buffering it", async () => {
    const { EventStream } = await import("../src/server-http.js");
    // A response whose client reads nothing: every byte written stays buffered.
    const fake = {
      writableLength: 0,
      destroyed: false,
      writableEnded: false,
      write(chunk: string) {
        this.writableLength += Buffer.byteLength(chunk);
        return false;
      },
      destroy() {
        this.destroyed = true;
      },
    };
    const stream = new EventStream(fake as unknown as import("node:http").ServerResponse);
    const event = { text: "x".repeat(1000) };
    let sent = 0;
    while (!stream.closed && sent < 100_000) {
      stream.send(event);
      sent++;
    }
    // Destroying the response is what a disconnect is: the request's work is cancelled (tested above).
    expect(fake.destroyed).toBe(true);
    const perEvent = Buffer.byteLength(`data: ${JSON.stringify(event)}\n\n`);
    expect(sent).toBe(Math.floor(EventStream.maxBufferedBytes / perEvent) + 1);
  });

  it("refuses a single prompt whose row alone exceeds the memory budget, with a 400 (not a crash)", async () => {
    const server = createCompletionsServer({ model, tokenizer, maxBatchBytes: 1 << 20, onFatal: (e) => fatal.push(e) });
    const base = await server.listen();
    try {
      const r = await post(`${base}/v1/completions`, { prompt: "z".repeat(500), max_tokens: 1 });
      expect(r.status).toBe(400);
      expectOpenAIError(r.body, "prompt", "context_length_exceeded");
      expect(r.body.error.message).toMatch(/memory/);
    } finally {
      await server.close();
    }
  });

  it("cancels n: 256, max_tokens: 4096 when its client disconnects; /health answers meanwhile; close() is prompt", async () => {
    const long = microPolicy({ maxPositionEmbeddings: 8192 });
    const server = createCompletionsServer({ model: long, tokenizer, onFatal: (e) => fatal.push(e) });
    const base = await server.listen();
    const tensors = tf.memory().numTensors;
    try {
      const body = JSON.stringify({ prompt: "hello", n: 256, max_tokens: 4096, ignore_eos: true });
      const req = httpRequest(`${base}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
      });
      req.on("error", () => undefined);
      req.end(body);
      expect(await waitFor(() => server.stats().runningRows > 0, 5000)).toBe(true);
      // The event loop is free between decode steps: health answers fast while 256 x 4096 tokens are due.
      const started = performance.now();
      const health = await get(`${base}/health`);
      expect(health.status).toBe(200);
      expect(health.body.runningRows).toBeGreaterThan(0);
      expect(performance.now() - started).toBeLessThan(1000);
      req.destroy();
      // Its queued rows are dropped and its batches stop at their next step.
      expect(await waitFor(() => server.stats().runningBatches === 0 && server.stats().queuedRows === 0, 3000)).toBe(
        true,
      );
      expect(tf.memory().numTensors).toBe(tensors);

      // A second such request, then close(): the server stops within seconds, mid-generation.
      const again = rawPost(`${base}/v1/completions`, [body]).catch((e: unknown) => e);
      expect(await waitFor(() => server.stats().runningRows > 0, 5000)).toBe(true);
      const closing = performance.now();
      await server.close();
      expect(performance.now() - closing).toBeLessThan(3000);
      const answer = await again;
      // The client heard a 503 (or its connection closed); it was not left hanging.
      if (!(answer instanceof Error)) expect((answer as { status: number }).status).toBe(503);
      expect(tf.memory().numTensors).toBe(tensors);
    } finally {
      await server.close();
      long.dispose();
    }
  });

  it("answers an over-limit body with a 413 the client receives: declared, chunked, and Expect: 100-continue", async () => {
    const server = createCompletionsServer({ model, tokenizer, maxBodyBytes: 1024, onFatal: (e) => fatal.push(e) });
    const base = await server.listen();
    try {
      const big = JSON.stringify({ prompt: "p".repeat(200_000), max_tokens: 1 });
      // fetch sends content-length: refused before reading, after draining the body.
      const declared = await post(`${base}/v1/completions`, big);
      expect(declared.status).toBe(413);
      expectOpenAIError(declared.body, null, "request_too_large");
      // Chunked: no length up front; refused once 1024 bytes have passed.
      const chunks = Array.from({ length: 50 }, (_, i) => (i === 0 ? '{"prompt":"' : "a".repeat(4000)));
      const chunked = await rawPost(`${base}/v1/completions`, chunks);
      expect(chunked.status).toBe(413);
      expect(JSON.parse(chunked.text).error.code).toBe("request_too_large");
      // Expect: 100-continue with a huge declared length: refused without the body ever being sent.
      const expectContinue = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${base}/v1/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", "content-length": String(1e9), expect: "100-continue" },
        });
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("continue", () => reject(new Error("the server asked for the body")));
        req.on("error", reject);
        req.flushHeaders();
      });
      expect(expectContinue).toBe(413);
      // The default limit follows the context: max(64 KiB, 32 bytes x 2048 tokens) = 65536 bytes, not ~1M tokens.
      const defaults = await post(`${url}/v1/completions`, { prompt: "p".repeat(65_536), max_tokens: 1 });
      expect(defaults.status).toBe(413);
      expect(defaults.body.error.message).toContain("exceeds 65536 bytes");
      // A body within the limit still works on the same server.
      expect((await post(`${base}/v1/completions`, { prompt: "ok", max_tokens: 1 })).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("bounds request bodies being received by all connections together: 503 server_busy past maxInFlightBodyBytes", async () => {
    const server = createCompletionsServer({
      model,
      tokenizer,
      maxBodyBytes: 800,
      maxInFlightBodyBytes: 1000,
      onFatal: (e) => fatal.push(e),
    });
    const base = await server.listen();
    const { port } = new URL(base);
    /** A raw connection sending `body` of a declared 700 bytes; resolves with what the server answered. */
    const send = (body: string) => {
      const socket = connect(Number(port), "127.0.0.1");
      socket.on("error", () => {});
      const answer = new Promise<string>((resolve) => {
        let got = "";
        socket.on("data", (c) => {
          got += c;
        });
        socket.on("close", () => resolve(got));
      });
      socket.write(
        `POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 700\r\nConnection: close\r\n\r\n${body}`,
      );
      return { socket, answer };
    };
    try {
      // Each body is under the 800-byte limit; together two would hold 1400 > 1000 bytes.
      // a is a slow client holding 699 bytes; b sends all of its 700 while a holds them.
      const json = JSON.stringify({ prompt: "ok", max_tokens: 1 });
      const full = json + " ".repeat(700 - json.length);
      const a = send(`{${" ".repeat(698)}`);
      await new Promise((r) => setTimeout(r, 200));
      const b = send(full);
      const busy = await b.answer;
      expect(busy.split("\r\n")[0]).toBe("HTTP/1.1 503 Service Unavailable");
      expect(JSON.parse(busy.slice(busy.indexOf("\r\n\r\n") + 4)).error.code).toBe("server_busy");
      a.socket.destroy();
      await a.answer;
      // a's bytes went back to the budget: a complete 700-byte request is served.
      const ok = await send(full).answer;
      expect(ok.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
      expect(() => createCompletionsServer({ model, tokenizer, maxInFlightBodyBytes: 0 })).toThrow(
        /maxInFlightBodyBytes/,
      );
    } finally {
      await server.close();
    }
  });

  it("counts usage.prompt_tokens once per prompt, not once per choice", async () => {
    const one = await post(`${url}/v1/completions`, { prompt: "abcd", n: 3, max_tokens: 2, ignore_eos: true });
    expect(one.body.usage).toEqual({ prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 });
    const two = await post(`${url}/v1/completions`, { prompt: ["ab", "xyz"], n: 2, max_tokens: 2, ignore_eos: true });
    expect(two.body.choices).toHaveLength(4);
    expect(two.body.usage).toEqual({ prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 });
    const chat = await post(`${url}/v1/chat/completions`, {
      messages: [{ role: "user", content: "hi" }],
      n: 4,
      max_tokens: 1,
    });
    // "User: hi\nAssistant: " is 20 characters, one token each.
    expect(chat.body.usage.prompt_tokens).toBe(20);
    expect(chat.body.usage.completion_tokens).toBe(4);
  });

  it("after a WebAssembly trap, health goes non-ok, requests get 503, and onFatal is called once", async () => {
    const seen: unknown[] = [];
    let poisoned = false;
    const faulty = failing(model, () => (poisoned ? new WasmRuntimeError("memory access out of bounds") : undefined));
    const server = createCompletionsServer({ model: faulty, tokenizer, onFatal: (e) => seen.push(e) });
    const base = await server.listen();
    try {
      expect((await post(`${base}/v1/completions`, { prompt: "a", max_tokens: 2 })).status).toBe(200);
      poisoned = true;
      const failed = await post(`${base}/v1/completions`, { prompt: "a", max_tokens: 2 });
      expect(failed.status).toBe(503);
      expectOpenAIError(failed.body, null, "unavailable");
      expect(failed.body.error.message).toMatch(/memory access out of bounds.*restarted/);
      const health = await get(`${base}/health`);
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ status: "error", healthy: false });
      // Even with the fault gone, nothing is computed on a heap that trapped.
      poisoned = false;
      expect((await post(`${base}/v1/completions`, { prompt: "a", max_tokens: 2 })).status).toBe(503);
      expect(seen).toHaveLength(1);
      expect((seen[0] as Error).message).toBe("memory access out of bounds");
    } finally {
      await server.close();
    }
  });

  it("an ordinary error fails its own request with a 500 and leaves the server healthy", async () => {
    let broken = true;
    const flaky = failing(model, () => (broken ? new Error("transient failure") : undefined));
    const seen: unknown[] = [];
    const server = createCompletionsServer({ model: flaky, tokenizer, onFatal: (e) => seen.push(e) });
    const base = await server.listen();
    const tensors = tf.memory().numTensors;
    try {
      const failed = await post(`${base}/v1/completions`, { prompt: "a", max_tokens: 2 });
      expect(failed.status).toBe(500);
      expectOpenAIError(failed.body, null);
      broken = false;
      expect((await post(`${base}/v1/completions`, { prompt: "a", max_tokens: 2 })).status).toBe(200);
      expect((await get(`${base}/health`)).status).toBe(200);
      expect(seen).toEqual([]);
      expect(tf.memory().numTensors).toBe(tensors);
    } finally {
      await server.close();
    }
  });

  it("answers an error raised while generating a valid request with a 500, whatever its class", async () => {
    // A tokenizer that cannot decode what the model samples (InvalidInputError inside generate): the server's fault.
    const narrow = {
      ...tokenizer,
      encode: (t: string) => tokenizer.encode(t),
      decode: () => {
        throw new InvalidInputError("decode: id outside the vocabulary");
      },
    };
    const server = createCompletionsServer({ model, tokenizer: narrow, onFatal: (e) => fatal.push(e) });
    const base = await server.listen();
    try {
      const r = await post(`${base}/v1/completions`, { prompt: "a", max_tokens: 2, stop: ["z"] });
      expect(r.status).toBe(500);
      expect(r.body.error).toMatchObject({ type: "server_error", param: null, code: "INVALID_INPUT" });
      expect((await get(`${base}/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("validates every field: a 400 in OpenAI's shape whose param names it", async () => {
    const completions: [Record<string, unknown>, string][] = [
      [{ prompt: 5 }, "prompt"],
      [{ prompt: [] }, "prompt"],
      [{ prompt: [1, 99999] }, "prompt"],
      [{ prompt: [[1, 2], [-1]] }, "prompt[1]"],
      [{ prompt: "a", n: 0 }, "n"],
      [{ prompt: "a", n: 1.5 }, "n"],
      [{ prompt: "a", n: 257 }, "n"],
      [{ prompt: ["a", "b"], n: 200 }, "n"],
      [{ prompt: "a", max_tokens: 0 }, "max_tokens"],
      [{ prompt: "a", max_tokens: "3" }, "max_tokens"],
      [{ prompt: "a", max_tokens: 2048 }, "max_tokens"],
      [{ prompt: "a", temperature: -1 }, "temperature"],
      [{ prompt: "a", temperature: "hot" }, "temperature"],
      [{ prompt: "a", top_p: 0 }, "top_p"],
      [{ prompt: "a", top_p: 1.5 }, "top_p"],
      [{ prompt: "a", top_k: -2 }, "top_k"],
      [{ prompt: "a", min_p: 2 }, "min_p"],
      [{ prompt: "a", stop: "" }, "stop"],
      [{ prompt: "a", stop: [1] }, "stop"],
      [{ prompt: "a", stop: new Array(17).fill("x") }, "stop"],
      [{ prompt: "a", stop_token_ids: [-1] }, "stop_token_ids"],
      [{ prompt: "a", seed: 1.5 }, "seed"],
      [{ prompt: "a", seed: "x" }, "seed"],
      [{ prompt: "a", logprobs: 21 }, "logprobs"],
      [{ prompt: "a", logprobs: true }, "logprobs"],
      [{ prompt: "a", stream: "yes" }, "stream"],
      [{ prompt: "a", stream_options: { include_usage: true } }, "stream_options"],
      [{ prompt: "a", echo: true }, "echo"],
      [{ prompt: "a", presence_penalty: 0.5 }, "presence_penalty"],
      [{ prompt: "a", best_of: 3 }, "best_of"],
      [{ prompt: "a", ignore_eos: 1 }, "ignore_eos"],
      [{ prompt: "a", foo: 1 }, "foo"],
      [{ prompt: "" }, "prompt"],
    ];
    for (const [body, param] of completions) {
      const r = await post(`${url}/v1/completions`, body);
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
      expectOpenAIError(r.body, param);
      expect(r.body.error.type).toBe("invalid_request_error");
    }
    const chats: [Record<string, unknown>, string][] = [
      [{}, "messages"],
      [{ messages: [] }, "messages"],
      [{ messages: [{ role: "robot", content: "x" }] }, "messages[0].role"],
      [{ messages: [{ role: "user", content: 5 }] }, "messages[0].content"],
      [{ messages: [{ role: "user", content: [{ type: "image_url" }] }] }, "messages[0].content[0]"],
      [{ messages: [{ role: "user", content: "x" }], top_logprobs: 2 }, "top_logprobs"],
      [{ messages: [{ role: "user", content: "x" }], tools: [{ type: "function" }] }, "tools"],
      [{ messages: [{ role: "user", content: "x" }], logprobs: 1 }, "logprobs"],
      [{ messages: [{ role: "user", content: "x" }], max_completion_tokens: 0 }, "max_completion_tokens"],
    ];
    for (const [body, param] of chats) {
      const r = await post(`${url}/v1/chat/completions`, body);
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
      expectOpenAIError(r.body, param);
    }
    // Log-probs are held until sent: 256 x 2000 tokens x (1 + 20) alternatives is over 2^22 entries.
    const hoard = await post(`${url}/v1/completions`, { prompt: "a", n: 256, max_tokens: 2000, logprobs: 20 });
    expect(hoard.status).toBe(400);
    expectOpenAIError(hoard.body, "logprobs");
    expect(hoard.body.error.message).toContain("256 choices x 2000 tokens x 21 log-probs is 10752000 entries");
    const wrongModel = await post(`${url}/v1/completions`, { model: "gpt-4", prompt: "a" });
    expect(wrongModel.status).toBe(404);
    expectOpenAIError(wrongModel.body, "model", "model_not_found");
    for (const raw of ["{not json", "[1,2]", ""]) {
      const r = await post(`${url}/v1/completions`, raw);
      expect(r.status).toBe(400);
      expectOpenAIError(r.body, null);
    }
    const getCompletions = await fetch(`${url}/v1/completions`);
    expect(getCompletions.status).toBe(405);
    expect(getCompletions.headers.get("allow")).toBe("POST");
    for (const [method, path, allow] of [
      ["DELETE", "/v1/models", "GET"],
      ["POST", "/health", "GET, HEAD"],
    ] as const) {
      const r = await fetch(`${url}${path}`, { method });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.get("allow")).toBe(allow);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
    }
    expect((await fetch(`${url}/v2/nothing`)).status).toBe(404);
    expect((await get(`${url}/health`)).body.status).toBe("ok");
  });

  it("serves a short request while a long one decodes (batches interleave step by step)", async () => {
    const order: string[] = [];
    const long = post(`${url}/v1/completions`, { prompt: "long", max_tokens: 200, ignore_eos: true }).then((r) => {
      order.push("long");
      return r;
    });
    expect(await waitFor(() => served.stats().runningRows > 0, 5000)).toBe(true);
    const short = await post(`${url}/v1/completions`, { prompt: "short", max_tokens: 2, ignore_eos: true });
    order.push("short");
    expect(short.status).toBe(200);
    expect((await long).body.usage.completion_tokens).toBe(200);
    expect(order).toEqual(["short", "long"]);
  });

  it("samples each row of a batched request from the request's own seeded stream, as local generate with that seed", async () => {
    const server = createCompletionsServer({ model, tokenizer, maxBatchRows: 2, onFatal: (e) => fatal.push(e) });
    const base = await server.listen();
    try {
      const params = { prompt: "2+2=", n: 5, max_tokens: 6, seed: 7, ignore_eos: true, temperature: 1 };
      // Another request alongside shares the batches; it must not change the first one's tokens.
      const [r] = await Promise.all([
        post(`${base}/v1/completions`, params),
        post(`${base}/v1/completions`, { ...params, seed: 8, prompt: "1+1=" }),
      ]);
      const local = await generate(model, new Array(5).fill(tokenizer.encode("2+2=")), {
        maxTokens: 6,
        seed: 7,
        ignoreEos: true,
        tokenizer,
      });
      expect(r.body.choices.map((c) => c.text)).toEqual(local.texts);
      expect(server.stats().largestBatchRows).toBeLessThanOrEqual(2);
    } finally {
      await server.close();
    }
  });

  it("reports top log-probs: the k most likely tokens under the sampling distribution, the sampled one's log-prob among them", async () => {
    const r = await post(`${url}/v1/completions`, {
      prompt: "ab",
      max_tokens: 1,
      logprobs: 3,
      temperature: 0.7,
      seed: 1,
    });
    const lp = r.body.choices[0]!.logprobs;
    const top = lp.top_logprobs![0]!;
    // Reference: log_softmax(logits / 0.7) of the prompt's last position, top 3.
    const reference = tf.tidy(() => {
      const out = model.forward(tf.tensor2d([tokenizer.encode("ab")], [1, 2], "int32") as Tensor2D);
      out.cache.dispose();
      const last = tf.reshape(tf.slice(out.logits, [0, 1, 0], [1, 1, -1]), [1, -1]);
      const { values, indices } = tf.topk(tf.logSoftmax(tf.div(last, 0.7)), 3);
      return { values: Array.from(values.dataSync()), indices: Array.from(indices.dataSync()) };
    });
    expect(Object.keys(top)).toEqual(reference.indices.map((i) => tokenizer.decode([i])));
    Object.values(top).forEach((v, j) => expect(v).toBeCloseTo(reference.values[j]!, 4));
    const sampled = lp.tokens[0] as string;
    if (sampled in top) expect(lp.token_logprobs[0]).toBeCloseTo(top[sampled]!, 4);
    expect(lp.text_offset).toEqual([0]);
  });
});

/** Starts test/fixtures/serve-child.ts in a node process; resolves with it and its URL. */
async function serveChild(env: Record<string, string> = {}) {
  const { spawn } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL("./fixtures/serve-child.ts", import.meta.url))],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } },
  );
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const base = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      const m = /http:\/\/[\d.:]+/.exec(String(d));
      if (m) resolve(m[0]);
    });
    child.once("exit", (code) => reject(new Error(`child exited ${code}: ${stderr}`)));
  });
  return { child, base, exited, stderr: () => stderr };
}

describe("a server process", () => {
  it("exits non-zero (70) after a WebAssembly trap, answering the failed request with a 503", async () => {
    const { child, base, exited, stderr } = await serveChild({ TRAP_ON: "!" });
    try {
      expect((await post(`${base}/v1/completions`, { prompt: "ok", max_tokens: 2 })).status).toBe(200);
      const failed = await post(`${base}/v1/completions`, { prompt: "!", max_tokens: 2 });
      expect(failed.status).toBe(503);
      const started = performance.now();
      expect(await exited).toBe(70);
      expect(performance.now() - started).toBeLessThan(5000);
      expect(stderr()).toContain("memory access out of bounds");
    } finally {
      child.kill("SIGKILL");
    }
  }, 30_000);

  it("on SIGTERM, closes and exits 0 within seconds while n: 256, max_tokens: 4096 is generating", async () => {
    const { child, base, exited } = await serveChild();
    try {
      const answer = rawPost(`${base}/v1/completions`, [
        JSON.stringify({ prompt: "hello", n: 256, max_tokens: 4096, ignore_eos: true, stream: true }),
      ]).catch((e: unknown) => e);
      expect(await waitFor(async () => (await get(`${base}/health`)).body.runningRows > 0, 10_000)).toBe(true);
      const signalled = performance.now();
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(performance.now() - signalled).toBeLessThan(5000);
      // The stream was ended (an error event, then [DONE]) or its connection closed: it does not hang.
      const a = await answer;
      if (!(a instanceof Error)) expect((a as { text: string }).text).toMatch(/shutting down[\s\S]*\[DONE\]/);
    } finally {
      child.kill("SIGKILL");
    }
  }, 30_000);
});
