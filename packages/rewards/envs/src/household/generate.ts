/**
 * Procedural generation of one household game from (seed, game id): a room of
 * one kind, its receptacles (openable ones start closed), the task's objects
 * placed away from the target receptacle, distractors, and a desklamp where the
 * task needs light. The same (seed, game) always gives the same world.
 *
 * Game ids follow ALFWorld: 0-2419 are training games, 2420-2619 held-out. The
 * two ranges draw from differently labelled streams, so no held-out world is a
 * training world under another number.
 */
import { ConfigError } from "@tokenrl/base/errors";
import { createRng, type Rng } from "@tokenrl/base/rng";
import type { Split } from "../environment.js";
import {
  ALFWORLD_TASK_FOLDERS,
  HOUSEHOLD_TASK_TYPES,
  type HouseholdTaskType,
  ROOMS,
  type RoomKind,
  TASK_APPLIANCE,
  TASK_OBJECTS,
  isContainerType,
} from "./catalogue.js";

export const HOUSEHOLD_TRAIN_GAMES = 2420;
export const HOUSEHOLD_TEST_GAMES = 200;
export const HOUSEHOLD_GAME_COUNT = HOUSEHOLD_TRAIN_GAMES + HOUSEHOLD_TEST_GAMES;

export interface Receptacle {
  readonly name: string;
  readonly type: string;
  readonly openable: boolean;
  /** "in" for containers, "on" for surfaces. */
  readonly preposition: "in" | "on";
  isOpen: boolean;
}

export interface Item {
  readonly name: string;
  readonly type: string;
  /** A receptacle name, or "agent" while carried. */
  location: string;
  readonly takeable: boolean;
  readonly isLamp: boolean;
  lampOn: boolean;
  hot: boolean;
  cool: boolean;
  clean: boolean;
}

export interface HouseholdGoal {
  readonly taskType: HouseholdTaskType;
  readonly objectType: string;
  /** The receptacle type to place into; undefined for look_at_obj_in_light. */
  readonly receptacleType: string | undefined;
  /** The lamp type for look_at_obj_in_light. */
  readonly lampType: string | undefined;
  readonly instruction: string;
}

export interface HouseholdWorld {
  readonly game: number;
  readonly split: Split;
  readonly room: RoomKind;
  /** In the order the room description lists them. */
  readonly receptacles: readonly Receptacle[];
  readonly items: readonly Item[];
  readonly goal: HouseholdGoal;
  /** `<ALFWorld task folder>-<Object>-<Recep>-<room>/trial_<game>`, shaped like the server's task_type. */
  readonly taskPath: string;
}

export interface GenerateOptions {
  /** Base seed of the whole game set. Default 0. */
  readonly seed?: number;
  /** Force a task type (otherwise drawn from the game's stream). */
  readonly taskType?: HouseholdTaskType;
}

export function householdSplit(game: number): Split {
  return game < HOUSEHOLD_TRAIN_GAMES ? "train" : "test";
}

export function generateHousehold(game: number, options: GenerateOptions = {}): HouseholdWorld {
  if (!Number.isInteger(game) || game < 0 || game >= HOUSEHOLD_GAME_COUNT) {
    throw new ConfigError("game", `must be an integer in [0, ${HOUSEHOLD_GAME_COUNT - 1}], got ${game}`);
  }
  const split = householdSplit(game);
  const rng = createRng(options.seed ?? 0).fork(`household/${split}/${game}`);
  const taskType = options.taskType ?? HOUSEHOLD_TASK_TYPES[rng.int(HOUSEHOLD_TASK_TYPES.length)]!;
  const room = pickRoom(rng, taskType);
  const spec = ROOMS[room];

  const receptacles: Receptacle[] = [];
  for (const r of spec.receptacles) {
    const count = rng.range(r.min, r.max);
    for (let i = 1; i <= count; i++) {
      const openable = r.openable === true;
      receptacles.push({
        name: `${r.type} ${i}`,
        type: r.type,
        openable,
        preposition: isContainerType(r.type, openable) ? "in" : "on",
        isOpen: false,
      });
    }
  }

  const appliance = TASK_APPLIANCE[taskType];
  const objectChoices = spec.objects.filter((o) => TASK_OBJECTS[taskType].has(o));
  const objectType = rng.pick(objectChoices);
  const needsTarget = taskType !== "look_at_obj_in_light";
  const targetTypes = [
    ...new Set(spec.receptacles.filter((r) => r.target && r.type !== appliance).map((r) => r.type)),
  ].filter((t) => receptacles.some((r) => r.type === t));
  const receptacleType = needsTarget ? rng.pick(targetTypes) : undefined;

  const counters = new Map<string, number>();
  const items: Item[] = [];
  const addItem = (type: string, location: string, extra: Partial<Item> = {}) => {
    const n = (counters.get(type) ?? 0) + 1;
    counters.set(type, n);
    items.push({
      name: `${type} ${n}`,
      type,
      location,
      takeable: true,
      isLamp: false,
      lampOn: false,
      hot: false,
      cool: false,
      clean: false,
      ...extra,
    });
  };

  // Sources for the task's objects: anywhere except the target receptacle type
  // (so the goal does not start satisfied) and the task's appliance (so heating
  // is not confused with finding).
  const sources = receptacles.filter((r) => r.type !== receptacleType && r.type !== appliance);
  const needed = taskType === "pick_two_obj_and_place" ? 2 : 1;
  const count = needed + rng.int(2);
  for (let i = 0; i < count; i++) addItem(objectType, rng.pick(sources).name);

  let lampType: string | undefined;
  if (spec.lampHolders.length > 0) {
    const holders = receptacles.filter((r) => spec.lampHolders.includes(r.type));
    lampType = "desklamp";
    addItem("desklamp", rng.pick(holders).name, { takeable: false, isLamp: true });
  }

  const distractorTypes = spec.objects.filter((o) => o !== objectType);
  const distractors = rng.range(6, 12);
  for (let i = 0; i < distractors; i++) addItem(rng.pick(distractorTypes), rng.pick(receptacles).name);

  const target = receptacleType ? receptacles.find((r) => r.type === receptacleType)! : undefined;
  const instruction = instructionFor(rng, taskType, objectType, target);
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  const taskPath = `${ALFWORLD_TASK_FOLDERS[taskType]}-${cap(objectType)}-None-${
    receptacleType ? cap(receptacleType) : cap(lampType ?? "desklamp")
  }-${room}/trial_${game}`;

  return {
    game,
    split,
    room,
    receptacles: rng.shuffle(receptacles),
    items,
    goal: {
      taskType,
      objectType,
      receptacleType,
      lampType: taskType === "look_at_obj_in_light" ? lampType : undefined,
      instruction,
    },
    taskPath,
  };
}

function pickRoom(rng: Rng, taskType: HouseholdTaskType): RoomKind {
  const kinds = (Object.keys(ROOMS) as RoomKind[]).filter((kind) => {
    const spec = ROOMS[kind];
    const hasObject = spec.objects.some((o) => TASK_OBJECTS[taskType].has(o));
    if (!hasObject) return false;
    if (taskType === "look_at_obj_in_light") return spec.lampHolders.length > 0;
    const appliance = TASK_APPLIANCE[taskType];
    // Room templates with min 0 for the appliance would make the task unsolvable.
    return appliance === undefined || spec.receptacles.some((r) => r.type === appliance && r.min > 0);
  });
  return rng.pick(kinds);
}

function instructionFor(rng: Rng, taskType: HouseholdTaskType, obj: string, target: Receptacle | undefined): string {
  const art = rng.next() < 0.5 ? "a" : "some";
  const prep = target?.preposition ?? "in";
  const recep = target?.type ?? "";
  const alt = rng.next() < 0.5;
  switch (taskType) {
    case "pick_and_place":
      return `put ${art} ${obj} ${prep} ${recep}.`;
    case "look_at_obj_in_light":
      return alt ? `look at ${obj} under the desklamp.` : `examine the ${obj} with the desklamp.`;
    case "pick_clean_then_place":
      return alt ? `put a clean ${obj} ${prep} ${recep}.` : `clean some ${obj} and put it ${prep} ${recep}.`;
    case "pick_heat_then_place":
      return alt ? `put a hot ${obj} ${prep} ${recep}.` : `heat some ${obj} and put it ${prep} ${recep}.`;
    case "pick_cool_then_place":
      return alt ? `put a cool ${obj} ${prep} ${recep}.` : `cool some ${obj} and put it ${prep} ${recep}.`;
    case "pick_two_obj_and_place":
      return alt ? `put two ${obj} ${prep} ${recep}.` : `find two ${obj} and put them ${prep} ${recep}.`;
  }
}
