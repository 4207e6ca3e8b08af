import { DTypeError, ShapeError } from "@tokenrl/core";
import type { Tensor } from "@tokenrl/core";

/** Token ids must be `[B, L]` int32. */
export function checkIds(field: string, ids: Tensor): void {
  if (ids.rank !== 2) throw new ShapeError(field, "[B, L]", ids.shape);
  if (ids.dtype !== "int32") throw new DTypeError(field, "int32", ids.dtype);
}
