/** WebShop's available actions as commands: `search[...]` when there is a search bar, `click[v]` per clickable. */
export function shopActionList(available: { has_search_bar: boolean; clickables: readonly string[] }): string[] {
  const out: string[] = [];
  if (available.has_search_bar) out.push("search[...]");
  for (const c of available.clickables) if (c !== "search") out.push(`click[${c}]`);
  return out;
}
