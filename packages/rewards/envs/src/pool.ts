/**
 * A bounded pool of environments for parallel episodes. Environments are made
 * on demand up to `size` (for the HTTP adapters each one holds a server-side
 * id from POST /create) and handed back after each episode for reuse, since
 * AgentGym servers cannot free an id. Callers beyond `size` wait in order.
 */
import { ConfigError } from "@tokenrl/base/errors";
import type { Environment } from "./environment.js";

export class EnvironmentPool<E extends Environment = Environment> {
  readonly size: number;
  private readonly factory: () => E | Promise<E>;
  private readonly idle: E[] = [];
  private readonly waiters: ((env: E) => void)[] = [];
  private created = 0;

  constructor(factory: () => E | Promise<E>, size: number) {
    if (!Number.isInteger(size) || size < 1) throw new ConfigError("size", `must be a positive integer, got ${size}`);
    this.factory = factory;
    this.size = size;
  }

  /** Environments made so far. */
  get createdCount(): number {
    return this.created;
  }

  async acquire(): Promise<E> {
    const env = this.idle.pop();
    if (env) return env;
    if (this.created < this.size) {
      this.created++;
      try {
        return await this.factory();
      } catch (error) {
        this.created--;
        throw error;
      }
    }
    return new Promise<E>((resolve) => this.waiters.push(resolve));
  }

  release(env: E): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(env);
    else this.idle.push(env);
  }

  /** Run `fn` with an environment from the pool, returning it afterwards even if `fn` throws. */
  async run<T>(fn: (env: E) => Promise<T>): Promise<T> {
    const env = await this.acquire();
    try {
      return await fn(env);
    } finally {
      this.release(env);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.idle.splice(0).map((e) => e.close()));
  }
}
