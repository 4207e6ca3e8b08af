/**
 * The AgentGym WebShop server's routes, one method each, with the responses
 * checked against the protocol (AGENT_ENVS.md).
 */
import { EnvProtocolError } from "../errors.js";
import { type HttpOptions, JsonHttp } from "./http.js";

export interface WebShopStepResponse {
  readonly state: string;
  readonly reward: number;
  readonly done: boolean;
  readonly info: unknown;
}

export interface WebShopAvailableActions {
  readonly has_search_bar: boolean;
  readonly clickables: string[];
}

export interface WebShopState {
  readonly url: string;
  readonly html: string;
  readonly instruction_text: string;
}

export class WebShopClient {
  readonly http: JsonHttp;
  constructor(options: HttpOptions) {
    this.http = new JsonHttp(options);
  }

  async hello(): Promise<string> {
    return expectString("GET /", await this.http.get("/"));
  }

  async listEnvs(): Promise<number[]> {
    const r = await this.http.get("/list_envs");
    if (!Array.isArray(r)) throw new EnvProtocolError("GET /list_envs", "[int]", r);
    return r as number[];
  }

  /**
   * POST /close: frees a server-side environment; true if it existed. Not in
   * AgentGym's WebShop server (404 there), but in its TextCraft/BabyAI servers and
   * tokenrl's offline one. Not retried.
   */
  async close(envIdx: number): Promise<boolean> {
    const r = await this.http.post("/close", { env_idx: envIdx }, { retries: 0 });
    if (typeof r !== "boolean") throw new EnvProtocolError("POST /close", "true or false", r);
    return r;
  }

  async create(): Promise<number> {
    const r = await this.http.post("/create");
    if (!Number.isInteger(r)) throw new EnvProtocolError("POST /create", "a bare integer env_idx", r);
    return r as number;
  }

  /** `sessionId` selects the goal; null lets the server pick one. Returns the first observation. */
  async reset(envIdx: number, sessionId: number | null): Promise<string> {
    const r = await this.http.post("/reset", { env_idx: envIdx, session_id: sessionId });
    if (!Array.isArray(r) || typeof r[0] !== "string")
      throw new EnvProtocolError("POST /reset", "[observation, null]", r);
    return r[0];
  }

  async step(envIdx: number, action: string): Promise<WebShopStepResponse> {
    const r = (await this.http.post("/step", { env_idx: envIdx, action })) as WebShopStepResponse;
    if (typeof r?.state !== "string" || typeof r.done !== "boolean") {
      throw new EnvProtocolError("POST /step", "{state, reward, done, info}", r);
    }
    return { ...r, reward: Number(r.reward ?? 0) };
  }

  async availableActions(envIdx: number): Promise<WebShopAvailableActions> {
    const r = (await this.http.get("/available_actions", { env_idx: envIdx })) as WebShopAvailableActions;
    if (typeof r?.has_search_bar !== "boolean" || !Array.isArray(r.clickables)) {
      throw new EnvProtocolError("GET /available_actions", "{has_search_bar, clickables}", r);
    }
    return r;
  }

  async instructionText(envIdx: number): Promise<string> {
    return expectString("GET /instruction_text", await this.http.get("/instruction_text", { env_idx: envIdx }));
  }

  async observation(envIdx: number): Promise<string> {
    return expectString("GET /observation", await this.http.get("/observation", { env_idx: envIdx }));
  }

  async state(envIdx: number): Promise<WebShopState> {
    const r = (await this.http.get("/state", { env_idx: envIdx })) as WebShopState;
    if (typeof r?.url !== "string") throw new EnvProtocolError("GET /state", "{url, html, instruction_text}", r);
    return r;
  }
}

function expectString(route: string, r: unknown): string {
  if (typeof r !== "string") throw new EnvProtocolError(route, "a string", r);
  return r;
}
