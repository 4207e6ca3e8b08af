import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config.js";
import { getPreset } from "@tokenrl/objectives";
import { writeReport } from "../src/report.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe("report.html", () => {
  it("renders its charts and numbers in headless Chromium", async () => {
    if (!existsSync(CHROMIUM)) {
      console.warn(
        `[skip] report rendering: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
      );
      return;
    }
    const out = mkdtempSync(join(tmpdir(), "trainer-report-"));
    const records = [
      { phase: "eval" as const, step: 0, during: "rl", accuracy: 0.25 },
      ...[1, 2, 3].map((step) => ({
        phase: "rl" as const,
        step,
        accuracy: 0.2 * step,
        loss: 1 / step,
        gradNorm: 1,
        "policy/clipFraction": 0.1,
      })),
      { phase: "eval" as const, step: 3, during: "rl", accuracy: 0.75 },
    ];
    const path = writeReport(out, {
      config: resolveConfig({ out }),
      records,
      initialEval: { accuracy: 0.25, examples: 4, samples: [] },
      finalEval: {
        accuracy: 0.75,
        examples: 4,
        samples: [{ prompt: "1+2=", response: "3.", answer: "3", correct: true }],
      },
      preset: getPreset("htpo"),
      completed: true,
    });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(pathToFileURL(path).href);
      expect(await page.textContent("#final-accuracy")).toBe("75.0%");
      expect(await page.textContent("#initial-accuracy")).toBe("25.0%");
      // Each chart with data draws a path; the accuracy series has one point per eval.
      const accuracyPath = await page.getAttribute('svg[aria-label="Held-out accuracy (greedy)"] path', "d");
      expect(accuracyPath?.match(/[ML]/g)).toHaveLength(2);
      const box = await page.locator('svg[aria-label="Policy loss"]').boundingBox();
      expect(box?.width).toBeGreaterThan(100);
      await page.screenshot({ path: join(out, "report.png"), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
