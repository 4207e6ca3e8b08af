import { describe, expect, it } from "vitest";
import { preciseEqual } from "../src/precise.js";
import { parseLatex } from "../src/latex-parser.js";
import { verifySync } from "../src/verify.js";

const eq = (gold: string, pred: string) => verifySync(gold, pred).equal;

describe("no false accepts beyond float range (issue 10, item 3)", () => {
  it("tells apart values that both overflow a double", () => {
    // ln(2^2023) = 1402.23..., ln(2^2024) = 1402.92...: they differ by ln 2, though 2^2023 is Infinity as a double.
    expect(eq("$\\ln(2^{2023})$", "\\boxed{\\ln(2^{2024})}")).toBe(false);
    // The ratio is 2.
    expect(eq("$2^{2023}\\pi$", "\\boxed{2^{2024}\\pi}")).toBe(false);
    // The ratio is 2.
    expect(eq("$\\sqrt{2^{2023}}$", "\\boxed{\\sqrt{2^{2025}}}")).toBe(false);
    // e^1000 ~ 1.97e434, e^5000 ~ 10^2171.
    expect(eq("$e^{1000}$", "\\boxed{e^{5000}}")).toBe(false);
    // The ratio is 99999999.
    expect(eq("$99999999!$", "\\boxed{99999998!}")).toBe(false);
  });

  it("tells apart values that both underflow, and a tiny value from 0", () => {
    // e^-1000 ~ 5.08e-435 and e^-2000 ~ 2.6e-869: both 0 as doubles.
    expect(eq("$e^{-1000}$", "\\boxed{e^{-2000}}")).toBe(false);
    expect(eq("$e^{-1000}$", "\\boxed{0}")).toBe(false);
    expect(eq("$0$", "\\boxed{e^{-1000}}")).toBe(false);
  });

  it("tells apart small values that a 1e-9 absolute tolerance would merge", () => {
    // e^-25 = 1.39e-11, e^-26 = 5.1e-12; ln(1 + 10^-12) = 1e-12 - 5e-25 + ..., not 0.
    expect(eq("$e^{-25}$", "\\boxed{e^{-26}}")).toBe(false);
    expect(eq("$e^{-25}x$", "\\boxed{e^{-26}x}")).toBe(false);
    expect(eq("$\\frac{\\pi}{10^{12}}$", "\\boxed{\\frac{\\pi}{2 \\cdot 10^{12}}}")).toBe(false);
    expect(eq("$\\ln(1 + 10^{-12})$", "\\boxed{0}")).toBe(false);
    // ...while rounding noise of an identity is still 0.
    expect(eq("$\\sin^2(3) + \\cos^2(3) - 1$", "\\boxed{0}")).toBe(true);
    expect(eq("$\\sin^2 x + \\cos^2 x - 1$", "\\boxed{0}")).toBe(true);
    expect(eq("$e^{-25}$", "\\boxed{\\frac{1}{e^{25}}}")).toBe(true);
  });

  it("tells apart symbolic powers that overflow or underflow at every sample point", () => {
    // x^999999999 / x^999999998 = x, not 1, at every sample point (|x| is 0.3 to 3.1: 0 or Infinity as doubles).
    expect(eq("$x^{999999999}$", "\\boxed{x^{999999998}}")).toBe(false);
  });

  it("answers not equal for towers no precision can evaluate, unless written identically", () => {
    expect(eq("$10^{10^{10^{10}}}$", "\\boxed{10^{10^{10^{11}}}}")).toBe(false);
    expect(eq("$10^{10^{10^{10}}}$", "\\boxed{10^{10^{10^{10}}} + 1}")).toBe(false);
    expect(eq("$10^{10^{10^{10}}}$", "\\boxed{10^{10^{10^{10}}}}")).toBe(true);
  });

  it("does not round a difference of 1 away next to a huge value", () => {
    // Relative differences of 1e-31 and 1e-434: a 1e-9 tolerance (or 50 digits) would call them equal.
    expect(eq("$10^{20}\\pi + 1$", "\\boxed{10^{20}\\pi}")).toBe(false);
    expect(eq("$e^{1000}$", "\\boxed{e^{1000} + 1}")).toBe(false);
    // (2^2023 pi + 1) - 2^2023 pi is 1: cancellation must not turn it into 0.
    expect(eq("$2^{2023}\\pi + 1 - 2^{2023}\\pi$", "\\boxed{0}")).toBe(false);
  });

  it("still accepts equal values beyond float range written differently", () => {
    expect(eq("$e^{-1000}$", "\\boxed{\\frac{1}{e^{1000}}}")).toBe(true);
    expect(eq("$2^{2024}\\pi$", "\\boxed{2 \\cdot 2^{2023}\\pi}")).toBe(true);
    expect(eq("$\\ln(2^{2023})$", "\\boxed{2023\\ln 2}")).toBe(true);
    expect(eq("$\\sqrt{2^{2023}}$", "\\boxed{2^{1011}\\sqrt{2}}")).toBe(true);
    expect(eq("$x^{1000} \\cdot x$", "\\boxed{x^{1001}}")).toBe(true);
    expect(eq("$e^{-50}x$", "\\boxed{\\frac{x}{e^{50}}}")).toBe(true);
  });

  it("keeps interval endpoints beyond float range apart, and a relation's constant exact", () => {
    // As doubles both lower ends would be Infinity (and e^-1000 would be 0).
    expect(eq("$(2^{2023}, \\infty)$", "\\boxed{(2^{2024}, \\infty)}")).toBe(false);
    expect(eq("$x > 2^{2023}$", "\\boxed{(2^{2024}, \\infty)}")).toBe(false);
    expect(eq("$x > 2^{2023}$", "\\boxed{(2^{2023}, \\infty)}")).toBe(true);
    expect(eq("$x \\le e^{-1000}$", "\\boxed{(-\\infty, 0]}")).toBe(false);
    expect(eq("$x \\le e^{-1000}$", "\\boxed{(-\\infty, e^{-1000}]}")).toBe(true);
  });

  it("decides in arbitrary precision where doubles give oo - oo, oo / oo or oo * 0 (NaN)", () => {
    // e^1000 is Infinity as a double: these were NaN and so "not equal" (false rejects).
    expect(eq("$0$", "\\boxed{e^{1000} - e^{1000}}")).toBe(true);
    expect(eq("$1$", "\\boxed{e^{1000} - e^{1000}}")).toBe(false);
    expect(eq("$e$", "\\boxed{\\frac{e^{1000}}{e^{999}}}")).toBe(true);
    expect(eq("$e^{2}$", "\\boxed{\\frac{e^{1000}}{e^{999}}}")).toBe(false);
    expect(eq("$1$", "\\boxed{e^{1000} \\cdot e^{-1000}}")).toBe(true);
    expect(eq("$2x$", "\\boxed{2x e^{1000} e^{-1000}}")).toBe(true);
    expect(eq("$3x$", "\\boxed{2x e^{1000} e^{-1000}}")).toBe(false);
  });

  it("preciseEqual decides, or says undecidable (undefined), never guesses", () => {
    const p = (s: string) => parseLatex(s);
    expect(preciseEqual(p("e^{-1000}"), p("0"))).toBe(false);
    expect(preciseEqual(p("e^{-1000}"), p("\\frac{1}{e^{1000}}"))).toBe(true);
    // 10^(10^(10^10)) exceeds decimal.js's exponent range (9e15): nothing decides it.
    expect(preciseEqual(p("10^{10^{10^{10}}}"), p("10^{10^{10^{10}}}"))).toBeUndefined();
  });
});

describe("trigonometric values at rational multiples of pi, exactly", () => {
  it("sin(k pi) = 0 and cos(k pi) = (-1)^k for integers k of any size", () => {
    expect(eq("$0$", "\\boxed{\\sin(1000000000000\\pi)}")).toBe(true);
    expect(eq("$0$", "\\boxed{\\sin(10^{30}\\pi)}")).toBe(true);
    // 10^40 + 1 is odd: cos = -1.
    expect(eq("$-1$", "\\boxed{\\cos(10^{40}\\pi + \\pi)}")).toBe(true);
    expect(eq("$1$", "\\boxed{\\cos(10^{40}\\pi + \\pi)}")).toBe(false);
  });
  it("reduces the angle exactly before evaluating", () => {
    // 2pi/3 + 2*10^18 pi is 2pi/3 plus whole turns: sin = sqrt(3)/2.
    expect(eq("$\\frac{\\sqrt{3}}{2}$", "\\boxed{\\sin(\\frac{2\\pi}{3} + 2000000000000000000\\pi)}")).toBe(true);
    expect(eq("$\\frac{1}{2}$", "\\boxed{\\cos(\\frac{\\pi}{3})}")).toBe(true);
    expect(eq("$-1$", "\\boxed{\\tan(\\frac{3\\pi}{4})}")).toBe(true);
    // 10^25 pi is whole turns (10^25 is even); one more pi flips the sign.
    expect(eq("$\\frac{1}{2}$", "\\boxed{\\sin(\\frac{\\pi}{6} + 10^{25}\\pi)}")).toBe(true);
    expect(eq("$\\frac{1}{2}$", "\\boxed{\\sin(\\frac{\\pi}{6} + 10^{25}\\pi + \\pi)}")).toBe(false);
    expect(eq("$-\\frac{1}{2}$", "\\boxed{\\sin(\\frac{\\pi}{6} + 10^{25}\\pi + \\pi)}")).toBe(true);
  });
  it("has no value at a pole", () => {
    expect(eq("$0$", "\\boxed{\\tan(\\frac{\\pi}{2})}")).toBe(false);
  });
});

describe("scientific E-notation", () => {
  it("reads 1.2E5 and 3e-4 as 1.2 x 10^5 and 3 x 10^-4", () => {
    expect(eq("$1.2 \\times 10^5$", "\\boxed{1.2E5}")).toBe(true);
    expect(eq("$3 \\times 10^{-4}$", "\\boxed{3e-4}")).toBe(true);
    expect(eq("$120000$", "\\boxed{1.2e5}")).toBe(true);
    expect(eq("$6.02 \\times 10^{23}$", "\\boxed{6.02e+23}")).toBe(true);
    expect(eq("$120000$", "The answer is 1.2E5.")).toBe(true);
    expect(eq("$1.2 \\times 10^5$", "\\boxed{1.2E6}")).toBe(false);
  });
  it("keeps 2e as 2 times e", () => {
    expect(eq("$2e$", "\\boxed{2e}")).toBe(true);
    expect(eq("$5$", "\\boxed{5e}")).toBe(false);
  });
});

describe("several boxed answers against a gold list x_1 = ..., x_2 = ...", () => {
  const gold = "$x_1 = -1, x_2 = \\frac{1}{2}$";
  it("accepts the values joined by 'and' / 'or', boxed separately or together, in any order", () => {
    expect(eq(gold, "\\boxed{-1} and \\boxed{\\frac{1}{2}}")).toBe(true);
    expect(eq(gold, "\\boxed{\\frac{1}{2}} or \\boxed{-1}")).toBe(true);
    expect(eq(gold, "\\boxed{x = -1} \\text{ or } \\boxed{x = \\frac{1}{2}}")).toBe(true);
    expect(eq(gold, "\\boxed{x=-1 \\text{ or } x=\\frac{1}{2}}")).toBe(true);
    expect(eq("$x_{1}=2, x_{2}=3$", "\\boxed{x_1 = 2} and \\boxed{x_2 = 3}")).toBe(true);
  });
  it("rejects a missing, wrong or extra value, or another variable", () => {
    expect(eq(gold, "\\boxed{x = -1}")).toBe(false);
    expect(eq(gold, "\\boxed{x = -1} \\text{ or } \\boxed{x = 2}")).toBe(false);
    expect(eq(gold, "\\boxed{x = -1} \\text{ or } \\boxed{x = \\frac{1}{2}} \\text{ or } \\boxed{x = 0}")).toBe(false);
    expect(eq(gold, "\\boxed{y = -1} \\text{ or } \\boxed{y = \\frac{1}{2}}")).toBe(false);
  });
});
