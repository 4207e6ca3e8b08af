import { describe, expect, it } from "vitest";
import { extractBoxedContent, normalizeLatex } from "../src/normalize.js";

describe("LaTeX normalisation", () => {
  it("rewrites \\dfrac and \\tfrac as \\frac and braces bare arguments", () => {
    expect(normalizeLatex("\\dfrac{1}{2}")).toBe("\\frac{1}{2}");
    expect(normalizeLatex("\\tfrac12")).toBe("\\frac{1}{2}");
    expect(normalizeLatex("\\sqrt3")).toBe("\\sqrt{3}");
  });
  it("drops \\left/\\right but keeps the delimiters", () => {
    expect(normalizeLatex("\\left( 1, 2 \\right]")).toBe("( 1, 2 ]");
  });
  it("drops trailing \\text{} units and unit words", () => {
    expect(normalizeLatex("10\\text{ cm}^2")).toBe("10");
    expect(normalizeLatex("5 apples")).toBe("5");
    expect(normalizeLatex("3 hours")).toBe("3");
  });
  it("turns percent words into %", () => {
    expect(normalizeLatex("28 percent")).toBe("28%");
  });
  it("removes \\! and dollar signs, turns {,} into a comma", () => {
    expect(normalizeLatex("11,\\!111")).toBe("11,111");
    expect(normalizeLatex("1{,}000")).toBe("1,000");
    expect(normalizeLatex("\\$12")).toBe("12");
  });
  it("turns 'and' between answers into a comma", () => {
    expect(normalizeLatex("19, 46, \\text{ and } 82")).toBe("19, 46, 82");
  });
  it("rewrites 0.5 alone as a fraction (Math-Verify keeps it exact)", () => {
    expect(normalizeLatex("0.5")).toBe("\\frac{1}{2}");
    expect(normalizeLatex(".25")).toBe("0.25");
  });
  it("extracts boxed content with nested braces; 'last' keeps only nearby boxes", () => {
    expect(extractBoxedContent("a \\boxed{\\frac{1}{2}} b", "last")).toBe("\\frac{1}{2}");
    const far = `\\boxed{1}${" filler".repeat(20)} \\boxed{2}`;
    expect(extractBoxedContent(far, "last")).toBe("2");
    expect(extractBoxedContent(far, "all")).toBe("1,2");
  });
});
