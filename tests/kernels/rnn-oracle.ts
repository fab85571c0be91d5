// Plain-loop f64 reference for the recurrent kernels (assembly/rnn.ts), straight from PyTorch's
// nn.RNN / nn.LSTM / nn.GRU equations, starting from the unprojected input. Shape legend:
//   B batch, T time steps, I input size, H hidden size, G gates (rnn 1, lstm 4: i f g o, gru 3: r z n)
//   x [B][T][I] (batch_first), wIh [G·H][I], wHh [G·H][H], bIh, bHh [G·H]   (PyTorch's own layouts)
//   h0, c0, hn, cn [B][H];  y [B][T][H]
// One direction; `reverse` runs t = T−1 … 0 and still stores h_t at index t, as the backward half
// of a bidirectional layer does.
import { sigmoid } from './oracle.ts';

export type RnnKind = 'rnn' | 'lstm' | 'gru';
export const GATES: Record<RnnKind, number> = { rnn: 1, lstm: 4, gru: 3 };

export interface RnnProblem {
  kind: RnnKind;
  B: number; T: number; I: number; H: number;
  x: Float32Array; wIh: Float32Array; wHh: Float32Array; bIh: Float32Array; bHh: Float32Array;
  h0?: Float32Array; c0?: Float32Array;
  reverse: boolean;
  /** rnn only: PyTorch's nonlinearity. */
  nonlinearity?: 'tanh' | 'relu';
}

export interface RnnResult { y: Float64Array; hn: Float64Array; cn: Float64Array }

/** out[j] = bias[j] + Σ_k w[j][k]·v[k], w [n][k]. */
function affine(w: Float32Array, bias: Float32Array, v: ArrayLike<number>, vOff: number, n: number, k: number): Float64Array {
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = bias[j]!;
    for (let kk = 0; kk < k; kk++) s += w[j * k + kk]! * v[vOff + kk]!;
    out[j] = s;
  }
  return out;
}

export function rnnForward(p: RnnProblem): RnnResult {
  const { kind, B, T, I, H } = p;
  const G = GATES[kind];
  const y = new Float64Array(B * T * H), hn = new Float64Array(B * H), cn = new Float64Array(B * H);
  for (let b = 0; b < B; b++) {
    const h = new Float64Array(H), c = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      h[j] = p.h0 ? p.h0[b * H + j]! : 0;
      c[j] = p.c0 ? p.c0[b * H + j]! : 0;
    }
    for (let s = 0; s < T; s++) {
      const t = p.reverse ? T - 1 - s : s;
      const xg = affine(p.wIh, p.bIh, p.x, (b * T + t) * I, G * H, I);   // x_t·W_ihᵀ + b_ih
      const hg = affine(p.wHh, p.bHh, h, 0, G * H, H);                  // h·W_hhᵀ + b_hh
      for (let j = 0; j < H; j++) {
        if (kind === 'rnn') {
          const a = xg[j]! + hg[j]!;
          h[j] = p.nonlinearity === 'relu' ? Math.max(a, 0) : Math.tanh(a);
        } else if (kind === 'lstm') {
          const i = sigmoid(xg[j]! + hg[j]!);
          const f = sigmoid(xg[H + j]! + hg[H + j]!);
          const g = Math.tanh(xg[2 * H + j]! + hg[2 * H + j]!);
          const o = sigmoid(xg[3 * H + j]! + hg[3 * H + j]!);
          c[j] = f * c[j]! + i * g;
          h[j] = o * Math.tanh(c[j]!);
        } else {
          const r = sigmoid(xg[j]! + hg[j]!);
          const z = sigmoid(xg[H + j]! + hg[H + j]!);
          const n = Math.tanh(xg[2 * H + j]! + r * hg[2 * H + j]!);
          h[j] = (1 - z) * n + z * h[j]!;
        }
      }
      y.set(h, (b * T + t) * H);
    }
    hn.set(h, b * H);
    cn.set(c, b * H);
  }
  return { y, hn, cn };
}
