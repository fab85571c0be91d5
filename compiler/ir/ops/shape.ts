// Shape ops: reshape (a view), transpose, slice, concat, gather, gather_elements, dynamic_slice,
// dynamic_update and copy (a temporary that effect sequencing inserts). They move values without
// arithmetic, so they work on every dtype.

import { allocData, broadcastShapes, dimsOf, fmtShape, fmtType, normAxis, numel, sameShape, strides, type TensorType } from '../types.ts';
import { defineOp, type NoAttrs } from './def.ts';
import { addDims, floorDim, subDims, type Dim } from '../dims.ts';
import { symAttrsOf } from '../symbolic.ts';
import type { Attrs } from '../node.ts';
import { around, forEachBroadcast, ontoResult } from './iterate.ts';
import { arity, fail, indexError, raise, wantDtype } from './rules.ts';

export interface ReshapeAttrs { shape: readonly number[] }
export interface TransposeAttrs { perm: readonly number[] }
export interface ConcatAttrs { axis: number }
export interface SliceAttrs { axis: number; start: number; end: number; step: number }
export interface DynamicSliceAttrs { axis: number; size: number }
export interface DynamicUpdateAttrs { axis: number }
export interface ExpandAttrs { shape: readonly number[] }
/** `wrap`: a negative index counts from the end (ONNX Gather), so indices are valid in [-rows, rows); otherwise in [0, rows) (PyTorch's embedding). */
export interface GatherAttrs { wrap?: boolean }
export interface GatherElementsAttrs { axis: number; wrap?: boolean }

const reshape = defineOp<ReshapeAttrs>({
  type: (ins, a) => {
    arity('reshape', ins, 1);
    const shape = [...(a.shape ?? [])];
    if (numel(shape) !== numel(ins[0]!.shape)) fail('reshape', `cannot reshape ${fmtShape(ins[0]!.shape)} (${numel(ins[0]!.shape)} elements) to ${fmtShape(shape)}`);
    return { dtype: ins[0]!.dtype, shape };
  },
  evaluate: (_n, [x]) => x!.data.slice(),
  view: true,
});

const transpose = defineOp<TransposeAttrs>({
  type: (ins, a) => {
    arity('transpose', ins, 1);
    const x = ins[0]!, perm = [...(a.perm ?? [])];
    if (perm.length !== x.shape.length || [...perm].sort().some((p, i) => p !== i)) fail('transpose', `perm [${perm}] is not a permutation of rank ${x.shape.length}`);
    return { dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) };
  },
  evaluate: (n, [x]) => {
    const perm = n.attrs.perm;
    const out = allocData(n.type);
    const xs = strides(x!.type.shape);
    const idx = new Array<number>(perm.length).fill(0);
    for (let o = 0; o < out.length; o++) {
      let off = 0;
      for (let d = 0; d < perm.length; d++) off += idx[d]! * xs[perm[d]!]!;
      out[o] = x!.data[off]!;
      for (let d = perm.length - 1; d >= 0; d--) { if (++idx[d]! < n.type.shape[d]!) break; idx[d] = 0; }
    }
    return out;
  },
});

const concat = defineOp<ConcatAttrs>({
  type: (ins, a) => {
    if (ins.length < 1) fail('concat', 'needs at least one input');
    const r = ins[0]!.shape.length, ax = normAxis(a.axis, r);
    let total = 0;
    for (const t of ins) {
      if (t.dtype !== ins[0]!.dtype || t.shape.length !== r || t.shape.some((d, i) => i !== ax && d !== ins[0]!.shape[i]))
        fail('concat', `inputs must agree except on axis ${ax}: ${ins.map((t) => fmtType(t)).join(', ')}`);
      total += t.shape[ax]!;
    }
    return { dtype: ins[0]!.dtype, shape: ins[0]!.shape.map((d, i) => (i === ax ? total : d)) };
  },
  evaluate: (n, ins) => {
    const ax = n.attrs.axis;
    const out = allocData(n.type);
    const [outer, total, inner] = around(n.type.shape, ax);
    let at = 0;
    for (const v of ins) {
      const len = v.type.shape[ax]!;
      for (let o = 0; o < outer; o++) for (let i = 0; i < len * inner; i++) out[(o * total + at) * inner + i] = v.data[o * len * inner + i]!;
      at += len;
    }
    return out;
  },
});

const slice = defineOp<SliceAttrs>({
  type: (ins, a) => {
    arity('slice', ins, 1);
    const x = ins[0]!, ax = normAxis(a.axis, x.shape.length);
    const { start, end, step } = a;
    if (!(step >= 1) || start < 0 || end > x.shape[ax]! || start >= end) fail('slice', `range ${start}:${end}:${step} is invalid for axis ${ax} of ${fmtShape(x.shape)}`);
    return { dtype: x.dtype, shape: x.shape.map((d, i) => (i === ax ? Math.ceil((end - start) / step) : d)) };
  },
  // With a step, a range over a size chosen at run time holds ⌈(end − start)/step⌉ = ⌊(end − start + step − 1)/step⌋ values: a floor.
  dims: ([x], a) => {
    if (!(a.step > 1)) return [];
    const sym = symAttrsOf(a as unknown as Attrs)?.values, ax = normAxis(a.axis, x!.shape.length);
    const span = subDims((sym?.end ?? a.end) as Dim, (sym?.start ?? a.start) as Dim);
    return x!.shape.map((_, i) => (i === ax ? floorDim(addDims(span, a.step - 1), a.step) : undefined));
  },
  evaluate: (n, [x]) => {
    const { axis, start, step } = n.attrs;
    const [outer, len, inner] = around(x!.type.shape, axis);
    const cnt = n.type.shape[axis]!;
    const out = allocData(n.type);
    for (let o = 0; o < outer; o++) for (let j = 0; j < cnt; j++) for (let i = 0; i < inner; i++)
      out[(o * cnt + j) * inner + i] = x!.data[(o * len + start + j * step) * inner + i]!;
    return out;
  },
});

/** gather's error for an index outside the table's rows: {0} the index, {1} the rows. */
export const gatherError = (label: string | undefined, wrap: boolean) => indexError('gather', label, `index {0} is outside [${wrap ? '-{1}' : '0'}, {1})`);

/** The indices a gather of `rows` rows accepts, [lo, hi). */
export const gatherRange = (rows: number, a: GatherAttrs): [number, number] => [a.wrap ? -rows : 0, rows];

/**
 * A gather table's rows when they are known before the call (its first axis is not a named size).
 * Then the runtime checks indices that are an entry's input against them (their manifest range)
 * and the code does not; otherwise, or for computed indices, the code checks each index.
 */
export const fixedRows = (table: TensorType): number | undefined => {
  const d = dimsOf(table)[0];
  return typeof d === 'number' ? d : undefined;
};

const gather = defineOp<GatherAttrs>({
  type: (ins) => {
    arity('gather', ins, 2);
    const [table, idx] = ins as [TensorType, TensorType];
    wantDtype('gather', 'indices', idx, 'i32');
    if (table.shape.length < 1) fail('gather', `table must have rank >= 1, got ${fmtType(table)}`);
    return { dtype: table.dtype, shape: [...idx.shape, ...table.shape.slice(1)] };
  },
  evaluate: (n, [table, idx]) => {
    const rows = table!.type.shape[0]!, row = numel(table!.type.shape.slice(1));
    const out = allocData(n.type);
    for (let i = 0; i < idx!.data.length; i++) {
      const k = idx!.data[i]!, r = n.attrs.wrap && k < 0 ? k + rows : k;
      if (r < 0 || r >= rows) raise(gatherError(n.label, n.attrs.wrap === true), k, rows);
      for (let j = 0; j < row; j++) out[i * row + j] = table!.data[r * row + j]!;
    }
    return out;
  },
});

/** gather_elements' error for an index outside its axis: {0} the index, {1} the axis' size. */
export const gatherElementsError = (label: string | undefined, axis: number, wrap: boolean) => indexError('gather_elements', label, `index {0} is outside [${wrap ? '-{1}' : '0'}, {1}) along axis ${axis}`);

// torch.gather(x, axis, idx) / ONNX GatherElements: out[i…] = x[i… with i_axis replaced by
// idx[i…]]; with `wrap` a negative index counts from the end of the axis (ONNX's rule; torch
// raises). idx has x's rank and on the other axes sizes up to x's (torch's rule; ONNX's reference
// wants them equal). An index outside [0, n) ([-n, n) with wrap) raises here and traps in the
// compiled code.
const gatherElements = defineOp<GatherElementsAttrs>({
  type: (ins, a) => {
    arity('gather_elements', ins, 2);
    const [x, idx] = ins as [TensorType, TensorType];
    wantDtype('gather_elements', 'indices', idx, 'i32');
    const ax = normAxis(a.axis, x.shape.length);
    if (idx.shape.length !== x.shape.length || idx.shape.some((d, i) => i !== ax && d > x.shape[i]!))
      fail('gather_elements', `indices ${fmtType(idx)} must have the rank of ${fmtType(x)} and no larger size on any axis but ${ax}`);
    return { dtype: x.dtype, shape: [...idx.shape] };
  },
  evaluate: (n, [x, idx]) => {
    const ax = normAxis(n.attrs.axis, x!.type.shape.length), xs = strides(x!.type.shape), len = x!.type.shape[ax]!, shape = idx!.type.shape;
    const out = allocData(n.type), at = new Array<number>(shape.length).fill(0);
    for (let o = 0; o < out.length; o++) {
      const k = idx!.data[o]!, r = n.attrs.wrap && k < 0 ? k + len : k;
      if (r < 0 || r >= len) raise(gatherElementsError(n.label, ax, n.attrs.wrap === true), k, len);
      let off = 0;
      for (let d = 0; d < shape.length; d++) off += (d === ax ? r : at[d]!) * xs[d]!;
      out[o] = x!.data[off]!;
      for (let d = shape.length - 1; d >= 0; d--) { if (++at[d]! < shape[d]!) break; at[d] = 0; }
    }
    return out;
  },
});

// x.narrow(axis, index, size) with `index` an i32[] read at run time, clamped to [0, dim − size]
// (as XLA's DynamicSlice; torch.narrow would raise): the compiled code never reads outside x.
const dynamicSlice = defineOp<DynamicSliceAttrs>({
  type: (ins, a) => {
    arity('dynamic_slice', ins, 2);
    const [x, i] = ins as [TensorType, TensorType];
    const ax = normAxis(a.axis, x.shape.length), size = a.size;
    if (i.dtype !== 'i32' || i.shape.length !== 0) fail('dynamic_slice', `index must be i32[], got ${fmtType(i)}`);
    if (!(size >= 1 && size <= x.shape[ax]!)) fail('dynamic_slice', `size ${size} does not fit axis ${ax} of ${fmtShape(x.shape)}`);
    return { dtype: x.dtype, shape: x.shape.map((d, k) => (k === ax ? size : d)) };
  },
  evaluate: (n, [x, idx]) => {
    const ax = n.attrs.axis, size = n.attrs.size;
    const [outer, len, inner] = around(x!.type.shape, ax);
    const at = Math.min(Math.max(idx!.data[0]!, 0), len - size);
    const out = allocData(n.type);
    for (let o = 0; o < outer; o++) for (let j = 0; j < size * inner; j++) out[o * size * inner + j] = x!.data[(o * len + at) * inner + j]!;
    return out;
  },
});

// A copy of x with `update` written at `index` (an i32[] read at run time, clamped to
// [0, dim − update's size] like dynamic_slice's) along `axis`.
const dynamicUpdate = defineOp<DynamicUpdateAttrs>({
  type: (ins, a) => {
    arity('dynamic_update', ins, 3);
    const [x, u, i] = ins as [TensorType, TensorType, TensorType];
    const ax = normAxis(a.axis, x.shape.length);
    if (i.dtype !== 'i32' || i.shape.length !== 0) fail('dynamic_update', `index must be i32[], got ${fmtType(i)}`);
    if (u.dtype !== x.dtype || u.shape.length !== x.shape.length || u.shape.some((d, k) => (k === ax ? d > x.shape[k]! : d !== x.shape[k])))
      fail('dynamic_update', `update ${fmtType(u)} does not fit ${fmtType(x)} along axis ${ax}`);
    return x;
  },
  evaluate: (n, [x, u, idx]) => {
    const ax = n.attrs.axis;
    const [outer, len, inner] = around(x!.type.shape, ax);
    const size = u!.type.shape[ax]!, at = Math.min(Math.max(idx!.data[0]!, 0), len - size);
    const out = x!.data.slice();
    for (let o = 0; o < outer; o++) for (let j = 0; j < size * inner; j++) out[(o * len + at) * inner + j] = u!.data[o * size * inner + j]!;
    return out;
  },
});

// x broadcast to `shape` (PyTorch's expand, materialised): e.g. zeros of a run-time batch size.
const expand = defineOp<ExpandAttrs>({
  type: (ins, a) => {
    arity('expand', ins, 1);
    const x = ins[0]!, shape = [...(a.shape ?? [])], b = broadcastShapes(x.shape, shape);
    if (!b || !sameShape(b, shape)) fail('expand', `cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
    return { dtype: x.dtype, shape };
  },
  evaluate: (n, [x]) => {
    const out = allocData(n.type);
    forEachBroadcast(n.type.shape, [x!.type.shape], (o, [ox]) => { out[o] = x!.data[ox!]!; });
    return out;
  },
  broadcasts: ontoResult,
});

// A copy of its input into a buffer of its own (a temporary that effect sequencing inserts).
const copy = defineOp<NoAttrs>({
  type: (ins) => { arity('copy', ins, 1); return ins[0]!; },
  evaluate: (_n, [x]) => x!.data.slice(),
  traits: { noFold: true },
});

export const SHAPE_OPS = {
  reshape, transpose, concat, slice, gather, gather_elements: gatherElements, expand, dynamic_slice: dynamicSlice, dynamic_update: dynamicUpdate, copy,
};
