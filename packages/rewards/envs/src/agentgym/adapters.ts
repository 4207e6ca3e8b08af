/**
 * Environment adapters over the AgentGym HTTP servers. Each adapter owns one
 * server-side environment id (from POST /create, made on first reset unless
 * given) and reuses it across episodes: AgentGym's ALFWorld and WebShop servers
 * have no route to free one, so ids are pooled rather than recreated (see
 * pool.ts). Against a server that has POST /close (tokenrl's offline servers),
 * `close()` frees the id; and an id the server no longer knows (evicted after
 * being idle, see serve/live-envs.ts) is replaced by a new one at the next reset.
 */
import type { ActionFormat, ConversationMessage, Split } from "../environment.js";
import { ALFWORLD_PREAMBLE, WEBSHOP_PREAMBLE, formatAlfworldObservation } from "../preamble.js";
import { type AppliedAction, type StartedTask, TurnEnvironment } from "../turn-environment.js";
import { shopActionList } from "../webshop-actions.js";
import { AlfWorldClient, type AlfWorldWorldType } from "./alfworld-client.js";
import type { HttpOptions } from "./http.js";
import { WebShopClient } from "./webshop-client.js";
import { EnvironmentPool } from "../pool.js";
import { EnvServerError } from "../errors.js";

/** The servers' answers for an id they do not know (ALFWorld; WebShop). */
const UNKNOWN_ID = /^The id \d+ is not valid\.$|^The environment \d+ does not exist\.$/;

/** Runs a reset; if the server no longer knows the adapter's own id, makes a new one and resets that. */
async function resetOwnId<R>(
  env: { id: number | undefined; ownsId: boolean; envId(): Promise<number> },
  reset: (id: number) => Promise<R>,
): Promise<{ id: number; r: R }> {
  const id = await env.envId();
  try {
    return { id, r: await reset(id) };
  } catch (error) {
    if (!(env.ownsId && error instanceof EnvServerError && UNKNOWN_ID.test(error.serverMessage))) throw error;
    env.id = undefined;
    const fresh = await env.envId();
    return { id: fresh, r: await reset(fresh) };
  }
}

/** Frees the adapter's own id on a server with POST /close; keeps it (for reuse) where the route is missing. */
async function closeOwnId(
  env: { id: number | undefined; ownsId: boolean },
  close: (id: number) => Promise<boolean>,
): Promise<void> {
  if (env.id === undefined || !env.ownsId) return;
  try {
    await close(env.id);
    env.id = undefined;
  } catch {
    // AgentGym's ALFWorld/WebShop servers answer 404; a gone server cannot free it either.
  }
}

export interface AdapterOptions extends HttpOptions {
  readonly actionFormat?: ActionFormat;
  /** Use this server-side environment id instead of creating one. */
  readonly envId?: number;
}

/** ALFWorld's game ranges: 0-2419 train, 2420-2619 held-out. */
export function alfworldSplit(game: number): Split {
  return game < 2420 ? "train" : "test";
}

const TASK_TYPE_PREFIXES: readonly [string, string][] = [
  ["pick_and_place_simple", "pick_and_place"],
  ["look_at_obj_in_light", "look_at_obj_in_light"],
  ["pick_clean_then_place_in_recep", "pick_clean_then_place"],
  ["pick_heat_then_place_in_recep", "pick_heat_then_place"],
  ["pick_cool_then_place_in_recep", "pick_cool_then_place"],
  ["pick_two_obj_and_place", "pick_two_obj_and_place"],
];

/** "pick_heat_then_place_in_recep-Egg-None-Microwave-13/trial_..." -> "pick_heat_then_place". */
export function alfworldTaskType(taskPath: string): string {
  for (const [prefix, short] of TASK_TYPE_PREFIXES) if (taskPath.startsWith(prefix)) return short;
  return taskPath.split(/[-/]/)[0] ?? taskPath;
}

export class AlfWorldEnv extends TurnEnvironment {
  readonly name = "alfworld";
  readonly preamble: readonly ConversationMessage[] = ALFWORLD_PREAMBLE;
  readonly client: AlfWorldClient;
  readonly worldType: AlfWorldWorldType;
  /** @internal the server-side id; read it with envId(). */
  id: number | undefined;
  /** @internal true when this adapter made the id (it may then free or replace it). */
  readonly ownsId: boolean;

  constructor(options: AdapterOptions & { worldType?: AlfWorldWorldType }) {
    super(options.actionFormat);
    this.client = new AlfWorldClient(options);
    this.id = options.envId;
    this.ownsId = options.envId === undefined;
    this.worldType = options.worldType ?? "Text";
  }

  /** The server-side id, creating it if needed. */
  async envId(): Promise<number> {
    if (this.id === undefined) this.id = await this.client.create();
    return this.id;
  }

  protected async startTask(taskId: number): Promise<StartedTask> {
    const { id, r } = await resetOwnId(this, (i) => this.client.reset(i, taskId, this.worldType));
    const instruction = r.observation.split("Your task is to: ")[1]?.trim() ?? "";
    return {
      observation: formatAlfworldObservation(r.observation, r.available_actions),
      availableActions: r.available_actions,
      info: {
        taskId,
        taskType: alfworldTaskType(r.task_type ?? ""),
        instruction,
        split: alfworldSplit(taskId),
        extra: { task_type: r.task_type, envId: id },
      },
    };
  }

  protected async applyAction(action: string): Promise<AppliedAction> {
    const r = await this.client.step(this.id!, action);
    return {
      observation: formatAlfworldObservation(r.observation, r.available_actions),
      rawObservation: r.observation,
      reward: r.reward,
      done: r.done,
      availableActions: r.available_actions,
    };
  }

  override async close(): Promise<void> {
    await super.close();
    await closeOwnId(this, (id) => this.client.close(id));
  }
}

export class WebShopEnv extends TurnEnvironment {
  readonly name = "webshop";
  readonly preamble: readonly ConversationMessage[] = WEBSHOP_PREAMBLE;
  readonly client: WebShopClient;
  /** @internal the server-side id; read it with envId(). */
  id: number | undefined;
  /** @internal true when this adapter made the id (it may then free or replace it). */
  readonly ownsId: boolean;

  constructor(options: AdapterOptions) {
    super(options.actionFormat);
    this.client = new WebShopClient(options);
    this.id = options.envId;
    this.ownsId = options.envId === undefined;
  }

  async envId(): Promise<number> {
    if (this.id === undefined) this.id = await this.client.create();
    return this.id;
  }

  protected async startTask(taskId: number): Promise<StartedTask> {
    const { id } = await resetOwnId(this, (i) => this.client.reset(i, taskId));
    // AgentGym's client shows the model GET /observation after a reset.
    const observation = await this.client.observation(id);
    const available = await this.client.availableActions(id);
    const instruction = (await this.client.instructionText(id)).replace(/^Instruction:\s*/, "");
    return {
      observation,
      availableActions: shopActionList(available),
      info: {
        taskId,
        taskType: "webshop",
        instruction,
        // WebShop's convention: the first 500 goals are the test goals.
        split: taskId < 500 ? "test" : "train",
        extra: { envId: id },
      },
    };
  }

  protected async applyAction(action: string): Promise<AppliedAction> {
    const r = await this.client.step(this.id!, action);
    const available = r.done ? { has_search_bar: false, clickables: [] } : await this.client.availableActions(this.id!);
    return {
      observation: r.state,
      rawObservation: r.state,
      reward: r.reward,
      done: r.done,
      availableActions: shopActionList(available),
    };
  }

  override async close(): Promise<void> {
    await super.close();
    await closeOwnId(this, (id) => this.client.close(id));
  }
}

export function createAlfWorldEnv(options: AdapterOptions & { worldType?: AlfWorldWorldType }): AlfWorldEnv {
  return new AlfWorldEnv(options);
}

export function createWebShopEnv(options: AdapterOptions): WebShopEnv {
  return new WebShopEnv(options);
}

/** A pool of ALFWorld adapters, each holding one server-side id, for `size` parallel episodes. */
export function createAlfWorldPool(
  options: AdapterOptions & { worldType?: AlfWorldWorldType },
  size: number,
): EnvironmentPool<AlfWorldEnv> {
  return new EnvironmentPool(async () => {
    const env = new AlfWorldEnv({ ...options, envId: undefined });
    await env.envId();
    return env;
  }, size);
}

/** A pool of WebShop adapters, each holding one server-side env_idx, for `size` parallel episodes. */
export function createWebShopPool(options: AdapterOptions, size: number): EnvironmentPool<WebShopEnv> {
  return new EnvironmentPool(async () => {
    const env = new WebShopEnv({ ...options, envId: undefined });
    await env.envId();
    return env;
  }, size);
}
