/**
 * One WebShop session: the page the agent is on and what a `search[...]` or
 * `click[...]` does there. Pages and their `[SEP]`-joined text follow WebShop's
 * text observation mode: search page, result pages of 10 (at most 50 results),
 * item pages with options, Description/Features sub-pages, and the purchase
 * page that ends the episode. An action that does not apply leaves the page as
 * it was, with reward 0 (WebShop's behaviour).
 */
import { Bm25Index } from "./bm25.js";
import type { Catalogue, Product, ShopGoal } from "./catalogue.js";
import { type ShopRewardBreakdown, shopReward } from "./reward.js";

export const RESULTS_PER_PAGE = 10;
export const MAX_RESULTS = 50;
/**
 * Only this much of a `search[...]` text is used, as a search box's maxlength
 * would: the search costs time in proportion to its length (a 10 MB query held a
 * server for seconds), and no real query is near this long.
 */
export const MAX_SEARCH_CHARS = 500;

type Page =
  | { readonly kind: "search" }
  | { readonly kind: "results"; readonly query: string; readonly asins: readonly string[]; readonly page: number }
  | { readonly kind: "item"; readonly asin: string; readonly back: Page; readonly selected: Record<string, string> }
  | { readonly kind: "sub"; readonly section: "Description" | "Features"; readonly item: Page & { kind: "item" } }
  | { readonly kind: "done"; readonly asin: string; readonly breakdown: ShopRewardBreakdown };

export interface ShopStep {
  readonly observation: string;
  readonly reward: number;
  readonly done: boolean;
}

/** The search index is per catalogue; sessions share it. */
const indexes = new WeakMap<Catalogue, Bm25Index>();
function indexFor(catalogue: Catalogue): Bm25Index {
  let index = indexes.get(catalogue);
  if (!index) {
    index = new Bm25Index(catalogue.products.map((p) => `${p.title} ${p.description}`));
    indexes.set(catalogue, index);
  }
  return index;
}

export class ShopSession {
  readonly goal: ShopGoal;
  private readonly catalogue: Catalogue;
  private page: Page = { kind: "search" };
  private clickedNote = "";

  constructor(catalogue: Catalogue, goal: ShopGoal) {
    this.catalogue = catalogue;
    this.goal = goal;
  }

  get done(): boolean {
    return this.page.kind === "done";
  }
  get instructionText(): string {
    return `Instruction: ${this.goal.instruction}`;
  }
  get purchase(): ShopRewardBreakdown | undefined {
    return this.page.kind === "done" ? this.page.breakdown : undefined;
  }

  /** The current page's asins (results) or asin (item), for planners and tests. */
  get pageKind(): Page["kind"] {
    return this.page.kind;
  }

  availableActions(): { has_search_bar: boolean; clickables: string[] } {
    const p = this.page;
    switch (p.kind) {
      case "search":
        return { has_search_bar: true, clickables: ["search"] };
      case "results": {
        const c = ["Back to Search"];
        if (p.page > 1) c.push("< Prev");
        if (p.page * RESULTS_PER_PAGE < p.asins.length) c.push("Next >");
        c.push(...this.pageAsins(p));
        return { has_search_bar: false, clickables: c };
      }
      case "item": {
        const product = this.product(p.asin);
        const values = Object.values(product.options).flat();
        return {
          has_search_bar: false,
          clickables: ["Back to Search", "< Prev", ...values, "Description", "Features", "Buy Now"],
        };
      }
      case "sub":
        return { has_search_bar: false, clickables: ["Back to Search", "< Prev"] };
      case "done":
        return { has_search_bar: false, clickables: [] };
    }
  }

  observation(): string {
    const p = this.page;
    const head = `Instruction: [SEP] ${this.goal.instruction}`;
    switch (p.kind) {
      case "search":
        return `WebShop [SEP] ${head} [SEP] Search`;
      case "results": {
        const parts = [head, "Back to Search", `Page ${p.page} (Total results: ${p.asins.length})`];
        if (p.page > 1) parts.push("< Prev");
        if (p.page * RESULTS_PER_PAGE < p.asins.length) parts.push("Next >");
        for (const asin of this.pageAsins(p)) {
          const product = this.product(asin);
          parts.push(asin, product.title, `$${product.price.toFixed(2)}`);
        }
        return parts.join(" [SEP] ");
      }
      case "item": {
        const product = this.product(p.asin);
        const parts = [head, "Back to Search", "< Prev"];
        for (const [dim, values] of Object.entries(product.options)) parts.push(dim, ...values);
        parts.push(
          product.title,
          `Price: $${product.price.toFixed(2)}`,
          "Rating: N.A.",
          "Description",
          "Features",
          "Buy Now",
        );
        return `${this.clickedNote}${parts.join(" [SEP] ")}`;
      }
      case "sub": {
        const product = this.product(p.item.asin);
        const body = p.section === "Description" ? product.description : product.attributes.join(" [SEP] ");
        return [head, "Back to Search", "< Prev", body].join(" [SEP] ");
      }
      case "done": {
        const product = this.product(p.asin);
        return [
          "Thank you for shopping with us!",
          "Purchased",
          p.asin,
          product.title,
          "Your score (min 0.0, max 1.0)",
          String(Math.round(p.breakdown.reward * 10000) / 10000),
        ].join(" [SEP] ");
      }
    }
  }

  /** A URL in WebShop's route shapes, for the /state route. */
  url(): string {
    const p = this.page;
    const s = this.goal.session;
    switch (p.kind) {
      case "search":
        return `/${s}`;
      case "results":
        return `/search_results/${s}/${encodeURIComponent(p.query)}/${p.page}`;
      case "item":
        return `/item_page/${s}/${p.asin}/${encodeURIComponent(JSON.stringify(p.selected))}`;
      case "sub":
        return `/item_sub_page/${s}/${p.item.asin}/${p.section}`;
      case "done":
        return `/done/${s}/${p.asin}`;
    }
  }

  step(action: string): ShopStep {
    if (this.done) throw new Error("ShopSession.step: the session has finished");
    this.clickedNote = "";
    const trimmed = action.trim();
    const search = trimmed.match(/^search\[(.*)\]$/is);
    const click = trimmed.match(/^click\[(.*)\]$/is);
    if (search && this.page.kind === "search") {
      const query = search[1]!.trim().slice(0, MAX_SEARCH_CHARS).trim();
      const hits = indexFor(this.catalogue).search(query, MAX_RESULTS);
      this.page = { kind: "results", query, asins: hits.map((i) => this.catalogue.products[i]!.asin), page: 1 };
    } else if (click) {
      this.click(click[1]!.trim());
    }
    const purchase = this.purchase;
    return { observation: this.observation(), reward: purchase ? purchase.reward : 0, done: this.done };
  }

  private click(raw: string): void {
    const { clickables } = this.availableActions();
    const value = clickables.find((c) => c.toLowerCase() === raw.toLowerCase());
    if (value === undefined) return;
    const p = this.page;
    if (value === "Back to Search") {
      this.page = { kind: "search" };
      return;
    }
    if (p.kind === "results") {
      if (value === "Next >") this.page = { ...p, page: p.page + 1 };
      else if (value === "< Prev") this.page = { ...p, page: p.page - 1 };
      else this.page = { kind: "item", asin: value, back: p, selected: {} };
    } else if (p.kind === "item") {
      if (value === "< Prev") this.page = p.back;
      else if (value === "Description" || value === "Features") this.page = { kind: "sub", section: value, item: p };
      else if (value === "Buy Now") {
        const product = this.product(p.asin);
        this.page = { kind: "done", asin: p.asin, breakdown: shopReward(this.goal, product, p.selected) };
      } else {
        const product = this.product(p.asin);
        const dim = Object.keys(product.options).find((d) => product.options[d]!.includes(value));
        if (dim) {
          this.page = { ...p, selected: { ...p.selected, [dim]: value } };
          this.clickedNote = `You have clicked ${value}. [SEP] `;
        }
      }
    } else if (p.kind === "sub") {
      if (value === "< Prev") this.page = p.item;
    }
  }

  private pageAsins(p: Page & { kind: "results" }): readonly string[] {
    return p.asins.slice((p.page - 1) * RESULTS_PER_PAGE, p.page * RESULTS_PER_PAGE);
  }

  private product(asin: string): Product {
    return this.catalogue.byAsin.get(asin)!;
  }
}
