import { ConfigError } from "@tokenrl/core";

/** Returns a message when `value` is not acceptable, undefined when it is. */
export type ParamCheck = (value: unknown) => string | undefined;

export const isBoolean: ParamCheck = (v) =>
  typeof v === "boolean" ? undefined : `expected true or false, got ${show(v)}`;

export function numberIn(min: number, max: number): ParamCheck {
  return (v) =>
    typeof v === "number" && Number.isFinite(v) && v >= min && v <= max
      ? undefined
      : `expected a number in [${min}, ${max}], got ${show(v)}`;
}

export function oneOf(...allowed: number[]): ParamCheck {
  return (v) =>
    typeof v === "number" && allowed.includes(v) ? undefined : `expected one of ${allowed.join(", ")}, got ${show(v)}`;
}

/**
 * Merges `params` over `defaults` after checking every key: unknown keys and
 * bad values are ConfigErrors whose path is `<estimator>.<key>` (a config
 * that misspells `epsilon` must fail, not silently train with the default).
 * `undefined` means "use the default".
 */
export function resolveParams<P extends object>(
  estimator: string,
  params: Readonly<Record<string, unknown>> | undefined,
  defaults: Required<P>,
  checks: { [K in keyof P]-?: ParamCheck },
): Required<P> {
  const resolved = { ...defaults } as Record<string, unknown>;
  if (params === undefined || params === null) return resolved as Required<P>;
  if (typeof params !== "object" || Array.isArray(params)) {
    throw new ConfigError(estimator, `params must be an object, got ${show(params)}`);
  }
  const known = Object.keys(checks);
  for (const [key, value] of Object.entries(params)) {
    if (!known.includes(key)) {
      throw new ConfigError(
        `${estimator}.${key}`,
        `unknown parameter; ${estimator} takes ${known.length ? known.join(", ") : "no parameters"}`,
      );
    }
    if (value === undefined) continue;
    const problem = (checks as Record<string, ParamCheck>)[key]!(value);
    if (problem) throw new ConfigError(`${estimator}.${key}`, problem);
    resolved[key] = value;
  }
  return resolved as Required<P>;
}

function show(v: unknown): string {
  return typeof v === "string" ? `"${v}"` : String(v);
}
