/**
 * The household game engine: ALFWorld's text interface over a generated world.
 * One agent, one held object at a time, receptacles that must be open to reach
 * inside, and the ALFWorld action grammar. Anything that does not apply yields
 * `Nothing happened.`. The goal is checked after every action; winning ends the
 * game with reward 1, running out of steps ends it with reward 0.
 */
import { ConfigError } from "@tokenrl/base/errors";
import type { HouseholdTaskType } from "./catalogue.js";
import type { HouseholdWorld, Item, Receptacle } from "./generate.js";

export const NOTHING_HAPPENED = "Nothing happened.";

export interface HouseholdStep {
  readonly observation: string;
  readonly reward: number;
  readonly done: boolean;
  readonly won: boolean;
}

/** A longer command is not read: it does nothing (and counts as a step), like any command that does not apply. */
export const MAX_COMMAND_CHARS = 1000;

export interface HouseholdGameOptions {
  /** Steps before the game ends unsolved. Default 50 (ALFWorld's usual episode limit). */
  readonly maxSteps?: number;
}

export class HouseholdGame {
  readonly world: HouseholdWorld;
  readonly maxSteps: number;
  private readonly receptacles: Map<string, Receptacle>;
  private readonly items: Map<string, Item>;
  private location: string | undefined;
  private steps = 0;
  private finished = false;
  private won = false;

  constructor(world: HouseholdWorld, options: HouseholdGameOptions = {}) {
    // The engine mutates state, so it works on its own copy of the world.
    this.world = world;
    this.maxSteps = options.maxSteps ?? 50;
    if (!Number.isInteger(this.maxSteps) || this.maxSteps < 1)
      throw new ConfigError("maxSteps", `must be a positive integer, got ${options.maxSteps}`);
    this.receptacles = new Map(world.receptacles.map((r) => [r.name, { ...r }]));
    this.items = new Map(world.items.map((i) => [i.name, { ...i }]));
  }

  get stepCount(): number {
    return this.steps;
  }
  get done(): boolean {
    return this.finished;
  }
  get isWon(): boolean {
    return this.won;
  }
  get currentLocation(): string | undefined {
    return this.location;
  }
  get held(): Item | undefined {
    for (const item of this.items.values()) if (item.location === "agent") return item;
    return undefined;
  }
  /** Read-only views for planners and tests. */
  receptacle(name: string): Readonly<Receptacle> | undefined {
    return this.receptacles.get(name);
  }
  item(name: string): Readonly<Item> | undefined {
    return this.items.get(name);
  }
  allItems(): readonly Readonly<Item>[] {
    return [...this.items.values()];
  }

  /** The first observation: the room, then the task (AgentGym drops TextWorld's welcome banner). */
  initialObservation(): string {
    const names = this.world.receptacles.map((r) => r.name);
    return `You are in the middle of a room. Looking quickly around you, you see ${listWithArticles(names)}.\nYour task is to: ${this.world.goal.instruction}`;
  }

  /** ALFWorld's admissible commands for the current state, sorted. */
  availableActions(): string[] {
    const out: string[] = ["inventory", "look"];
    const held = this.held;
    for (const r of this.receptacles.values()) if (r.name !== this.location) out.push(`go to ${r.name}`);
    if (held) out.push(`examine ${held.name}`);
    const here = this.location ? this.receptacles.get(this.location) : undefined;
    if (here) {
      out.push(`examine ${here.name}`);
      if (here.openable) out.push(here.isOpen ? `close ${here.name}` : `open ${here.name}`);
      const reachable = !here.openable || here.isOpen;
      if (reachable) {
        for (const item of this.itemsIn(here.name)) {
          if (item.isLamp) out.push(`use ${item.name}`);
          else if (!held && item.takeable) out.push(`take ${item.name} from ${here.name}`);
        }
        if (held) out.push(`put ${held.name} in/on ${here.name}`);
      }
      if (held && here.type === "sinkbasin") out.push(`clean ${held.name} with ${here.name}`);
      if (held && here.type === "microwave") out.push(`heat ${held.name} with ${here.name}`);
      if (held && here.type === "fridge") out.push(`cool ${held.name} with ${here.name}`);
    }
    return out.sort();
  }

  step(command: string): HouseholdStep {
    if (this.finished) throw new Error("HouseholdGame.step: the game has finished; start a new one");
    this.steps++;
    // No command near MAX_COMMAND_CHARS names anything in a room; reading a megabyte one would hold a server.
    const observation =
      command.length > MAX_COMMAND_CHARS
        ? NOTHING_HAPPENED
        : this.apply(command.trim().toLowerCase().replace(/\s+/g, " "));
    if (this.goalSatisfied()) {
      this.won = true;
      this.finished = true;
    } else if (this.steps >= this.maxSteps) {
      this.finished = true;
    }
    return { observation, reward: this.won ? 1 : 0, done: this.finished, won: this.won };
  }

  /** The grammar: the first pattern that matches the whole command decides what it does. */
  private readonly grammar: readonly [RegExp, (m: RegExpMatchArray) => string][] = [
    [/^look$/, () => this.look()],
    [/^inventory$/, () => this.inventory()],
    [/^go to (.+)$/, (m) => this.goTo(m[1]!)],
    [/^take (.+) from (.+)$/, (m) => this.take(m[1]!, m[2]!)],
    [/^put (.+) (?:in\/on|in|on) (.+)$/, (m) => this.put(m[1]!, m[2]!)],
    [/^open (.+)$/, (m) => this.setOpen(m[1]!, true)],
    [/^close (.+)$/, (m) => this.setOpen(m[1]!, false)],
    [/^(clean|heat|cool) (.+) with (.+)$/, (m) => this.transform(m[1]!, m[2]!, m[3]!)],
    [/^use (.+)$/, (m) => this.lamp(m[1]!, "on")],
    [/^toggle (.+)$/, (m) => this.lamp(m[1]!, "toggle")],
    [/^examine (.+)$/, (m) => this.examine(m[1]!)],
  ];

  private apply(cmd: string): string {
    for (const [pattern, run] of this.grammar) {
      const m = cmd.match(pattern);
      if (m) return run(m);
    }
    return NOTHING_HAPPENED;
  }

  private inventory(): string {
    const held = this.held;
    return held ? `You are carrying: ${withArticle(held.name)}.` : "You are not carrying anything.";
  }

  private itemsIn(receptacle: string): Item[] {
    return [...this.items.values()].filter((i) => i.location === receptacle);
  }

  private describeContents(r: Receptacle): string {
    const names = this.itemsIn(r.name).map((i) => i.name);
    return names.length ? listWithArticles(names) : "nothing";
  }

  private describe(r: Receptacle): string {
    if (r.openable && !r.isOpen) return `The ${r.name} is closed.`;
    if (r.openable) return `The ${r.name} is open. In it, you see ${this.describeContents(r)}.`;
    return `On the ${r.name}, you see ${this.describeContents(r)}.`;
  }

  private look(): string {
    if (!this.location) {
      const names = this.world.receptacles.map((r) => r.name);
      return `You are in the middle of a room. Looking quickly around you, you see ${listWithArticles(names)}.`;
    }
    return `You are facing the ${this.location}. Next to it, you see nothing.`;
  }

  private goTo(name: string): string {
    const r = this.receptacles.get(name);
    if (!r || name === this.location) return NOTHING_HAPPENED;
    this.location = name;
    return `You arrive at ${name}. ${this.describe(r)}`;
  }

  private here(name: string): Receptacle | undefined {
    return name === this.location ? this.receptacles.get(name) : undefined;
  }

  private take(itemName: string, from: string): string {
    const r = this.here(from);
    const item = this.items.get(itemName);
    if (!r || !item || item.location !== r.name || !item.takeable || this.held) return NOTHING_HAPPENED;
    if (r.openable && !r.isOpen) return NOTHING_HAPPENED;
    item.location = "agent";
    return `You pick up the ${item.name} from the ${r.name}.`;
  }

  private put(itemName: string, into: string): string {
    const r = this.here(into);
    const item = this.items.get(itemName);
    if (!r || !item || item.location !== "agent") return NOTHING_HAPPENED;
    if (r.openable && !r.isOpen) return NOTHING_HAPPENED;
    item.location = r.name;
    return `You move the ${item.name} to the ${r.name}.`;
  }

  private setOpen(name: string, open: boolean): string {
    const r = this.here(name);
    if (!r || !r.openable || r.isOpen === open) return NOTHING_HAPPENED;
    r.isOpen = open;
    return open ? `You open the ${r.name}. ${this.describe(r)}` : `You close the ${r.name}.`;
  }

  private transform(verb: string, itemName: string, withName: string): string {
    const r = this.here(withName);
    const item = this.items.get(itemName);
    if (!r || !item || item.location !== "agent") return NOTHING_HAPPENED;
    const needs = verb === "clean" ? "sinkbasin" : verb === "heat" ? "microwave" : "fridge";
    if (r.type !== needs) return NOTHING_HAPPENED;
    if (verb === "clean") item.clean = true;
    else if (verb === "heat") {
      item.hot = true;
      item.cool = false;
    } else {
      item.cool = true;
      item.hot = false;
    }
    return `You ${verb} the ${item.name} using the ${r.name}.`;
  }

  private lamp(name: string, mode: "on" | "toggle"): string {
    const lamp = this.items.get(name);
    if (!lamp || !lamp.isLamp || lamp.location !== this.location) return NOTHING_HAPPENED;
    lamp.lampOn = mode === "on" ? true : !lamp.lampOn;
    return `You turn ${lamp.lampOn ? "on" : "off"} the ${lamp.name}.`;
  }

  private examine(name: string): string {
    const r = this.here(name);
    if (r) return this.describe(r);
    const item = this.items.get(name);
    if (!item) return NOTHING_HAPPENED;
    const visible =
      item.location === "agent" ||
      (item.location === this.location &&
        (() => {
          const at = this.receptacles.get(item.location)!;
          return !at.openable || at.isOpen;
        })());
    if (!visible) return NOTHING_HAPPENED;
    const states = [item.hot ? "hot" : "", item.cool ? "cool" : "", item.clean ? "clean" : ""].filter(Boolean);
    if (item.isLamp) return `This is a ${item.name}. It is turned ${item.lampOn ? "on" : "off"}.`;
    return states.length
      ? `This is a ${states.join(", ")} ${item.name}.`
      : `There's nothing special about ${item.name}.`;
  }

  /** ALFWorld's goal conditions, by type (any object of the goal type counts, as in ALFWorld). */
  goalSatisfied(): boolean {
    const g = this.world.goal;
    const ofType = [...this.items.values()].filter((i) => i.type === g.objectType);
    const inTarget = (i: Item) => this.receptacles.get(i.location)?.type === g.receptacleType;
    const kind: HouseholdTaskType = g.taskType;
    switch (kind) {
      case "pick_and_place":
        return ofType.some(inTarget);
      case "pick_two_obj_and_place":
        return ofType.filter(inTarget).length >= 2;
      case "pick_clean_then_place":
        return ofType.some((i) => i.clean && inTarget(i));
      case "pick_heat_then_place":
        return ofType.some((i) => i.hot && inTarget(i));
      case "pick_cool_then_place":
        return ofType.some((i) => i.cool && inTarget(i));
      case "look_at_obj_in_light": {
        const held = this.held;
        if (!held || held.type !== g.objectType) return false;
        return [...this.items.values()].some((i) => i.isLamp && i.lampOn && i.location === this.location);
      }
    }
  }
}

function withArticle(name: string): string {
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`;
}

/** "a mug 1", "a mug 1, and a cup 2", "a mug 1, a cup 2, and an apple 1" (ALFWorld's phrasing). */
function listWithArticles(names: readonly string[]): string {
  const parts = names.map(withArticle);
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")}, and ${parts[parts.length - 1]}`;
}
