export * from "./partition.js";
export { countAtRatio, pickPerRow, sortValidDescending } from "./rank.js";
export * from "./htpo.js";
export * from "./entropy-quantile.js";
export * from "./position.js";
export { setHostKernels, useHostKernels } from "./host.js";
export type { KernelChoice } from "./host.js";
export { DETACH_HIGHEST_BIT, DETACH_LOWEST_BIT, NOT_A_TOKEN, htpoPartitionHost } from "./htpo-host.js";
