/**
 * What a generated household is made of: ALFWorld's room kinds, their
 * receptacles (how many, whether they open), the objects found there, and
 * which objects each task type can be about (from ALFWorld's task definitions,
 * trimmed to the objects these rooms hold).
 */

export const HOUSEHOLD_TASK_TYPES = [
  "pick_and_place",
  "look_at_obj_in_light",
  "pick_clean_then_place",
  "pick_heat_then_place",
  "pick_cool_then_place",
  "pick_two_obj_and_place",
] as const;
export type HouseholdTaskType = (typeof HOUSEHOLD_TASK_TYPES)[number];

/** ALFWorld's task folder prefix for each type (the server's `task_type` is `<folder>/<trial>`). */
export const ALFWORLD_TASK_FOLDERS: Readonly<Record<HouseholdTaskType, string>> = {
  pick_and_place: "pick_and_place_simple",
  look_at_obj_in_light: "look_at_obj_in_light",
  pick_clean_then_place: "pick_clean_then_place_in_recep",
  pick_heat_then_place: "pick_heat_then_place_in_recep",
  pick_cool_then_place: "pick_cool_then_place_in_recep",
  pick_two_obj_and_place: "pick_two_obj_and_place",
};

export type RoomKind = "kitchen" | "bedroom" | "livingroom" | "bathroom";

interface ReceptacleSpec {
  readonly type: string;
  readonly min: number;
  readonly max: number;
  /** Opens and closes; objects inside are hidden and unreachable while closed. */
  readonly openable?: boolean;
  /** A place where objects can be put as a task target. */
  readonly target?: boolean;
}

export interface RoomSpec {
  readonly receptacles: readonly ReceptacleSpec[];
  readonly objects: readonly string[];
  /** Receptacles a desklamp can stand on (rooms where look_at_obj_in_light happens). */
  readonly lampHolders: readonly string[];
}

export const ROOMS: Readonly<Record<RoomKind, RoomSpec>> = {
  kitchen: {
    receptacles: [
      { type: "cabinet", min: 3, max: 6, openable: true, target: true },
      { type: "countertop", min: 1, max: 3, target: true },
      { type: "drawer", min: 2, max: 4, openable: true, target: true },
      { type: "fridge", min: 1, max: 1, openable: true, target: true },
      { type: "microwave", min: 1, max: 1, openable: true, target: true },
      { type: "sinkbasin", min: 1, max: 1 },
      { type: "stoveburner", min: 2, max: 4, target: true },
      { type: "diningtable", min: 1, max: 1, target: true },
      { type: "garbagecan", min: 1, max: 1, target: true },
      { type: "coffeemachine", min: 1, max: 1, target: true },
      { type: "shelf", min: 1, max: 3, target: true },
      { type: "toaster", min: 1, max: 1 },
    ],
    objects: [
      "apple",
      "bread",
      "egg",
      "lettuce",
      "potato",
      "tomato",
      "mug",
      "cup",
      "plate",
      "bowl",
      "pan",
      "pot",
      "knife",
      "fork",
      "spoon",
      "spatula",
      "saltshaker",
      "peppershaker",
      "soapbottle",
      "dishsponge",
      "butterknife",
      "kettle",
    ],
    lampHolders: [],
  },
  bedroom: {
    receptacles: [
      { type: "bed", min: 1, max: 1, target: true },
      { type: "desk", min: 1, max: 2, target: true },
      { type: "drawer", min: 2, max: 5, openable: true, target: true },
      { type: "dresser", min: 1, max: 1, target: true },
      { type: "shelf", min: 1, max: 4, target: true },
      { type: "sidetable", min: 1, max: 2, target: true },
      { type: "garbagecan", min: 1, max: 1, target: true },
      { type: "laundryhamper", min: 1, max: 1, target: true },
      { type: "safe", min: 0, max: 1, openable: true, target: true },
    ],
    objects: [
      "book",
      "cd",
      "cellphone",
      "pen",
      "pencil",
      "pillow",
      "alarmclock",
      "keychain",
      "creditcard",
      "laptop",
      "mug",
      "bowl",
      "baseballbat",
      "tennisracket",
    ],
    lampHolders: ["desk", "sidetable", "dresser"],
  },
  livingroom: {
    receptacles: [
      { type: "sofa", min: 1, max: 1, target: true },
      { type: "armchair", min: 1, max: 2, target: true },
      { type: "coffeetable", min: 1, max: 1, target: true },
      { type: "sidetable", min: 1, max: 2, target: true },
      { type: "tvstand", min: 1, max: 1, target: true },
      { type: "drawer", min: 1, max: 4, openable: true, target: true },
      { type: "cabinet", min: 1, max: 3, openable: true, target: true },
      { type: "shelf", min: 1, max: 3, target: true },
      { type: "garbagecan", min: 1, max: 1, target: true },
    ],
    objects: [
      "remotecontrol",
      "newspaper",
      "keychain",
      "creditcard",
      "statue",
      "vase",
      "box",
      "laptop",
      "pillow",
      "watch",
      "book",
      "cellphone",
    ],
    lampHolders: ["sidetable", "coffeetable"],
  },
  bathroom: {
    receptacles: [
      { type: "toilet", min: 1, max: 1, target: true },
      { type: "sinkbasin", min: 1, max: 2 },
      { type: "bathtubbasin", min: 1, max: 1, target: true },
      { type: "countertop", min: 1, max: 1, target: true },
      { type: "cabinet", min: 2, max: 4, openable: true, target: true },
      { type: "drawer", min: 0, max: 3, openable: true, target: true },
      { type: "garbagecan", min: 1, max: 1, target: true },
      { type: "towelholder", min: 1, max: 1 },
      { type: "handtowelholder", min: 1, max: 1 },
      { type: "shelf", min: 0, max: 2, target: true },
      { type: "toiletpaperhanger", min: 1, max: 1, target: true },
    ],
    objects: [
      "soapbar",
      "soapbottle",
      "toiletpaper",
      "spraybottle",
      "candle",
      "cloth",
      "towel",
      "handtowel",
      "plunger",
      "scrubbrush",
      "tissuebox",
    ],
    lampHolders: [],
  },
};

/** Objects each task type can be about (ALFWorld's lists, intersected with the rooms above). */
export const TASK_OBJECTS: Readonly<Record<HouseholdTaskType, ReadonlySet<string>>> = {
  pick_and_place: new Set([
    ...ROOMS.kitchen.objects,
    ...ROOMS.bedroom.objects,
    ...ROOMS.livingroom.objects,
    ...ROOMS.bathroom.objects,
  ]),
  pick_two_obj_and_place: new Set([
    ...ROOMS.kitchen.objects,
    ...ROOMS.bedroom.objects,
    ...ROOMS.livingroom.objects,
    ...ROOMS.bathroom.objects,
  ]),
  look_at_obj_in_light: new Set([
    "book",
    "bowl",
    "cd",
    "cellphone",
    "creditcard",
    "keychain",
    "laptop",
    "mug",
    "newspaper",
    "pen",
    "pencil",
    "pillow",
    "remotecontrol",
    "statue",
    "vase",
    "watch",
    "alarmclock",
    "box",
  ]),
  pick_clean_then_place: new Set([
    "apple",
    "bowl",
    "butterknife",
    "cloth",
    "cup",
    "dishsponge",
    "egg",
    "fork",
    "kettle",
    "knife",
    "lettuce",
    "mug",
    "pan",
    "plate",
    "pot",
    "potato",
    "soapbar",
    "spatula",
    "spoon",
    "tomato",
  ]),
  pick_heat_then_place: new Set(["apple", "bread", "cup", "egg", "mug", "plate", "potato", "tomato"]),
  pick_cool_then_place: new Set([
    "apple",
    "bowl",
    "bread",
    "cup",
    "egg",
    "lettuce",
    "mug",
    "pan",
    "plate",
    "pot",
    "potato",
    "tomato",
  ]),
};

/** Which appliance each transforming task needs, and which rooms have one. */
export const TASK_APPLIANCE: Partial<Readonly<Record<HouseholdTaskType, string>>> = {
  pick_clean_then_place: "sinkbasin",
  pick_heat_then_place: "microwave",
  pick_cool_then_place: "fridge",
};

/** Receptacles that hold things "in" rather than "on" (for instructions and `put` messages). */
export function isContainerType(type: string, openable: boolean): boolean {
  return (
    openable || type === "garbagecan" || type === "sinkbasin" || type === "bathtubbasin" || type === "laundryhamper"
  );
}
