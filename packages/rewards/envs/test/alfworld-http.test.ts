import { TimeoutError } from "@tokenrl/base/errors";
import { describe, expect, it } from "vitest";
import { AlfWorldEnv, createAlfWorldPool } from "../src/agentgym/adapters.js";
import { AlfWorldClient } from "../src/agentgym/alfworld-client.js";
import { runEpisode } from "../src/episode.js";
import { EnvHttpError, EnvServerError, EpisodeStateError } from "../src/errors.js";
import { HOUSEHOLD_TASK_TYPES } from "../src/household/catalogue.js";
import { solveHousehold } from "../src/household/expert.js";
import { generateHousehold } from "../src/household/generate.js";
import { createAlfWorldServer } from "../src/serve/alfworld-server.js";
import { FAST, scripted, trackServers } from "./helpers.js";

const start = trackServers();

/** The first game (seed 0) of each task type, and its expert plan. */
function gameOfType(taskType: string, from = 0): { game: number; plan: string[] } {
  for (let game = from; ; game++) {
    const world = generateHousehold(game);
    if (world.goal.taskType === taskType) return { game, plan: solveHousehold(world) };
  }
}

describe("ALFWorld adapter against the served household on 127.0.0.1", () => {
  it("speaks every route with the protocol's bodies", async () => {
    const url = await start(createAlfWorldServer());
    const client = new AlfWorldClient({ baseUrl: url, ...FAST });
    expect(await client.hello()).toBe("This is environment AlfWorld.");
    expect(await client.create()).toBe(0);
    expect(await client.create()).toBe(1);
    const r = await client.reset(1, 5);
    expect(r.id).toBe(1);
    expect(r.observation).toMatch(/^You are in the middle of a room\. .*\nYour task is to: .+\.$/s);
    expect(r.task_type).toMatch(/^[a-z_]+-[A-Z][a-z]+-None-[A-Z][a-z]+-[a-z]+\/trial_5$/);
    expect(await client.availableActions(1)).toEqual(r.available_actions);
    expect(await client.observation(1)).toBe(r.observation);
    const s = await client.step(1, "inventory");
    expect(s).toEqual({
      observation: "You are not carrying anything.",
      reward: 0,
      available_actions: r.available_actions,
      done: false,
    });
    expect(await client.detail(1)).toEqual({
      world_type: "Text",
      game: 5,
      observation: "You are not carrying anything.",
      available_actions: r.available_actions,
      done: false,
      reward: 0,
      deleted: false,
    });
  });

  it("solves a game of every task type end to end with the expert's ReAct turns", async () => {
    const url = await start(createAlfWorldServer());
    const env = new AlfWorldEnv({ baseUrl: url, ...FAST });
    for (const taskType of [...HOUSEHOLD_TASK_TYPES]) {
      const { game, plan } = gameOfType(taskType);
      const result = await runEpisode(env, game, scripted(plan));
      expect(result).toMatchObject({ taskType, success: true, reward: 1, steps: plan.length, failed: false });
      // The conversation: preamble (2), first observation, then (model, env) per step; env turns not trained.
      expect(result.messages).toHaveLength(3 + 2 * plan.length);
      expect(result.messages[2]!.content).toContain("\nAVAILABLE ACTIONS: ");
      expect(result.messages.filter((m) => m.trained).every((m) => m.role === "assistant")).toBe(true);
    }
    // A held-out game through the same id.
    const held = gameOfType("pick_and_place", 2420);
    const r = await runEpisode(env, held.game, scripted(held.plan));
    expect(r.success).toBe(true);
    expect((await env.reset(held.game)).info.split).toBe("test");
  });

  it("answers an unparsable turn with Invalid Action. without a request to the server", async () => {
    const server = createAlfWorldServer();
    const url = await start(server);
    const env = new AlfWorldEnv({ baseUrl: url, ...FAST });
    const first = await env.reset(3);
    const requests = server.stats.requests;
    const r = await env.step("I will go to the desk now.");
    expect(r).toMatchObject({ observation: `Invalid Action.\n\n${first.observation}`, reward: 0, done: false });
    expect(r.info.invalidFormat).toBe(true);
    expect(server.stats.requests).toBe(requests);
    expect((await env.step("Action: look")).info.rawObservation).toBe(
      "You are in the middle of a room. Looking quickly around you, you see " +
        first.observation.split("you see ")[1]!.split(".\n")[0] +
        ".",
    );
  });

  it('turns {"error": ...} bodies and bad requests into typed errors', async () => {
    const url = await start(createAlfWorldServer());
    const client = new AlfWorldClient({ baseUrl: url, ...FAST });
    await expect(client.step(99, "look")).rejects.toThrow(EnvServerError);
    await expect(client.step(99, "look")).rejects.toThrow(
      "POST /step: the environment server answered with an error: The id 99 is not valid.",
    );
    const id = await client.create();
    await expect(client.step(id, "look")).rejects.toThrow(/has not been reset/);
    await expect(client.reset(id, 0, "Pixels" as "Text")).rejects.toThrow(/world_type must be one of/);
    await expect(client.reset(id, 2620)).rejects.toThrow(/list index out of range/);
    // A body FastAPI would reject: 422, not retried.
    const bad = await client.http.post("/reset", { id }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(EnvHttpError);
    expect((bad as EnvHttpError).status).toBe(422);
    expect(String(bad)).toMatch(/body\.game/);
    const missing = await client.http.get("/close").catch((e: unknown) => e);
    expect((missing as EnvHttpError).status).toBe(404);

    // A step after the game finished: the server's error, and the adapter refuses before asking.
    const { game, plan } = gameOfType("pick_and_place");
    await client.reset(id, game);
    for (const cmd of plan) await client.step(id, cmd);
    // Like the Python server, every per-id route refuses a finished game until the next reset.
    await expect(client.step(id, "look")).rejects.toThrow(`The task with environment ${id} has finished.`);
    await expect(client.detail(id)).rejects.toThrow(`The task with environment ${id} has finished.`);
    const env = new AlfWorldEnv({ baseUrl: url, envId: id, actionFormat: "plain", ...FAST });
    await env.reset(game);
    for (const cmd of plan) await env.step(cmd);
    await expect(env.step("look")).rejects.toThrow(EpisodeStateError);
  });

  it("retries 503 answers with back-off and finishes the episode", async () => {
    const server = createAlfWorldServer({ faults: { every503: 2 } });
    const url = await start(server);
    const { game, plan } = gameOfType("pick_heat_then_place");
    const result = await runEpisode(new AlfWorldEnv({ baseUrl: url, ...FAST }), game, scripted(plan));
    expect(result.success).toBe(true);
    // Every other request was refused, so about as many 503s as real requests were answered.
    expect(server.stats.injected503).toBeGreaterThanOrEqual(plan.length);
  });

  it("gives up on persistent 503 after the configured retries", async () => {
    const server = createAlfWorldServer({ faults: { rate503: 1 } });
    const url = await start(server);
    const client = new AlfWorldClient({ baseUrl: url, ...FAST, retries: 2 });
    const error = await client.create().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvHttpError);
    expect((error as EnvHttpError).status).toBe(503);
    expect(server.stats.injected503).toBe(3);
  });

  it("retries connection resets and finishes the episode", async () => {
    const server = createAlfWorldServer({ faults: { everyReset: 3 } });
    const url = await start(server);
    const { game, plan } = gameOfType("pick_cool_then_place");
    const result = await runEpisode(new AlfWorldEnv({ baseUrl: url, ...FAST }), game, scripted(plan));
    expect(result.success).toBe(true);
    expect(server.stats.injectedResets).toBeGreaterThan(0);
  });

  it("marks the episode failed, not hung, when the server is killed between steps", async () => {
    const server = createAlfWorldServer();
    const url = await start(server);
    const { game, plan } = gameOfType("pick_two_obj_and_place");
    const t0 = Date.now();
    const result = await runEpisode(
      new AlfWorldEnv({ baseUrl: url, ...FAST }),
      game,
      scripted(plan, (turn) => {
        if (turn === 2) void server.kill();
      }),
    );
    expect(result).toMatchObject({ failed: true, success: false, reward: 0, done: false, steps: 2 });
    expect(result.error).toMatch(
      /^EnvUnavailableError: POST \/step: environment server at .* is unreachable after 4 attempt/,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("marks the episode failed when the server dies with a request in flight", async () => {
    const server = createAlfWorldServer();
    const url = await start(server);
    const { game, plan } = gameOfType("pick_clean_then_place");
    const result = await runEpisode(
      new AlfWorldEnv({ baseUrl: url, ...FAST }),
      game,
      scripted(plan, (turn) => {
        if (turn === 1) {
          server.setFaults({ stall: ["POST /step"] });
          setTimeout(() => void server.kill(), 50);
        }
      }),
    );
    expect(result).toMatchObject({ failed: true, steps: 1 });
    expect(result.error).toMatch(/EnvUnavailableError/);
  });

  it("times out a server that never answers", async () => {
    const server = createAlfWorldServer();
    const url = await start(server);
    const env = new AlfWorldEnv({ baseUrl: url, ...FAST, timeoutMs: 300 });
    await env.reset(0);
    server.setFaults({ stall: ["POST /step"] });
    const error = await env.step("Action: look").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).ms).toBe(300);
  });

  it("runs parallel episodes over a bounded pool of environment ids", async () => {
    const server = createAlfWorldServer();
    const url = await start(server);
    const pool = createAlfWorldPool({ baseUrl: url, ...FAST }, 3);
    const games = HOUSEHOLD_TASK_TYPES.map((t) => gameOfType(t));
    const results = await Promise.all(
      games.map(({ game, plan }) => pool.run((env) => runEpisode(env, game, scripted(plan)))),
    );
    expect(results.map((r) => r.success)).toEqual(Array(6).fill(true));
    expect(pool.createdCount).toBe(3);
    // Ids 0-2 came from the pool; the next /create gets 3.
    expect(await new AlfWorldClient({ baseUrl: url, ...FAST }).create()).toBe(3);
    await pool.close();
  });
});
