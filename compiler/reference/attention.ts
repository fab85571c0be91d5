// Reference semantics of layernorm, attention and cache writes, as plain loops in f64.
// Shape legend: B batch, H heads, Lq/Lk query/key lengths, d/dv per-head sizes, E = H·d.

import type { Node } from '../ir/node.ts';
import { attentionDims } from '../ir/ops.ts';
import { broadcastStrides, numel, type AnyTensorData } from '../ir/types.ts';

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

export function attention(n: Node, ins: V[]): Float32Array {
  const a = n.attrs, lay = a.layout as string;
  const { B, Lq, Lk, H, d, dv } = attentionDims(ins.map((v) => v.type as never), a);
  const nIn = lay === 'qkv' ? 1 : lay === 'q_kv' ? 2 : 3;
  // Element accessors in the interleaved-heads layout, for each packing.
  const E = H * d, Ev = H * dv;
  const get = (which: 'q' | 'k' | 'v', b: number, i: number, h: number, c: number): number => {
    const per = which === 'v' ? dv : d;
    if (lay === 'qkv') { const off = which === 'q' ? 0 : which === 'k' ? E : 2 * E; return ins[0]!.data[(b * Lq + i) * 3 * E + off + h * per + c]!; }
    if (lay === 'q_kv' && which !== 'q') { const off = which === 'k' ? 0 : E; return ins[1]!.data[(b * Lk + i) * 2 * E + off + h * per + c]!; }
    const t = which === 'q' ? ins[0]! : which === 'k' ? ins[lay === 'q_kv' ? 1 : 1]! : ins[2]!;
    const L = which === 'q' ? Lq : Lk, w = which === 'v' ? Ev : E;
    return t.data[(b * L + i) * w + h * per + c]!;
  };
  const mask = a.mask ? ins[nIn]! : undefined;
  const ms = mask ? broadcastStrides(mask.type.shape, [B, H, Lq, Lk]) : [];
  const pos = a.cached ? ins[ins.length - 1]!.data[0]! : 0;
  const kvLen = a.cached ? pos + Lq : Lk;
  if (kvLen > Lk) throw new RangeError(`attention${n.label ? ` in ${n.label}` : ''}: ${kvLen} keys exceed the cache capacity ${Lk}`);
  const out = new Float32Array(B * Lq * Ev);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Lq; i++) {
    const s = new Array<number>(kvLen);
    for (let j = 0; j < kvLen; j++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += get('q', b, i, h, c) * get('k', b, j, h, c);
      const masked = (mask && mask.data[b * ms[0]! + h * ms[1]! + i * ms[2]! + j * ms[3]!]) || (a.causal && j > pos + i);
      s[j] = masked ? -Infinity : dot * (a.scale as number);
    }
    const m = Math.max(...s);
    const e = s.map((v) => Math.exp(v - m));
    const z = e.reduce((x, y) => x + y, 0);
    for (let c = 0; c < dv; c++) {
      let acc = 0;
      for (let j = 0; j < kvLen; j++) acc += (e[j]! / z) * get('v', b, j, h, c);
      out[(b * Lq + i) * Ev + h * dv + c] = acc;
    }
  }
  return out;
}

export function cacheWrite(_n: Node, [c, r, p]: V[]): Float32Array {
  const [B, cap, E] = c!.type.shape as [number, number, number];
  const rows = r!.type.shape[1]!, pos = p!.data[0]!;
  const out = Float32Array.from(c!.data);
  for (let b = 0; b < B; b++) for (let i = 0; i < rows && pos + i < cap; i++) {
    for (let e = 0; e < E; e++) out[(b * cap + pos + i) * E + e] = r!.data[(b * rows + i) * E + e]!;
  }
  return out;
}
