import { describe, expect, it } from "vitest";
import { failedVerdict, guardedVerify, shapeReward, verifyEach } from "../src/index.js";
import type { TaskVerdict, VerifyRequest } from "../src/index.js";

const req = (response: string): VerifyRequest => ({ example: { id: response, prompt: "", answer: "1" }, response });
const ok = (r: VerifyRequest): TaskVerdict => ({
  correct: r.response === "1",
  reward: r.response === "1" ? 1 : 0,
  extracted: r.response,
});

describe("shapeReward", () => {
  it("binary, DAPO and the soft overlong penalty (ALGORITHMS.md section 6)", () => {
    expect(shapeReward(true, 5, { kind: "binary" })).toBe(1);
    expect(shapeReward(false, 5, { kind: "binary" })).toBe(0);
    expect(shapeReward(true, 5, { kind: "dapo" })).toBe(1);
    expect(shapeReward(false, 5, { kind: "dapo" })).toBe(-1);
    // Lmax 100, buffer 20: no penalty up to 80 tokens; at 90, -(90-80)/20 = -0.5; at 100, -1.
    const overlong = { maxLength: 100, bufferLength: 20 };
    expect(shapeReward(true, 80, { kind: "dapo", overlong })).toBe(1);
    expect(shapeReward(true, 90, { kind: "dapo", overlong })).toBe(0.5);
    expect(shapeReward(false, 100, { kind: "dapo", overlong })).toBe(-2);
    expect(shapeReward(true, 90, { kind: "binary", overlong })).toBe(0.5);
  });
});

describe("a verifier that throws or hangs fails that sample only", () => {
  it("verifyEach: a throw and a hang become failed verdicts, the rest are judged", async () => {
    const verdicts = await verifyEach(
      [req("1"), req("throw"), req("hang"), req("2")],
      (r) => {
        if (r.response === "throw") throw new Error("parser exploded");
        if (r.response === "hang") return new Promise<TaskVerdict>(() => {});
        return ok(r);
      },
      50,
    );
    expect(verdicts[0]).toEqual({ correct: true, reward: 1, extracted: "1" });
    expect(verdicts[1]).toEqual(failedVerdict("verifier threw: Error: parser exploded"));
    expect(verdicts[2]).toEqual(failedVerdict("verifier timed out after 50 ms"));
    expect(verdicts[3]).toEqual({ correct: false, reward: 0, extracted: "2" });
  });

  it("guardedVerify: a task whose whole verify rejects, hangs or miscounts fails the batch's samples", async () => {
    const requests = [req("1"), req("2")];
    const rejects = { name: "t", verify: async () => Promise.reject(new TypeError("boom")) };
    expect(await guardedVerify(rejects, requests)).toEqual([
      failedVerdict("t: verify threw: TypeError: boom"),
      failedVerdict("t: verify threw: TypeError: boom"),
    ]);
    const hangs = { name: "t", verify: () => new Promise<TaskVerdict[]>(() => {}) };
    const hung = await guardedVerify(hangs, requests, { timeoutMs: 30 });
    expect(hung.map((v) => [v.correct, v.reward, v.error])).toEqual([
      [false, 0, "t: verify timed out after 30 ms"],
      [false, 0, "t: verify timed out after 30 ms"],
    ]);
    const short = { name: "t", verify: async () => [ok(requests[0]!)] };
    expect(
      (await guardedVerify(short, requests)).every((v) => v.error === "t: verify returned 1 verdicts for 2 requests"),
    ).toBe(true);
    const nan = {
      name: "t",
      verify: async () => [ok(requests[0]!), { correct: true, reward: Number.NaN, extracted: "" }],
    };
    const mixed = await guardedVerify(nan, requests);
    expect(mixed[0]).toEqual({ correct: true, reward: 1, extracted: "1" });
    expect(mixed[1]!.error).toMatch(/malformed verdict/);
    const good = { name: "t", verify: async (rs: readonly VerifyRequest[]) => rs.map(ok) };
    expect((await guardedVerify(good, requests)).map((v) => v.correct)).toEqual([true, false]);
  });
});
