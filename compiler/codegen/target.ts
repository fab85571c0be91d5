// The wasm SIMD target as the passes see it: buffer alignment (one v128) and the scratch each
// kernel call needs, from the kernels' ABIs (codegen/ops/<family>.ts), and the values every
// thread keeps a copy of (codegen/threads.ts).

import type { Target } from '../ir/target.ts';
import { loweringOf } from './ops/index.ts';
import { kernelConst } from './kernels.ts';
import { privateNodes } from './threads.ts';

export const wasmTarget: Target = {
  name: 'wasm-simd',
  align: 16,
  scratchBytes(n) {
    return loweringOf(n)?.scratchBytes?.(n) ?? 0;
  },
  copies: (g) => ({ values: privateNodes(g), count: kernelConst('MAX_THREADS') }),
};
