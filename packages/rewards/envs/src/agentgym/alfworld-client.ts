/**
 * The AgentGym ALFWorld server's routes, one method each, with the responses
 * checked against the protocol (AGENT_ENVS.md). `{"error": ...}` bodies throw
 * EnvServerError (see http.ts).
 */
import { EnvProtocolError } from "../errors.js";
import { type HttpOptions, JsonHttp } from "./http.js";

export interface AlfWorldResetResponse {
  readonly id: number;
  readonly observation: string;
  readonly available_actions: string[];
  /** "<task folder>/<trial>", e.g. "pick_and_place_simple-Mug-None-Desk-308/trial_T2019...". */
  readonly task_type: string;
}

export interface AlfWorldStepResponse {
  readonly observation: string;
  readonly reward: number;
  readonly available_actions: string[];
  readonly done: boolean;
}

export interface AlfWorldDetail {
  readonly world_type: string;
  readonly game: number;
  readonly observation: string;
  readonly available_actions: string[];
  readonly done: boolean;
  readonly reward: number;
  readonly deleted: boolean;
}

export type AlfWorldWorldType = "Text" | "Embody" | "Hybrid";

export class AlfWorldClient {
  readonly http: JsonHttp;
  constructor(options: HttpOptions) {
    this.http = new JsonHttp(options);
  }

  async hello(): Promise<string> {
    return expectString("GET /", await this.http.get("/"));
  }

  /**
   * POST /close: frees a server-side environment; true if it existed. Not in
   * AgentGym's ALFWorld server (404 there), but in its TextCraft/BabyAI servers and
   * tokenrl's offline one. Not retried.
   */
  async close(id: number): Promise<boolean> {
    const r = await this.http.post("/close", { id }, { retries: 0 });
    if (typeof r !== "boolean") throw new EnvProtocolError("POST /close", "true or false", r);
    return r;
  }

  async create(): Promise<number> {
    const r = await this.http.post("/create");
    const id = (r as { id?: unknown } | null)?.id;
    if (!Number.isInteger(id)) throw new EnvProtocolError("POST /create", '{"id": int}', r);
    return id as number;
  }

  async reset(id: number, game: number, worldType: AlfWorldWorldType = "Text"): Promise<AlfWorldResetResponse> {
    const r = (await this.http.post("/reset", { id, game, world_type: worldType })) as AlfWorldResetResponse;
    if (typeof r?.observation !== "string" || !Array.isArray(r.available_actions)) {
      throw new EnvProtocolError("POST /reset", "{id, observation, available_actions, task_type}", r);
    }
    return r;
  }

  async step(id: number, action: string): Promise<AlfWorldStepResponse> {
    const r = (await this.http.post("/step", { id, action })) as AlfWorldStepResponse;
    if (typeof r?.observation !== "string" || typeof r.done !== "boolean") {
      throw new EnvProtocolError("POST /step", "{observation, reward, available_actions, done}", r);
    }
    return { ...r, reward: Number(r.reward ?? 0), available_actions: r.available_actions ?? [] };
  }

  async availableActions(id: number): Promise<string[]> {
    const r = await this.http.get("/available_actions", { id });
    if (!Array.isArray(r)) throw new EnvProtocolError("GET /available_actions", "[str]", r);
    return r as string[];
  }

  async observation(id: number): Promise<string> {
    return expectString("GET /observation", await this.http.get("/observation", { id }));
  }

  async detail(id: number): Promise<AlfWorldDetail> {
    const r = await this.http.get("/detail", { id });
    if (r === null || typeof r !== "object") throw new EnvProtocolError("GET /detail", "an object", r);
    return r as AlfWorldDetail;
  }
}

function expectString(route: string, r: unknown): string {
  if (typeof r !== "string") throw new EnvProtocolError(route, "a string", r);
  return r;
}
