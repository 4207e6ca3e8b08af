import { hostView, tf } from "@tokenrl/core";
import type { Tensor, Tensor2D } from "@tokenrl/core";
import { siluGate } from "./host-decode.js";

/**
 * silu(gate) * up of the fused `[N, 2I]` gate | up projection on the host
 * path (wasm, cpu), forward and backward each one pass over the rows. The op
 * chain (a split of the projection, sigmoid, two products; their gradients
 * and the split's Concat) streamed five `[N, I]` tensors each way; at the
 * demo's 2720 x 256 projection the split alone took 3.9 ms on wasm. The
 * forward is the decode step's own `siluGate` (the attention kernel's silu
 * arithmetic), so prefill, scoring, training and decoding compute the gate
 * alike; it agrees with the op chain to float32 rounding (tested).
 */
export function hostSwiGlu(gateUp: Tensor2D): Tensor2D {
  if (!tf.engine().isTapeOn()) return forward(gateUp);
  const f = tf.customGrad((x, save) => {
    (save as tf.GradSaveFunc)([x as Tensor]);
    return { value: forward(x as Tensor2D), gradFunc: (dy: Tensor, saved: Tensor[]) => backward(saved[0]!, dy) };
  });
  return f(gateUp) as Tensor2D;
}

function forward(gateUp: Tensor2D): Tensor2D {
  const [N, twoI] = gateUp.shape;
  const I = twoI / 2;
  const act = siluGate(hostView(gateUp) as Float32Array, N, I, new Float32Array(N * I));
  return tf.tensor2d(act, [N, I]);
}

/** d(silu(g) u)/dg = u s (1 + g (1 - s)) and d/du = g s, s = sigmoid(g), per element, into one `[N, 2I]` gradient. */
function backward(gateUp: Tensor, dy: Tensor): Tensor {
  const [N, twoI] = gateUp.shape as [number, number];
  const I = twoI / 2;
  const gu = hostView(gateUp);
  const d = hostView(dy);
  const dx = new Float32Array(N * twoI);
  for (let r = 0; r < N; r++) {
    const o = r * twoI;
    for (let i = 0; i < I; i++) {
      const g = gu[o + i]!;
      const u = gu[o + I + i]!;
      const e = Math.exp(-Math.abs(g));
      const s = (g >= 0 ? 1 : e) / (1 + e);
      const dAct = d[r * I + i]!;
      dx[o + i] = dAct * u * s * (1 + g * (1 - s));
      dx[o + I + i] = dAct * g * s;
    }
  }
  return tf.tensor2d(dx, [N, twoI]);
}
