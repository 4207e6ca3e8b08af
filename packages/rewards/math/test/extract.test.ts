import { describe, expect, it } from "vitest";
import { formatExpr } from "../src/format.js";
import { parseAnswer } from "../src/extract.js";

const extracted = (text: string) => {
  const p = parseAnswer(text);
  return p.expr ? formatExpr(p.expr) : undefined;
};

describe("answer extraction", () => {
  it("takes the last \\boxed{} and keeps nested braces", () => {
    expect(
      extracted(
        "first \\boxed{1}, long detour ................................................................. finally \\boxed{\\frac{3}{4}}",
      ),
    ).toBe("3/4");
    expect(extracted("so \\boxed{{2}^{3}} is it")).toBe("2^(3)");
  });
  it("reads \\fbox like \\boxed", () => {
    expect(extracted("we get \\fbox{7}")).toBe("7");
  });
  it("joins boxes separated by 'and' into one set", () => {
    expect(extracted("\\boxed{1} and \\boxed{2}")).toBe("{1, 2}");
  });
  it("prefers 'final answer is ... I hope' over an earlier boxed value", () => {
    expect(extracted("\\boxed{3} ... Final Answer: The final answer is $4$. I hope it is correct.")).toBe("4");
  });
  it("reads an 'Answer:' line without LaTeX", () => {
    expect(extracted("Some work.\nAnswer: 12")).toBe("12");
  });
  it("falls back to the last number in plain text, with thousands separators", () => {
    expect(extracted("so the total is 1,234,567 apples")).toBe("1234567");
  });
  it("reads $...$, \\(...\\) and \\[...\\] (the rightmost formula)", () => {
    expect(extracted("try $1$ then $x=2$")).toBe("x = 2");
    expect(extracted("is \\( \\frac{1}{2} \\)")).toBe("1/2");
    expect(extracted("gives \\[ 9 \\]")).toBe("9");
  });
  it("reads a percent after a formula as hundredths", () => {
    expect(extracted("rate: $25$%")).toBe("25*1/100");
  });
  it("returns nothing for empty or number-free text", () => {
    expect(parseAnswer("")).toEqual({});
    expect(parseAnswer("no numbers here")).toEqual({});
  });
});
