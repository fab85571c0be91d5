// Scratch of the recurrent-layer kernels in assembly/rnn.ts (their signatures are read from the
// source by kernels.ts): w = packRecurrentWeights(W_hh, b_hh, G, H) (pack.ts); scratch
// rnnScratchBytes(kind, B, H) bytes, 16-aligned.

import { kernelConst } from './kernels.ts';

/** The kernels' kind codes (RNN_KIND_* in assembly/rnn.ts). */
export const RNN_KINDS = { rnn: kernelConst('RNN_KIND_RNN'), lstm: kernelConst('RNN_KIND_LSTM'), gru: kernelConst('RNN_KIND_GRU') };
export type RnnKind = keyof typeof RNN_KINDS;

/** Gates along the G·H axis, in PyTorch order: lstm i f g o, gru r z n. */
export const RNN_GATES = { rnn: 1, lstm: 4, gru: 3 } as const;

const round4 = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * Bytes of scratch a kernel call needs (a multiple of 16): gates [B][⌈H/8⌉·G·8], two h [B][H]
 * and, for an LSTM, c [B][H], each rounded up to 4 floats. Same formula as rnn_scratch_floats in
 * assembly/rnn.ts.
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
  return 4 * (round4(B * Math.ceil(H / 8) * RNN_GATES[name] * 8) + 2 * bh + (name === 'lstm' ? bh : 0));
}
