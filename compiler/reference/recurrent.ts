// Reference semantics of the recurrent ops, straight from PyTorch's equations (gate order
// LSTM i f g o, GRU r z n with the reset gate applied to W_hn·h + b_hn).
// Shape legend: B batch, T time, H hidden, G gates; xp [B,T,G·H], w = W_hh [G·H,H].

import type { Node } from '../ir/node.ts';
import type { AnyTensorData } from '../ir/types.ts';

const sig = (x: number) => 1 / (1 + Math.exp(-x));
interface V { data: AnyTensorData; type: { shape: readonly number[] } }

export function recurrent(n: Node, ins: V[]): AnyTensorData[] {
  const [xp, w, b, h0, c0] = ins as [V, V, V, V, V?];
  const [B, T, GH] = xp.type.shape as [number, number, number];
  const H = w.type.shape[1]!;
  const y = new Float32Array(B * T * H), hn = new Float32Array(B * H), cn = new Float32Array(B * H);
  for (let bi = 0; bi < B; bi++) {
    const h = Array.from({ length: H }, (_, j) => h0.data[bi * H + j]!);
    const c = Array.from({ length: H }, (_, j) => (c0 ? c0.data[bi * H + j]! : 0));
    for (let s = 0; s < T; s++) {
      const t = n.attrs.reverse ? T - 1 - s : s;
      const x = (g: number, j: number) => xp.data[(bi * T + t) * GH + g * H + j]!;
      // hp(g, j) = (h · W_hhᵀ)[g·H + j] + b_hh[g·H + j]
      const hp = (g: number, j: number) => { let a = b.data[g * H + j]!; for (let k = 0; k < H; k++) a += h[k]! * w.data[(g * H + j) * H + k]!; return a; };
      const next = new Array<number>(H);
      for (let j = 0; j < H; j++) {
        if (n.op === 'rnn_seq') {
          const v = x(0, j) + hp(0, j);
          next[j] = n.attrs.act === 'relu' ? Math.max(0, v) : Math.tanh(v);
        } else if (n.op === 'lstm_seq') {
          const i = sig(x(0, j) + hp(0, j)), f = sig(x(1, j) + hp(1, j)), g = Math.tanh(x(2, j) + hp(2, j)), o = sig(x(3, j) + hp(3, j));
          c[j] = f * c[j]! + i * g;
          next[j] = o * Math.tanh(c[j]!);
        } else {
          const r = sig(x(0, j) + hp(0, j)), z = sig(x(1, j) + hp(1, j));
          const nn = Math.tanh(x(2, j) + r * hp(2, j));
          next[j] = (1 - z) * nn + z * h[j]!;
        }
      }
      for (let j = 0; j < H; j++) { h[j] = next[j]!; y[(bi * T + t) * H + j] = next[j]!; }
    }
    for (let j = 0; j < H; j++) { hn[bi * H + j] = h[j]!; cn[bi * H + j] = c[j]!; }
  }
  return n.op === 'lstm_seq' ? [y, hn, cn] : [y, hn];
}
