import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError } from "@tokenrl/base/errors";

export type Options = NonNullable<ParseArgsConfig["options"]>;

/** A command of the CLI: its options, its help text and what it does. */
export interface Command {
  name: string;
  summary: string;
  help: string;
  options: Options;
  allowPositionals?: boolean;
  run(values: Record<string, string | boolean | string[] | undefined>, positionals: string[]): Promise<number>;
}

export function parse(command: Command, argv: string[]) {
  return parseArgs({
    args: argv,
    options: { ...command.options, help: { type: "boolean", short: "h" } },
    allowPositionals: command.allowPositionals ?? false,
    strict: true,
  });
}

export function str(values: Record<string, unknown>, key: string): string | undefined {
  const v = values[key];
  return typeof v === "string" ? v : undefined;
}

export function int(values: Record<string, unknown>, key: string, fallback: number, min = 0): number {
  const v = str(values, key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`--${key}`, `must be an integer >= ${min}, got "${v}"`);
  return n;
}

export function float(values: Record<string, unknown>, key: string, fallback: number): number {
  const v = str(values, key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(`--${key}`, `must be a number, got "${v}"`);
  return n;
}

/** "1,4,16" -> [1, 4, 16]. */
export function intList(values: Record<string, unknown>, key: string, fallback: number[]): number[] {
  const v = str(values, key);
  if (v === undefined) return fallback;
  const out = v.split(",").map((s) => Number(s.trim()));
  if (!out.length || out.some((n) => !Number.isInteger(n) || n < 0))
    throw new ConfigError(`--${key}`, `must be a comma-separated list of non-negative integers, got "${v}"`);
  return out;
}

export function list(values: Record<string, unknown>, key: string): string[] {
  const v = str(values, key);
  return v === undefined
    ? []
    : v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
}
