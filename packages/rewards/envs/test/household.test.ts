import { describe, expect, it } from "vitest";
import { HOUSEHOLD_TASK_TYPES } from "../src/household/catalogue.js";
import { playHouseholdRandomly, solveHousehold } from "../src/household/expert.js";
import { HouseholdGame, NOTHING_HAPPENED } from "../src/household/game.js";
import { type HouseholdWorld, generateHousehold, householdSplit } from "../src/household/generate.js";

/** A fixed little kitchen, written by hand so every expected message is known. */
function kitchen(taskType: HouseholdWorld["goal"]["taskType"], receptacleType = "countertop"): HouseholdWorld {
  const base = { hot: false, cool: false, clean: false, takeable: true, isLamp: false, lampOn: false };
  return {
    game: 0,
    split: "train",
    room: "kitchen",
    receptacles: [
      { name: "countertop 1", type: "countertop", openable: false, preposition: "on", isOpen: false },
      { name: "drawer 1", type: "drawer", openable: true, preposition: "in", isOpen: false },
      { name: "microwave 1", type: "microwave", openable: true, preposition: "in", isOpen: false },
      { name: "fridge 1", type: "fridge", openable: true, preposition: "in", isOpen: false },
      { name: "sinkbasin 1", type: "sinkbasin", openable: false, preposition: "in", isOpen: false },
      { name: "sidetable 1", type: "sidetable", openable: false, preposition: "on", isOpen: false },
    ],
    items: [
      { ...base, name: "egg 1", type: "egg", location: "drawer 1" },
      { ...base, name: "egg 2", type: "egg", location: "sidetable 1" },
      { ...base, name: "apple 1", type: "apple", location: "drawer 1" },
      { ...base, name: "desklamp 1", type: "desklamp", location: "sidetable 1", takeable: false, isLamp: true },
    ],
    goal: {
      taskType,
      objectType: "egg",
      receptacleType: taskType === "look_at_obj_in_light" ? undefined : receptacleType,
      lampType: taskType === "look_at_obj_in_light" ? "desklamp" : undefined,
      instruction: "do the egg task.",
    },
    taskPath: "test/trial_0",
  };
}

describe("household game", () => {
  it("hides a closed receptacle's contents and shows them once opened", () => {
    const g = new HouseholdGame(kitchen("pick_and_place"));
    expect(g.step("go to drawer 1").observation).toBe("You arrive at drawer 1. The drawer 1 is closed.");
    expect(g.step("take egg 1 from drawer 1").observation).toBe(NOTHING_HAPPENED);
    expect(g.step("open drawer 1").observation).toBe(
      "You open the drawer 1. The drawer 1 is open. In it, you see an egg 1, and an apple 1.",
    );
    expect(g.step("take egg 1 from drawer 1").observation).toBe("You pick up the egg 1 from the drawer 1.");
    expect(g.step("inventory").observation).toBe("You are carrying: an egg 1.");
  });

  it("answers Nothing happened. to anything outside the grammar or not applicable here", () => {
    const g = new HouseholdGame(kitchen("pick_and_place"));
    for (const bad of [
      "dance",
      "take egg 2 from sidetable 1",
      "go to bathtub 1",
      "heat egg 1 with microwave 1",
      "close drawer 1",
    ]) {
      expect(g.step(bad).observation).toBe(NOTHING_HAPPENED);
    }
    expect(g.stepCount).toBe(5);
    expect(g.done).toBe(false);
  });

  it("holds one object at a time", () => {
    const g = new HouseholdGame(kitchen("pick_and_place"));
    g.step("go to drawer 1");
    g.step("open drawer 1");
    g.step("take egg 1 from drawer 1");
    expect(g.step("take apple 1 from drawer 1").observation).toBe(NOTHING_HAPPENED);
    expect(g.availableActions()).not.toContain("take apple 1 from drawer 1");
    expect(g.availableActions()).toContain("put egg 1 in/on drawer 1");
  });

  it("wins pick_and_place when an object of the goal type reaches a receptacle of the goal type", () => {
    const g = new HouseholdGame(kitchen("pick_and_place"));
    g.step("go to sidetable 1");
    g.step("take egg 2 from sidetable 1");
    g.step("go to countertop 1");
    const r = g.step("put egg 2 in/on countertop 1");
    expect(r).toEqual({ observation: "You move the egg 2 to the countertop 1.", reward: 1, done: true, won: true });
    expect(() => g.step("look")).toThrow(/finished/);
  });

  it("needs the heat before the place for pick_heat_then_place", () => {
    const g = new HouseholdGame(kitchen("pick_heat_then_place"));
    g.step("go to sidetable 1");
    g.step("take egg 2 from sidetable 1");
    g.step("go to countertop 1");
    expect(g.step("put egg 2 in/on countertop 1").done).toBe(false);
    g.step("take egg 2 from countertop 1");
    g.step("go to microwave 1");
    expect(g.availableActions()).toContain("heat egg 2 with microwave 1");
    expect(g.step("heat egg 2 with microwave 1").observation).toBe("You heat the egg 2 using the microwave 1.");
    expect(g.step("examine egg 2").observation).toBe("This is a hot egg 2.");
    g.step("go to countertop 1");
    expect(g.step("put egg 2 in/on countertop 1").won).toBe(true);
  });

  it("cleans only at a sinkbasin and cools only at a fridge", () => {
    const g = new HouseholdGame(kitchen("pick_cool_then_place"));
    g.step("go to sidetable 1");
    g.step("take egg 2 from sidetable 1");
    g.step("go to fridge 1");
    expect(g.step("clean egg 2 with fridge 1").observation).toBe(NOTHING_HAPPENED);
    expect(g.step("cool egg 2 with fridge 1").observation).toBe("You cool the egg 2 using the fridge 1.");
  });

  it("wins look_at_obj_in_light when holding the object where a lamp is switched on", () => {
    const g = new HouseholdGame(kitchen("look_at_obj_in_light"));
    g.step("go to sidetable 1");
    g.step("take egg 2 from sidetable 1");
    expect(g.step("toggle desklamp 1")).toEqual({
      observation: "You turn on the desklamp 1.",
      reward: 1,
      done: true,
      won: true,
    });
  });

  it("needs two objects in the target for pick_two_obj_and_place", () => {
    const g = new HouseholdGame(kitchen("pick_two_obj_and_place"));
    for (const cmd of [
      "go to sidetable 1",
      "take egg 2 from sidetable 1",
      "go to countertop 1",
      "put egg 2 in/on countertop 1",
    ]) {
      expect(g.step(cmd).done).toBe(false);
    }
    for (const cmd of ["go to drawer 1", "open drawer 1", "take egg 1 from drawer 1", "go to countertop 1"])
      g.step(cmd);
    expect(g.step("put egg 1 in/on countertop 1").won).toBe(true);
  });

  it("ends unsolved with reward 0 after maxSteps", () => {
    const g = new HouseholdGame(kitchen("pick_and_place"), { maxSteps: 3 });
    g.step("look");
    g.step("look");
    expect(g.step("look")).toMatchObject({ reward: 0, done: true, won: false });
  });
});

describe("household generation", () => {
  it("is deterministic in (seed, game) and differs across seeds", () => {
    expect(generateHousehold(42)).toEqual(generateHousehold(42));
    expect(generateHousehold(42, { seed: 1 })).not.toEqual(generateHousehold(42, { seed: 2 }));
  });

  it("splits games like ALFWorld: 0-2419 train, 2420-2619 held-out, nothing beyond", () => {
    expect(householdSplit(2419)).toBe("train");
    expect(householdSplit(2420)).toBe("test");
    expect(generateHousehold(2619).split).toBe("test");
    expect(() => generateHousehold(2620)).toThrow(/game/);
    expect(() => generateHousehold(-1)).toThrow(/game/);
  });

  it("starts every receptacle that opens closed and no goal already met", () => {
    for (let game = 0; game < 100; game++) {
      const world = generateHousehold(game);
      expect(world.receptacles.filter((r) => r.openable).every((r) => !r.isOpen)).toBe(true);
      expect(new HouseholdGame(world).goalSatisfied()).toBe(false);
      expect(world.taskPath.split("/")[1]).toBe(`trial_${game}`);
    }
  });

  it("the scripted expert solves every task type over many seeds, train and held-out", () => {
    const solvedByType = new Map<string, number>();
    for (const seed of [0, 1, 2]) {
      for (const game of [
        ...Array.from({ length: 40 }, (_, i) => i * 60),
        ...Array.from({ length: 20 }, (_, i) => 2420 + i * 10),
      ]) {
        for (const taskType of HOUSEHOLD_TASK_TYPES) {
          const world = generateHousehold(game, { seed, taskType });
          const plan = solveHousehold(world);
          // Replay on a fresh game: the plan wins within ALFWorld's 50-step budget.
          const g = new HouseholdGame(world);
          let last = { won: false };
          for (const cmd of plan) last = g.step(cmd);
          expect(last.won).toBe(true);
          expect(plan.length).toBeLessThanOrEqual(50);
          solvedByType.set(taskType, (solvedByType.get(taskType) ?? 0) + 1);
        }
      }
    }
    expect([...solvedByType.values()]).toEqual(Array(6).fill(3 * 60));
  });

  it("a uniformly random agent almost never wins in 50 steps (tasks are not trivial)", () => {
    let wins = 0;
    const games = 300;
    for (let game = 0; game < games; game++)
      if (playHouseholdRandomly(generateHousehold(game), 1000 + game).won) wins++;
    // README reports this rate; measured 0/300 at seed 0.
    expect(wins / games).toBeLessThan(0.05);
  });
});
