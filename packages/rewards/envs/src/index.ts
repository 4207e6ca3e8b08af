export type {
  ActionFormat,
  ConversationMessage,
  Environment,
  ResetResult,
  Split,
  StepInfo,
  StepResult,
  TaskInfo,
} from "./environment.js";
export { EnvHttpError, EnvProtocolError, EnvServerError, EnvUnavailableError, EpisodeStateError } from "./errors.js";
export { type ParsedTurn, invalidActionText, parseReactTurn, parseTurn } from "./react.js";
export { ALFWORLD_PREAMBLE, WEBSHOP_PREAMBLE, formatAlfworldObservation } from "./preamble.js";
export { EnvironmentPool } from "./pool.js";
export {
  type EpisodeOptions,
  type EpisodeResult,
  type EpisodeSummary,
  type Policy,
  runEpisode,
  summariseEpisodes,
} from "./episode.js";
export type { HttpOptions } from "./agentgym/http.js";
export {
  AlfWorldClient,
  type AlfWorldDetail,
  type AlfWorldResetResponse,
  type AlfWorldStepResponse,
  type AlfWorldWorldType,
} from "./agentgym/alfworld-client.js";
export {
  WebShopClient,
  type WebShopAvailableActions,
  type WebShopState,
  type WebShopStepResponse,
} from "./agentgym/webshop-client.js";
export {
  type AdapterOptions,
  AlfWorldEnv,
  WebShopEnv,
  alfworldSplit,
  alfworldTaskType,
  createAlfWorldEnv,
  createAlfWorldPool,
  createWebShopEnv,
  createWebShopPool,
} from "./agentgym/adapters.js";
export {
  HouseholdEnv,
  type HouseholdEnvOptions,
  ShopEnv,
  type ShopEnvOptions,
  createHouseholdEnv,
  createShopEnv,
} from "./offline.js";
export { HOUSEHOLD_TASK_TYPES, type HouseholdTaskType, type RoomKind } from "./household/catalogue.js";
export {
  HOUSEHOLD_GAME_COUNT,
  HOUSEHOLD_TEST_GAMES,
  HOUSEHOLD_TRAIN_GAMES,
  type HouseholdGoal,
  type HouseholdWorld,
  generateHousehold,
  householdSplit,
} from "./household/generate.js";
export { HouseholdGame, NOTHING_HAPPENED } from "./household/game.js";
export { playHouseholdRandomly, solveHousehold } from "./household/expert.js";
export {
  type Catalogue,
  type Product,
  SHOP_SESSION_COUNT,
  SHOP_TEST_SESSIONS,
  type ShopGoal,
  generateCatalogue,
  generateGoal,
  shopSplit,
} from "./shop/catalogue.js";
export { Bm25Index, tokenize } from "./shop/bm25.js";
export { type ShopRewardBreakdown, shopReward } from "./shop/reward.js";
export { ShopSession } from "./shop/session.js";
export { playShopRandomly, solveShop } from "./shop/expert.js";
export { type FaultOptions, JsonServer, type ServerStats } from "./serve/http-server.js";
export { type AlfWorldServerOptions, createAlfWorldServer } from "./serve/alfworld-server.js";
export { type WebShopServerOptions, createWebShopServer } from "./serve/webshop-server.js";
