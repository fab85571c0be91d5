// Scatter ops: a copy of `data` with `updates` written at run-time indices (torch's x.scatter,
// scatter_add and indexed assignment; ONNX ScatterElements and ScatterND). The result is a buffer
// of its own: the input is never written (no inPlace, no overwritesInput: an update may alias it).
// Here too gather_nd, ScatterND's inverse (ONNX GatherND): the slices those indices name, read.
//
// Legend: data [d0 … d(r-1)] of rank r; ScatterND's indices [… , k] hold k coordinates each,
// addressing a slice data[i0, …, i(k-1), :, …, :] of S = d(k)·…·d(r-1) elements.
//
// Updates apply in the indices' row-major order. With reduction 'none' an element several
// indices name keeps the last update written (ONNX leaves it undefined; ORT and torch's CPU
// kernels write in this order too); with add/mul/max/min they combine with the element one by
// one in that order, each step rounded to the data's type (f32 products and sums, i32 wrapping),
// exactly as the compiled loop does. max/min propagate NaN (np.maximum's rule). A negative index
// counts from the end of its axis; one outside [-n, n) raises here and traps in the compiled code.

import { allocData, fmtType, normAxis, numel, strides, type DType, type TensorType } from '../types.ts';
import { defineOp } from './def.ts';
import { arity, fail, indexError, raise, wantDtype } from './rules.ts';

export type ScatterReduction = 'none' | 'add' | 'mul' | 'max' | 'min';
export const SCATTER_REDUCTIONS: readonly ScatterReduction[] = ['none', 'add', 'mul', 'max', 'min'];
export interface ScatterElementsAttrs { axis: number; reduction: ScatterReduction }
export interface ScatterNdAttrs { reduction: ScatterReduction }
/** `batchDims`: the leading axes data and indices share, each index tuple addressing its own batch's data. */
export interface GatherNdAttrs { batchDims: number }

/** A scatter's error for an index outside its axis: {0} the index, {1} the axis' size. */
export const scatterError = (op: string, label: string | undefined, axis: number) => indexError(op, label, `index {0} is outside [-{1}, {1}) along axis ${axis}`);

/** The element an update leaves: `old` combined with `u` (each step in the data's type). */
const combine = (r: ScatterReduction, dtype: DType): ((old: number, u: number) => number) => {
  switch (r) {
    case 'none': return (_, u) => u;
    case 'add': return (a, u) => a + u;                 // stored into the typed array: f32-rounded, or i32-wrapped
    case 'mul': return dtype === 'i32' ? Math.imul : (a, u) => a * u;
    case 'max': return (a, u) => Math.max(a, u);        // NaN wins, as f32.max
    case 'min': return (a, u) => Math.min(a, u);
  }
};

/** The checks both scatters share: the updates' dtype, the indices' and a reduction the dtype has. */
function common(op: string, data: TensorType, idx: TensorType, upd: TensorType, r: ScatterReduction): void {
  wantDtype(op, 'indices', idx, 'i32');
  if (upd.dtype !== data.dtype) fail(op, `updates ${fmtType(upd)} must have the dtype of data ${fmtType(data)}`);
  if (!SCATTER_REDUCTIONS.includes(r)) fail(op, `reduction '${r}' is not one of ${SCATTER_REDUCTIONS.join(', ')}`);
  if (r !== 'none' && data.dtype === 'bool') fail(op, `reduction '${r}' needs f32 or i32 data, got ${fmtType(data)}`);
  if (data.shape.length < 1) fail(op, `data must have rank >= 1, got ${fmtType(data)}`);
}

// x.scatter(axis, idx, upd) / ONNX ScatterElements: out[i… with i_axis replaced by idx[i…]] =
// upd[i…]. idx and upd have one shape, of data's rank and no larger than data off the axis.
const scatterElements = defineOp<ScatterElementsAttrs>({
  type: (ins, a) => {
    arity('scatter_elements', ins, 3);
    const [data, idx, upd] = ins as [TensorType, TensorType, TensorType];
    common('scatter_elements', data, idx, upd, a.reduction);
    const ax = normAxis(a.axis, data.shape.length);
    if (idx.shape.length !== data.shape.length || idx.shape.some((d, i) => i !== ax && d > data.shape[i]!))
      fail('scatter_elements', `indices ${fmtType(idx)} must have the rank of ${fmtType(data)} and no larger size on any axis but ${ax}`);
    if (upd.shape.length !== idx.shape.length || upd.shape.some((d, i) => d !== idx.shape[i]))
      fail('scatter_elements', `updates ${fmtType(upd)} must have the shape of indices ${fmtType(idx)}`);
    return data;
  },
  evaluate: (n, [data, idx, upd]) => {
    const ax = normAxis(n.attrs.axis, data!.type.shape.length), ds = strides(data!.type.shape), len = data!.type.shape[ax]!;
    const shape = idx!.type.shape, f = combine(n.attrs.reduction, n.type.dtype);
    const out = data!.data.slice(), at = new Array<number>(shape.length).fill(0);
    for (let u = 0; u < idx!.data.length; u++) {
      const k = idx!.data[u]!, r = k < 0 ? k + len : k;
      if (r < 0 || r >= len) raise(scatterError('scatter_elements', n.label, ax), k, len);
      let off = 0;
      for (let d = 0; d < shape.length; d++) off += (d === ax ? r : at[d]!) * ds[d]!;
      out[off] = f(out[off]!, upd!.data[u]!);
      for (let d = shape.length - 1; d >= 0; d--) { if (++at[d]! < shape[d]!) break; at[d] = 0; }
    }
    return out;
  },
});

// ONNX ScatterND (torch's index_put, y[:, idx] = v): indices [… , k] name slices of data by their
// first k coordinates; updates hold one slice per index tuple, shaped indices[:-1] ++ data[k:].
const scatterNd = defineOp<ScatterNdAttrs>({
  type: (ins, a) => {
    arity('scatter_nd', ins, 3);
    const [data, idx, upd] = ins as [TensorType, TensorType, TensorType];
    common('scatter_nd', data, idx, upd, a.reduction);
    const q = idx.shape.length, k = idx.shape[q - 1] ?? 0;
    if (q < 1 || k < 1 || k > data.shape.length) fail('scatter_nd', `indices ${fmtType(idx)} must end in an axis of 1 to ${data.shape.length} coordinates (data ${fmtType(data)})`);
    const want = [...idx.shape.slice(0, -1), ...data.shape.slice(k)];
    if (upd.shape.length !== want.length || upd.shape.some((d, i) => d !== want[i]))
      fail('scatter_nd', `updates ${fmtType(upd)} must have shape [${want.join(', ')}] (indices [${idx.shape.join(', ')}] into data [${data.shape.join(', ')}])`);
    return data;
  },
  evaluate: (n, [data, idx, upd]) => {
    const dshape = data!.type.shape, ds = strides(dshape), k = idx!.type.shape.at(-1)!;
    const slice = numel(dshape.slice(k)), f = combine(n.attrs.reduction, n.type.dtype);
    const out = data!.data.slice();
    for (let t = 0; t < idx!.data.length / k; t++) {
      let off = 0;
      for (let j = 0; j < k; j++) {
        const v = idx!.data[t * k + j]!, len = dshape[j]!, r = v < 0 ? v + len : v;
        if (r < 0 || r >= len) raise(scatterError('scatter_nd', n.label, j), v, len);
        off += r * ds[j]!;
      }
      for (let e = 0; e < slice; e++) out[off + e] = f(out[off + e]!, upd!.data[t * slice + e]!);
    }
    return out;
  },
});

/** gather_nd's error for a coordinate outside its axis: {0} the index, {1} the axis' size. */
export const gatherNdError = (label: string | undefined, axis: number) => indexError('gather_nd', label, `index {0} is outside [-{1}, {1}) along axis ${axis}`);

/** gather_nd's sizes: B batches, T index tuples per batch, k coordinates each, slices of S elements. */
function gatherNdSizes(data: readonly number[], idx: readonly number[], b: number) {
  const k = idx.at(-1)!;
  return { B: numel(data.slice(0, b)), T: numel(idx.slice(b, -1)), k, S: numel(data.slice(b + k)) };
}

// ONNX GatherND: data [b…, d(b) … d(r-1)], indices [b…, q…, k] (b = batchDims leading axes equal
// in both); out[b…, q…] = data[b…, i0 … i(k-1), :, …] (the slice of data[b+k:] the tuple names),
// shaped indices[:-1] ++ data[b+k:]. A negative coordinate counts from the end of its axis; one
// outside [-n, n) raises here and traps in the compiled code.
const gatherNd = defineOp<GatherNdAttrs>({
  type: (ins, a) => {
    arity('gather_nd', ins, 2);
    const [data, idx] = ins as [TensorType, TensorType];
    wantDtype('gather_nd', 'indices', idx, 'i32');
    const b = a.batchDims, r = data.shape.length, q = idx.shape.length;
    if (!(Number.isInteger(b) && b >= 0 && b < Math.min(r, q))) fail('gather_nd', `batchDims ${b} must be in [0, ${Math.min(r, q)}) for data ${fmtType(data)} and indices ${fmtType(idx)}`);
    if (idx.shape.slice(0, b).some((d, i) => d !== data.shape[i])) fail('gather_nd', `the first ${b} axes of indices ${fmtType(idx)} and data ${fmtType(data)} must be equal (batchDims ${b})`);
    const k = idx.shape[q - 1]!;
    if (k < 1 || k > r - b) fail('gather_nd', `indices ${fmtType(idx)} must end in an axis of 1 to ${r - b} coordinates (data ${fmtType(data)}, batchDims ${b})`);
    return { dtype: data.dtype, shape: [...idx.shape.slice(0, -1), ...data.shape.slice(b + k)] };
  },
  evaluate: (n, [data, idx]) => {
    const b = n.attrs.batchDims, dshape = data!.type.shape.slice(b), ds = strides(dshape);
    const { B, T, k, S } = gatherNdSizes(data!.type.shape, idx!.type.shape, b), block = numel(dshape);
    const out = allocData(n.type);
    for (let g = 0; g < B * T; g++) {
      let off = Math.floor(g / T) * block;
      for (let j = 0; j < k; j++) {
        const v = idx!.data[g * k + j]!, len = dshape[j]!, r = v < 0 ? v + len : v;
        if (r < 0 || r >= len) raise(gatherNdError(n.label, b + j), v, len);
        off += r * ds[j]!;
      }
      for (let e = 0; e < S; e++) out[g * S + e] = data!.data[off + e]!;
    }
    return out;
  },
});

export const SCATTER_OPS = { scatter_elements: scatterElements, scatter_nd: scatterNd, gather_nd: gatherNd };
