/**
 * The offline household served with the AgentGym ALFWorld server's routes and
 * bodies (AGENT_ENVS.md), including its error messages: an unknown id, a step
 * after the game finished, a bad world_type or game number all answer HTTP 200
 * with `{"error": "..."}`, as the Python server does.
 *
 * Beyond AgentGym: `POST /close {"id"}` frees an environment (true, or false for
 * an unknown id; AgentGym's TextCraft/BabyAI servers have this route, its
 * ALFWorld server does not), and at most `limits.maxEnvs` are live (see
 * live-envs.ts).
 */
import { HouseholdGame } from "../household/game.js";
import { HOUSEHOLD_GAME_COUNT, generateHousehold } from "../household/generate.js";
import { ConfigError } from "@tokenrl/base/errors";
import { type FaultOptions, JsonServer, type ServerLimits, intField, intQuery, stringField } from "./http-server.js";
import { LiveEnvs } from "./live-envs.js";

export interface AlfWorldServerOptions {
  readonly seed?: number;
  readonly maxSteps?: number;
  readonly faults?: FaultOptions;
  readonly limits?: ServerLimits;
}

interface Slot {
  game: HouseholdGame | undefined;
  info: {
    world_type?: string;
    game?: number;
    observation?: string;
    available_actions?: string[];
    done: boolean;
    reward: number;
    deleted: boolean;
  };
}

export function createAlfWorldServer(options: AlfWorldServerOptions = {}): JsonServer {
  const { maxSteps } = options;
  if (maxSteps !== undefined && (!Number.isInteger(maxSteps) || maxSteps < 1))
    throw new ConfigError("maxSteps", `must be a positive integer, got ${maxSteps}`);
  const server = new JsonServer(options.faults, options.limits);
  const slots = new LiveEnvs<Slot>(options.limits);

  const check = (id: number, isReset = false): Slot | { error: string } => {
    const slot = slots.get(id);
    if (!slot) return { error: `The id ${id} is not valid.` };
    if (slot.info.deleted) return { error: `The task with environment ${id} has been deleted.` };
    if (!isReset && slot.info.done) return { error: `The task with environment ${id} has finished.` };
    if (!isReset && !slot.game) return { error: `The environment ${id} has not been reset.` };
    return slot;
  };

  server
    .route("GET", "/", () => "This is environment AlfWorld.")
    .route("POST", "/create", () => {
      const id = slots.add(() => ({ game: undefined, info: { done: false, reward: 0, deleted: false } }));
      return typeof id === "number" ? { id } : id;
    })
    .route("POST", "/close", ({ body }) => slots.delete(intField(body, "id")))
    .route("POST", "/reset", ({ body }) => {
      const id = intField(body, "id");
      const game = intField(body, "game");
      const worldType = stringField(body, "world_type");
      if (!["Text", "Embody", "Hybrid"].includes(worldType)) {
        return { error: 'world_type must be one of "Text", "Embody" and "Hybrid"' };
      }
      const slot = check(id, true);
      if ("error" in slot) return slot;
      if (game < 0 || game >= HOUSEHOLD_GAME_COUNT) return { error: "list index out of range" };
      const world = generateHousehold(game, { seed: options.seed });
      slot.game = new HouseholdGame(world, { maxSteps });
      const observation = slot.game.initialObservation();
      const available = slot.game.availableActions();
      slot.info = {
        world_type: worldType,
        game,
        observation,
        available_actions: available,
        done: false,
        reward: 0,
        deleted: false,
      };
      return { id, observation, available_actions: available, task_type: world.taskPath };
    })
    .route("POST", "/step", ({ body }) => {
      const id = intField(body, "id");
      const action = stringField(body, "action");
      const slot = check(id);
      if ("error" in slot) return slot;
      const r = slot.game!.step(action);
      const available = slot.game!.availableActions();
      const payload = { observation: r.observation, reward: r.reward, available_actions: available, done: r.done };
      Object.assign(slot.info, payload);
      return payload;
    })
    .route("GET", "/available_actions", ({ query }) => {
      const slot = check(intQuery(query, "id"));
      return "error" in slot ? slot : slot.info.available_actions;
    })
    .route("GET", "/observation", ({ query }) => {
      const slot = check(intQuery(query, "id"));
      return "error" in slot ? slot : slot.info.observation;
    })
    .route("GET", "/detail", ({ query }) => {
      const slot = check(intQuery(query, "id"));
      return "error" in slot ? slot : slot.info;
    });
  return server;
}
