// @tokenrl/train/workers: the worker-thread pool (Node only: node:worker_threads).
export { WorkerPool, createWorkerPool, defaultWorkerCount } from "./pool.js";
export { splitRange } from "../update.js";
export type { ComputedGradients, RolloutStats, SyncStats, WorkerPoolOptions, WorkerTaskStats } from "./pool.js";
export { WorkerCrashedError, WorkerTaskError } from "./errors.js";
export { buildActorLoss } from "./loss.js";
export type { ActorLossFactory, WorkerLossSpec } from "./loss.js";
export { planRuns, planWorkers } from "./scheduler.js";
export type { RunPlan, RunPlanInput, WorkerPlan, WorkerPlanInput } from "./scheduler.js";
export type { FaultInjection } from "./protocol.js";
