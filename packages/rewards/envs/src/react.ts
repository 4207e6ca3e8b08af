/**
 * AgentGym's ReAct turn parsing: the action is what follows the last `Action:`,
 * the thought what follows `Thought:` before it. A turn with no `Action:` (or an
 * empty action) is unparsable; the caller answers it with `Invalid Action.`.
 */
import type { ActionFormat } from "./environment.js";

export interface ParsedTurn {
  readonly action: string;
  readonly thought: string | undefined;
}

/** Returns undefined when the turn has no usable action. */
export function parseReactTurn(text: string): ParsedTurn | undefined {
  // Chat models often end with an end-of-sequence marker; AgentGym strips `</s>`.
  const cleaned = text.replace(/<\/s>\s*$/, "");
  const at = cleaned.lastIndexOf("Action:");
  if (at < 0) return undefined;
  // The action is the first non-empty line after the marker: anything after it
  // (a hallucinated "Observation:") is not part of the command.
  const action = cleaned
    .slice(at + "Action:".length)
    .split("\n")
    .map((line) => line.trim())
    .find((line) => line.length > 0);
  if (!action) return undefined;
  const before = cleaned.slice(0, at);
  const t = before.indexOf("Thought:");
  const thought = t >= 0 ? before.slice(t + "Thought:".length).trim() : undefined;
  return { action, thought: thought || undefined };
}

/** Parse a turn according to the environment's action format. */
export function parseTurn(text: string, format: ActionFormat): ParsedTurn | undefined {
  if (format === "plain") {
    const action = text.trim();
    return action ? { action, thought: undefined } : undefined;
  }
  return parseReactTurn(text);
}

/** AgentGym's answer to an unparsable turn. */
export function invalidActionText(currentObservation: string): string {
  return `Invalid Action.\n\n${currentObservation}`;
}
