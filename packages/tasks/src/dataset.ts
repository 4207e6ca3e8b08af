import { ConfigError, InvalidInputError } from "@tokenrl/base/errors";
import { createRng } from "@tokenrl/base/rng";
import { checkIndex, checkSplit, splitOf } from "./split.js";
import type { Split } from "./types.js";

/**
 * Train and held-out problems of a finite dataset, disjoint by construction:
 * - one source: each problem goes to the split its content hash names (split.ts);
 * - two sources: train loses every problem whose text is also in test (counted in `overlapDropped`).
 * Train indices past the end cycle through the set again, reshuffled each epoch
 * (seeded); held-out indices must be within the set.
 */
export interface SplitDataset<T> {
  readonly train: readonly T[];
  readonly test: readonly T[];
  readonly overlapDropped: number;
  at(index: number, split: Split): T;
  size(split: Split): number;
}

/** Text used to decide whether two problems are the same: whitespace-collapsed, trimmed. */
export function problemKey(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

export function splitDataset<T>(
  name: string,
  sources: { all?: readonly T[]; train?: readonly T[]; test?: readonly T[] },
  keyOf: (item: T) => string,
  seed: number,
): SplitDataset<T> {
  let train: T[];
  let test: T[];
  let overlapDropped = 0;
  if (sources.all) {
    if (sources.train || sources.test)
      throw new ConfigError(
        "task",
        `${name}: give either one dataset (split by hash) or train and/or test sets, not both`,
      );
    train = sources.all.filter((x) => splitOf(name, problemKey(keyOf(x))) === "train");
    test = sources.all.filter((x) => splitOf(name, problemKey(keyOf(x))) === "test");
  } else {
    test = [...(sources.test ?? [])];
    const held = new Set(test.map((x) => problemKey(keyOf(x))));
    const all = sources.train ?? [];
    train = all.filter((x) => !held.has(problemKey(keyOf(x))));
    overlapDropped = all.length - train.length;
  }
  const root = createRng(seed);
  const orders = new Map<number, number[]>();
  const order = (epoch: number): number[] => {
    let o = orders.get(epoch);
    if (!o) {
      o = root.fork(`epoch:${epoch}`).shuffle(train.map((_, i) => i));
      orders.set(epoch, o);
      if (orders.size > 4) orders.delete(orders.keys().next().value!);
    }
    return o;
  };
  return {
    train,
    test,
    overlapDropped,
    size: (split) => (split === "train" ? train.length : test.length),
    at(index, split) {
      checkIndex(index);
      checkSplit(split);
      if (split === "test") {
        if (index >= test.length)
          throw new InvalidInputError(`${name}: held-out index ${index} is past the end (${test.length} problems)`);
        return test[index]!;
      }
      if (train.length === 0) throw new InvalidInputError(`${name}: no training problems`);
      const epoch = Math.floor(index / train.length);
      return train[order(epoch)[index % train.length]!]!;
    },
  };
}

/** Every character of the texts plus `extra`, sorted, for a character tokenizer. */
export function alphabetOf(texts: Iterable<string>, extra = ""): string {
  const chars = new Set<string>([..."0123456789", ...extra]);
  for (const t of texts) for (const ch of t) chars.add(ch);
  return [...chars].sort().join("");
}
