export * from "./partition.js";
export { countAtRatio, pickPerRow, sortValidDescending } from "./rank.js";
export * from "./htpo.js";
export * from "./entropy-quantile.js";
export * from "./position.js";
export { backendCopiesHostArrays, hostView, setHostKernels, useHostKernels } from "./host.js";
export type { HostArray, KernelChoice } from "./host.js";
export { DETACH_HIGHEST_BIT, DETACH_LOWEST_BIT, NOT_A_TOKEN, cellOfToken, htpoPartitionHost } from "./htpo-host.js";
export type { HtpoRowRules, HtpoTokenCells } from "./htpo-host.js";
