/**
 * The offline environments in-process: the generated household (ALFWorld-like)
 * and the generated shop (WebShop-like), behind the same Environment interface
 * and the same observation text as their HTTP-served versions.
 */
import type { ActionFormat, ConversationMessage } from "./environment.js";
import { HouseholdGame } from "./household/game.js";
import { generateHousehold } from "./household/generate.js";
import { ALFWORLD_PREAMBLE, WEBSHOP_PREAMBLE, formatAlfworldObservation } from "./preamble.js";
import { type Catalogue, generateCatalogue, generateGoal } from "./shop/catalogue.js";
import { ShopSession } from "./shop/session.js";
import { type AppliedAction, type StartedTask, TurnEnvironment } from "./turn-environment.js";
import { shopActionList } from "./webshop-actions.js";

export interface HouseholdEnvOptions {
  /** Base seed of the game set. Default 0. */
  readonly seed?: number;
  /** Steps before an unsolved game ends. Default 50. */
  readonly maxSteps?: number;
  readonly actionFormat?: ActionFormat;
}

export class HouseholdEnv extends TurnEnvironment {
  readonly name = "household";
  readonly preamble: readonly ConversationMessage[] = ALFWORLD_PREAMBLE;
  private readonly options: HouseholdEnvOptions;
  private game: HouseholdGame | undefined;

  constructor(options: HouseholdEnvOptions = {}) {
    super(options.actionFormat);
    this.options = options;
  }

  protected async startTask(taskId: number): Promise<StartedTask> {
    const world = generateHousehold(taskId, { seed: this.options.seed });
    this.game = new HouseholdGame(world, { maxSteps: this.options.maxSteps });
    const actions = this.game.availableActions();
    return {
      observation: formatAlfworldObservation(this.game.initialObservation(), actions),
      availableActions: actions,
      info: {
        taskId,
        taskType: world.goal.taskType,
        instruction: world.goal.instruction,
        split: world.split,
        extra: { task_type: world.taskPath, room: world.room },
      },
    };
  }

  protected async applyAction(action: string): Promise<AppliedAction> {
    const r = this.game!.step(action);
    const actions = this.game!.availableActions();
    return {
      observation: formatAlfworldObservation(r.observation, actions),
      rawObservation: r.observation,
      reward: r.reward,
      done: r.done,
      availableActions: actions,
    };
  }
}

export function createHouseholdEnv(options: HouseholdEnvOptions = {}): HouseholdEnv {
  return new HouseholdEnv(options);
}

export interface ShopEnvOptions {
  /** Seed of the catalogue and goals. Default 0. Ignored when `catalogue` is given. */
  readonly seed?: number;
  readonly catalogue?: Catalogue;
  readonly actionFormat?: ActionFormat;
}

export class ShopEnv extends TurnEnvironment {
  readonly name = "shop";
  readonly preamble: readonly ConversationMessage[] = WEBSHOP_PREAMBLE;
  readonly catalogue: Catalogue;
  private session: ShopSession | undefined;

  constructor(options: ShopEnvOptions = {}) {
    super(options.actionFormat);
    this.catalogue = options.catalogue ?? generateCatalogue({ seed: options.seed });
  }

  protected async startTask(taskId: number): Promise<StartedTask> {
    const goal = generateGoal(this.catalogue, taskId);
    this.session = new ShopSession(this.catalogue, goal);
    return {
      observation: this.session.observation(),
      availableActions: shopActionList(this.session.availableActions()),
      info: {
        taskId,
        taskType: "webshop",
        instruction: goal.instruction,
        split: goal.split,
        extra: { asin: goal.asin, category: goal.category },
      },
    };
  }

  protected async applyAction(action: string): Promise<AppliedAction> {
    const r = this.session!.step(action);
    return {
      observation: r.observation,
      rawObservation: r.observation,
      reward: r.reward,
      done: r.done,
      availableActions: shopActionList(this.session!.availableActions()),
    };
  }
}

export function createShopEnv(options: ShopEnvOptions = {}): ShopEnv {
  return new ShopEnv(options);
}
