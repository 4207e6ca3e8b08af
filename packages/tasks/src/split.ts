import { ConfigError } from "@tokenrl/base/errors";
import type { Rng } from "@tokenrl/base/rng";
import type { Split } from "./types.js";

/**
 * Train / held-out assignment by content: a problem's split is a hash of the
 * task name and the problem's key (its prompt), so no problem can be in both
 * streams, whatever the seed or the index. One problem in `TEST_BUCKETS` is
 * held out; the seed only decides which problems each stream draws.
 */
export const TEST_BUCKETS = 4;

/** FNV-1a, 32 bit. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The split a problem belongs to, by its key. */
export function splitOf(taskName: string, key: string): Split {
  // A final avalanche so that keys differing in the last character spread evenly.
  let h = fnv1a(`${taskName}\u0000${key}`);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h % TEST_BUCKETS === 0 ? "test" : "train";
}

/** Draws `make(rng)` until the problem's key falls in `split`; fails clearly when the problem space has none. */
export function drawInSplit<T>(
  taskName: string,
  split: Split,
  rng: Rng,
  make: (rng: Rng) => T,
  keyOf: (problem: T) => string,
  maxTries = 512,
): T {
  for (let t = 0; t < maxTries; t++) {
    const problem = make(rng);
    if (splitOf(taskName, keyOf(problem)) === split) return problem;
  }
  throw new ConfigError(
    "task",
    `${taskName}: no ${split} problem in ${maxTries} draws; the problem space is too small to hold out disjoint problems (use a larger length)`,
  );
}

export function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0)
    throw new ConfigError("index", `must be a non-negative integer, got ${index}`);
}

export function checkSplit(split: string): asserts split is Split {
  if (split !== "train" && split !== "test")
    throw new ConfigError("split", `must be "train" or "test", got "${split}"`);
}
