// Reference semantics of layernorm, as plain loops in f64.

import type { Node } from '../ir/node.ts';
import { numel, type AnyTensorData } from '../ir/types.ts';

interface V { data: AnyTensorData; type: { dtype: string; shape: readonly number[] } }

export function layernorm(n: Node, [x, g, b, r]: V[]): Float32Array {
  const N = x!.type.shape[x!.type.shape.length - 1]!, rows = numel(x!.type.shape) / N, eps = n.attrs.eps as number;
  const out = new Float32Array(rows * N);
  for (let i = 0; i < rows; i++) {
    const s = Array.from({ length: N }, (_, j) => x!.data[i * N + j]! + (r ? r.data[i * N + j]! : 0));
    const mu = s.reduce((a, v) => a + v, 0) / N;
    const vr = s.reduce((a, v) => a + (v - mu) ** 2, 0) / N;
    for (let j = 0; j < N; j++) out[i * N + j] = ((s[j]! - mu) / Math.sqrt(vr + eps)) * g!.data[j]! + b!.data[j]!;
  }
  return out;
}
