// Recurrent layers on wasm: one kernel call runs a layer's whole time loop (assembly/rnn.ts), with
// W_hh and b_hh packed in unit-block order (packRecurrentWeights) and scratch from the kernel's ABI (rnn-abi.ts).

import type { RecurrentAttrs } from '../../ir/ops/recurrent.ts';
import type { Node } from '../../ir/node.ts';
import { dimsOf } from '../../ir/types.ts';
import { kernelCall, kernelConst } from '../kernels.ts';
import { code } from '../loops.ts';
import { RNN_GATES, RNN_KINDS, rnnScratchBytes, type RnnKind } from '../rnn-abi.ts';
import { defineLowering, type Lowering } from './lowering.ts';

/**
 * Threads split a recurrent layer by hidden units (rnn_begin_f32 / {kind}_step_f32 / rnn_end_f32:
 * each thread's share of W_hh stays in its own L2, one barrier per time step) when a step has at
 * least SPLIT_STEP_MACS multiply-adds (B·G·H·H) and two 8-unit blocks to share. Below that the
 * barrier (~0.1 µs with both threads spinning, bench/threads.ts) is a large part of a step of
 * ≲ 1 µs, and the weights fit one core's L2 anyway. Measured (LSTM B = 1, T = 64, 2 threads vs 1,
 * fastest calls, on the shared 2-core machine at load 6–13): H = 64 0.87×, 128 0.89×, 256 1.37×,
 * 512 0.63×; the medians there were 0.04–0.56×, because a barrier whose partner thread has been
 * descheduled costs a sleep and a wake (~50 µs) and a layer meets T times per call. So this rule
 * holds on an idle machine only; on an oversubscribed one every per-step split loses.
 */
const SPLIT_STEP_MACS = 1 << 15;
const splits = (kind: RnnKind) => (n: { type: { shape: readonly number[] }; inputs: readonly Node[] }): boolean => {
  const B = n.inputs[0]!.type.shape[0]!, H = n.type.shape[2]!;
  return B * RNN_GATES[kind] * H * H >= SPLIT_STEP_MACS && Math.ceil(H / 8) >= 2;
};

function lowering(kind: RnnKind): Lowering<RecurrentAttrs> {
  return defineLowering<RecurrentAttrs>({
    emit: (n, c, _m, t) => {
      const [xp, , , h0, c0] = n.inputs as [Node, Node, Node, Node, Node?];
      const [B, T] = dimsOf(xp.type).map(code), GH = xp.type.shape[2]!;
      const H = n.type.shape[2]!;
      const args: Record<string, string | number> = {
        xp: c.addr(xp), w: c.packed(n), h0: c.addr(h0), y: c.addr(n), hn: c.result(n, 1), scratch: c.scratch(n),
        B, T, H, ldx: GH, ldy: H, reverse: n.attrs.reverse ? 1 : 0,
      };
      if (c0) Object.assign(args, { c0: c.addr(c0), cn: c.result(n, 2) });
      if (kind === 'rnn') args.act = kernelConst(`RNN_${n.attrs.act!.toUpperCase()}`);
      if (!t) return [`${kernelCall(`${kind}_seq_f32`, args)};`];
      // Every thread: its units of the initial state, then per step a barrier (all of the previous
      // h is ready) and its share of the step; its units of the final state.
      const th = { kind: RNN_KINDS[kind], sync: t.sync, tid: t.tid, nt: t.nt, scratch: args.scratch!, B: args.B!, H };
      return [
        `${kernelCall('rnn_begin_f32', { ...th, h0: args.h0!, c0: args.c0 ?? 0 })};`,
        `for (let s = 0; s < ${args.T}; s++) {`,
        `  ${kernelCall('barrier', { sync: t.sync, nt: t.nt })};`,
        `  ${kernelCall(`${kind}_step_f32`, { ...(kind === 'rnn' ? { act: args.act! } : {}), xp: args.xp!, w: args.w!, y: args.y!, scratch: args.scratch!, B: args.B!, T: args.T!, H, ldx: GH, ldy: H, reverse: args.reverse!, s: 's', sync: t.sync, tid: t.tid, nt: t.nt })};`,
        '}',
        `${kernelCall('rnn_end_f32', { ...th, hn: args.hn!, cn: args.cn ?? 0, T: args.T! })};`,
      ];
    },
    split: splits(kind),
    scratchBytes: (n) => rnnScratchBytes(kind, n.type.shape[0]!, n.inputs[1]!.type.shape[1]!),
    packed: { w: 1, bias: 2, layout: 'gates' },
  });
}

export const RECURRENT_LOWERINGS = {
  rnn_seq: lowering('rnn'),
  lstm_seq: lowering('lstm'),
  gru_seq: lowering('gru'),
};
