import { ConfigError } from "@tokenrl/base/errors";

/**
 * The one option resolver of the algorithm packages (advantage estimators,
 * partitioners, objectives): user options merged over the defaults, every key
 * checked, so a config that misspells `epsilon` fails instead of silently
 * training with the default.
 */

/** Returns a message when `value` is not acceptable, undefined when it is. */
export type OptionCheck = (value: unknown) => string | undefined;

/** One check per option. */
export type OptionChecks<O> = { readonly [K in keyof O]-?: OptionCheck };

/**
 * `options` merged over `defaults`. Unknown keys and values a check rejects
 * are ConfigErrors whose path is `<kind>.<key>`; `undefined` means "use the
 * default"; `null` or `undefined` options mean all defaults. Keys without a
 * check are accepted as given (a caller with cross-field rules checks after).
 */
export function resolveOptions<O extends object>(
  kind: string,
  defaults: Readonly<O>,
  options?: unknown,
  checks: Partial<OptionChecks<O>> = {},
): O {
  const merged = { ...defaults } as Record<string, unknown>;
  if (options === undefined || options === null) return merged as O;
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new ConfigError(kind, `options must be an object, got ${show(options)}`);
  }
  const known = Object.keys(defaults);
  for (const [key, value] of Object.entries(options)) {
    if (!known.includes(key)) {
      throw new ConfigError(
        `${kind}.${key}`,
        `unknown option; ${kind} takes ${known.length ? known.join(", ") : "no options"}`,
      );
    }
    if (value === undefined) continue;
    const problem = (checks as Record<string, OptionCheck | undefined>)[key]?.(value);
    if (problem) throw new ConfigError(`${kind}.${key}`, problem);
    merged[key] = value;
  }
  return merged as O;
}

export const isBoolean: OptionCheck = (v) =>
  typeof v === "boolean" ? undefined : `expected true or false, got ${show(v)}`;

/** A finite number in [min, max]. */
export function numberIn(min: number, max: number): OptionCheck {
  return (v) =>
    typeof v === "number" && Number.isFinite(v) && v >= min && v <= max
      ? undefined
      : `expected a number in [${min}, ${max}], got ${show(v)}`;
}

/** One of the listed values (numbers or strings). */
export function oneOf(...allowed: readonly (number | string)[]): OptionCheck {
  return (v) =>
    (typeof v === "number" || typeof v === "string") && allowed.includes(v)
      ? undefined
      : `expected one of ${allowed.map((a) => (typeof a === "string" ? `"${a}"` : String(a))).join(", ")}, got ${show(v)}`;
}

/** Accepts null (an "off" switch), else applies `check`. */
export function nullOr(check: OptionCheck): OptionCheck {
  return (v) => (v === null ? undefined : check(v));
}

export function show(v: unknown): string {
  return typeof v === "string" ? `"${v}"` : Array.isArray(v) ? `[${v.map(show).join(", ")}]` : String(v);
}
