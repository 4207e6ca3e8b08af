import { describe, expect, it } from "vitest";
import { runEpisode, summariseEpisodes } from "../src/episode.js";
import { EpisodeStateError } from "../src/errors.js";
import { solveHousehold } from "../src/household/expert.js";
import { generateHousehold } from "../src/household/generate.js";
import { createHouseholdEnv, createShopEnv } from "../src/offline.js";
import { ALFWORLD_PREAMBLE, WEBSHOP_PREAMBLE } from "../src/preamble.js";
import { scripted } from "./helpers.js";

describe("offline environments in-process", () => {
  it("formats each household turn as AgentGym does: observation, then AVAILABLE ACTIONS joined by commas", async () => {
    const env = createHouseholdEnv();
    const first = await env.reset(9);
    expect(first.observation).toBe(
      `${first.observation.split("\nAVAILABLE ACTIONS: ")[0]}\nAVAILABLE ACTIONS: ${first.availableActions.join(",")}`,
    );
    expect(first.info).toMatchObject({ taskId: 9, split: "train", instruction: generateHousehold(9).goal.instruction });
    const r = await env.step("Action: inventory");
    expect(r.observation).toBe(`You are not carrying anything.\nAVAILABLE ACTIONS: ${r.availableActions.join(",")}`);
    expect(r.info).toMatchObject({ action: "inventory", rawObservation: "You are not carrying anything.", steps: 1 });
  });

  it("refuses to step before reset", async () => {
    await expect(createShopEnv().step("search[x]")).rejects.toThrow(EpisodeStateError);
  });

  it("starts each conversation with the environment's two-message preamble, neither trained on", async () => {
    const world = generateHousehold(21);
    const r = await runEpisode(createHouseholdEnv(), 21, scripted(solveHousehold(world)));
    expect(r.messages.slice(0, 2)).toEqual(ALFWORLD_PREAMBLE);
    expect(ALFWORLD_PREAMBLE.map((m) => [m.role, m.trained])).toEqual([
      ["user", false],
      ["assistant", false],
    ]);
    expect(WEBSHOP_PREAMBLE[1]).toEqual({ role: "assistant", content: "Ok.", trained: false });
    expect(r.success).toBe(true);
  });

  it("cuts an episode at maxRounds with the last step's reward and no success", async () => {
    const r = await runEpisode(createHouseholdEnv(), 21, () => "Action: look", { maxRounds: 4 });
    expect(r).toMatchObject({ steps: 4, done: false, success: false, reward: 0, failed: false });
  });

  it("counts an unparsable turn as a step that changes nothing", async () => {
    const env = createShopEnv();
    const first = await env.reset(700);
    const turns = ["I am not sure.", "Action: search[shoes]"];
    const r = await runEpisode(env, 700, () => turns.shift() ?? "Action: click[Back to Search]", { maxRounds: 2 });
    expect(r.messages[4]!.content).toBe(`Invalid Action.\n\n${first.observation}`);
    expect(r.steps).toBe(2);
  });

  it("summarises success rate, score (mean reward x 100), mean steps and failures", () => {
    const s = summariseEpisodes([
      { success: true, reward: 1, steps: 4, failed: false },
      { success: false, reward: 0.5, steps: 6, failed: false },
      { success: false, reward: 0, steps: 2, failed: true },
      { success: false, reward: 0.25, steps: 8, failed: false },
    ]);
    // success 1/4; score 100 * (1 + 0.5 + 0 + 0.25) / 4 = 43.75; steps (4+6+2+8)/4 = 5
    expect(s).toEqual({ episodes: 4, successRate: 0.25, score: 43.75, meanSteps: 5, failed: 1 });
  });
});
