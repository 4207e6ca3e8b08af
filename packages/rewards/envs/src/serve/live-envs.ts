/**
 * The server-side environments a served environment keeps alive, with a cap.
 * AgentGym's ALFWorld and WebShop servers never free an id, so a client that
 * creates one per episode grows them without bound; here at most `maxEnvs` are
 * live. Creating one more evicts the least recently used environment if it has
 * been idle for at least `evictIdleMs` (an environment in use is never taken
 * away); if none is that idle, the create is refused. Ids stay sequential and
 * are never reused, so a request for an evicted id fails like an unknown one.
 */
import { ConfigError } from "@tokenrl/base/errors";

export interface LiveEnvLimits {
  /** Most environments alive at once. Default 1024. */
  readonly maxEnvs?: number;
  /** An environment untouched for this long may be evicted to make room. Default 60000 ms. */
  readonly evictIdleMs?: number;
  /** Clock, for tests. Default Date.now. */
  readonly now?: () => number;
}

export const DEFAULT_MAX_ENVS = 1024;
export const DEFAULT_EVICT_IDLE_MS = 60_000;

interface Entry<T> {
  value: T;
  lastUsed: number;
}

export class LiveEnvs<T> {
  readonly maxEnvs: number;
  readonly evictIdleMs: number;
  /** Environments evicted so far to make room. */
  evicted = 0;
  private readonly now: () => number;
  // A Map iterates in insertion order; touching re-inserts, so the first entry is the least recently used.
  private readonly entries = new Map<number, Entry<T>>();
  private nextId = 0;

  constructor(limits: LiveEnvLimits = {}) {
    this.maxEnvs = limits.maxEnvs ?? DEFAULT_MAX_ENVS;
    this.evictIdleMs = limits.evictIdleMs ?? DEFAULT_EVICT_IDLE_MS;
    if (!Number.isInteger(this.maxEnvs) || this.maxEnvs < 1)
      throw new ConfigError("maxEnvs", `must be a positive integer, got ${limits.maxEnvs}`);
    if (!Number.isFinite(this.evictIdleMs) || this.evictIdleMs < 0)
      throw new ConfigError("evictIdleMs", `must be a non-negative number of milliseconds, got ${limits.evictIdleMs}`);
    this.now = limits.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  ids(): number[] {
    return [...this.entries.keys()].sort((a, b) => a - b);
  }

  has(id: number): boolean {
    return this.entries.has(id);
  }

  /** Adds an environment under a new id, evicting an idle one if the cap is reached; an error object if it cannot. */
  add(make: () => T): number | { error: string } {
    if (this.entries.size >= this.maxEnvs) {
      const [oldestId, oldest] = this.entries.entries().next().value as [number, Entry<T>];
      const idle = this.now() - oldest.lastUsed;
      if (idle < this.evictIdleMs) {
        return {
          error: `too many live environments (${this.maxEnvs}) and none idle for ${this.evictIdleMs} ms; close one with POST /close`,
        };
      }
      this.entries.delete(oldestId);
      this.evicted++;
    }
    const id = this.nextId++;
    this.entries.set(id, { value: make(), lastUsed: this.now() });
    return id;
  }

  /** The environment, marked as just used; undefined for an unknown, closed or evicted id. */
  get(id: number): T | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    e.lastUsed = this.now();
    this.entries.delete(id);
    this.entries.set(id, e);
    return e.value;
  }

  /** Replaces the environment under an existing id (a reset), marking it used. */
  set(id: number, value: T): void {
    this.entries.delete(id);
    this.entries.set(id, { value, lastUsed: this.now() });
  }

  delete(id: number): boolean {
    return this.entries.delete(id);
  }
}
