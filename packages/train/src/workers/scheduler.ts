import { availableParallelism } from "node:os";
import { ConfigError } from "@tokenrl/core";

export interface WorkerPlanInput {
  /** Cores to plan for; default `os.availableParallelism()`. */
  cores?: number;
  /** The tensor backend ("tensorflow" = native, which threads each op itself). */
  backend?: string;
  /** What the task's verifier runs on: nothing extra, the math verifier pool, or code sandboxes. */
  rewards?: "none" | "math" | "code";
  /**
   * Whether rewards are computed while the policy workers generate (streamed
   * verification). When false (the trainer's loop: generate, then verify) the
   * two phases never compete and each may use every core.
   */
  overlapped?: boolean;
  /** Seconds per step the reward and policy phases took (e.g. the last step's metrics); splits cores in proportion. */
  measured?: { rewardSeconds: number; policySeconds: number };
  /** Explicit counts win over the plan (the `workers` config key, `--workers`). */
  policyWorkers?: number;
  rewardWorkers?: number;
}

export interface WorkerPlan {
  policyWorkers: number;
  /** 0 when the task needs no reward workers. */
  rewardWorkers: number;
  /** Why, in words (printed by the trainer at start-up). */
  reason: string;
}

/**
 * The one place that decides how many policy workers (rollout and gradients)
 * and how many reward workers (math verifier threads, code sandboxes) a run
 * starts, so that neither starves the other. Policy workers: one per core on
 * wasm / cpu, one with the native backend (it threads every op). Rewards that
 * run after generation get every core too (the phases alternate); rewards
 * that overlap generation share the cores in proportion to the measured time
 * of each phase, at least one each.
 */
export function planWorkers(input: WorkerPlanInput = {}): WorkerPlan {
  const cores = input.cores ?? availableParallelism();
  if (!Number.isInteger(cores) || cores < 1) throw new ConfigError("cores", `expected an integer >= 1, got ${cores}`);
  for (const key of ["policyWorkers", "rewardWorkers"] as const) {
    const v = input[key];
    if (v !== undefined && (!Number.isInteger(v) || v < (key === "policyWorkers" ? 1 : 0)))
      throw new ConfigError(key, `expected an integer >= ${key === "policyWorkers" ? 1 : 0}, got ${v}`);
  }
  const native = input.backend === "tensorflow";
  const rewards = input.rewards ?? "none";
  const needsRewards = rewards !== "none";
  let policy: number;
  let reward: number;
  let reason: string;
  if (!needsRewards) {
    policy = native ? 1 : cores;
    reward = 0;
    reason = native
      ? "native backend threads each op itself; no reward workers needed"
      : `one policy worker per core (${cores}); no reward workers needed`;
  } else if (!input.overlapped) {
    policy = native ? 1 : cores;
    reward = cores;
    reason = `generation and ${rewards} rewards alternate, so each uses all ${cores} cores`;
  } else if (native) {
    // The native backend already uses every core for the policy; rewards get what its ops leave.
    policy = 1;
    reward = Math.max(1, cores - 1);
    reason = `native backend for the policy, ${reward} ${rewards} reward worker(s) beside it`;
  } else {
    const m = input.measured;
    const total = m ? m.rewardSeconds + m.policySeconds : 0;
    const share = m && total > 0 ? m.rewardSeconds / total : 0.5;
    reward = cores < 2 ? 1 : Math.min(cores - 1, Math.max(1, Math.round(cores * share)));
    policy = Math.max(1, cores - reward);
    reason = m
      ? `${rewards} rewards overlap generation and took ${(share * 100).toFixed(0)}% of the measured time: ${reward} reward / ${policy} policy worker(s) of ${cores} cores`
      : `${rewards} rewards overlap generation: cores split evenly until measured (${reward} reward / ${policy} policy)`;
  }
  if (input.policyWorkers !== undefined) policy = input.policyWorkers;
  if (input.rewardWorkers !== undefined) reward = input.rewardWorkers;
  if (input.policyWorkers !== undefined || input.rewardWorkers !== undefined) reason += " (counts set explicitly)";
  return { policyWorkers: policy, rewardWorkers: reward, reason };
}

export interface RunPlanInput {
  /** Training runs to do (e.g. recipes x seeds). */
  runs: number;
  /** Cores to plan for; default `os.availableParallelism()`. */
  cores?: number;
  /** The tensor backend ("tensorflow" = native, which threads each op itself). */
  backend?: string;
  /** Explicit counts win over the plan (`--jobs`, `--workers`). */
  jobs?: number;
  workersPerRun?: number;
}

export interface RunPlan {
  /** Runs (processes) at a time. */
  jobs: number;
  /** Policy workers of each run (its `workers`; 1 = in the run's own thread). */
  workersPerRun: number;
  reason: string;
}

/**
 * How many runs to train at once and with how many policy workers each, so
 * that jobs x workers fills the cores without oversubscribing them. Whole runs
 * first: separate processes share nothing, while a run's workers pay a weight
 * broadcast and a gradient reduce per optimiser step; the cores left over
 * (fewer runs than cores) go to each run's workers. The native backend
 * threads each op itself: one run at a time, one worker.
 */
export function planRuns(input: RunPlanInput): RunPlan {
  const cores = input.cores ?? availableParallelism();
  const check = (key: string, v: number | undefined) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1))
      throw new ConfigError(key, `expected an integer >= 1, got ${v}`);
  };
  check("cores", cores);
  check("runs", input.runs);
  check("jobs", input.jobs);
  check("workersPerRun", input.workersPerRun);
  const native = input.backend === "tensorflow";
  const jobs =
    input.jobs ?? (native ? 1 : Math.min(input.runs, Math.max(1, Math.floor(cores / (input.workersPerRun ?? 1)))));
  const workersPerRun = input.workersPerRun ?? (native ? 1 : Math.max(1, Math.floor(cores / jobs)));
  const reason = native
    ? "native backend threads each op itself: one run at a time, one worker"
    : `${jobs} run(s) at a time x ${workersPerRun} worker(s) each on ${cores} cores${
        input.jobs !== undefined || input.workersPerRun !== undefined ? " (counts set explicitly)" : ""
      }`;
  return { jobs, workersPerRun, reason };
}
