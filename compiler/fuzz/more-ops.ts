// The moves that draw the rest of the op registry (generate.ts draws them after the other moves,
// from a PRNG of its own): floor, ceil, round and trunc (halves, large |x|), sin and cos (large
// |x|) and the reciprocal (±0); comparisons of f32 and of i32 and what a bool is for (where,
// casts); fmod (f32 and i32, negative and zero divisors) and remainder (i32); casts; max and
// average pooling (strides, padding, the divisor with and without it, unbatched inputs); small
// recurrent layers (several layers, bidirectional, time-major, no bias, initial states); prod;
// topk (ties, NaN, k = n, i32; its indices gathered back); gather_elements, gather_nd,
// scatter_elements and scatter_nd (negative and duplicate indices — the last write wins — every
// reduction, i32 data; some indexed by the run-time `ids`, which index fuzzing pushes past their
// ranges); expand (onto named sizes too) and copy.
//
// Ops whose result jumps (rounding, comparisons, fmod, casts to i32, topk's indices, large
// arguments of sin and cos) read only exact values (Item.exact: inputs, constants and what ops
// that round exactly make of them): a value the compiled code computes to within a tolerance
// may land on the other side of a step. Values scaled far out of the usual range (to make
// rounding, sin and fmod meet large arguments, a cast saturate) stay out of the pool
// (Builder.temp), and i32 values are clamped to ±2^16 on their way back to f32: a huge value
// that other moves compute with to within a tolerance is no longer within it after a softmax
// or a sine (seeds 127 and 214, large: the sine of a product of values near 1e8). Every move
// ends with an f32 value (a loop may emit it, the entry may return it).

import { avgPool2d, maxPool2d, whereOp } from '../dsl/functional.ts';
import { GRU, LSTM, RNN } from '../dsl/recurrent.ts';
import { gatherElements, record, traceBounds, type Tensor } from '../dsl/tensor.ts';
import type { Dim } from '../ir/dims.ts';
import { broadcastShapes, numel, type Shape } from '../ir/types.ts';
import { BIG, broadcastable, coerce, fmt, hasNamed, keepLead, MAX_RANK, named, randShape, seedParameters, type Builder, type Item, type Move } from './builder.ts';

/** Values ops define cases for: NaN, ±Inf, ±0, halves (round's ties). */
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 1.5, -2.5];
/** A constant with about one element in three special. */
const specialConst = (b: Builder, shape: Shape): Item => b.const(shape, 'f32', () => (b.r.chance(0.35) ? b.r.pick(SPECIAL) : b.r.normal()));

export const I32_EXTREMES = [-2147483648, 2147483647];
const exactF32 = (b: Builder): Item => b.pick((it) => it.t.dtype === 'f32' && it.exact)!; // the inputs are always there
/** x if it is exact, else an exact f32 value of the pool. */
const exactOr = (b: Builder, x: Item): Item => (x.exact && x.t.dtype === 'f32' ? x : exactF32(b));
/** Whether p and q broadcast together to a value small enough. */
export const fitsWith = (b: Builder, p: Item, q: Item): boolean => {
  const d = broadcastShapes(p.t.dims, q.t.dims);
  return d !== undefined && numel(broadcastShapes(p.t.maxShape, q.t.maxShape)!) <= b.scale.maxNumel;
};
const fixedAxes = (t: Tensor): number[] => [...Array(t.rank).keys()].filter((a) => !named(t.dims[a]!));
/** `it` as an f32 value of the pool: a bool as 0 or 1, an i32 clamped to [−2^16, 2^16) first (a saturated cast is ±2^31). */
export function asF32(b: Builder, it: Item): Item {
  if (it.t.dtype === 'f32') return it;
  if (it.t.dtype === 'bool') return b.add(it.t.float(), `${it.name}.float()`, it.exact);
  return b.add(it.t.maximum(-65536).minimum(65535).float(), `${it.name}.maximum(-65536).minimum(65535).float()`, it.exact);
}

/** An i32 value: one of the pool, an exact f32 value scaled and cast (saturating past 2^31, NaN → 0), or the run-time ids. */
export function i32Value(b: Builder): Item {
  const r = b.r, have = b.pick((it) => it.t.dtype === 'i32');
  const how = r.weighted([[have ? 2 : 0, 'pool'], [3, 'cast'], [b.ids ? 1 : 0, 'ids']] as const);
  if (how === 'pool') return have!;
  if (how === 'ids') return b.add(b.ids!, 'ids', true);
  const e = exactF32(b), k = r.pick([1, 2, 4, 100, 3e9]);
  const src = k === 1 ? e : b.temp(e.t.mul(k), `${e.name}.mul(${k})`, true);
  return b.add(src.t.cast('i32'), `${src.name}.cast('i32')`, true);
}

/**
 * floor / ceil / round / trunc of an exact value: as it is, made halves (ties), with special
 * values added, or scaled by up to 1e8 (past 2^23 every f32 is an integer) and scaled back after.
 */
function roundingMove(b: Builder, x: Item): void {
  const r = b.r, op = r.pick(['floor', 'ceil', 'round', 'trunc'] as const), e = exactOr(b, x);
  const how = r.weighted([[2, 'plain'], [2, 'halves'], [1, 'large'], [1, 'special']] as const);
  if (how === 'large') {
    const k = r.pick([1e3, 3e6, 1e8]), big = b.temp(e.t.mul(k), `${e.name}.mul(${k})`, true), y = b.temp(big.t[op](), `${big.name}.${op}()`, true);
    b.add(y.t.mul(1 / k), `${y.name}.mul(${1 / k})`, true);
  } else {
    let src = e;
    if (how === 'halves') src = b.add(e.t.mul(2).floor().mul(0.5), `${e.name}.mul(2).floor().mul(0.5)`, true);
    else if (how === 'special') { const c = specialConst(b, broadcastable(r, e.t.maxShape, e.t.dims)); src = b.add(e.t.add(c.t), `${e.name}.add(${c.name})`, true); }
    b.add(src.t[op](), `${src.name}.${op}()`, true);
  }
  b.features.add('rounding');
}

/**
 * sin / cos of an exact value, sometimes scaled far past 2^20 (the kernels' exactly reduced path),
 * or of any value clamped to ±16 (a tolerance on a huge value is many periods); the reciprocal
 * of an exact value (±0 included), or of any value kept off 0.
 */
function trigMove(b: Builder, x: Item): void {
  const r = b.r, op = r.pick(['sin', 'cos', 'reciprocal'] as const);
  if (op === 'reciprocal') {
    // Off 0 unless exact: a value within tolerance of 0 could have the other sign.
    if (x.exact) b.add(x.t.reciprocal(), `${x.name}.reciprocal()`);
    else b.add(x.t.abs().add(0.25).reciprocal(), `${x.name}.abs().add(0.25).reciprocal()`);
    b.features.add('recip');
    return;
  }
  const k = x.exact && r.chance(0.5) ? r.pick([10, 1e3, 1e5, 3e6, 1e9]) : 1;
  const src = k !== 1 ? b.temp(x.t.mul(k), `${x.name}.mul(${k})`, true) : x.exact ? x : b.temp(x.t.clamp(-16, 16), `${x.name}.clamp(-16, 16)`);
  b.add(src.t[op](), `${src.name}.${op}()`);
  b.features.add('trig');
}

const COMPARISONS = ['lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const;

/** A comparison of exact f32 values or of i32 values (with a number, a constant, another value, itself, or itself rounded: ties), then its use. */
function compareMove(b: Builder, x: Item): void {
  const r = b.r, op = r.pick(COMPARISONS), int = r.chance(0.35);
  const a = int ? i32Value(b) : exactOr(b, x);
  const partners = b.pool.filter((p) => p.exact && p !== a && p.t.dtype === a.t.dtype && fitsWith(b, p, a));
  const shape = broadcastable(r, a.t.maxShape, a.t.dims);
  const other = r.weighted<() => Item | number>([
    [2, () => (int ? r.pick([0, 1, -1, 2]) : r.pick([0, -0, 0.5, -1, 1.5]))],
    [2, () => (int ? b.const(shape, 'i32', () => (r.chance(0.2) ? r.pick(I32_EXTREMES) : r.int(-2, 3))) : specialConst(b, shape))],
    [partners.length ? 2 : 0, () => r.pick(partners)],
    [int ? 0 : 1, () => b.add(a.t.round(), `${a.name}.round()`, true)],
    [1, () => a],
  ])();
  const swap = typeof other !== 'number' && r.chance(0.4);
  const [p, q] = swap ? [other, a] : [a, other];
  const qt = typeof q === 'number' ? q : q.t, qn = typeof q === 'number' ? String(Object.is(q, -0) ? '-0' : q) : q.name;
  const c = b.add(p.t[op](qt), `${p.name}.${op}(${qn})`, true);
  useBool(b, c);
  b.features.add(int ? 'compare-i32' : 'compare');
}

/** A bool value's use: the condition of a where over values it broadcasts with, or a number again (as f32, or through i32). */
function useBool(b: Builder, c: Item): void {
  const r = b.r, how = r.weighted([[3, 'where'], [1, 'float'], [1, 'i32']] as const);
  if (how === 'float') { b.add(c.t.float(), `${c.name}.float()`, true); return; }
  if (how === 'i32') { asF32(b, b.add(c.t.cast('i32'), `${c.name}.cast('i32')`, true)); return; }
  // Each branch broadcasts with the condition and the other branch.
  const branch = (with_: Item | number): Item | number => {
    const ok = (it: Item) => it.t.dtype === 'f32' && fitsWith(b, it, c) && (typeof with_ === 'number' || fitsWith(b, it, with_));
    const p = r.chance(0.7) ? b.pick(ok) : undefined;
    return p ?? (r.chance(0.5) ? r.pick([0, -1, 2.5]) : b.const(broadcastable(r, c.t.maxShape, c.t.dims)));
  };
  const p = branch(0), q = branch(p);
  const name = (v: Item | number) => (typeof v === 'number' ? String(v) : v.name), ex = (v: Item | number) => typeof v === 'number' || v.exact;
  b.add(whereOp(c.t, typeof p === 'number' ? p : p.t, typeof q === 'number' ? q : q.t), `where(${c.name}, ${name(p)}, ${name(q)})`, ex(p) && ex(q));
}

/** f32 fmod (C's: the dividend's sign; by ±0 NaN, by ±Inf the dividend) of an exact value; i32 fmod or remainder (floored) by a divisor that is never 0 (that raises). */
function remainderMove(b: Builder, x: Item): void {
  const r = b.r;
  if (r.chance(0.55)) {
    // A dividend scaled up to 1e10 only by a finite divisor (the remainder stays small).
    const e = exactOr(b, x), k = r.pick([1, 1, 1, 1e3, 1e6, 1e10]);
    const a = k === 1 ? e : b.temp(e.t.mul(k), `${e.name}.mul(${k})`, true);
    const partners = b.pool.filter((p) => p.exact && p !== a && p.t.dtype === 'f32' && fitsWith(b, p, a));
    const d = r.weighted<() => Item>([
      [2, () => b.const([], 'f32', () => r.pick([2, -2, 0.5, -1.5, 3, -0.75, 1e-3]))],
      [k === 1 ? 2 : 0, () => specialConst(b, broadcastable(r, a.t.maxShape, a.t.dims))],
      [k === 1 && partners.length ? 1 : 0, () => r.pick(partners)],
    ])();
    const [p, q] = r.chance(0.8) ? [a, d] : [d, a];
    b.add(record('fmod', [p.t, q.t]), `fmod(${p.name}, ${q.name})`, true);
    b.features.add('fmod');
    return;
  }
  const op = r.pick(['fmod', 'remainder'] as const);
  const a = r.chance(0.2) ? b.const(randShape(r, b.scale), 'i32', () => (r.chance(0.3) ? r.pick(I32_EXTREMES) : r.int(-9, 9))) : i32Value(b);
  const shape = broadcastable(r, a.t.maxShape, a.t.dims);
  const nonzero = () => (r.chance(0.1) ? r.pick([-2147483648, -1]) : r.pick([-5, -3, -2, -1, 1, 2, 3, 7]));
  const d = r.chance(0.6) ? b.const(shape, 'i32', nonzero) : (() => {
    const v = i32Value(b), pos = r.chance(0.5);
    return fitsWith(b, v, a) ? b.add(pos ? v.t.maximum(1) : v.t.minimum(-1), `${v.name}.${pos ? 'maximum(1)' : 'minimum(-1)'}`, true) : b.const(shape, 'i32', nonzero);
  })();
  asF32(b, b.add(record(op, [a.t, d.t]), `${op}(${a.name}, ${d.name})`, true));
  b.features.add(`${op}-i32`);
}

/** i32 bitwise and/or/xor of two values (extremes among them), and shifts by counts in and past [0, 31] (negative ones too: unsigned, all bits out). */
export function bitwiseMove(b: Builder): void {
  const r = b.r, op = r.pick(['bitand', 'bitor', 'bitxor', 'shl', 'shr'] as const);
  const a = r.chance(0.3) ? b.const(randShape(r, b.scale), 'i32', () => (r.chance(0.3) ? r.pick(I32_EXTREMES) : r.int(-1000, 1000))) : i32Value(b);
  const shape = broadcastable(r, a.t.maxShape, a.t.dims);
  const shift = op === 'shl' || op === 'shr';
  const d = shift ? b.const(shape, 'i32', () => (r.chance(0.15) ? r.pick([32, 33, 40, -1, -2147483648]) : r.int(0, 31)))
    : (() => { const v = i32Value(b); return v !== a && fitsWith(b, v, a) && r.chance(0.5) ? v : b.const(shape, 'i32', () => (r.chance(0.3) ? r.pick([...I32_EXTREMES, -1, 0]) : r.int(-70000, 70000))); })();
  const y = b.add(record(op, [a.t, d.t]), `${op}(${a.name}, ${d.name})`, true);
  // asF32 clamps to ±2^16: fold the high half into the low one first, half the time, so every bit counts.
  const fold = () => {
    const c16 = b.const([], 'i32', () => 16), low = b.const([], 'i32', () => 65535);
    const h = b.temp(record('shr', [y.t, c16.t]), `shr(${y.name}, 16)`, true), x = b.temp(record('bitxor', [y.t, h.t]), `bitxor(${y.name}, ${h.name})`, true);
    return b.add(record('bitand', [x.t, low.t]), `bitand(${x.name}, 65535)`, true);
  };
  asF32(b, r.chance(0.5) ? fold() : y);
  b.features.add(op);
}

/** Casts: f32 → i32 (scaled to saturate, NaN → 0) → f32, f32 → bool (NaN true, −0 false), bool ↔ i32. */
function castMove(b: Builder, x: Item): void {
  const r = b.r, how = r.pick(['i32', 'bool', 'i32-bool'] as const);
  if (how === 'i32') asF32(b, i32Value(b));
  else if (how === 'bool') {
    const e = exactOr(b, x), c = b.add(e.t.cast('bool'), `${e.name}.cast('bool')`, true);
    asF32(b, r.chance(0.5) ? b.add(c.t.cast('i32'), `${c.name}.cast('i32')`, true) : c);
  } else {
    const i = i32Value(b), c = b.add(i.t.cast('bool'), `${i.name}.cast('bool')`, true);
    useBool(b, c);
  }
  b.features.add('cast');
}

/** F.maxPool2d / F.avgPool2d over a value made [N, C, H, W] (or unbatched [C, H, W]): kernels, strides (or the kernel's), padding up to half the kernel. */
function poolMove(b: Builder, x: Item): void {
  const r = b.r, big = b.scale === BIG;
  const N = r.pick([0, 1, 1, 2]), C = r.pick(big ? [1, 3, 8] : [1, 2, 3]);
  const H = r.pick(big ? [5, 8, 17, 33] : [1, 2, 3, 5, 8]), W = r.pick(big ? [5, 17, 33, 64] : [1, 3, 5, 12, 17, 17]); // 12 and 17 reach the kernels' vector paths
  const k: [number, number] = [r.pick([1, 2, 3, 3]), r.pick([1, 2, 3, 3, 5])];
  const pad: [number, number] = [r.int(0, Math.floor(k[0] / 2)), r.int(0, Math.floor(k[1] / 2))];
  [H, W].forEach((n, i) => { if (n + 2 * pad[i]! < k[i]!) { k[i] = n; pad[i] = 0; } });
  const stride: [number, number] | undefined = r.chance(0.3) ? undefined : [r.pick([1, 1, 2, 3]), r.pick([1, 1, 2, 3])];
  const lead = N > 0 ? keepLead(b, x, [C, H, W]) : undefined;
  let xin = lead ?? coerce(b, x, N > 0 ? [N, C, H, W] : [C, H, W]);
  if (r.chance(0.4)) { const c = specialConst(b, [H, W]); xin = b.add(xin.t.add(c.t), `${xin.name}.add(${c.name})`, xin.exact); }
  const max = r.chance(0.5), cip = r.chance(0.5);
  const o = { ...(stride ? { stride } : {}), padding: pad, ...(max ? {} : { countIncludePad: cip }) };
  const y = max ? maxPool2d(xin.t, k, o) : avgPool2d(xin.t, k, o);
  b.add(y, `F.${max ? 'maxPool2d' : 'avgPool2d'}(${xin.name}, ${fmt(k)}, ${JSON.stringify(o)})`, max && xin.exact);
  b.features.add(max ? 'maxpool2d' : 'avgpool2d');
}

/**
 * A small nn.RNN / GRU / LSTM: 1–3 layers, maybe bidirectional, batch-first or time-major, maybe
 * without biases, weights of the case's PRNG (sometimes large, saturating the gates), maybe an
 * initial state from the pool; a named size as the batch or the number of steps (sized cases).
 */
function recurrentSmallMove(b: Builder, x: Item): void {
  const r = b.r, kind = r.pick(['RNN', 'GRU', 'LSTM'] as const);
  const B = r.pick([1, 2, 3]), T = r.pick([1, 2, 3, 5]), I = r.pick([1, 2, 3, 5]), H = r.pick([1, 2, 3, 5, 8, 9]);
  const opts = {
    batchFirst: r.chance(0.5), numLayers: r.pick([1, 1, 2, 3]), bidirectional: r.chance(0.4), ...(r.chance(0.2) ? { bias: false } : {}),
    ...(kind === 'RNN' && r.chance(0.5) ? { nonlinearity: 'relu' as const } : {}),
  };
  const m = kind === 'LSTM' ? new LSTM(I, H, opts) : kind === 'GRU' ? new GRU(I, H, opts) : new RNN(I, H, opts);
  seedParameters(m, r, r.pick([1, 1, 3]), H);
  // Named: [N, B or T, I], N the batch (its own axis) or the steps, made the layout's order.
  const namedBatch = r.chance(0.5), lead = keepLead(b, x, namedBatch ? [T, I] : [B, I]);
  const swap = lead && namedBatch !== opts.batchFirst; // [N, T, I] time-major, or [N, B, I] batch-first
  const xin = lead ? (swap ? b.add(lead.t.permute(1, 0, 2), `${lead.name}.permute(1, 0, 2)`) : lead) : coerce(b, x, opts.batchFirst ? [B, T, I] : [T, B, I]);
  const LD = opts.numLayers * (opts.bidirectional ? 2 : 1);
  // An initial state [L·D, B, H]: with a named batch, a value of that batch moved to dim 1.
  const init = (): Item | undefined => {
    if (!r.chance(0.4)) return undefined;
    if (!(lead && namedBatch)) return coerce(b, b.pick()!, [LD, B, H]);
    const s = keepLead(b, lead, [LD, H]);
    return s && b.add(s.t.permute(1, 0, 2), `${s.name}.permute(1, 0, 2)`);
  };
  const h0 = init(), c0 = kind === 'LSTM' && h0 ? init() : undefined;
  const args = kind === 'LSTM' ? (h0 && c0 ? [xin.t, [h0.t, c0.t]] : [xin.t]) : h0 ? [xin.t, h0.t] : [xin.t];
  const [y, state] = (m as unknown as { call(...a: unknown[]): [Tensor, Tensor | [Tensor, Tensor]] }).call(...args);
  const [hn, cn] = Array.isArray(state) ? state : [state, undefined];
  const call = `nn.${kind}(${I}, ${H}, ${JSON.stringify(opts)}).call(${[xin, ...(kind === 'LSTM' ? (h0 && c0 ? [h0, c0] : []) : h0 ? [h0] : [])].map((v) => v.name).join(', ')})`;
  const outs: Array<[Tensor, string]> = [[y, '[0]'], [hn, kind === 'LSTM' ? '[1][0]' : '[1]'], ...(cn ? [[cn, '[1][1]'] as [Tensor, string]] : [])];
  for (const [t, at] of r.shuffle(outs).slice(0, r.int(1, outs.length))) b.add(t, `${call}${at}`);
  b.features.add(`${kind.toLowerCase()}-small`);
}

/** prod over some axes (all, keepdim or not): of an exact value (bit for bit: the reference multiplies in the kernel's order), maybe times special values, or of a bounded one. */
function prodMove(b: Builder, x: Item): void {
  const r = b.r;
  let v = r.chance(0.6) ? exactOr(b, x) : b.add(x.t.tanh(), `${x.name}.tanh()`);
  if (v.exact && r.chance(0.25)) { const c = specialConst(b, broadcastable(r, v.t.maxShape, v.t.dims)); v = b.add(v.t.mul(c.t), `${v.name}.mul(${c.name})`, true); }
  const rank = v.t.rank, all = rank === 0 || r.chance(0.2), keep = r.chance(0.4);
  let axes = [...Array(rank).keys()].filter(() => r.chance(0.5));
  if (axes.length === 0) axes = [r.int(0, Math.max(0, rank - 1))];
  b.add(all ? v.t.prod() : v.t.prod(axes, keep), all ? `${v.name}.prod()` : `${v.name}.prod([${axes.join(', ')}], ${keep})`, v.exact);
  b.features.add('prod');
}

/**
 * topk along an axis (k = 1 on a named one, else 1, n or between; largest or smallest) of an exact
 * f32 value (sometimes with ties or special values: NaN ranks above every number) or an i32 one;
 * its indices gathered back along that axis (gather_elements) or as numbers. Of a value that is
 * not exact, only the values (its indices could differ within tolerance).
 */
function topkMove(b: Builder, x: Item): void {
  const r = b.r, int = r.chance(0.25), loose = !int && !x.exact && r.chance(0.3);
  let v: Item = int ? i32Value(b) : loose ? x : exactOr(b, x);
  if (v.t.rank === 0) v = b.add(v.t.reshape(1), `${v.name}.reshape(1)`, v.exact);
  if (!int && !loose && r.chance(0.6)) {
    const ties = r.chance(0.6), c = ties ? undefined : specialConst(b, broadcastable(r, v.t.maxShape, v.t.dims));
    v = b.add(c ? v.t.add(c.t) : v.t.mul(2).round(), c ? `${v.name}.add(${c.name})` : `${v.name}.mul(2).round()`, true);
  }
  const axis = r.int(0, v.t.rank - 1), n = v.t.maxShape[axis]!;
  const k = named(v.t.dims[axis]!) ? 1 : r.weighted([[1, 1], [1, n], [2, r.int(1, n)]] as const);
  const largest = r.chance(0.7), dim = r.chance(0.3) ? axis - v.t.rank : axis;
  const [vals, idx] = v.t.topk(k, dim, largest);
  const call = `${v.name}.topk(${k}, ${dim}, ${largest})`;
  const vi = b.add(vals!, `${call}[0]`, v.exact);
  if (loose) { b.features.add('topk'); return; }
  const ii = b.add(idx!, `${call}[1]`, true);
  const back = r.chance(0.4) ? b.add(v.t.gather(dim, idx!), `${v.name}.gather(${dim}, ${ii.name})`, v.exact) : undefined;
  // Mostly the indices last, as numbers: they show the order of ties and where NaN ranks.
  asF32(b, r.chance(0.6) ? ii : back ?? vi);
  b.features.add(int ? 'topk-i32' : 'topk');
}

/** The run-time ids as indices along axis `ax` of a value of `dims`'s rank (1 on every other axis, or some of its fixed extents), values 0 or 1. */
function idsAlong(b: Builder, dims: readonly Dim[], ax: number): Item {
  const ids = b.ids!, k = ids.maxShape[0]!, shape = dims.map((_, i) => (i === ax ? k : 1));
  const r = b.r, wide = dims.map((d, i) => (i === ax || named(d) || !r.chance(0.4) ? shape[i]! : d as number));
  const at = b.add(ids.reshape(...shape), `ids.reshape(${shape.join(', ')})`, true);
  return wide.some((d, i) => d !== shape[i]) && numel(wide) <= b.scale.maxNumel ? b.add(at.t.expand(...wide), `${at.name}.expand(${wide.join(', ')})`, true) : at;
}
/** A scalar as a 1-element vector (the index moves need an axis); any other value as it is. */
const atLeast1d = (b: Builder, it: Item): Item => (it.t.rank === 0 ? b.add(it.t.reshape(1), `${it.name}.reshape(1)`, it.exact) : it);
/** Whether a move indexes by the run-time ids (always possible in index fuzzing, where it is frequent). */
const byIds = (b: Builder, n: number): boolean => b.ids !== undefined && n >= 2 && b.r.chance(b.indexed ? 0.6 : 0.25);

/** x.gather(axis, index) (torch.gather), or with wrap ONNX's GatherElements (negative indices from the end): constant indices, or the run-time ids. */
function gatherElementsMove(b: Builder, x: Item): void {
  const r = b.r;
  let data = r.chance(0.2) ? i32Value(b) : x;
  data = atLeast1d(b, data);
  const axes = fixedAxes(data.t);
  if (!axes.length) return copyMove(b, x);
  const ax = r.pick(axes), n = data.t.maxShape[ax]!, wrap = r.chance(0.3);
  const idx = byIds(b, n) ? idsAlong(b, data.t.dims, ax)
    : b.const(data.t.dims.map((d, i) => (i === ax ? r.int(1, 5) : named(d) ? 1 : r.int(1, d as number))), 'i32', () => r.int(wrap ? -n : 0, n - 1));
  const t = b.add(gatherElements(data.t, ax, idx.t, wrap), `gatherElements(${data.name}, ${ax}, ${idx.name}, ${wrap})`, data.exact);
  asF32(b, t);
  b.features.add('gather_elements');
}

/** An i32 constant of index tuples, shaped `lead ++ [k]`, coordinate j in [−n_j, n_j) for `extents` n. */
function tupleConst(b: Builder, lead: number[], extents: number[]): Item {
  let e = 0;
  return b.const([...lead, extents.length], 'i32', () => { const n = extents[e++ % extents.length]!; return b.r.int(-n, n - 1); });
}

/** gather_nd (ONNX GatherND): tuples of the first k axes (after batchDims 0 or 1) of a value, constant or the run-time ids. */
function gatherNdMove(b: Builder, x: Item): void {
  const r = b.r;
  let data = r.chance(0.2) ? i32Value(b) : x;
  // Tuples index fixed axes (the first after the batch): a value whose first is one, if there is one.
  if (data.t.rank > 0 && named(data.t.dims[0]!)) data = b.pick((it) => it.t.dtype === data.t.dtype && it.t.rank > 0 && !named(it.t.dims[0]!)) ?? data;
  data = atLeast1d(b, data);
  const d = data.t.dims, rank = d.length;
  let idx: Item, bd = 0;
  if (!named(d[0]!) && byIds(b, data.t.maxShape[0]!)) idx = b.add(b.ids!.reshape(-1, 1), 'ids.reshape(-1, 1)', true);
  else {
    bd = rank >= 2 && !named(d[0]!) && r.chance(0.3) ? 1 : 0;
    let kMax = 0;
    while (bd + kMax < rank && !named(d[bd + kMax]!)) kMax++;
    if (kMax === 0) return copyMove(b, x);
    const k = r.int(1, kMax), q = r.pick([[], [r.int(1, 3)], [r.int(1, 2), r.int(1, 3)]]);
    if (bd + q.length + rank - bd - k > MAX_RANK) return copyMove(b, x);
    idx = tupleConst(b, [...data.t.maxShape.slice(0, bd), ...q], data.t.maxShape.slice(bd, bd + k) as number[]);
  }
  const t = b.add(record('gather_nd', [data.t, idx.t], { batchDims: bd }), `gather_nd(${data.name}, ${idx.name}, { batchDims: ${bd} })`, data.exact);
  asF32(b, t);
  b.features.add('gather_nd');
}

const REDUCTIONS = [[3, 'none'], [1, 'add'], [1, 'mul'], [1, 'max'], [1, 'min']] as const;
/** Updates of `shape` for data of x's dtype: a pool value coerced, a constant (maybe with special values), or i32 constants. */
function updates(b: Builder, like: Item, shape: number[]): Item {
  const r = b.r;
  if (like.t.dtype === 'i32') return b.const(shape, 'i32', () => (r.chance(0.1) ? r.pick(I32_EXTREMES) : r.int(-9, 9)));
  return r.weighted<() => Item>([[2, () => coerce(b, b.pick()!, shape)], [1, () => b.const(shape)], [1, () => specialConst(b, shape)]])();
}

/** x.scatter(axis, index, updates) / ONNX ScatterElements, every reduction: constant indices (negative, and repeated: the last write wins) or the run-time ids. */
function scatterElementsMove(b: Builder, x: Item): void {
  const r = b.r;
  let data = r.chance(0.2) ? i32Value(b) : x;
  data = atLeast1d(b, data);
  const axes = fixedAxes(data.t);
  if (!axes.length) return copyMove(b, x);
  const ax = r.pick(axes), n = data.t.maxShape[ax]!, reduction = r.weighted(REDUCTIONS);
  const idx = byIds(b, n) ? idsAlong(b, data.t.dims, ax)
    : b.const(data.t.dims.map((d, i) => (i === ax ? r.int(1, n + 2) : named(d) ? 1 : r.int(1, d as number))), 'i32', () => r.int(-n, n - 1));
  const upd = updates(b, data, [...idx.t.maxShape]);
  const t = b.add(record('scatter_elements', [data.t, idx.t, upd.t], { axis: ax, reduction }), `scatter_elements(${data.name}, ${idx.name}, ${upd.name}, { axis: ${ax}, reduction: '${reduction}' })`, data.exact && upd.exact);
  asF32(b, t);
  b.features.add('scatter_elements');
}

/** scatter_nd (ONNX ScatterND, torch's index_put), every reduction: slices named by tuples of the first k axes, constant (repeated, negative) or the run-time ids. */
function scatterNdMove(b: Builder, x: Item): void {
  const r = b.r;
  // The updates' slices have the data's trailing dims: fixed ones (constants and coerced values are).
  let data = r.chance(0.2) ? i32Value(b) : x;
  if (hasNamed(data.t)) data = b.pick((it) => it.t.dtype === data.t.dtype && !hasNamed(it.t)) ?? b.const([r.int(2, 5), r.weighted(b.scale.dims)]);
  data = atLeast1d(b, data);
  const s = data.t.maxShape, reduction = r.weighted(REDUCTIONS);
  let idx: Item, k = 1;
  if (byIds(b, s[0]!)) idx = b.add(b.ids!.reshape(-1, 1), 'ids.reshape(-1, 1)', true);
  else {
    k = r.int(1, s.length);
    idx = tupleConst(b, r.pick([[r.int(1, 4)], [r.int(1, 2), r.int(1, 3)]]), s.slice(0, k) as number[]);
  }
  const upd = updates(b, data, [...idx.t.maxShape.slice(0, -1), ...s.slice(k)]);
  const t = b.add(record('scatter_nd', [data.t, idx.t, upd.t], { reduction }), `scatter_nd(${data.name}, ${idx.name}, ${upd.name}, { reduction: '${reduction}' })`, data.exact && upd.exact);
  asF32(b, t);
  b.features.add('scatter_nd');
}

/** x (or a keepdim reduction of it) expanded: its 1s to sizes of the scale or to the case's named sizes, maybe with new leading dims. */
function expandMove(b: Builder, x: Item): void {
  const r = b.r;
  let src = x;
  if (!x.t.dims.includes(1) || r.chance(0.4)) {
    const axes = [...Array(x.t.rank).keys()].filter(() => r.chance(0.5));
    if (axes.length) src = b.add(x.t.max(axes, true), `${x.name}.max([${axes.join(', ')}], true)`, x.exact);
  }
  const names = b.sized ? Object.keys(traceBounds()) : [];
  const dims: Dim[] = src.t.dims.map((d) => (d !== 1 || r.chance(0.3) ? d : names.length && r.chance(0.4) ? r.pick(names) : r.weighted(b.scale.dims)));
  const lead = r.chance(0.3) ? [r.pick([2, 3])] : [];
  const want = [...lead, ...dims], bounds = traceBounds();
  if (want.length > MAX_RANK || numel(want.map((d) => (named(d) ? bounds[d]! : d))) > b.scale.maxNumel) return copyMove(b, x);
  b.add(src.t.expand(...want), `${src.name}.expand(${want.map((d) => (named(d) ? `'${d}'` : d)).join(', ')})`, src.exact);
  b.features.add('expand');
}

/** copy (the op effect sequencing inserts) of a value. */
function copyMove(b: Builder, x: Item): void {
  b.add(record('copy', [x.t]), `copy(${x.name})`, x.exact);
  b.features.add('copy');
}

/** The moves, by weight: the index ops three times as often in index fuzzing. */
export function moreMoves(o: { indexed?: boolean }): ReadonlyArray<readonly [number, Move]> {
  const ix = o.indexed ? 3 : 1;
  return [
    [3, roundingMove], [2, trigMove], [3, compareMove], [2, remainderMove], [1.5, castMove], [1.5, poolMove], [1, recurrentSmallMove],
    [1.5, prodMove], [1.5, topkMove], [1.5 * ix, gatherElementsMove], [1 * ix, gatherNdMove], [1.5 * ix, scatterElementsMove], [1 * ix, scatterNdMove],
    [1, expandMove], [0.5, copyMove],
  ];
}
