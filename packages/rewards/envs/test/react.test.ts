import { describe, expect, it } from "vitest";
import { invalidActionText, parseReactTurn, parseTurn } from "../src/react.js";

describe("ReAct turn parsing (AgentGym)", () => {
  it("takes the action after the last Action: and the thought after Thought:", () => {
    const turn = "Thought:\nI need a mug.\n\nAction:\ngo to desk 1";
    expect(parseReactTurn(turn)).toEqual({ action: "go to desk 1", thought: "I need a mug." });
  });

  it("uses the last Action: when the model writes several", () => {
    const turn = "Thought: Action: is a word I like\nAction: look\nThought: no wait\nAction: inventory";
    expect(parseReactTurn(turn)?.action).toBe("inventory");
  });

  it("keeps only the first line of the action, dropping a hallucinated observation", () => {
    expect(parseReactTurn("Action: click[Buy Now]\nObservation: thanks")?.action).toBe("click[Buy Now]");
  });

  it("strips a trailing </s> and accepts a turn without a thought", () => {
    expect(parseReactTurn("Action:\nlook</s>")).toEqual({ action: "look", thought: undefined });
  });

  it("rejects a turn with no Action: or an empty action", () => {
    expect(parseReactTurn("I think I should look around.")).toBeUndefined();
    expect(parseReactTurn("Thought: hmm\nAction:   \n")).toBeUndefined();
  });

  it("in plain format the whole trimmed turn is the command", () => {
    expect(parseTurn("  go to desk 1 \n", "plain")).toEqual({ action: "go to desk 1", thought: undefined });
    expect(parseTurn("   ", "plain")).toBeUndefined();
  });

  it("answers an unparsable turn with Invalid Action. and the current observation", () => {
    expect(invalidActionText("You arrive at desk 1.")).toBe("Invalid Action.\n\nYou arrive at desk 1.");
  });
});
