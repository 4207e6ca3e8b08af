import { describe, expect, it } from "vitest";
import { verifySync } from "../src/verify.js";

const eq = (gold: string, pred: string) => verifySync(gold, pred).equal;

describe("numbers", () => {
  it("compares fractions exactly and reduces them", () => {
    expect(eq("$\\frac{4}{6}$", "\\boxed{\\frac{2}{3}}")).toBe(true);
    expect(eq("$\\frac{2}{3}$", "\\boxed{\\frac{3}{2}}")).toBe(false);
  });
  it("rounds both sides to 6 decimals when one side is a decimal literal", () => {
    // 1/3 = 0.3333333... -> 0.333333 at 6 places; 0.3333 stays 0.3333.
    expect(eq("$\\frac{1}{3}$", "\\boxed{0.333333}")).toBe(true);
    expect(eq("$\\frac{1}{3}$", "\\boxed{0.3333}")).toBe(false);
    // pi = 3.14159265... -> 3.141593.
    expect(eq("$\\pi$", "\\boxed{3.141593}")).toBe(true);
    expect(eq("$\\pi$", "\\boxed{3.14}")).toBe(false);
  });
  it("keeps huge integers exact", () => {
    const big = "1234567890123456789012345678901234567890";
    expect(eq(`$${big}$`, `\\boxed{${big}}`)).toBe(true);
    expect(eq(`$${big}$`, `\\boxed{${big.slice(0, -1)}1}`)).toBe(false);
  });
  it("reads percent as hundredths and degrees as plain numbers", () => {
    expect(eq("$0.25$", "\\boxed{25\\%}")).toBe(true);
    expect(eq("$30$", "\\boxed{30^\\circ}")).toBe(true);
  });
  it("evaluates factorials, mixed numbers and scientific notation", () => {
    expect(eq("$120$", "\\boxed{5!}")).toBe(true);
    expect(eq("$\\frac{5}{2}$", "\\boxed{2\\frac{1}{2}}")).toBe(true);
    expect(eq("$3 \\times 10^{5}$", "\\boxed{300000}")).toBe(true);
  });
  it("treats a space-separated 1 000 inside LaTeX as a product, as Math-Verify does", () => {
    expect(eq("$1000$", "\\boxed{1\\,000}")).toBe(false);
    expect(eq("$1000$", "\\boxed{1{,}000}")).toBe(true);
  });
});

describe("expressions", () => {
  it("accepts algebraically equal forms", () => {
    expect(eq("$2x+2$", "\\boxed{2(x+1)}")).toBe(true);
    expect(eq("$\\frac{\\sqrt{2}}{2}$", "\\boxed{\\frac{1}{\\sqrt{2}}}")).toBe(true);
    // (x, not t: "t" is a unit word Math-Verify strips after a number.)
    expect(eq("$\\cos^2 x$", "\\boxed{1-\\sin^2 x}")).toBe(true);
  });
  it("rejects different expressions and different variables", () => {
    expect(eq("$x^2$", "\\boxed{2x}")).toBe(false);
    expect(eq("$a+1$", "\\boxed{b+1}")).toBe(false);
  });
  it("matches a text answer against the same letters", () => {
    expect(eq("$\\text{even}$", "$even$")).toBe(true);
  });
});

describe("equations and inequalities", () => {
  it("reads 'x = 3' as 3 when the gold is a bare number, and the other way round", () => {
    expect(eq("$3$", "\\boxed{x = 3}")).toBe(true);
    expect(eq("$y = 3$", "\\boxed{3}")).toBe(true);
    expect(eq("$y = 3$", "\\boxed{y = 4}")).toBe(false);
  });
  it("accepts scaled equations and flipped inequalities", () => {
    expect(eq("$3x + 6y = 9$", "\\boxed{x + 2y = 3}")).toBe(true);
    expect(eq("$x \\le 4$", "\\boxed{4 \\ge x}")).toBe(true);
    expect(eq("$x > 4$", "\\boxed{x < 4}")).toBe(false);
  });
  it("turns a gold inequality into an interval when the prediction is an interval, not the reverse", () => {
    expect(eq("$2 < x \\le 5$", "\\boxed{(2, 5]}")).toBe(true);
    expect(eq("$(2, 5]$", "\\boxed{2 < x \\le 5}")).toBe(false);
  });
});

describe("sets, intervals, tuples, matrices", () => {
  it("compares intervals by endpoints and openness", () => {
    expect(eq("$[1, 3)$", "\\boxed{[1,3)}")).toBe(true);
    expect(eq("$[1, 3)$", "\\boxed{[1,3]}")).toBe(false);
    expect(eq("$(0, \\infty)$", "\\boxed{(0, +\\infty)}")).toBe(true);
  });
  it("compares unions as point sets", () => {
    expect(eq("$(-\\infty, 1) \\cup (1, \\infty)$", "\\boxed{\\mathbb{R} \\setminus \\{1\\}}")).toBe(true);
    expect(eq("$[0,1] \\cup [4,5]$", "\\boxed{[4,5] \\cup [0,1]}")).toBe(true);
  });
  it("ignores order in sets but not in tuples", () => {
    expect(eq("$\\{1, 2, 3\\}$", "\\boxed{\\{3, 1, 2\\}}")).toBe(true);
    expect(eq("$(1, 2, 3)$", "\\boxed{(3, 2, 1)}")).toBe(false);
    expect(eq("$(5, 1)$", "\\boxed{(5, 1)}")).toBe(true);
  });
  it("requires the same number of answers", () => {
    expect(eq("$1, 2$", "\\boxed{2, 1}")).toBe(true);
    expect(eq("$1, 2$", "\\boxed{1, 2, 3}")).toBe(false);
    expect(eq("$4$", "\\boxed{4, 4}")).toBe(true);
  });
  it("expands \\pm into two answers", () => {
    expect(eq("$2 \\pm \\sqrt{3}$", "\\boxed{2+\\sqrt{3}, 2-\\sqrt{3}}")).toBe(true);
  });
  it("compares matrices entry by entry, with float rounding", () => {
    expect(
      eq("$\\begin{pmatrix} \\frac{1}{4} & 1 \\end{pmatrix}$", "\\boxed{\\begin{bmatrix} 0.25 & 1 \\end{bmatrix}}"),
    ).toBe(true);
    expect(eq("$\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}$", "\\boxed{\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}}")).toBe(
      false,
    );
  });
});

describe("rules read off Math-Verify's own tests", () => {
  it("accepts the bare number for a gold written with a percent sign, and only then", () => {
    expect(eq("$28\\%$", "28")).toBe(true);
    expect(eq("$\\frac{28}{100}$", "28")).toBe(false);
    expect(eq("$0.28$", "28")).toBe(false);
  });
  it("reads a multiple-choice \\text{(C)} as C and a sentence-final dot as punctuation", () => {
    expect(eq("\\(\\boxed{\\text{C}}\\).", "$\\boxed{\\text{(C)}}.$")).toBe(true);
    expect(eq("$2/3$", "so the probability is 2/3. Done")).toBe(true);
  });
  it("does not read 12:00 as a division by zero (the texts are compared)", () => {
    expect(eq("$12:00$", "$1:00$")).toBe(false);
    expect(eq("$12:00$", "$12:00$")).toBe(true);
  });
  it("solves |x| relations for x: 1 <= |z| <= 3/2 is [-3/2, -1] U [1, 3/2]", () => {
    expect(eq("$1\\leq|z|\\leq \\frac{3}{2}$", "$z \\in [-\\frac{3}{2}, -1] \\cup [1, \\frac{3}{2}]$")).toBe(true);
    expect(eq("$|x| < 2$", "$(0, 2)$")).toBe(false);
  });
  it("evaluates sums and products with numeric bounds, and compares symbolic ones structurally", () => {
    // 1 + 2 + ... + 10 = 55; 5! = 120.
    expect(eq("$55$", "$\\sum_{k=1}^{10} k$")).toBe(true);
    expect(eq("$120$", "$\\prod_{i=1}^{5} i$")).toBe(true);
    expect(eq("$\\sum_{k=0}^{n-1} a_k b_k$", "$\\sum_{k=0}^{n-1} b_k a_k$")).toBe(true);
    expect(eq("$\\sum_{k=0}^{n-1} a_k$", "$\\sum_{k=0}^{n-2} a_k$")).toBe(false);
  });
});

describe("results", () => {
  it("reports what was parsed on each side", () => {
    const r = verifySync("$\\frac{1}{2}$", "\\boxed{0.5}");
    expect(r).toEqual({ equal: true, goldParsed: "1/2", predictionParsed: "1/2" });
  });
  it("flags a gold answer with nothing to extract as a parse error", () => {
    expect(verifySync("no answer", "\\boxed{1}")).toMatchObject({ equal: false, error: "parse_error" });
  });
});
