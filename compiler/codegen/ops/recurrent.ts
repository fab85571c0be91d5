// Recurrent layers on wasm: one kernel call runs a layer's whole time loop (assembly/rnn.ts), with
// W_hh and b_hh packed in unit-block order (packRecurrentWeights) and scratch from the kernel's ABI (rnn-abi.ts).

import type { RecurrentAttrs } from '../../ir/ops/recurrent.ts';
import type { Node } from '../../ir/node.ts';
import { dimsOf } from '../../ir/types.ts';
import { kernelCall, kernelConst } from '../kernels.ts';
import { code } from '../loops.ts';
import { rnnScratchBytes, type RnnKind } from '../rnn-abi.ts';
import { defineLowering, type Lowering } from './lowering.ts';

function lowering(kind: RnnKind): Lowering<RecurrentAttrs> {
  return defineLowering<RecurrentAttrs>({
    emit: (n, c) => {
      const [xp, , , h0, c0] = n.inputs as [Node, Node, Node, Node, Node?];
      const [B, T] = dimsOf(xp.type).map(code), GH = xp.type.shape[2]!;
      const H = n.type.shape[2]!;
      const args: Record<string, string | number> = {
        xp: c.addr(xp), w: c.packed(n), h0: c.addr(h0), y: c.addr(n), hn: c.result(n, 1), scratch: c.scratch(n),
        B, T, H, ldx: GH, ldy: H, reverse: n.attrs.reverse ? 1 : 0,
      };
      if (c0) Object.assign(args, { c0: c.addr(c0), cn: c.result(n, 2) });
      if (kind === 'rnn') args.act = kernelConst(`RNN_${n.attrs.act!.toUpperCase()}`);
      return [`${kernelCall(`${kind}_seq_f32`, args)};`];
    },
    scratchBytes: (n) => rnnScratchBytes(kind, n.type.shape[0]!, n.inputs[1]!.type.shape[1]!),
    packed: { w: 1, bias: 2, layout: 'gates' },
  });
}

export const RECURRENT_LOWERINGS = {
  rnn_seq: lowering('rnn'),
  lstm_seq: lowering('lstm'),
  gru_seq: lowering('gru'),
};
