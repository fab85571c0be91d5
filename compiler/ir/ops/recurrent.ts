// Recurrent layers, one direction each, after the input projection:
//   xp [B, T, G·H] = x·W_ihᵀ + b_ih;  w [G·H, H] = W_hh (PyTorch's layout);  b [G·H] = b_hh;  h0 (c0) [B, H]
//   result 0: y [B, T, H]; then h_n [B, H] (and c_n [B, H] for LSTM).
// The reference semantics follow PyTorch's equations (gate order LSTM i f g o, GRU r z n with
// the reset gate applied to W_hn·h + b_hn). Shape legend: B batch, T time, H hidden, G gates.

import type { AnyTensorData, TensorType } from '../types.ts';
import { fmtShape, sameShape } from '../types.ts';
import { defineOp, type NodeOf, type OpDef, type Value } from './def.ts';
import { arity, f32, fail, wantRank } from './rules.ts';
import { UNARY } from '../elementwise.ts';

export interface RecurrentAttrs {
  /** rnn_seq's nonlinearity. */
  act?: 'tanh' | 'relu';
  /** Runs t = T−1 … 0 (the backward direction of a bidirectional layer). */
  reverse?: boolean;
}

type Kind = 'rnn_seq' | 'lstm_seq' | 'gru_seq';
const GATES: Record<Kind, number> = { rnn_seq: 1, lstm_seq: 4, gru_seq: 3 };

const sig = (x: number) => 1 / (1 + Math.exp(-x));

function evaluate(op: Kind, n: NodeOf<RecurrentAttrs>, ins: Value[]): AnyTensorData[] {
  const [xp, w, b, h0, c0] = ins as [Value, Value, Value, Value, Value?];
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
        if (op === 'rnn_seq') {
          const v = x(0, j) + hp(0, j);
          next[j] = n.attrs.act === 'relu' ? UNARY.relu!(v) : Math.tanh(v);
        } else if (op === 'lstm_seq') {
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
  return op === 'lstm_seq' ? [y, hn, cn] : [y, hn];
}

function recurrent(op: Kind): OpDef<RecurrentAttrs> {
  const nIn = op === 'lstm_seq' ? 5 : 4, G = GATES[op];
  return defineOp<RecurrentAttrs>({
    type: (ins, a) => {
      arity(op, ins, nIn);
      const [xp, w, b, h0, c0] = ins as TensorType[];
      wantRank(op, 'projected input', xp!, 3); wantRank(op, 'W_hh', w!, 2);
      const [B, T, GH] = xp!.shape as [number, number, number];
      const H = w!.shape[1]!;
      if (GH !== G * H || w!.shape[0] !== G * H) fail(op, `gates: projected input ${fmtShape(xp!.shape)} and W_hh ${fmtShape(w!.shape)} must both have ${G}·H = ${G * H} gate rows for hidden size ${H}`);
      if (!sameShape(b!.shape, [G * H])) fail(op, `b_hh must be [${G * H}], got ${fmtShape(b!.shape)}`);
      for (const [what, t] of [['h0', h0], ['c0', c0]] as const) if (t && !sameShape(t.shape, [B, H])) fail(op, `${what} must be [${B}, ${H}], got ${fmtShape(t.shape)}`);
      if (op === 'rnn_seq' && a.act !== 'tanh' && a.act !== 'relu') fail(op, `nonlinearity must be tanh or relu, got ${String(a.act)}`);
      return f32([B, T, H]);
    },
    secondary: (ins) => {
      const [B, , ] = ins[0]!.shape as [number, number, number];
      const H = ins[1]!.shape[1]!;
      return op === 'lstm_seq' ? [f32([B, H]), f32([B, H])] : [f32([B, H])];
    },
    evaluate: (n, ins) => evaluate(op, n, ins),
  });
}

export const RECURRENT_OPS = {
  rnn_seq: recurrent('rnn_seq'),
  lstm_seq: recurrent('lstm_seq'),
  gru_seq: recurrent('gru_seq'),
};
