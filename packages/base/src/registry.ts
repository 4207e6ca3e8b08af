import { DuplicateNameError, UnknownNameError } from "./errors.js";

/**
 * A name registry in the style of verl's `@register_adv_est("grpo")`: algorithms
 * are looked up by the name users write in configs, so a user's package can add
 * one without editing the trainer.
 */
export interface Registry<T> {
  readonly kind: string;
  register(name: string, item: T, options?: { override?: boolean }): T;
  get(name: string): T;
  has(name: string): boolean;
  list(): string[];
}

export function createRegistry<T>(kind: string): Registry<T> {
  const items = new Map<string, T>();
  return {
    kind,
    register(name, item, options) {
      if (!name) throw new UnknownNameError(kind, name, [...items.keys()]);
      if (items.has(name) && !options?.override) throw new DuplicateNameError(kind, name);
      items.set(name, item);
      return item;
    },
    get(name) {
      const item = items.get(name);
      if (item === undefined) throw new UnknownNameError(kind, name, [...items.keys()].sort());
      return item;
    },
    has: (name) => items.has(name),
    list: () => [...items.keys()].sort(),
  };
}
