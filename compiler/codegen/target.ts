// The wasm SIMD target as the passes see it: buffer alignment (one v128) and the scratch each
// kernel call needs, from the kernels' ABIs (codegen/ops/<family>.ts; pack.ts).

import type { Target } from '../ir/target.ts';
import { conv2dScratchBytes } from './pack.ts';
import { loweringOf } from './ops/index.ts';

export const wasmTarget: Target = {
  name: 'wasm-simd',
  align: 16,
  scratchBytes(n) {
    const l = loweringOf(n);
    if (l) return l.scratchBytes?.(n) ?? 0;
    if (n.op === 'conv2d') {
      const [, cg, kh, kw] = n.inputs[1]!.type.shape as [number, number, number, number]; // channels per group
      const [, , oh, ow] = n.type.shape as [number, number, number, number];
      return conv2dScratchBytes(cg, kh, kw, oh, ow);
    }
    return 0;
  },
};
