// ABI constants of the recurrent-layer kernels in assembly/rnn.ts (rnn_seq_f32, lstm_seq_f32,
// gru_seq_f32), for the codegen that emits their calls and plans their scratch.
//
//   rnn_seq_f32 (xp, w, h0, y, hn, scratch, B, T, H, ldx, ldy, reverse, act)
//   lstm_seq_f32(xp, w, h0, c0, y, hn, cn, scratch, B, T, H, ldx, ldy, reverse)
//   gru_seq_f32 (xp, w, h0, y, hn, scratch, B, T, H, ldx, ldy, reverse)
// xp = x·W_ihᵀ + b_ih [B][T][ldx ≥ G·H]; w = packGemmWeights(W_hh, H, G·H, 'nk', b_hh);
// y [B][T][ldy ≥ H]; h0/c0/hn/cn [B][H] or 0; scratch rnnScratchBytes(kind, B, H), 16-aligned.

export const RNN_KINDS = { rnn: 0, lstm: 1, gru: 2 } as const;
export type RnnKind = keyof typeof RNN_KINDS;

/** Gates along the G·H axis, in PyTorch order: lstm i f g o, gru r z n. */
export const RNN_GATES = { rnn: 1, lstm: 4, gru: 3 } as const;

/** The `act` argument of rnn_seq_f32 (PyTorch's nonlinearity='tanh' | 'relu'); not the ACT_* codes. */
export const RNN_ACTS = { tanh: 0, relu: 1 } as const;

const round4 = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * Bytes of scratch a kernel call needs (a multiple of 16): gates [B][G·H], h [B][H] and, for an
 * LSTM, c [B][H], each rounded up to 4 floats. Same formula as rnn_scratch_floats in assembly/rnn.ts.
 */
export function rnnScratchBytes(kind: RnnKind | number, B: number, H: number): number {
  const name = typeof kind === 'number' ? (Object.keys(RNN_KINDS) as RnnKind[]).find((k) => RNN_KINDS[k] === kind) : kind;
  if (name === undefined || !(name in RNN_GATES)) {
    throw new Error(`rnnScratchBytes: expected kind rnn|lstm|gru or 0|1|2, found ${String(kind)}`);
  }
  if (!Number.isInteger(B) || !Number.isInteger(H) || B < 1 || H < 1) {
    throw new Error(`rnnScratchBytes(${name}): expected integer B ≥ 1 and H ≥ 1, found B=${B}, H=${H}`);
  }
  const bh = round4(B * H);
  return 4 * (round4(B * RNN_GATES[name] * H) + bh + (name === 'lstm' ? bh : 0));
}
