/**
 * A scripted expert for the shop: it knows the product a goal was built from,
 * searches for its title, pages through the results to it, selects the goal's
 * option values and buys. It proves each goal reachable through the search
 * engine and the page flow, not just by construction.
 */
import { createRng } from "@tokenrl/base/rng";
import type { Catalogue, ShopGoal } from "./catalogue.js";
import { ShopSession } from "./session.js";

export function solveShop(catalogue: Catalogue, goal: ShopGoal): string[] {
  const session = new ShopSession(catalogue, goal);
  const product = catalogue.byAsin.get(goal.asin)!;
  const actions: string[] = [];
  const act = (a: string) => {
    session.step(a);
    actions.push(a);
  };
  act(`search[${product.title}]`);
  for (let guard = 0; guard < 10; guard++) {
    const { clickables } = session.availableActions();
    if (clickables.includes(goal.asin)) break;
    if (!clickables.includes("Next >")) throw new Error(`shop expert: ${goal.asin} not found by searching its title`);
    act("click[Next >]");
  }
  act(`click[${goal.asin}]`);
  for (const value of Object.values(goal.options)) act(`click[${value}]`);
  act("click[Buy Now]");
  if (session.purchase?.reward !== 1) {
    throw new Error(
      `shop expert: bought ${goal.asin} for reward ${session.purchase?.reward} on session ${goal.session}`,
    );
  }
  return actions;
}

/**
 * A random agent: it searches with the instruction text (WebShop's own rule
 * baseline starts this way), then clicks uniformly among the clickables until it
 * buys or runs out of steps. Returns the reward (0 when it never buys).
 */
export function playShopRandomly(
  catalogue: Catalogue,
  goal: ShopGoal,
  seed: number,
  maxSteps = 15,
): { reward: number; steps: number } {
  const rng = createRng(seed);
  const session = new ShopSession(catalogue, goal);
  let steps = 0;
  let reward = 0;
  while (!session.done && steps < maxSteps) {
    const { has_search_bar, clickables } = session.availableActions();
    const action = has_search_bar
      ? `search[${goal.instruction.replace(/^Find me /, "")}]`
      : `click[${rng.pick(clickables)}]`;
    reward = session.step(action).reward;
    steps++;
  }
  return { reward, steps };
}
