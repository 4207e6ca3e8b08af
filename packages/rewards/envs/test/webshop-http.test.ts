import { describe, expect, it } from "vitest";
import { WebShopEnv, createWebShopPool } from "../src/agentgym/adapters.js";
import { WebShopClient } from "../src/agentgym/webshop-client.js";
import { runEpisode, summariseEpisodes } from "../src/episode.js";
import { type EnvHttpError, EnvServerError } from "../src/errors.js";
import { createWebShopServer } from "../src/serve/webshop-server.js";
import { generateCatalogue, generateGoal } from "../src/shop/catalogue.js";
import { solveShop } from "../src/shop/expert.js";
import { FAST, scripted, trackServers } from "./helpers.js";

const start = trackServers();
const catalogue = generateCatalogue();

describe("WebShop adapter against the served shop on 127.0.0.1", () => {
  it("speaks every route with the protocol's bodies", async () => {
    const url = await start(createWebShopServer({ catalogue }));
    const client = new WebShopClient({ baseUrl: url, ...FAST });
    const goal = generateGoal(catalogue, 12);
    expect(await client.hello()).toBe("ok");
    expect(await client.create()).toBe(0);
    expect(await client.create()).toBe(1);
    expect(await client.listEnvs()).toEqual([0, 1]);
    const first = await client.reset(1, 12);
    expect(first).toBe(`WebShop [SEP] Instruction: [SEP] ${goal.instruction} [SEP] Search`);
    expect(await client.http.post("/reset", { env_idx: 1, session_id: 12 })).toEqual([first, null]);
    expect(await client.observation(1)).toBe(first);
    expect(await client.instructionText(1)).toBe(`Instruction: ${goal.instruction}`);
    expect(await client.availableActions(1)).toEqual({ has_search_bar: true, clickables: ["search"] });
    const step = await client.step(1, "search[coffee]");
    expect(step).toMatchObject({ reward: 0, done: false, info: null });
    expect(step.state).toContain("Page 1 (Total results: ");
    const state = await client.state(1);
    expect(state.url).toBe("/search_results/12/coffee/1");
    expect(state.instruction_text).toBe(`Instruction: ${goal.instruction}`);
    expect(state.html).toMatch(/^<html><body><div>Instruction:<\/div>/);
  });

  it("buys the goal's product with its options for reward 1, over train and held-out sessions", async () => {
    const url = await start(createWebShopServer({ catalogue }));
    const env = new WebShopEnv({ baseUrl: url, ...FAST });
    const results = [];
    for (const session of [0, 1, 250, 499, 500, 777, 3000, 5999]) {
      const plan = solveShop(catalogue, generateGoal(catalogue, session));
      const r = await runEpisode(env, session, scripted(plan));
      expect(r).toMatchObject({ success: true, reward: 1, steps: plan.length, done: true, taskType: "webshop" });
      results.push(r);
    }
    expect(summariseEpisodes(results)).toEqual({
      episodes: 8,
      successRate: 1,
      score: 100,
      meanSteps: expect.any(Number),
      failed: 0,
    });
    expect((await env.reset(499)).info.split).toBe("test");
    expect((await env.reset(500)).info.split).toBe("train");
  });

  it("scores a purchase without the options at the WebShop partial reward", async () => {
    const url = await start(createWebShopServer({ catalogue }));
    const env = new WebShopEnv({ baseUrl: url, ...FAST, actionFormat: "plain" });
    const goal = generateGoal(catalogue, 42);
    const plan = solveShop(catalogue, goal).filter(
      (a) => !Object.values(goal.options).some((v) => a === `click[${v}]`),
    );
    const r = await runEpisode(env, 42, () => plan.shift() ?? "click[Buy Now]");
    const a = goal.attributes.length;
    const o = Object.keys(goal.options).length;
    expect(r.reward).toBeCloseTo((a + 1) / (a + o + 1), 12);
    expect(r.success).toBe(false);
  });

  it("lists search and clickables as available actions, and WebShop's no-op for a click not on the page", async () => {
    const url = await start(createWebShopServer({ catalogue }));
    const env = new WebShopEnv({ baseUrl: url, ...FAST });
    const first = await env.reset(5);
    expect(first.availableActions).toEqual(["search[...]"]);
    const r = await env.step("Thought: buy it\nAction: click[Buy Now]");
    expect(r).toMatchObject({ observation: first.observation, reward: 0, done: false });
    const s = await env.step("Action: search[shoes]");
    expect(s.availableActions.slice(0, 2)).toEqual(["click[Back to Search]", "click[Next >]"]);
  });

  it('turns {"error": ...} bodies and bad requests into typed errors', async () => {
    const url = await start(createWebShopServer({ catalogue }));
    const client = new WebShopClient({ baseUrl: url, ...FAST });
    await expect(client.step(7, "search[x]")).rejects.toThrow(EnvServerError);
    await expect(client.observation(7)).rejects.toThrow("The environment 7 does not exist.");
    const idx = await client.create();
    await expect(client.reset(idx, 6000)).rejects.toThrow(/session_id 6000 is out of range/);
    const bad = await client.http.post("/reset", { env_idx: idx, session_id: "twelve" }).catch((e: unknown) => e);
    expect((bad as EnvHttpError).status).toBe(422);
    await client.reset(idx, 1);
    for (const a of solveShop(catalogue, generateGoal(catalogue, 1))) await client.step(idx, a);
    await expect(client.step(idx, "click[Buy Now]")).rejects.toThrow(/has finished/);
  });

  it("retries random 503s and finishes every episode", async () => {
    const server = createWebShopServer({ catalogue, faults: { rate503: 0.3, seed: 3 } });
    const url = await start(server);
    const env = new WebShopEnv({ baseUrl: url, ...FAST, retries: 8 });
    for (const session of [10, 20, 30]) {
      const r = await runEpisode(env, session, scripted(solveShop(catalogue, generateGoal(catalogue, session))));
      expect(r.success).toBe(true);
    }
    expect(server.stats.injected503).toBeGreaterThan(0);
  });

  it("marks the episode failed, not hung, when the server is killed mid-episode", async () => {
    const server = createWebShopServer({ catalogue });
    const url = await start(server);
    const plan = solveShop(catalogue, generateGoal(catalogue, 8));
    const t0 = Date.now();
    const r = await runEpisode(
      new WebShopEnv({ baseUrl: url, ...FAST }),
      8,
      scripted(plan, (turn) => {
        if (turn === 1) void server.kill();
      }),
    );
    expect(r).toMatchObject({ failed: true, success: false, steps: 1 });
    expect(r.error).toMatch(/EnvUnavailableError/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("runs parallel episodes over a bounded pool of env_idx", async () => {
    const url = await start(createWebShopServer({ catalogue }));
    const pool = createWebShopPool({ baseUrl: url, ...FAST }, 2);
    const sessions = [600, 601, 602, 603, 604];
    const results = await Promise.all(
      sessions.map((s) =>
        pool.run((env) => runEpisode(env, s, scripted(solveShop(catalogue, generateGoal(catalogue, s))))),
      ),
    );
    expect(results.every((r) => r.success)).toBe(true);
    expect(pool.createdCount).toBe(2);
    expect(await new WebShopClient({ baseUrl: url, ...FAST }).listEnvs()).toEqual([0, 1]);
  });
});
