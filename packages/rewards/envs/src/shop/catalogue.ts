/**
 * A generated product catalogue and goal set in the spirit of WebShop: products
 * with a category, attributes ("machine wash", "gluten free"), options
 * (size, color, flavor) and a price; goals that name some attributes, one
 * value per option, and a budget, built from a real product so every goal can
 * be met. Session ids follow WebShop's convention: the first 500 goals are the
 * held-out (test) goals, the rest are for training.
 */
import { ConfigError } from "@tokenrl/base/errors";
import { createRng, type Rng } from "@tokenrl/base/rng";
import type { Split } from "../environment.js";

export const SHOP_TEST_SESSIONS = 500;
export const SHOP_SESSION_COUNT = 6000;

interface CategorySpec {
  readonly category: string;
  readonly nouns: readonly string[];
  readonly attributes: readonly string[];
  readonly options: Readonly<Record<string, readonly string[]>>;
  readonly words: readonly string[];
}

const COLORS = ["black", "white", "navy blue", "red", "green", "grey", "beige", "pink", "brown", "purple"];

const CATEGORIES: readonly CategorySpec[] = [
  {
    category: "men's shirts",
    nouns: ["t-shirt", "polo shirt", "button down shirt", "henley shirt"],
    attributes: [
      "slim fit",
      "machine wash",
      "long sleeve",
      "short sleeve",
      "cotton",
      "button closure",
      "wrinkle free",
      "regular fit",
    ],
    options: { color: COLORS, size: ["small", "medium", "large", "x-large", "xx-large"] },
    words: ["casual", "classic", "everyday", "soft", "breathable"],
  },
  {
    category: "women's dresses",
    nouns: ["maxi dress", "midi dress", "wrap dress", "shift dress"],
    attributes: [
      "machine wash",
      "polyester spandex",
      "short sleeve",
      "high waist",
      "floral print",
      "v-neck",
      "pockets",
      "lightweight",
    ],
    options: { color: COLORS, size: ["x-small", "small", "medium", "large", "x-large"] },
    words: ["summer", "elegant", "flowy", "party", "beach"],
  },
  {
    category: "running shoes",
    nouns: ["running shoe", "trail runner", "walking shoe", "training sneaker"],
    attributes: [
      "non slip",
      "rubber sole",
      "lace up",
      "memory foam",
      "breathable mesh",
      "arch support",
      "lightweight",
      "wide fit",
    ],
    options: { color: COLORS, size: ["7", "7.5", "8", "8.5", "9", "9.5", "10", "11", "12"] },
    words: ["athletic", "cushioned", "gym", "road", "comfort"],
  },
  {
    category: "headphones",
    nouns: ["over-ear headphones", "wireless earbuds", "on-ear headphones", "gaming headset"],
    attributes: [
      "noise cancelling",
      "bluetooth",
      "long battery life",
      "fast charging",
      "built-in microphone",
      "water resistant",
      "foldable",
      "hands free",
    ],
    options: { color: ["black", "white", "silver", "blue", "rose gold"] },
    words: ["stereo", "bass", "studio", "travel", "hifi"],
  },
  {
    category: "coffee",
    nouns: ["ground coffee", "whole bean coffee", "coffee pods", "instant coffee"],
    attributes: ["organic", "fair trade", "dark roast", "medium roast", "decaf", "gluten free", "non gmo", "kosher"],
    options: {
      flavor: ["original", "vanilla", "hazelnut", "caramel", "mocha"],
      size: ["12 ounce", "1 pound", "2 pound", "24 count", "48 count"],
    },
    words: ["arabica", "smooth", "rich", "morning", "bold"],
  },
  {
    category: "shampoo",
    nouns: ["shampoo", "conditioner", "shampoo and conditioner set", "dry shampoo"],
    attributes: [
      "sulfate free",
      "paraben free",
      "natural ingredients",
      "for dry hair",
      "cruelty free",
      "color safe",
      "hair growth",
      "travel size",
    ],
    options: {
      scent: ["unscented", "coconut", "lavender", "argan oil", "tea tree"],
      size: ["8 fl oz", "12 fl oz", "16 fl oz", "pack of 2"],
    },
    words: ["salon", "moisturizing", "gentle", "daily", "repair"],
  },
  {
    category: "phone cases",
    nouns: ["phone case", "wallet case", "clear case", "rugged case"],
    attributes: [
      "shockproof",
      "wireless charging compatible",
      "slim",
      "card holder",
      "screen protector included",
      "kickstand",
      "drop protection",
      "anti scratch",
    ],
    options: { color: COLORS, model: ["iphone 13", "iphone 14", "iphone 15", "galaxy s22", "galaxy s23", "pixel 7"] },
    words: ["protective", "cover", "bumper", "grip", "durable"],
  },
  {
    category: "backpacks",
    nouns: ["laptop backpack", "hiking backpack", "school backpack", "travel backpack"],
    attributes: [
      "water resistant",
      "usb charging port",
      "anti theft",
      "large capacity",
      "padded straps",
      "lightweight",
      "laptop compartment",
      "durable nylon",
    ],
    options: { color: COLORS, size: ["20l", "30l", "40l", "50l"] },
    words: ["daypack", "bag", "commuter", "outdoor", "college"],
  },
  {
    category: "snacks",
    nouns: ["protein bars", "trail mix", "potato chips", "granola bites"],
    attributes: [
      "gluten free",
      "low sugar",
      "high protein",
      "keto friendly",
      "non gmo",
      "vegan",
      "individually wrapped",
      "low calorie",
    ],
    options: {
      flavor: ["chocolate", "peanut butter", "sea salt", "barbecue", "honey", "berry"],
      size: ["pack of 6", "pack of 12", "pack of 24"],
    },
    words: ["healthy", "crunchy", "snack", "on the go", "natural"],
  },
  {
    category: "candles",
    nouns: ["scented candle", "soy candle", "jar candle", "candle set"],
    attributes: [
      "long lasting",
      "soy wax",
      "lead free wick",
      "natural ingredients",
      "gift set",
      "aromatherapy",
      "hand poured",
      "non toxic",
    ],
    options: {
      scent: ["lavender", "vanilla", "sandalwood", "eucalyptus", "fresh linen", "cinnamon"],
      size: ["8 oz", "12 oz", "3 pack"],
    },
    words: ["relaxing", "home", "decor", "cozy", "fragrance"],
  },
];

const BRANDS = [
  "acme",
  "northpeak",
  "bluefern",
  "urbanly",
  "solace",
  "kestrel",
  "maple & co",
  "vireo",
  "everwell",
  "lumen",
  "brightside",
  "oakhill",
  "tidewater",
  "nimbus",
  "copperleaf",
  "fieldstone",
];

export interface Product {
  readonly asin: string;
  readonly category: string;
  readonly noun: string;
  readonly title: string;
  readonly description: string;
  readonly attributes: readonly string[];
  /** Option dimension -> its values, in page order. */
  readonly options: Readonly<Record<string, readonly string[]>>;
  readonly price: number;
}

export interface ShopGoal {
  readonly session: number;
  readonly split: Split;
  /** The product the goal was made from (one product that earns reward 1). */
  readonly asin: string;
  readonly category: string;
  readonly attributes: readonly string[];
  readonly options: Readonly<Record<string, string>>;
  readonly priceUpperBound: number;
  readonly instruction: string;
}

export interface Catalogue {
  readonly products: readonly Product[];
  readonly byAsin: ReadonlyMap<string, Product>;
  readonly seed: number;
}

export interface CatalogueOptions {
  readonly seed?: number;
  /** Products per category. Default 60 (600 products). */
  readonly perCategory?: number;
}

export function generateCatalogue(options: CatalogueOptions = {}): Catalogue {
  const seed = options.seed ?? 0;
  const perCategory = options.perCategory ?? 60;
  const rng = createRng(seed).fork("shop/catalogue");
  const products: Product[] = [];
  const used = new Set<string>();
  for (const spec of CATEGORIES) {
    for (let i = 0; i < perCategory; i++) products.push(makeProduct(rng, spec, used));
  }
  const shuffled = rng.shuffle(products);
  return { products: shuffled, byAsin: new Map(shuffled.map((p) => [p.asin, p])), seed };
}

function makeProduct(rng: Rng, spec: CategorySpec, used: Set<string>): Product {
  let asin: string;
  do {
    asin = "B0";
    for (let k = 0; k < 8; k++) asin += "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rng.int(36)];
  } while (used.has(asin));
  used.add(asin);
  const noun = rng.pick(spec.nouns);
  const attributes = rng.shuffle(spec.attributes).slice(0, rng.range(2, 4));
  const brand = rng.pick(BRANDS);
  const word = rng.pick(spec.words);
  // Titles carry one or two attributes, the description the rest, so searching
  // by attributes finds products by either field.
  const inTitle = attributes.slice(0, rng.range(1, 2));
  const title = `${brand} ${word} ${inTitle.join(" ")} ${noun}`.replace(/\s+/g, " ");
  const description = `this ${noun} from ${brand} is ${attributes.join(", ")}. ${rng.pick(spec.words)} and ${rng.pick(
    spec.words,
  )}, a good pick for ${spec.category}.`;
  const dims = Object.keys(spec.options);
  const chosenDims = dims.length === 1 ? dims : rng.shuffle(dims).slice(0, rng.range(1, dims.length));
  const optionMap: Record<string, readonly string[]> = {};
  for (const dim of dims) {
    if (!chosenDims.includes(dim)) continue;
    const values = spec.options[dim]!;
    const picked = rng.shuffle(values).slice(0, rng.range(2, Math.min(5, values.length)));
    // Keep the catalogue's own order so pages list sizes small-to-large.
    optionMap[dim] = values.filter((v) => picked.includes(v));
  }
  const price = Math.round((5 + rng.next() * 115) * 100) / 100;
  return { asin, category: spec.category, noun, title, description, attributes, options: optionMap, price };
}

export function shopSplit(session: number): Split {
  return session < SHOP_TEST_SESSIONS ? "test" : "train";
}

export function generateGoal(catalogue: Catalogue, session: number): ShopGoal {
  if (!Number.isInteger(session) || session < 0 || session >= SHOP_SESSION_COUNT) {
    throw new ConfigError("session_id", `must be an integer in [0, ${SHOP_SESSION_COUNT - 1}], got ${session}`);
  }
  const rng = createRng(catalogue.seed).fork(`shop/goal/${session}`);
  const product = rng.pick(catalogue.products);
  const attributes = rng.shuffle(product.attributes).slice(0, rng.range(1, Math.min(3, product.attributes.length)));
  const options: Record<string, string> = {};
  for (const [dim, values] of Object.entries(product.options)) options[dim] = rng.pick(values);
  const priceUpperBound = (Math.floor(product.price / 10) + 1 + rng.int(3)) * 10;
  const optionText = Object.entries(options).map(([d, v]) => `${d}: ${v}`);
  const instruction = `Find me ${attributes.join(", ")} ${product.category} with ${[
    ...optionText,
    `price lower than ${priceUpperBound.toFixed(2)} dollars`,
  ].join(", and ")}`;
  return {
    session,
    split: shopSplit(session),
    asin: product.asin,
    category: product.category,
    attributes,
    options,
    priceUpperBound,
    instruction,
  };
}
