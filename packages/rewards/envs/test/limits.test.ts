import { request } from "node:http";
import { type Socket, connect } from "node:net";
import { ConfigError } from "@tokenrl/base/errors";
import { describe, expect, it } from "vitest";
import { WebShopEnv } from "../src/agentgym/adapters.js";
import { AlfWorldClient } from "../src/agentgym/alfworld-client.js";
import { WebShopClient } from "../src/agentgym/webshop-client.js";
import type { EnvServerError } from "../src/errors.js";
import { HouseholdGame, MAX_COMMAND_CHARS } from "../src/household/game.js";
import { generateHousehold } from "../src/household/generate.js";
import { createAlfWorldServer } from "../src/serve/alfworld-server.js";
import { parseCliArgs } from "../src/serve/args.js";
import { createWebShopServer } from "../src/serve/webshop-server.js";
import { generateCatalogue, generateGoal } from "../src/shop/catalogue.js";
import { MAX_SEARCH_CHARS, ShopSession } from "../src/shop/session.js";
import { FAST, trackServers } from "./helpers.js";

const start = trackServers();
const catalogue = generateCatalogue();

/** A raw POST with node:http, so the body can be streamed without a content-length. */
function rawPost(url: string, chunks: Buffer[], chunked: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const req = request(`${url}/step`, {
      method: "POST",
      headers: chunked ? { "transfer-encoding": "chunked" } : { "content-length": total },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe("request body limit", () => {
  it("answers 413 to a body over maxBodyBytes, with or without content-length, and keeps serving", async () => {
    const url = await start(createWebShopServer({ catalogue, limits: { maxBodyBytes: 64 * 1024 } }));
    const client = new WebShopClient({ baseUrl: url, ...FAST });
    const chunk = Buffer.alloc(256 * 1024, "a");
    // 8 MiB, 128x the limit: the server reads and drops it rather than buffering it.
    const chunks = Array.from({ length: 32 }, () => chunk);
    for (const chunked of [false, true]) {
      const r = await rawPost(url, chunks, chunked);
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body)).toEqual({ detail: "request body over 65536 bytes" });
    }
    // A body just under the limit is read as usual (422: not JSON), and the server still answers.
    const under = await rawPost(url, [Buffer.alloc(64 * 1024 - 1, "a")], false);
    expect(under.status).toBe(422);
    expect(await client.create()).toBe(0);
  });

  it("defaults to 1 MiB and the fetch-based clients see the 413 as an EnvHttpError", async () => {
    const url = await start(createWebShopServer({ catalogue }));
    const client = new WebShopClient({ baseUrl: url, ...FAST });
    const id = await client.create();
    await client.reset(id, 3);
    await expect(client.step(id, `search[${"x".repeat(2 << 20)}]`)).rejects.toMatchObject({ status: 413 });
    expect((await client.step(id, "search[coffee]")).done).toBe(false);
  });
});

/** A raw connection that sends `head` and then `body`, and resolves with the status line the server answers (or "closed"). */
function rawSend(url: string, head: string, body = ""): { socket: Socket; answer: Promise<string> } {
  const { port } = new URL(url);
  const socket = connect(Number(port), "127.0.0.1");
  socket.on("error", () => {});
  const answer = new Promise<string>((resolve) => {
    let got = "";
    socket.on("data", (c) => {
      got += c;
    });
    socket.on("close", () => resolve(got.split("\r\n")[0] || "closed"));
  });
  socket.write(head);
  if (body) socket.write(body);
  return { socket, answer };
}

describe("bodies in flight and slow clients", () => {
  it("answers 503 to a body that would pass maxInFlightBodyBytes across connections, and frees the budget after", async () => {
    const url = await start(createAlfWorldServer({ limits: { maxBodyBytes: 800, maxInFlightBodyBytes: 1000 } }));
    const head = "POST /step HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 700\r\n\r\n";
    // Two bodies of 700 bytes, each under the 800-byte body limit, both held unfinished (699 of 700 bytes sent).
    const a = rawSend(url, head, `[${" ".repeat(698)}`);
    await new Promise((r) => setTimeout(r, 200));
    const b = rawSend(url, head, `[${" ".repeat(698)}`);
    expect(await b.answer).toBe("HTTP/1.1 503 Service Unavailable");
    a.socket.destroy();
    await a.answer;
    // a's bytes went back to the budget: a third such body is read (and answered 422, not JSON).
    const c = rawSend(url, head, `[${" ".repeat(699)}`);
    c.socket.end();
    expect(await c.answer).toBe("HTTP/1.1 422 Unprocessable Entity");
  });

  it("closes a connection whose headers or body trickle in past the timeouts (408)", async () => {
    const url = await start(
      createWebShopServer({ catalogue, limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 } }),
    );
    const t0 = Date.now();
    const headers = rawSend(url, "POST /create HTTP/1.1\r\nHost: x\r\n");
    const trickle = setInterval(() => headers.socket.write("X-a: b\r\n"), 50);
    const body = rawSend(url, "POST /step HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{");
    const drip = setInterval(() => body.socket.write(" "), 50);
    try {
      expect(await headers.answer).toBe("HTTP/1.1 408 Request Timeout");
      expect(await body.answer).toBe("HTTP/1.1 408 Request Timeout");
    } finally {
      clearInterval(trickle);
      clearInterval(drip);
    }
    expect(Date.now() - t0).toBeLessThan(3000);
    // The server still answers others.
    expect((await fetch(`${url}/`)).status).toBe(200);
  });

  it("rejects bad in-flight and timeout limits with a ConfigError naming them", () => {
    expect(() => createWebShopServer({ catalogue, limits: { maxInFlightBodyBytes: 0 } })).toThrow(
      /maxInFlightBodyBytes/,
    );
    expect(() => createWebShopServer({ catalogue, limits: { requestTimeoutMs: 1.5 } })).toThrow(/requestTimeoutMs/);
  });
});

describe("WebShop search input", () => {
  it("uses only the first MAX_SEARCH_CHARS characters of a search", () => {
    const goal = generateGoal(catalogue, 7);
    const head = `red shirt ${"cotton ".repeat(200)}`.slice(0, MAX_SEARCH_CHARS);
    const long = new ShopSession(catalogue, goal);
    const short = new ShopSession(catalogue, goal);
    // 10 MB of a different product's words after the first 500 characters change nothing.
    const started = performance.now();
    const a = long.step(`search[${head}${" organic coffee beans".repeat(500_000)}]`);
    const elapsed = performance.now() - started;
    const b = short.step(`search[${head}]`);
    expect(a.observation).toBe(b.observation);
    expect(long.url()).toBe(short.url());
    expect(long.url().length).toBeLessThan(2 * MAX_SEARCH_CHARS + 100);
    // Before the bound this search scored 1.5M terms against every product (seconds).
    expect(elapsed).toBeLessThan(1000);
  });
});

describe("ALFWorld command input", () => {
  it("answers a command over MAX_COMMAND_CHARS with Nothing happened. at once, counting the step", () => {
    const game = new HouseholdGame(generateHousehold(3));
    const started = performance.now();
    const r = game.step(`go to ${"x ".repeat(500_000)}`);
    expect(performance.now() - started).toBeLessThan(100);
    expect(r).toMatchObject({ observation: "Nothing happened.", done: false });
    expect(game.stepCount).toBe(1);
    expect(MAX_COMMAND_CHARS).toBe(1000);
  });
});

describe("live environments", () => {
  it("caps live environments, evicts the least recently used idle one, and refuses when none is idle", async () => {
    let now = 0;
    const url = await start(
      createWebShopServer({ catalogue, limits: { maxEnvs: 3, evictIdleMs: 1000, now: () => now } }),
    );
    const client = new WebShopClient({ baseUrl: url, ...FAST });
    expect([await client.create(), await client.create(), await client.create()]).toEqual([0, 1, 2]);
    // All three were used just now: no room, and nothing is evicted.
    await expect(client.create()).rejects.toThrow(/too many live environments \(3\)/);
    now = 500;
    await client.reset(0, 1); // 0 is now the most recently used; 1 is the least
    now = 1400;
    // 1 has been idle 1400 ms >= 1000: it makes room; 0 (idle 900 ms) would not have.
    expect(await client.create()).toBe(3);
    expect(await client.listEnvs()).toEqual([0, 2, 3]);
    await expect(client.reset(1, 1)).rejects.toThrow(/The environment 1 does not exist/);
    // POST /close frees one: true once, false for an id that is gone.
    expect(await client.close(2)).toBe(true);
    expect(await client.close(2)).toBe(false);
    expect(await client.listEnvs()).toEqual([0, 3]);
    expect(await client.create()).toBe(4);
  });

  it("keeps at most maxEnvs alive over many creates (ALFWorld), with POST /close {id}", async () => {
    const url = await start(createAlfWorldServer({ limits: { maxEnvs: 10, evictIdleMs: 0 } }));
    const client = new AlfWorldClient({ baseUrl: url, ...FAST });
    for (let i = 0; i < 100; i++) expect(await client.create()).toBe(i);
    // A live id not yet reset answers "has not been reset"; a gone one "is not valid".
    const live: number[] = [];
    for (let i = 0; i < 100; i++) {
      const message = await client.detail(i).then(
        () => "",
        (e: EnvServerError) => e.serverMessage,
      );
      if (!/is not valid/.test(message)) live.push(i);
    }
    expect(live).toEqual(Array.from({ length: 10 }, (_, k) => 90 + k));
    await expect(client.detail(0)).rejects.toThrow(/The id 0 is not valid/);
    expect(await client.close(99)).toBe(true);
    await expect(client.detail(99)).rejects.toThrow(/The id 99 is not valid/);
  });

  it("an adapter replaces its evicted id at the next reset and frees its id on close()", async () => {
    let now = 0;
    const server = createWebShopServer({ catalogue, limits: { maxEnvs: 2, evictIdleMs: 10, now: () => now } });
    const url = await start(server);
    const env = new WebShopEnv({ baseUrl: url, ...FAST });
    await env.reset(5);
    expect(await env.envId()).toBe(0);
    const other = new WebShopClient({ baseUrl: url, ...FAST });
    now = 100;
    await other.create(); // id 1
    now = 200;
    await other.create(); // id 2 evicts 0, the adapter's id
    const again = await env.reset(6);
    expect(again.info.extra).toEqual({ envId: 3 }); // 1 was evicted to make room for the new id
    expect((await env.step("Action: search[coffee]")).done).toBe(false);
    await env.close();
    expect(await other.listEnvs()).toEqual([2]);
  });

  it("rejects bad limits with a ConfigError naming them", () => {
    expect(() => createWebShopServer({ catalogue, limits: { maxEnvs: 0 } })).toThrow(/maxEnvs/);
    expect(() => createAlfWorldServer({ limits: { maxBodyBytes: -1 } })).toThrow(/maxBodyBytes/);
    expect(() => createAlfWorldServer({ limits: { evictIdleMs: Number.NaN } })).toThrow(/evictIdleMs/);
  });
});

describe("client options", () => {
  it("rejects timeouts and back-offs a timer cannot hold, and negative retries, naming them", () => {
    expect(() => new WebShopClient({ baseUrl: "http://127.0.0.1:1", timeoutMs: 2 ** 31 })).toThrow(/timeoutMs/);
    expect(() => new WebShopClient({ baseUrl: "http://127.0.0.1:1", timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => new AlfWorldClient({ baseUrl: "http://127.0.0.1:1", retries: -1 })).toThrow(/retries/);
    expect(() => new AlfWorldClient({ baseUrl: "http://127.0.0.1:1", maxBackoffMs: Number.NaN })).toThrow(
      /maxBackoffMs/,
    );
  });
});

describe("--max-steps and the other numeric options", () => {
  it("accepts a positive integer --max-steps for alfworld", () => {
    expect(parseCliArgs(["serve", "alfworld", "--max-steps", "30"])).toMatchObject({ maxSteps: 30 });
    expect(parseCliArgs(["serve", "webshop", "--max-envs", "8", "--max-body-bytes", "4096"])).toMatchObject({
      maxEnvs: 8,
      maxBodyBytes: 4096,
    });
  });

  it("rejects a --max-steps that is not a positive integer, or given to webshop", () => {
    for (const bad of ["-5", "0", "1.5", "1e400"]) {
      expect(() => parseCliArgs(["serve", "alfworld", "--max-steps", bad]), bad).toThrow(/--max-steps/);
    }
    expect(() => parseCliArgs(["serve", "webshop", "--max-steps", "10"])).toThrow(/--max-steps: applies to alfworld/);
    expect(() => parseCliArgs(["serve", "webshop", "--max-envs", "0"])).toThrow(/--max-envs/);
    expect(() => parseCliArgs(["serve", "webshop", "--evict-idle-ms", "-1"])).toThrow(/--evict-idle-ms/);
    expect(() => parseCliArgs(["serve", "webshop", "--seed", "0.5"])).toThrow(/--seed/);
  });

  it("rejects a bad maxSteps in the server and the game, before any request", () => {
    expect(() => createAlfWorldServer({ maxSteps: -5 })).toThrow(ConfigError);
    expect(() => new HouseholdGame(generateHousehold(0), { maxSteps: 0 })).toThrow(/maxSteps/);
  });
});
