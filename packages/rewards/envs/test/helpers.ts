import { afterEach } from "vitest";
import type { Policy } from "../src/episode.js";
import type { JsonServer } from "../src/serve/http-server.js";

/** Servers started by a test file; every one is killed after each test, whatever happened. */
export function trackServers(): (server: JsonServer) => Promise<string> {
  const running: JsonServer[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.kill()));
  });
  return (server) => {
    running.push(server);
    return server.listen(0, "127.0.0.1");
  };
}

/** A policy that plays a fixed command list in ReAct format, then repeats `look`. */
export function scripted(commands: readonly string[], onTurn?: (turn: number) => void): Policy {
  let i = 0;
  return () => {
    onTurn?.(i);
    const cmd = commands[i++] ?? "look";
    return `Thought:\nstep ${i}\n\nAction:\n${cmd}`;
  };
}

/** Fast retry settings so failure tests finish in milliseconds. */
export const FAST = { timeoutMs: 5000, retries: 3, backoffMs: 5, maxBackoffMs: 20 } as const;
