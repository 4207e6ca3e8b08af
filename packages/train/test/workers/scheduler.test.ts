import { describe, expect, it } from "vitest";
import { defaultWorkerCount, planRuns, planWorkers, splitRange } from "../../src/workers/index.js";

describe("planWorkers", () => {
  it("gives every core to the policy when the task needs no reward workers", () => {
    expect(planWorkers({ cores: 16, rewards: "none" })).toMatchObject({ policyWorkers: 16, rewardWorkers: 0 });
  });

  it("keeps one policy worker with the native backend (it threads each op itself)", () => {
    expect(planWorkers({ cores: 16, backend: "tensorflow" })).toMatchObject({ policyWorkers: 1, rewardWorkers: 0 });
    expect(defaultWorkerCount("tensorflow")).toBe(1);
  });

  it("lets alternating phases (generate, then verify) each use all cores", () => {
    expect(planWorkers({ cores: 8, rewards: "math" })).toMatchObject({ policyWorkers: 8, rewardWorkers: 8 });
  });

  it("splits the cores in proportion to the measured time when rewards overlap generation", () => {
    // 1 s of rewards to 3 s of policy work on 8 cores: round(8 x 1/4) = 2 reward workers, 6 policy.
    const plan = planWorkers({
      cores: 8,
      rewards: "code",
      overlapped: true,
      measured: { rewardSeconds: 1, policySeconds: 3 },
    });
    expect(plan).toMatchObject({ policyWorkers: 6, rewardWorkers: 2 });
    expect(plan.reason).toContain("25%");
    // Never starves either side: at least one of each.
    expect(
      planWorkers({ cores: 4, rewards: "code", overlapped: true, measured: { rewardSeconds: 99, policySeconds: 1 } }),
    ).toMatchObject({
      policyWorkers: 1,
      rewardWorkers: 3,
    });
  });

  it("lets explicit counts win and rejects bad ones", () => {
    expect(planWorkers({ cores: 8, policyWorkers: 3 }).policyWorkers).toBe(3);
    expect(() => planWorkers({ cores: 8, policyWorkers: 0 })).toThrow(/policyWorkers/);
    expect(() => planWorkers({ cores: 0 })).toThrow(/cores/);
  });
});

describe("splitRange", () => {
  it("cuts n rows into contiguous ranges differing by at most one row", () => {
    expect(splitRange(7, 3)).toEqual([
      [0, 2],
      [2, 4],
      [4, 7],
    ]);
    expect(splitRange(1, 2)).toEqual([
      [0, 0],
      [0, 1],
    ]);
  });
});

describe("planRuns", () => {
  it("fills the cores with whole runs first, then gives each run the cores left over", () => {
    expect(planRuns({ runs: 40, cores: 2 })).toMatchObject({ jobs: 2, workersPerRun: 1 });
    expect(planRuns({ runs: 1, cores: 2 })).toMatchObject({ jobs: 1, workersPerRun: 2 });
    expect(planRuns({ runs: 3, cores: 16 })).toMatchObject({ jobs: 3, workersPerRun: 5 });
    expect(planRuns({ runs: 3, cores: 16, jobs: 1 })).toMatchObject({ jobs: 1, workersPerRun: 16 });
    // Given workers per run, fewer runs at a time so that jobs x workers stays within the cores.
    expect(planRuns({ runs: 8, cores: 4, workersPerRun: 2 })).toMatchObject({ jobs: 2, workersPerRun: 2 });
    expect(planRuns({ runs: 6, cores: 8, workersPerRun: 4 })).toMatchObject({ jobs: 2, workersPerRun: 4 });
    expect(planRuns({ runs: 8, cores: 8, backend: "tensorflow" })).toMatchObject({ jobs: 1, workersPerRun: 1 });
    expect(planRuns({ runs: 2, cores: 2 }).reason).toMatch(/2 run\(s\) at a time x 1 worker/);
  });

  it("rejects counts that are not positive integers", () => {
    expect(() => planRuns({ runs: 0, cores: 2 })).toThrow(/runs/);
    expect(() => planRuns({ runs: 2, cores: 2, jobs: 0 })).toThrow(/jobs/);
    expect(() => planRuns({ runs: 2, cores: 2, workersPerRun: 1.5 })).toThrow(/workersPerRun/);
  });
});
