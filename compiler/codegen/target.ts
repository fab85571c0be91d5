// The wasm SIMD target as the passes see it: buffer alignment (one v128) and the scratch each
// kernel call needs, from the kernels' ABIs (pack.ts, rnn-abi.ts, attention-abi.ts).

import type { Target } from '../ir/target.ts';
import { attentionDims } from '../ir/ops.ts';
import { attentionScratchBytes } from './attention-abi.ts';
import { conv2dScratchBytes } from './pack.ts';
import { rnnScratchBytes } from './rnn-abi.ts';

export const wasmTarget: Target = {
  name: 'wasm-simd',
  align: 16,
  scratchBytes(n) {
    if (n.op === 'conv2d') {
      const [, cg, kh, kw] = n.inputs[1]!.type.shape as [number, number, number, number]; // channels per group
      const [, , oh, ow] = n.type.shape as [number, number, number, number];
      return conv2dScratchBytes(cg, kh, kw, oh, ow);
    }
    if (n.op === 'rnn_seq' || n.op === 'lstm_seq' || n.op === 'gru_seq') {
      const [B] = n.type.shape as [number];
      return rnnScratchBytes(n.op.slice(0, n.op.indexOf('_')) as 'rnn', B, n.inputs[1]!.type.shape[1]!);
    }
    if (n.op === 'attention') {
      const { Lq, Lk } = attentionDims(n.inputs.map((i) => i.type), n.attrs);
      return attentionScratchBytes(Lq, Lk);
    }
    return 0;
  },
};
