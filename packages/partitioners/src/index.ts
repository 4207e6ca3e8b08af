export * from "./partition.js";
export { countAtRatio, pickPerRow, sortValidDescending } from "./rank.js";
export * from "./htpo-cells.js";
export * from "./htpo.js";
export * from "./entropy-quantile.js";
export * from "./position.js";
export { htpoPartitionHost } from "./htpo-host.js";
export { select } from "./select.js";
