/**
 * WebShop's purchase reward (Yao et al. 2022, sec. 3.2), on this catalogue's
 * exact attributes and options:
 *
 *   r = r_type * (|U_att ∩ Y_att| + |U_opt ∩ Y_opt| + 1[y_price <= u_price]) / (|U_att| + |U_opt| + 1)
 *
 * r_type is 1 when the product is of the goal's category, 0.5 when the
 * categories share a word ("men's shirts" / "women's shirts"), 0.1 otherwise
 * (WebShop's 0.1 for a product type that matches neither query nor category).
 * An attribute counts when it is one of the product's attributes; an option
 * counts when the value selected on the item page equals the goal's.
 */
import type { Product, ShopGoal } from "./catalogue.js";

export interface ShopRewardBreakdown {
  readonly reward: number;
  readonly typeFactor: number;
  readonly attributeMatches: number;
  readonly optionMatches: number;
  readonly priceOk: boolean;
}

export function shopReward(
  goal: ShopGoal,
  product: Product,
  selected: Readonly<Record<string, string>>,
): ShopRewardBreakdown {
  const attributeMatches = goal.attributes.filter((a) => product.attributes.includes(a)).length;
  const optionMatches = Object.entries(goal.options).filter(([dim, v]) => selected[dim] === v).length;
  const priceOk = product.price <= goal.priceUpperBound;
  const typeFactor = product.category === goal.category ? 1 : sharesWord(product.category, goal.category) ? 0.5 : 0.1;
  const total = goal.attributes.length + Object.keys(goal.options).length + 1;
  const reward = (typeFactor * (attributeMatches + optionMatches + (priceOk ? 1 : 0))) / total;
  return { reward, typeFactor, attributeMatches, optionMatches, priceOk };
}

function sharesWord(a: string, b: string): boolean {
  const words = new Set(a.split(/\s+/));
  return b.split(/\s+/).some((w) => words.has(w));
}
