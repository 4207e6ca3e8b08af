import { request as httpRequest } from "node:http";
import { initBackend, tf } from "@tokenrl/core";
import { createChatTemplate } from "@tokenrl/policy";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../src/index.js";
import { type CompletionsServer, createCompletionsServer } from "../src/node.js";
import { StreamingChoice } from "../src/server-stream.js";
import { tinyPolicy } from "./helpers.js";
import { get, tokenizer, waitFor } from "./server-helpers.js";

describe("the official openai client against the completions server over 127.0.0.1", () => {
  let model: ReturnType<typeof tinyPolicy>;
  let served: CompletionsServer;
  let client: OpenAI;
  let url: string;
  beforeAll(async () => {
    await initBackend({ log: null });
    model = tinyPolicy();
    served = createCompletionsServer({ model, tokenizer, modelName: "tiny", onFatal: () => undefined });
    url = await served.listen();
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  afterAll(async () => {
    await served.close();
    model.dispose();
  });

  it("lists the model", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["tiny"]);
  });

  it("completions with n > 1 and logprobs: the local seeded samples, per-token and top log-probs", async () => {
    const r = await client.completions.create({
      model: "tiny",
      prompt: "2+2=",
      n: 3,
      max_tokens: 6,
      temperature: 0.8,
      seed: 11,
      logprobs: 2,
    });
    const local = await generate(model, new Array(3).fill(tokenizer.encode("2+2=")), {
      maxTokens: 6,
      temperature: 0.8,
      seed: 11,
      tokenizer,
    });
    expect(r.choices.map((c) => c.text)).toEqual(local.texts);
    r.choices.forEach((c, i) => {
      const seq = local.sequences[i]!;
      expect(c.finish_reason).toBe(seq.finishReason === "length" ? "length" : "stop");
      expect(c.logprobs!.tokens).toEqual(seq.responseIds.map((id) => tokenizer.decode([id])));
      c.logprobs!.token_logprobs!.forEach((lp, t) => expect(lp).toBeCloseTo(seq.rolloutLogProbs[t]!, 4));
      for (const top of c.logprobs!.top_logprobs!) {
        const values = Object.values(top as Record<string, number>);
        expect(values).toHaveLength(2);
        expect(values[0]!).toBeGreaterThanOrEqual(values[1]!);
      }
    });
    expect(r.usage).toEqual({
      prompt_tokens: 4,
      completion_tokens: local.sequences.reduce((n, s) => n + s.responseIds.length, 0),
      total_tokens: 4 + local.sequences.reduce((n, s) => n + s.responseIds.length, 0),
    });
  });

  it("chat with n > 1, logprobs and top_logprobs, rendered by the chat template", async () => {
    const r = await client.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "hi" }],
      n: 2,
      max_tokens: 8,
      seed: 5,
      logprobs: true,
      top_logprobs: 2,
    });
    // PLAIN_TEMPLATE: the prompt is "User: hi\nAssistant: " and a turn ends at "\n".
    const local = await generate(model, new Array(2).fill(tokenizer.encode("User: hi\nAssistant: ")), {
      maxTokens: 8,
      seed: 5,
      stop: ["\n"],
      tokenizer,
    });
    expect(r.choices.map((c) => c.message.content)).toEqual(local.texts);
    r.choices.forEach((c, i) => {
      expect(c.message.role).toBe("assistant");
      const content = c.logprobs!.content!;
      expect(content.map((e) => e.token)).toEqual(local.sequences[i]!.responseIds.map((id) => tokenizer.decode([id])));
      for (const e of content) {
        expect(e.top_logprobs).toHaveLength(2);
        expect(e.bytes).toEqual(Array.from(Buffer.from(e.token, "utf8")));
      }
    });
  });

  it("streams completions (SSE, [DONE]) whose pieces add up to the non-streamed answer, with usage", async () => {
    const params = { model: "tiny", prompt: "abc", n: 2, max_tokens: 10, seed: 3, logprobs: 1 } as const;
    const whole = await client.completions.create(params);
    const stream = await client.completions.create({
      ...params,
      stream: true,
      stream_options: { include_usage: true },
    });
    const text = ["", ""];
    const tokens: string[][] = [[], []];
    const logprobs: number[][] = [[], []];
    const finish: (string | null)[] = [null, null];
    let usage: unknown;
    let events = 0;
    for await (const chunk of stream) {
      events++;
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text[c.index] += c.text;
        tokens[c.index]!.push(...(c.logprobs?.tokens ?? []));
        logprobs[c.index]!.push(...(c.logprobs?.token_logprobs ?? []));
        if (c.finish_reason) finish[c.index] = c.finish_reason;
      }
    }
    expect(events).toBeGreaterThan(3);
    expect(text).toEqual(whole.choices.map((c) => c.text));
    expect(tokens).toEqual(whole.choices.map((c) => c.logprobs!.tokens));
    expect(logprobs).toEqual(whole.choices.map((c) => c.logprobs!.token_logprobs));
    expect(finish).toEqual(whole.choices.map((c) => c.finish_reason));
    expect(usage).toEqual(whole.usage);
  });

  it("streams chat with logprobs whose pieces add up to the non-streamed answer", async () => {
    const params = {
      model: "tiny",
      messages: [{ role: "user" as const, content: "2+3?" }],
      n: 2,
      max_tokens: 12,
      seed: 9,
      logprobs: true,
    };
    const whole = await client.chat.completions.create(params);
    const stream = await client.chat.completions.create({ ...params, stream: true });
    const text = ["", ""];
    const logprobs: number[][] = [[], []];
    const roles: string[] = [];
    const finish: (string | null)[] = [null, null];
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      for (const c of chunk.choices) {
        if (c.delta.role) roles.push(c.delta.role);
        text[c.index] += c.delta.content ?? "";
        logprobs[c.index]!.push(...(c.logprobs?.content ?? []).map((e) => e.logprob));
        if (c.finish_reason) finish[c.index] = c.finish_reason;
      }
    }
    expect(roles).toEqual(["assistant", "assistant"]);
    expect(text).toEqual(whole.choices.map((c) => c.message.content));
    expect(logprobs).toEqual(whole.choices.map((c) => c.logprobs!.content!.map((e) => e.logprob)));
    expect(finish).toEqual(whole.choices.map((c) => c.finish_reason));
  });

  it("renders chat with the checkpoint's Jinja chat template", async () => {
    const chatTemplate = createChatTemplate({
      chat_template:
        "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}",
      bos_token: "<bos>",
      eos_token: "<eos>",
    })!;
    const server = createCompletionsServer({ model, tokenizer, chatTemplate, onFatal: () => undefined });
    const base = await server.listen();
    try {
      const c = new OpenAI({ baseURL: `${base}/v1`, apiKey: "unused", maxRetries: 0 });
      const messages = [
        { role: "system" as const, content: "be brief" },
        { role: "user" as const, content: "1+1?" },
      ];
      const r = await c.chat.completions.create({ model: "tokenrl", messages, max_tokens: 6, seed: 2 });
      // The template's text, encoded without extra special tokens (as vLLM does for chat).
      const prompt = "<bos><system>be brief<eos><user>1+1?<eos><assistant>";
      expect(r.usage!.prompt_tokens).toBe(tokenizer.encode(prompt).length);
      const local = await generate(model, [tokenizer.encode(prompt)], { maxTokens: 6, seed: 2, tokenizer });
      expect(r.choices[0]!.message.content).toBe(local.texts[0]);
    } finally {
      await server.close();
    }
  });

  it("reports a bad request as the client's BadRequestError with OpenAI's fields", async () => {
    const err = await client.completions
      .create({ model: "tiny", prompt: "a".repeat(3000), max_tokens: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ status: 400, code: "context_length_exceeded", param: "prompt" });
  });

  it("holds 64 concurrent requests and clients that disconnect mid-stream: no leaked tensors, no hang, no crash", async () => {
    const baseline = tf.memory().numTensors;
    // A raw client that hangs up after its first event of a long stream.
    const rawDisconnect = new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
      });
      req.on("response", (res) => {
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.on("error", () => undefined);
      req.end(JSON.stringify({ prompt: "go", max_tokens: 1500, stream: true, ignore_eos: true }));
      setTimeout(() => reject(new Error("no first event")), 20_000);
    });
    // The openai client aborting its own stream after two chunks.
    const clientAbort = (async () => {
      const stream = await client.chat.completions.create({
        model: "tiny",
        messages: [{ role: "user", content: "tell me" }],
        max_tokens: 1500,
        stream: true,
      });
      let seen = 0;
      for await (const _ of stream) if (++seen === 2) stream.controller.abort();
      return seen;
    })().catch((e: unknown) => e);
    const requests = Array.from({ length: 64 }, (_, i) => {
      const kind = i % 4;
      if (kind === 0)
        return client.completions
          .create({ model: "tiny", prompt: `q${i}`, n: 2, max_tokens: 8, logprobs: 1, seed: i })
          .then((r) => r.choices.length);
      if (kind === 1)
        return client.chat.completions
          .create({ model: "tiny", messages: [{ role: "user", content: `m${i}` }], max_tokens: 8, logprobs: true })
          .then((r) => r.choices.length);
      if (kind === 2)
        return (async () => {
          const s = await client.completions.create({ model: "tiny", prompt: `s${i}`, max_tokens: 8, stream: true });
          let finished = 0;
          for await (const chunk of s) finished += chunk.choices.filter((c) => c.finish_reason).length;
          return finished;
        })();
      return (async () => {
        const s = await client.chat.completions.create({
          model: "tiny",
          messages: [{ role: "user", content: `c${i}` }],
          max_tokens: 8,
          stream: true,
        });
        let finished = 0;
        for await (const chunk of s) finished += chunk.choices.filter((c) => c.finish_reason).length;
        return finished;
      })();
    });
    const counts = await Promise.all(requests);
    expect(counts).toEqual(Array.from({ length: 64 }, (_, i) => (i % 4 === 0 ? 2 : 1)));
    await rawDisconnect;
    const aborted = await clientAbort;
    expect(aborted === 2 || aborted instanceof Error).toBe(true);
    // The hung-up streams' work stops; every tensor is freed; the server still answers.
    expect(await waitFor(() => served.stats().runningBatches === 0 && served.stats().queuedRows === 0, 5000)).toBe(
      true,
    );
    expect(tf.memory().numTensors).toBe(baseline);
    expect((await get(`${url}/health`)).body).toMatchObject({ status: "ok", healthy: true });
    // 64 requests (80 rows) shared batches.
    expect(served.stats().largestBatchRows).toBeGreaterThan(1);
    const after = await client.completions.create({ model: "tiny", prompt: "ok", max_tokens: 2 });
    expect(after.choices).toHaveLength(1);
  });
});

describe("StreamingChoice", () => {
  const step = (tokenId: number, finished = false) => ({ tokenId, logProb: -1, finished });
  const ids = (s: string) => tokenizer.encode(s);

  it("holds back what a stop string could still cut, so the pieces add up to the final text", () => {
    // Stop string "cd" (holdback 1); the response "abcd" is cut to "ab".
    const c = new StreamingChoice(tokenizer, 1);
    const [a, b, cc, d] = ids("abcd");
    const pieces = [c.push(step(a!)), c.push(step(b!)), c.push(step(cc!)), c.push(step(d!, true))];
    expect(pieces.map((p) => p?.text)).toEqual(["", "a", "b", undefined]);
    const last = c.finish("ab", 4);
    expect(last).toEqual({ text: "", from: 3, to: 4 });
    expect(pieces.map((p) => p?.text ?? "").join("") + last.text).toBe("ab");
  });

  it("leaves out the EOS token's text and sends the rest at the end", () => {
    const c = new StreamingChoice(tokenizer, 0);
    const [x, y] = ids("xy");
    expect(c.push(step(x!))).toEqual({ text: "x", from: 0, to: 1 });
    expect(c.push(step(y!))).toEqual({ text: "y", from: 1, to: 2 });
    expect(c.push(step(tokenizer.eosTokenId, true))).toBeUndefined();
    expect(c.finish("xy", 3)).toEqual({ text: "", from: 2, to: 3 });
  });

  it("waits for the rest of a split UTF-8 character", () => {
    // A byte-level tokenizer decodes half a character as U+FFFD.
    const halves = { encode: () => [], decode: (t: number[]) => (t.length === 1 ? "\uFFFD" : "é") };
    const c = new StreamingChoice(halves, 0);
    expect(c.push(step(7))).toEqual({ text: "", from: 0, to: 1 });
    expect(c.push(step(8))).toEqual({ text: "é", from: 1, to: 2 });
  });
});
