// Multi-head scaled dot-product attention with heads interleaved in the last dimension
// (PyTorch's projection layout), so no head split/merge is needed:
//   layout 'separate': [q [B,Lq,H·d], k [B,Lk,H·d], v [B,Lk,H·dv]]
//   layout 'qkv':      [qkv [B,L,3E]]           (self-attention from one packed projection)
//   layout 'q_kv':     [q [B,Lq,E], kv [B,Lk,2E]]
// then `mask` (bool, broadcast to [B,H,Lq,Lk], true = not attended) when attrs.mask, then
// `pos` (i32[]) when attrs.cached: k/v are caches of capacity Lk holding pos + Lq valid rows
// and query i sits at position pos + i. Result [B, Lq, H·dv].
// And cache_write, which fills a KV cache in place.
// Shape legend: B batch, H heads, Lq/Lk query/key lengths, d/dv per-head sizes, E = H·d.

import { broadcastShapes, broadcastStrides, fmtShape, fmtType, sameShape, type TensorType } from '../types.ts';
import { defineOp, type NoAttrs } from './def.ts';
import { arity, f32, fail, wantDtype, wantRank } from './rules.ts';

export interface AttentionAttrs {
  heads: number;
  layout: 'separate' | 'qkv' | 'q_kv';
  /** Multiplies q·k (PyTorch: 1/√d). */
  scale: number;
  causal?: boolean;
  /** A bool mask input follows q, k, v. */
  mask?: boolean;
  /** k and v are KV caches and an i32[] position input comes last. */
  cached?: boolean;
}

/** Inputs holding q, k and v in each layout. */
const QKV_INPUTS: Record<AttentionAttrs['layout'], number> = { qkv: 1, q_kv: 2, separate: 3 };

export function attentionDims(ins: readonly TensorType[], a: AttentionAttrs): { B: number; Lq: number; Lk: number; H: number; d: number; dv: number } {
  const H = a.heads;
  let q: TensorType, k: TensorType, v: TensorType;
  const lay = a.layout as string;
  if (lay === 'qkv') {
    const [B, L, E3] = ins[0]!.shape as [number, number, number];
    if (E3 % 3) fail('attention', `packed qkv ${fmtShape(ins[0]!.shape)} must have 3·E columns`);
    q = k = v = f32([B, L, E3 / 3]);
  } else if (lay === 'q_kv') {
    q = ins[0]!;
    const [B, L, E2] = ins[1]!.shape as [number, number, number];
    if (E2 % 2) fail('attention', `packed kv ${fmtShape(ins[1]!.shape)} must have 2·E columns`);
    k = v = f32([B, L, E2 / 2]);
  } else if (lay === 'separate') {
    [q, k, v] = ins as [TensorType, TensorType, TensorType];
  } else return fail('attention', `unknown layout ${lay}`);
  for (const [what, t] of [['q', q], ['k', k], ['v', v]] as const) { wantRank('attention', what, t, 3); wantDtype('attention', what, t, 'f32'); }
  const [B, Lq, Eq] = q.shape as [number, number, number];
  const [Bk, Lk, Ek] = k.shape as [number, number, number];
  const [Bv, Lv, Ev] = v.shape as [number, number, number];
  if (Bk !== B || Bv !== B || Lv !== Lk) fail('attention', `batch/length mismatch: q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`);
  if (!(H >= 1) || Eq % H || Ek % H || Ev % H) fail('attention', `embedding sizes q ${Eq}, k ${Ek}, v ${Ev} must be divisible by ${H} heads`);
  if (Eq !== Ek) fail('attention', `q and k must have the same size per head: q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}`);
  return { B, Lq, Lk, H, d: Eq / H, dv: Ev / H };
}

const attention = defineOp<AttentionAttrs>({
  type: (ins, a) => {
    const nIn = (QKV_INPUTS as Record<string, number>)[a.layout] ?? 3;
    arity('attention', ins, nIn + (a.mask ? 1 : 0) + (a.cached ? 1 : 0));
    const { B, Lq, Lk, H, dv } = attentionDims(ins, a);
    if (a.mask) {
      const m = ins[nIn]!;
      wantDtype('attention', 'mask', m, 'bool');
      const to = broadcastShapes(m.shape, [B, H, Lq, Lk]);
      if (m.shape.length !== 4 || !to || !sameShape(to, [B, H, Lq, Lk]) || m.shape[3] !== Lk) {
        fail('attention', `mask ${fmtShape(m.shape)} must broadcast to [${B}, ${H}, ${Lq}, ${Lk}] with a full key dimension`);
      }
    }
    if (a.cached) {
      const p = ins[ins.length - 1]!;
      if (p.dtype !== 'i32' || p.shape.length !== 0) fail('attention', `cache position must be i32[], got ${fmtType(p)}`);
      if (!a.causal) fail('attention', 'attention over a cache must be causal');
    }
    return f32([B, Lq, H * dv]);
  },
  evaluate: (n, ins) => {
    const a = n.attrs, lay = a.layout;
    const { B, Lq, Lk, H, d, dv } = attentionDims(ins.map((v) => v.type), a);
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
        s[j] = masked ? -Infinity : dot * a.scale;
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
  },
});

// Writes `rows` [B, n, E] into `cache` [B, cap, E] at rows pos … pos+n−1 (rows past the
// capacity are dropped). The result is the cache itself, updated in place.
const cacheWrite = defineOp<NoAttrs>({
  type: (ins) => {
    arity('cache_write', ins, 3);
    const [c, r, p] = ins as [TensorType, TensorType, TensorType];
    wantRank('cache_write', 'cache', c, 3); wantRank('cache_write', 'rows', r, 3);
    if (c.shape[0] !== r.shape[0] || c.shape[2] !== r.shape[2] || r.shape[1]! > c.shape[1]!) fail('cache_write', `rows ${fmtShape(r.shape)} do not fit cache ${fmtShape(c.shape)}`);
    if (p.dtype !== 'i32' || p.shape.length !== 0) fail('cache_write', `position must be i32[], got ${fmtType(p)}`);
    return c;
  },
  evaluate: (_n, [c, r, p]) => {
    const [B, cap, E] = c!.type.shape as [number, number, number];
    const rows = r!.type.shape[1]!, pos = p!.data[0]!;
    const out = Float32Array.from(c!.data);
    for (let b = 0; b < B; b++) for (let i = 0; i < rows && pos + i < cap; i++) {
      for (let e = 0; e < E; e++) out[(b * cap + pos + i) * E + e] = r!.data[(b * rows + i) * E + e]!;
    }
    return out;
  },
  inPlace: 0,
});

export const ATTENTION_OPS = { attention, cache_write: cacheWrite };
