/**
 * A scripted expert for the household: it reads the world (where things are,
 * which appliance and target the task needs) and plays the solution on its own
 * copy of the game, so the command list it returns is known to win. Its purpose
 * is to prove every generated task solvable and to give demonstrations.
 */
import { createRng } from "@tokenrl/base/rng";
import { TASK_APPLIANCE } from "./catalogue.js";
import { HouseholdGame, NOTHING_HAPPENED } from "./game.js";
import type { HouseholdWorld } from "./generate.js";

export function solveHousehold(world: HouseholdWorld): string[] {
  const game = new HouseholdGame(world, { maxSteps: 1000 });
  const commands: string[] = [];
  const run = (cmd: string) => {
    const r = game.step(cmd);
    if (r.observation === NOTHING_HAPPENED) {
      throw new Error(`household expert: "${cmd}" did nothing in game ${world.game} (${world.goal.instruction})`);
    }
    commands.push(cmd);
  };
  const goTo = (name: string) => {
    if (game.currentLocation !== name) run(`go to ${name}`);
    const r = game.receptacle(name)!;
    if (r.openable && !r.isOpen) run(`open ${name}`);
  };
  const fetch = (itemName: string) => {
    const from = game.item(itemName)!.location;
    goTo(from);
    run(`take ${itemName} from ${from}`);
  };
  const g = world.goal;
  const target = world.receptacles.find((r) => r.type === g.receptacleType);
  const candidates = world.items.filter((i) => i.type === g.objectType).map((i) => i.name);
  const placeOne = (itemName: string) => {
    fetch(itemName);
    const appliance = TASK_APPLIANCE[g.taskType];
    if (appliance) {
      const at = world.receptacles.find((r) => r.type === appliance)!;
      if (game.currentLocation !== at.name) run(`go to ${at.name}`);
      const verb = appliance === "sinkbasin" ? "clean" : appliance === "microwave" ? "heat" : "cool";
      run(`${verb} ${itemName} with ${at.name}`);
    }
    goTo(target!.name);
    run(`put ${itemName} in/on ${target!.name}`);
  };

  if (g.taskType === "look_at_obj_in_light") {
    fetch(candidates[0]!);
    const lamp = world.items.find((i) => i.isLamp)!;
    if (game.currentLocation !== lamp.location) run(`go to ${lamp.location}`);
    run(`use ${lamp.name}`);
  } else if (g.taskType === "pick_two_obj_and_place") {
    placeOne(candidates[0]!);
    placeOne(candidates[1]!);
  } else {
    placeOne(candidates[0]!);
  }
  if (!game.isWon) throw new Error(`household expert: plan did not win game ${world.game} (${g.instruction})`);
  return commands;
}

/** A uniformly random agent over the admissible commands; returns whether it won and how many steps it took. */
export function playHouseholdRandomly(
  world: HouseholdWorld,
  seed: number,
  maxSteps = 50,
): { won: boolean; steps: number } {
  const rng = createRng(seed);
  const game = new HouseholdGame(world, { maxSteps });
  while (!game.done) game.step(rng.pick(game.availableActions()));
  return { won: game.isWon, steps: game.stepCount };
}
