import { describe, expect, it } from "vitest";
import { rlStatus } from "../src/progress.js";

describe("the RL progress bar's status", () => {
  it("shows the step's score and accuracy, and the latest held-out pass@1 once one was measured", () => {
    const record = { "critic/score/mean": 0.4375, accuracy: 0.25 };
    expect(rlStatus(record, undefined)).toBe("score 0.44 acc 0.25");
    expect(rlStatus(record, 0.285)).toBe("score 0.44 acc 0.25 held-out 28.5%");
    expect(rlStatus({ accuracy: null }, Number.NaN)).toBe("score - acc -");
  });
});
