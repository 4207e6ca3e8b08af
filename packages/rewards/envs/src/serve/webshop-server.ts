/**
 * The offline shop served with the AgentGym WebShop server's routes and bodies
 * (AGENT_ENVS.md). `session_id` selects the goal; null draws one from the
 * server's seeded stream. Stepping a finished session answers
 * `{"error": ...}` rather than silently doing nothing.
 *
 * Beyond AgentGym: `POST /close {"env_idx"}` frees an environment (true, or
 * false for an unknown id; AgentGym's TextCraft/BabyAI servers have this route,
 * its WebShop server does not), and at most `limits.maxEnvs` are live (see
 * live-envs.ts).
 */
import { createRng } from "@tokenrl/base/rng";
import { type Catalogue, SHOP_SESSION_COUNT, generateCatalogue, generateGoal } from "../shop/catalogue.js";
import { ShopSession } from "../shop/session.js";
import {
  type FaultOptions,
  JsonServer,
  type ServerLimits,
  ValidationError,
  intField,
  intQuery,
  stringField,
} from "./http-server.js";
import { LiveEnvs } from "./live-envs.js";

export interface WebShopServerOptions {
  readonly seed?: number;
  readonly catalogue?: Catalogue;
  readonly faults?: FaultOptions;
  readonly limits?: ServerLimits;
}

export function createWebShopServer(options: WebShopServerOptions = {}): JsonServer {
  const server = new JsonServer(options.faults, options.limits);
  const envs = new LiveEnvs<ShopSession>(options.limits);
  const catalogue = options.catalogue ?? generateCatalogue({ seed: options.seed });
  const pickSession = createRng(options.seed ?? 0).fork("webshop/server/sessions");

  const get = (idx: number): ShopSession | { error: string } =>
    envs.get(idx) ?? { error: `The environment ${idx} does not exist.` };

  server
    .route("GET", "/", () => "ok")
    .route("GET", "/list_envs", () => envs.ids())
    .route("POST", "/create", () =>
      envs.add(() => new ShopSession(catalogue, generateGoal(catalogue, pickSession.int(SHOP_SESSION_COUNT)))),
    )
    .route("POST", "/close", ({ body }) => envs.delete(intField(body, "env_idx")))
    .route("POST", "/reset", ({ body }) => {
      const idx = intField(body, "env_idx");
      const raw = (body as Record<string, unknown> | undefined)?.session_id;
      if (raw !== null && raw !== undefined && !Number.isInteger(raw)) {
        throw new ValidationError(`body.session_id: expected an integer or null, got ${JSON.stringify(raw)}`);
      }
      if (!envs.has(idx)) return { error: `The environment ${idx} does not exist.` };
      const session = (raw as number | null | undefined) ?? pickSession.int(SHOP_SESSION_COUNT);
      if (session < 0 || session >= SHOP_SESSION_COUNT) return { error: `session_id ${session} is out of range` };
      const s = new ShopSession(catalogue, generateGoal(catalogue, session));
      envs.set(idx, s);
      return [s.observation(), null];
    })
    .route("POST", "/step", ({ body }) => {
      const idx = intField(body, "env_idx");
      const action = stringField(body, "action");
      const s = get(idx);
      if ("error" in s) return s;
      if (s.done) return { error: `The task with environment ${idx} has finished.` };
      const r = s.step(action);
      return { state: r.observation, reward: r.reward, done: r.done, info: null };
    })
    .route("GET", "/available_actions", ({ query }) => {
      const s = get(intQuery(query, "env_idx"));
      return "error" in s ? s : s.availableActions();
    })
    .route("GET", "/instruction_text", ({ query }) => {
      const s = get(intQuery(query, "env_idx"));
      return "error" in s ? s : s.instructionText;
    })
    .route("GET", "/observation", ({ query }) => {
      const s = get(intQuery(query, "env_idx"));
      return "error" in s ? s : s.observation();
    })
    .route("GET", "/state", ({ query }) => {
      const s = get(intQuery(query, "env_idx"));
      if ("error" in s) return s;
      const obs = s.observation();
      const html = `<html><body>${obs
        .split(" [SEP] ")
        .map((part) => `<div>${escapeHtml(part)}</div>`)
        .join("")}</body></html>`;
      return { url: s.url(), html, instruction_text: s.instructionText };
    });
  return server;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
