/**
 * The one TensorFlow.js instance every tokenrl package uses. Packages import
 * `tf` from here rather than from `@tensorflow/tfjs-core` directly so that
 * a single engine (and its registered kernels and backends) is shared.
 */
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core alone registers no gradients; the union package does this import.
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";

export { tf };
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Scalar, Rank, DataType } from "@tensorflow/tfjs-core";
