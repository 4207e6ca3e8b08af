import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { writeReport } from "../src/node.js";
import { fixture } from "./fixture.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
];

describe("report.html in headless Chromium", () => {
  if (!existsSync(CHROMIUM))
    console.warn(
      `[skip] report rendering: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
    );
  it.skipIf(!existsSync(CHROMIUM))(
    `renders every chart with data and no console error (needs Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH)`,
    async () => {
      const out = mkdtempSync(join(tmpdir(), "report-"));
      const path = writeReport(join(out, "report.html"), fixture());
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      try {
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        const errors: string[] = [];
        const requests: string[] = [];
        page.on("pageerror", (e) => errors.push(e.message));
        page.on("console", (m) => {
          if (m.type() === "error") errors.push(m.text());
        });
        page.on("request", (r) => {
          if (!r.url().startsWith("file:")) requests.push(r.url());
        });
        await page.goto(pathToFileURL(path).href);
        expect(await page.textContent("#final-accuracy")).toBe("25.0% -> 75.0%");
        // Every chart: a rendered SVG of real size whose every series path has points on screen.
        const charts = await page.$$eval("figure.chart", (figs) =>
          figs.map((f) => {
            const svg = f.querySelector("svg");
            const box = svg?.getBoundingClientRect();
            // getTotalLength is SVGGeometryElement's (the tsconfig has no DOM lib).
            const paths = [...f.querySelectorAll("path[data-series]")] as unknown as {
              getTotalLength(): number;
              getAttribute(name: string): string | null;
              parentElement: { querySelectorAll(sel: string): { length: number } } | null;
            }[];
            return {
              title: f.querySelector("figcaption")?.textContent ?? "",
              empty: f.getAttribute("data-empty") === "true",
              width: box?.width ?? 0,
              series: paths.map((p) => ({
                points: Number(p.getAttribute("data-points")),
                // A drawn line of >= 2 points has a non-zero length; a single point draws its dot.
                length: p.getTotalLength(),
                dots: p.parentElement?.querySelectorAll("circle").length ?? 0,
              })),
            };
          }),
        );
        const titles = charts.map((c) => c.title);
        expect(titles).toEqual([
          "pass@k",
          "Reward",
          "Held-out pass@1",
          "Rollout accuracy",
          "Entropy",
          "Response length",
          "Clip and mask fractions",
          "KL",
          "Policy loss",
          "Gradient norm",
          "HTPO: entropy per cell",
          "HTPO: tokens per cell",
          "Supervised warm-up loss",
        ]);
        for (const c of charts) {
          expect(c.empty, c.title).toBe(false);
          expect(c.width, c.title).toBeGreaterThan(300);
          expect(c.series.length, c.title).toBeGreaterThan(0);
          for (const s of c.series) {
            expect(s.points, c.title).toBeGreaterThan(0);
            if (s.points > 1) expect(s.length, c.title).toBeGreaterThan(10);
            expect(s.dots, c.title).toBe(s.points);
          }
        }
        expect(charts.find((c) => c.title === "HTPO: entropy per cell")!.series).toHaveLength(4);
        expect(charts.find((c) => c.title === "pass@k")!.series.map((s) => s.points)).toEqual([5, 5]);
        expect(await page.locator("#results tr").count()).toBe(3);
        await page.screenshot({ path: join(out, "report.png"), fullPage: true });
        expect(statSync(join(out, "report.png")).size).toBeGreaterThan(10_000);
        expect(errors).toEqual([]);
        expect(requests).toEqual([]);
        console.log(`report: ${statSync(path).size} bytes, screenshot ${join(out, "report.png")}`);
        process.env.REPORT_SCREENSHOT_OUT &&
          writeFileSync(process.env.REPORT_SCREENSHOT_OUT, readFileSync(join(out, "report.png")));
      } finally {
        await browser.close();
      }
    },
  );
});
