// Multi-head scaled dot-product attention with heads interleaved in the last dimension
// (PyTorch's projection layout), so no head split/merge is needed:
//   layout 'separate': [q [B,Lq,H·d], k [B,Lk,H·d], v [B,Lk,H·dv]]
//   layout 'qkv':      [qkv [B,L,3E]]           (self-attention from one packed projection)
//   layout 'q_kv':     [q [B,Lq,E], kv [B,Lk,2E]]
// then `mask` (bool, broadcast to [B,H,Lq,Lk], true = not attended) when attrs.mask, then
// `pos` when attrs.cached: k/v are caches of capacity Lk, query row b holds pos_b + Lq valid
// keys and its query i sits at position pos_b + i; pos is i32[] (every row at one position)
// or i32[B] (a batch of sequences, each at its own). With attrs.row (layout 'separate') an
// i32[] `row` input comes last and the caches hold Bc ≥ B sequences: query row b reads cache
// row `row + b` (prefill of one sequence of a batched cache). Result [B, Lq, H·dv].
// And cache_write, which fills a KV cache in place, with the same pos and row conventions.
// Positions and rows are known only at run time: one whose keys or sequences do not all fit the
// cache is an error (cacheErrors), raised here and trapped alike by the compiled code.
// Shape legend: B batch, Bc cache batch, H heads, Lq/Lk query/key lengths, d/dv per-head sizes, E = H·d.

import { broadcastShapes, broadcastStrides, dimsOf, fmtShape, fmtType, sameShape, type TensorType } from '../types.ts';
import { defineOp, type NoAttrs } from './def.ts';
import { arity, f32, fail, indexError, raise, wantDtype, wantRank } from './rules.ts';

export interface AttentionAttrs {
  heads: number;
  layout: 'separate' | 'qkv' | 'q_kv';
  /** Multiplies q·k (PyTorch: 1/√d). */
  scale: number;
  causal?: boolean;
  /** A bool mask input follows q, k, v. */
  mask?: boolean;
  /** k and v are KV caches and a position input (i32[] or i32[B]) follows. */
  cached?: boolean;
  /** With cached: an i32[] input last, the cache row of query row 0 (the caches may hold more sequences than q). */
  row?: boolean;
}

/**
 * The cache position of each of B rows: `pos` i32[] (shared) or i32[B] (per row).
 * The type rules below have checked the shape.
 */
const rowPositions = (pos: ArrayLike<number>, B: number): number[] =>
  Array.from({ length: B }, (_, b) => pos[pos.length === 1 ? 0 : b]!);

/** A cache position input: i32[] or i32[B]. */
function wantPositions(op: string, p: TensorType, B: number): void {
  if (p.dtype !== 'i32' || !(p.shape.length === 0 || (p.shape.length === 1 && p.shape[0] === B))) {
    fail(op, `cache position must be i32[] or i32[${B}] (one per sequence), got ${fmtType(p)}`);
  }
}

/**
 * The KV cache's errors at run time (see indexError; the compiled code traps with the same). They
 * are the same for cache_write and the attention that reads the cache, so one module's cache ops
 * share one message: a first cache row {0} whose {1} sequences do not fit its Bc rows, or a
 * position {0} whose {1} new keys do not fit its capacity.
 */
export const cacheErrors = (label: string | undefined, Bc: number, capacity: number) => ({
  row: indexError('KV cache', label, `rows {0} + {1} do not fit its ${Bc} rows`),
  pos: indexError('KV cache', label, `position {0} + {1} new keys do not fit its ${capacity} positions`),
});

/** The first cache row of a `row` input, or a RangeError when rows row … row+B−1 are not all in the cache. */
export function firstCacheRow(label: string | undefined, row: number, B: number, Bc: number, capacity: number): number {
  if (!(row >= 0 && row + B <= Bc)) raise(cacheErrors(label, Bc, capacity).row, row, B);
  return row;
}

/** Each sequence's cache position, or a RangeError for the first whose n new keys do not all fit the capacity. */
export function cachePositions(label: string | undefined, pos: ArrayLike<number>, B: number, n: number, Bc: number, capacity: number): number[] {
  const p = rowPositions(pos, B);
  for (const v of p) if (!(v >= 0 && v + n <= capacity)) raise(cacheErrors(label, Bc, capacity).pos, v, n);
  return p;
}

/** Inputs holding q, k and v in each layout. */
const QKV_INPUTS: Record<AttentionAttrs['layout'], number> = { qkv: 1, q_kv: 2, separate: 3 };

export function attentionDims(ins: readonly TensorType[], a: AttentionAttrs): { B: number; Bc: number; Lq: number; Lk: number; H: number; d: number; dv: number } {
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
  const rowed = a.cached && a.row;
  if ((rowed ? Bk < B : Bk !== B) || Bv !== Bk || Lv !== Lk) fail('attention', `batch/length mismatch: q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`);
  if (!(H >= 1) || Eq % H || Ek % H || Ev % H) fail('attention', `embedding sizes q ${Eq}, k ${Ek}, v ${Ev} must be divisible by ${H} heads`);
  if (Eq !== Ek) fail('attention', `q and k must have the same size per head: q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}`);
  return { B, Bc: Bk, Lq, Lk, H, d: Eq / H, dv: Ev / H };
}

const attention = defineOp<AttentionAttrs>({
  type: (ins, a) => {
    const nIn = (QKV_INPUTS as Record<string, number>)[a.layout] ?? 3;
    if (a.row && (!a.cached || a.layout !== 'separate')) fail('attention', `a cache row input needs cached: true and layout 'separate', got ${a.cached ? `layout '${a.layout}'` : 'no cache'}`);
    arity('attention', ins, nIn + (a.mask ? 1 : 0) + (a.cached ? 1 : 0) + (a.row ? 1 : 0));
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
      wantPositions('attention', ins[nIn + (a.mask ? 1 : 0)]!, B);
      if (a.row) { const r = ins[ins.length - 1]!; if (r.dtype !== 'i32' || r.shape.length !== 0) fail('attention', `cache row must be i32[], got ${fmtType(r)}`); }
      if (!a.causal) fail('attention', 'attention over a cache must be causal');
    }
    return f32([B, Lq, H * dv]);
  },
  // The mask broadcasts onto [B, H, Lq, Lk] (B and Lq the result's, Lk the keys').
  broadcasts: (ins, out, a) => {
    if (!a.mask) return [];
    const nIn = QKV_INPUTS[a.layout], [B, Lq] = dimsOf(out);
    return [[nIn, dimsOf(ins[nIn]!), [B!, a.heads, Lq!, dimsOf(ins[a.layout === 'qkv' ? 0 : 1]!)[1]!]]];
  },
  evaluate: (n, ins) => {
    const a = n.attrs, lay = a.layout;
    const { B, Bc, Lq, Lk, H, d, dv } = attentionDims(ins.map((v) => v.type), a);
    const nIn = lay === 'qkv' ? 1 : lay === 'q_kv' ? 2 : 3;
    const row0 = a.row ? firstCacheRow(n.label, ins[ins.length - 1]!.data[0]!, B, Bc, Lk) : 0;
    // Element accessors in the interleaved-heads layout, for each packing.
    const E = H * d, Ev = H * dv;
    const get = (which: 'q' | 'k' | 'v', b: number, i: number, h: number, c: number): number => {
      const per = which === 'v' ? dv : d;
      if (lay === 'qkv') { const off = which === 'q' ? 0 : which === 'k' ? E : 2 * E; return ins[0]!.data[(b * Lq + i) * 3 * E + off + h * per + c]!; }
      if (lay === 'q_kv' && which !== 'q') { const off = which === 'k' ? 0 : E; return ins[1]!.data[(b * Lk + i) * 2 * E + off + h * per + c]!; }
      const t = which === 'q' ? ins[0]! : which === 'k' ? ins[1]! : ins[2]!;
      const L = which === 'q' ? Lq : Lk, w = which === 'v' ? Ev : E, tb = which === 'q' ? b : row0 + b;
      return t.data[(tb * L + i) * w + h * per + c]!;
    };
    const mask = a.mask ? ins[nIn]! : undefined;
    const ms = mask ? broadcastStrides(mask.type.shape, [B, H, Lq, Lk]) : [];
    const positions = a.cached ? cachePositions(n.label, ins[nIn + (a.mask ? 1 : 0)]!.data, B, Lq, Bc, Lk) : new Array<number>(B).fill(0);
    const out = new Float32Array(B * Lq * Ev);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Lq; i++) {
      const pos = positions[b]!, kvLen = a.cached ? pos + Lq : Lk;
      const s = new Array<number>(kvLen);
      for (let j = 0; j < kvLen; j++) {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += get('q', b, i, h, c) * get('k', b, j, h, c);
        const masked = (mask && mask.data[b * ms[0]! + h * ms[1]! + i * ms[2]! + j * ms[3]!]) || (a.causal && j > pos + i);
        s[j] = masked ? -Infinity : dot * a.scale;
      }
      const m = s.reduce((x, y) => Math.max(x, y), -Infinity); // Math.max(...s) overflows the stack past ~10^5 keys
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

// Writes `rows` [B, n, E] into `cache` [Bc, cap, E]: row b's n rows at positions pos_b …
// pos_b+n−1 (pos i32[] or i32[B]; all within the capacity, else an error) of cache row b, or of
// cache row `row` + b when a fourth input `row` (i32[]) is given (then Bc ≥ B, else Bc = B).
// The result is the cache itself, updated in place.
const cacheWrite = defineOp<NoAttrs>({
  type: (ins) => {
    arity('cache_write', ins, 3, 4);
    const [c, r, p, row] = ins as [TensorType, TensorType, TensorType, TensorType | undefined];
    wantRank('cache_write', 'cache', c, 3); wantRank('cache_write', 'rows', r, 3);
    if ((row ? c.shape[0]! < r.shape[0]! : c.shape[0] !== r.shape[0]) || c.shape[2] !== r.shape[2] || r.shape[1]! > c.shape[1]!) fail('cache_write', `rows ${fmtShape(r.shape)} do not fit cache ${fmtShape(c.shape)}`);
    wantPositions('cache_write', p, r.shape[0]!);
    if (row && (row.dtype !== 'i32' || row.shape.length !== 0)) fail('cache_write', `cache row must be i32[], got ${fmtType(row)}`);
    return c;
  },
  evaluate: (n, [c, r, p, row]) => {
    const [Bc, cap, E] = c!.type.shape as [number, number, number];
    const [B, rows] = r!.type.shape as [number, number];
    const row0 = row ? firstCacheRow(n.label, row.data[0]!, B, Bc, cap) : 0;
    const positions = cachePositions(n.label, p!.data, B, rows, Bc, cap);
    const out = Float32Array.from(c!.data);
    for (let b = 0; b < B; b++) for (let i = 0, pos = positions[b]!; i < rows; i++) {
      for (let e = 0; e < E; e++) out[((row0 + b) * cap + pos + i) * E + e] = r!.data[(b * rows + i) * E + e]!;
    }
    return out;
  },
  inPlace: 0,
});

export const ATTENTION_OPS = { attention, cache_write: cacheWrite };
