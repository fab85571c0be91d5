// ONNX shape operators (reshape, gather, slice, concat, pad, …) and sources (Constant, Shape, Range, …).
// Flatten, Squeeze and Unsqueeze keep symbolic sizes through the DSL's dim-aware reshape, Concat
// through its dim-aware kernel (along a symbolic axis too: [batch] and [batch] make [2*batch]);
// Split and Slice take them on every axis but the one they cut (fixedAxes), where ONNX's sizes
// would be those at run time; Pad grows a symbolic axis too, by blocks and slices from its actual
// ends, where its least size (its declared min, else 1) holds the pad (checkPadAxis). On tensors with symbolic sizes the ops read `dims`
// (['batch', 8]), never `shape` (the bounds), and take shapes as size values (ctx.ts): a Reshape
// to [seq, batch*4, 8] is the DSL's reshape by dims.

import { numel } from '../../ir/types.ts';
import { canonDim, divDims, evalDim, isSymbolic, numelDims, subDims, type Dim } from '../../ir/dims.ts';
import { arange, cat, constant, gatherElements as gatherElementsOf, leastSize, record, Tensor, traceBounds } from '../../dsl/tensor.ts';
import { DT, dtypeName, type OnnxTensor } from '../proto.ts';
import { Ctx, emptyVal, host, irDtype, isHost, sizeValue, UnsupportedError, type AnyVal, type EmptyVal, type Host, type SizeVal } from '../ctx.ts';
import { fixedAxes, full, normAxis, same } from './common.ts';
import { checkPadAxis, padAxis, pixelShuffle } from '../../dsl/functional.ts';

const isSym = (t: Tensor): boolean => t.node.type.dims !== undefined;
const fmtDims = (ds: readonly Dim[]): string => `[${ds.join(', ')}]`;
/** A reshape to `dims` (a tensor with symbolic sizes goes through the DSL's reshape by dims). */
const reshapeTo = (x: Tensor, dims: Dim[]): Tensor => (isSym(x) || dims.some(isSymbolic) ? x.reshape(...dims) : record('reshape', [x], { shape: dims as number[] }));

/** Axes of a Squeeze/Unsqueeze/Reduce: an attribute before `since`, input 1 from it. */
export function axesOf(c: Ctx, since: number): number[] | undefined {
  if (c.opset < since) return c.intList('axes');
  return c.has(1) ? c.ints(1, 'axes') : undefined;
}

export function reshape(c: Ctx): Tensor {
  c.only('allowzero', 'shape');
  const x = c.t(0, 'data');
  const allowzero = c.int('allowzero', 0);
  if (c.opset >= 5 && c.isSizes(1)) return reshapeDims(c, x, c.dims(1, 'shape'), allowzero);
  const shape = c.opset < 5 ? (c.intList('shape') ?? c.unsupported("missing 'shape'")) : c.ints(1, 'shape');
  if (isSym(x)) return reshapeDims(c, x, shape, allowzero);
  const out = shape.map((d, i) => (d === 0 && !allowzero ? (x.maxShape[i] ?? c.unsupported(`shape [${shape}]: dim 0 at ${i} copies a dim the input lacks`)) : d));
  if (out.includes(0)) throw new UnsupportedError(`${c.where}: cannot reshape [${x.maxShape}] (${numel(x.maxShape)} elements) to [${shape}] (none)`);
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1), free = out.filter((d) => d === -1).length;
  if (free > 1 || out.some((d) => d < -1) || (free && numel(x.maxShape) % known)) c.unsupported(`shape [${shape}] for an input of shape [${x.maxShape}]`);
  const full = out.map((d) => (d === -1 ? numel(x.maxShape) / known : d));
  if (numel(full) !== numel(x.maxShape)) throw new UnsupportedError(`${c.where}: cannot reshape [${x.maxShape}] to [${shape}]`);
  return record('reshape', [x], { shape: full });
}

/**
 * Reshape with symbolic sizes: 0 copies the input's dim, -1 is what is left (it must divide
 * exactly for every size), and the element counts must agree as polynomials of the sizes (a
 * fixed target for a symbolic input is refused, not read at the bounds).
 */
function reshapeDims(c: Ctx, x: Tensor, shape: Dim[], allowzero: number): Tensor {
  const xd = x.dims;
  const out = shape.map((d, i) => (d === 0 && !allowzero ? (xd[i] ?? c.unsupported(`shape ${fmtDims(shape)}: dim 0 at ${i} copies a dim the input lacks`)) : d));
  if (out.includes(0)) c.unsupported(`a zero-size shape ${fmtDims(shape)}`);
  if (out.filter((d) => d === -1).length > 1 || out.some((d) => typeof d === 'number' && d < -1)) c.unsupported(`shape ${fmtDims(shape)} for an input of shape ${fmtDims(xd)}`);
  const free = out.includes(-1) ? divDims(numelDims(xd), numelDims(out.filter((d) => d !== -1))) : undefined;
  if (out.includes(-1) && free === undefined) c.unsupported(`shape ${fmtDims(shape)} for an input of shape ${fmtDims(xd)} (the -1 is not a whole number of elements for every size)`);
  const dims = out.map((d) => (d === -1 ? free! : canonDim(d)));
  if (canonDim(numelDims(dims)) !== canonDim(numelDims(xd))) c.unsupported(`reshaping ${fmtDims(xd)} to ${fmtDims(shape)} (the element counts differ for some sizes)`);
  return reshapeTo(x, dims);
}

/** x[idx] along `axis` for constant or run-time indices (gather reads rows: move the axis first). */
/** `wrap`: negative indices count from the end (ONNX's rule, for indices known only at run time). */
function gatherAxis(x: Tensor, idx: Tensor, axis: number, wrap = false): Tensor {
  const attrs = wrap ? { wrap } : {};
  if (axis === 0) return record('gather', [x, idx], attrs);
  const r = x.rank, perm = [axis, ...[...Array(r).keys()].filter((a) => a !== axis)];
  const g = record('gather', [x.permute(...perm), idx], attrs); // [idx..., rest]
  const ir = idx.rank, back: number[] = [];
  for (let i = 0; i < axis; i++) back.push(ir + i);
  for (let i = 0; i < ir; i++) back.push(i);
  for (let i = axis + 1; i < r; i++) back.push(ir + i - 1);
  return g.permute(...back);
}

export function gather(c: Ctx): Tensor {
  c.only('axis');
  const x = c.t(0, 'data');
  const axis = normAxis(c, c.int('axis', 0), x.rank);
  const dim = x.dims[axis]!;
  if (isSymbolic(dim)) return gatherSymbolic(c, x, axis, dim);
  return gatherBy(c, x, axis);
}

/**
 * x[indices] along a fixed-size `axis` by ONNX Gather's rule, the indices being input `i` of the
 * node: constant ones are wrapped and checked here, run-time ones wrap in the code and one
 * outside [-n, n) traps naming it (the IR's gather with `wrap`). RotaryEmbedding's position_ids too.
 */
export function gatherBy(c: Ctx, x: Tensor, axis: number, i = 1, what = 'indices'): Tensor {
  return c.isConst(i) ? gatherAxis(x, constIndices(c, axis, x.maxShape[axis]!, i, what), axis) : gatherAxis(x, runTimeIndices(c, i, what), axis, true);
}

/** Input i's constant indices along an axis of size n, a negative one counted from the end; one out of range is the model's error, found here. */
function constIndices(c: Ctx, axis: number, n: number, i = 1, what = 'indices'): Tensor {
  const h = c.host(i, what);
  const vals = Array.from(h.data as ArrayLike<number>, (v) => {
    const r = v < 0 ? v + n : v;
    if (!(r >= 0 && r < n)) throw new UnsupportedError(`${c.where}: ${what === 'indices' ? '' : `${what}: `}index ${v} is out of range for axis ${axis} of size ${n}`);
    return r;
  });
  return constant(Int32Array.from(vals), h.dims, 'i32');
}

/** Input i's indices computed at run time (int64 and int32 arrive as i32). */
function runTimeIndices(c: Ctx, i = 1, what = 'indices'): Tensor {
  const idx = c.t(i, what);
  if (idx.dtype !== 'i32') c.unsupported(`${what} of type ${idx.dtype}`);
  return idx;
}

/**
 * Gather along an axis of symbolic size: constant indices as slices of the actual size (a
 * negative one counts from the actual end; one that some size does not have is a shape error).
 * Run-time indices go to the IR's gather, whose code wraps and checks them against the size of
 * the call (PyTorch's `out[arange(batch), lengths − 1]` gathers rows of [batch·seq, H]).
 */
function gatherSymbolic(c: Ctx, x: Tensor, axis: number, dim: string): Tensor {
  if (!c.isConst(1)) return gatherAxis(x, runTimeIndices(c), axis, true);
  const h = c.host(1, 'indices');
  const idx = Array.from(h.data as ArrayLike<number>, Number);
  if (h.dims.length > 1) c.unsupported(`indices of rank ${h.dims.length} along axis ${axis} of the symbolic size ${dim}`);
  if (h.dims.length === 0) return x.select(axis, idx[0]!);
  return cat(idx.map((i) => x.select(axis, i).unsqueeze(axis)), axis);
}

/**
 * GatherElements (torch.gather): the DSL's gather (dsl/tensor.ts gatherElements, the IR's
 * gather_elements). Constant indices are checked and wrapped here; run-time ones with ONNX's
 * `wrap`: a negative index counts from the end of the axis in the code, and one outside [-n, n)
 * traps with the reference's message (it never reads outside the data).
 */
export function gatherElements(c: Ctx): Tensor {
  c.only('axis');
  const x = c.t(0, 'data');
  const axis = normAxis(c, c.int('axis', 0), x.rank), n = x.maxShape[axis]!;
  // Constant indices are checked against the axis's size here, which a symbolic one has only at run time.
  if (c.isConst(1) && isSymbolic(x.dim(axis))) c.unsupported(`constant indices along axis ${axis} of the symbolic size '${x.dim(axis)}' (they are checked at compile time)`);
  const idx = c.isConst(1) ? constIndices(c, axis, n) : runTimeIndices(c);
  if (idx.rank !== x.rank || idx.maxShape.some((d, i) => i !== axis && d > x.maxShape[i]!))
    c.unsupported(`indices of shape [${idx.maxShape}] for data of shape [${x.maxShape}] (the same rank, and no larger than the data on any axis but ${axis})`);
  // Within the data at every size: a symbolic axis of the data takes the same size (or 1) in the indices.
  const past = x.dims.findIndex((d, i) => i !== axis && isSymbolic(d) && idx.dims[i] !== d && idx.dims[i] !== 1);
  if (past >= 0) c.unsupported(`indices ${fmtDims(idx.dims)} for data ${fmtDims(x.dims)}: axis ${past} of the indices must be the data's '${x.dims[past]}' (or 1) to fit it at every size`);
  return gatherElementsOf(x, axis, idx, !c.isConst(1));
}

/**
 * Tile (torch's x.repeat, the DSL's Tensor.repeat). The repeats must be known at compile time,
 * one per axis (ONNX's rule; torch's may add leading axes), none 0 (ONNX allows it: an empty
 * tensor, which the IR has not).
 */
export function tile(c: Ctx): Tensor {
  const x = c.t(0, 'input');
  const reps = c.opset < 6 ? c.unsupported('Tile before opset 6 (tiles and axis inputs)') : c.ints(1, 'repeats');
  if (reps.length !== x.rank) c.unsupported(`repeats [${reps}] for an input of rank ${x.rank} (one repeat per axis)`);
  if (reps.some((r) => !Number.isInteger(r) || r < 1)) c.unsupported(`repeats [${reps}] (each must be ≥ 1; 0 would make a zero-size tensor)`);
  return x.repeat(reps);
}

/** ONNX Slice's clamping of one axis; the positions it reads. */
function sliceRange(dim: number, start: number, end: number, step: number): number[] {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  const out: number[] = [];
  if (step > 0) { start = Math.min(Math.max(start, 0), dim); end = Math.min(Math.max(end, 0), dim); for (let i = start; i < end; i += step) out.push(i); }
  else { start = Math.min(Math.max(start, 0), dim - 1); end = Math.min(Math.max(end, -1), dim - 1); for (let i = start; i > end; i += step) out.push(i); }
  return out;
}

function sliceAxis(c: Ctx, x: Tensor, axis: number, pos: number[]): Tensor {
  const dim = x.maxShape[axis]!;
  if (pos.length === 0) c.unsupported(`an empty slice of axis ${axis}`);
  const step = pos.length > 1 ? pos[1]! - pos[0]! : 1;
  if (step > 0 && pos.every((p, i) => p === pos[0]! + i * step)) {
    if (pos[0] === 0 && pos.length === dim && step === 1) return x;
    return record('slice', [x], { axis, start: pos[0]!, end: pos[pos.length - 1]! + 1, step });
  }
  return gatherAxis(x, constant(Int32Array.from(pos), [pos.length], 'i32'), axis);
}

/** The elements of a host value at the given positions along every axis. */
function hostGather(h: Host, pos: number[][]): Host {
  const dims = pos.map((p) => p.length), n = numel(dims), st: number[] = [];
  for (let i = h.dims.length - 1, acc = 1; i >= 0; i--) { st[i] = acc; acc *= h.dims[i]!; }
  const vals: number[] = new Array<number>(n), idx = new Array<number>(dims.length).fill(0);
  for (let o = 0; o < n; o++) {
    let off = 0;
    for (let d = 0; d < dims.length; d++) off += pos[d]![idx[d]!]! * st[d]!;
    vals[o] = Number(h.data[off]);
    for (let d = dims.length - 1; d >= 0; d--) { if (++idx[d]! < dims[d]!) break; idx[d] = 0; }
  }
  return host(h.dtype, dims, h.dtype === DT.FLOAT ? Float32Array.from(vals) : h.dtype === DT.BOOL ? Uint8Array.from(vals) : vals);
}

export function slice(c: Ctx): AnyVal {
  const x = c.t(0, 'data');
  const { starts, ends, axes, steps } = sliceParams(c);
  if (isSym(x) || [...starts, ...ends].some(isSymbolic)) return sliceSymbolic(c, x, starts, ends, axes, steps);
  return sliceStatic(c, x, starts as number[], ends as number[], axes, steps);
}

function sliceStatic(c: Ctx, x: Tensor, starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined): AnyVal {
  if (c.isConst(0)) {
    // A compile-time value (shape arithmetic) may slice to nothing: slice it here.
    const h = c.host(0, 'data');
    const pos = h.dims.map((n) => Array.from({ length: n }, (_, i) => i));
    starts.forEach((s0, i) => { const a = normAxis(c, axes?.[i] ?? i, h.dims.length); pos[a] = sliceRange(h.dims[a]!, s0, ends[i]!, steps?.[i] ?? 1); });
    return hostGather(h, pos);
  }
  const pos = sliceAxes(c, x.maxShape, starts, ends, axes, steps);
  if (pos.some((p) => p?.length === 0)) return emptyVal(x.dtype, x.maxShape.map((d, a) => pos[a]?.length ?? d), `the output of ${c.where}, which slices nothing of ${fmtDims(x.maxShape)}`);
  let y = x;
  pos.forEach((p, axis) => { if (p) y = sliceAxis(c, y, axis, p); });
  return y === x ? x : y;
}

/** The positions a static Slice reads along each axis it names (undefined: the whole axis). */
export function sliceAxes(c: Ctx, dims: readonly number[], starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined): (number[] | undefined)[] {
  const pos: (number[] | undefined)[] = dims.map(() => undefined);
  starts.forEach((s, i) => {
    const axis = normAxis(c, axes?.[i] ?? i, dims.length), step = steps?.[i] ?? 1;
    if (step === 0) c.unsupported('step 0');
    if (pos[axis]) c.unsupported(`axis ${axis} named twice in axes [${axes}]`);
    pos[axis] = sliceRange(dims[axis]!, s, ends[i]!, step);
  });
  return pos;
}

/** Slice's starts, ends, axes and steps, from attributes before opset 10 and inputs from it. */
export function sliceParams(c: Ctx): { starts: Dim[]; ends: Dim[]; axes?: number[]; steps?: number[] } {
  let starts: Dim[], ends: Dim[], axes: number[] | undefined, steps: number[] | undefined;
  if (c.opset < 10) { c.only('starts', 'ends', 'axes'); starts = c.intList('starts') ?? []; ends = c.intList('ends') ?? []; axes = c.intList('axes'); }
  else { starts = c.dims(1, 'starts'); ends = c.dims(2, 'ends'); if (c.has(3)) axes = c.ints(3, 'axes'); if (c.has(4)) steps = c.ints(4, 'steps'); }
  if (starts.length !== ends.length) c.unsupported(`starts [${starts}] and ends [${ends}] of different lengths`);
  return { starts, ends, ...(axes ? { axes } : {}), ...(steps ? { steps } : {}) };
}

/**
 * Slice where the input or the bounds are symbolic: an axis whose size and bounds are numbers is
 * sliced as before; on another, step 1 only, and ONNX's clamping where it holds for every size
 * (an end at or past the bound is the actual end; a negative start or end counts from the actual
 * end). Bounds some size would clamp differently are left to the DSL's check, which refuses them.
 */
function sliceSymbolic(c: Ctx, x: Tensor, starts: Dim[], ends: Dim[], axes: number[] | undefined, steps: number[] | undefined): Tensor {
  const bounds = { ...traceBounds(), ...x.bounds };
  let y = x;
  starts.forEach((s, i) => {
    const axis = normAxis(c, axes?.[i] ?? i, x.rank), step = steps?.[i] ?? 1, e = ends[i]!, n = x.dims[axis]!;
    if (step === 0) c.unsupported('step 0');
    if (typeof n === 'number' && typeof s === 'number' && typeof e === 'number') { y = sliceAxis(c, y, axis, sliceRange(n, s, e, step)); return; }
    const bound = evalDim(n, bounds);
    // PyTorch's flip: step −1 from the last element past the first, whatever the size.
    if (step === -1 && typeof s === 'number' && (s === -1 || s >= bound - 1) && typeof e === 'number' && e <= -bound - 1) { y = y.flip(axis); return; }
    if (step !== 1) c.unsupported(`step ${step} along axis ${axis} (size ${n}) from ${s} to ${e}: a symbolic slice takes step 1 (or −1 over the whole axis)`);
    const at = (v: Dim, end: boolean): Dim => {
      if (isSymbolic(v)) return v;
      if (v >= bound) return end ? n : c.unsupported(`start ${v} along axis ${axis} of size ${n}, past its end for every size`);
      if (v < 0) return v <= -bound ? (end ? c.unsupported(`end ${v} along axis ${axis} of size ${n}, before its start for every size`) : 0) : subDims(n, -v);
      return v;
    };
    y = y.slice(axis, at(s, false), at(e, true));
  });
  return y;
}

/** Split's sizes of an axis of `dim`: input or attribute `split`, else even parts (the last smaller from opset 18). */
export function splitSizes(c: Ctx, dim: number): number[] {
  const outs = c.node.outputs.length;
  let sizes = c.opset < 13 ? c.intList('split') : c.has(1) ? c.ints(1, 'split') : undefined;
  if (!sizes) {
    const num = c.opset >= 18 && c.attr('num_outputs') ? c.int('num_outputs', outs) : outs;
    const each = Math.ceil(dim / num);
    sizes = Array.from({ length: num }, (_, i) => Math.min(each, dim - i * each));
    if (c.opset < 18 && dim % num) c.unsupported(`an uneven split of ${dim} into ${num} outputs`);
  }
  if (sizes.reduce((a, b) => a + b, 0) !== dim || sizes.some((s) => !Number.isInteger(s) || s < 0)) c.unsupported(`split sizes [${sizes}] for a dimension of ${dim}`);
  return sizes;
}

/** Split; a size of 0 gives an empty tensor (ctx.ts EmptyVal). */
export function split(c: Ctx): (Tensor | EmptyVal)[] {
  c.only('axis', 'split', 'num_outputs');
  const x = c.t(0);
  const axis = normAxis(c, c.int('axis', 0), x.rank);
  fixedAxes(c, x, 'input', [axis], 'Split cuts its axis at fixed sizes');
  let at = 0;
  return splitSizes(c, x.maxShape[axis]!).map((s, k) => {
    if (s === 0) return emptyVal(x.dtype, x.dims.map((d, i) => (i === axis ? 0 : d)), `output ${k} ('${c.node.outputs[k] ?? ''}') of ${c.where}, split size 0`);
    const r = sliceAxis(c, x, axis, Array.from({ length: s }, (_, i) => at + i)); at += s; return r === x ? x : r;
  });
}

export function squeeze(c: Ctx): Tensor {
  const x = c.t(0);
  const given = axesOf(c, 13);
  // Without axes, ONNX drops every axis of size 1 at run time, a symbolic one too when it is 1 (unless its declared min is above 1).
  if (!given) fixedAxes(c, x, 'input', [...x.dims.keys()].filter((a) => leastSize(x.dims[a]!) === 1), 'Squeeze without axes drops the axes that are 1 at run time; give the axes');
  const axes = (given ?? x.maxShape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis(c, a, x.rank));
  for (const a of axes) { const d = x.dim(a); if (d !== 1) c.unsupported(`squeezing axis ${a} of ${isSymbolic(d) ? `the symbolic size '${d}'` : `size ${d}`}`); }
  return x.reshape(x.dims.filter((_, i) => !axes.includes(i)));
}
export function unsqueeze(c: Ctx): Tensor {
  const x = c.t(0);
  const raw = axesOf(c, 13) ?? c.unsupported('missing axes');
  const r = x.rank + raw.length, axes = raw.map((a) => normAxis(c, a, r));
  if (new Set(axes).size !== axes.length) c.unsupported(`repeated axes [${raw}]`);
  const shape: Dim[] = [];
  for (let i = 0, j = 0; i < r; i++) shape.push(axes.includes(i) ? 1 : x.dims[j++]!);
  return x.reshape(shape);
}

/** The dims of `dims` expanded to `want` by ONNX's two-way broadcasting (a 0 broadcasts as any size other than 1). */
export function expandDims(c: Ctx, dims: readonly Dim[], want: readonly Dim[]): Dim[] {
  const rank = Math.max(dims.length, want.length);
  const a: Dim[] = [...Array<Dim>(rank - dims.length).fill(1), ...dims], b: Dim[] = [...Array<Dim>(rank - want.length).fill(1), ...want];
  return a.map((d, i) => {
    const w = b[i]!;
    if (typeof w === 'number' && w < 0) c.unsupported(`shape ${fmtDims(want)} (entry ${w})`);
    if (d === w || w === 1) return d;
    if (d === 1) return w;
    return c.unsupported(`expanding ${fmtDims(dims)} to ${fmtDims(want)}`);
  });
}

/**
 * Expand with ONNX's two-way broadcasting. A symbolic dim broadcasts only against 1 or itself
 * (against another size, or a number other than 1, it would hold only for some sizes).
 */
export function expand(c: Ctx): Tensor | EmptyVal {
  const x = c.t(0), want = c.dims(1, 'shape');
  if (want.includes(0)) return emptyVal(x.dtype, expandDims(c, x.dims, want), `the output of ${c.where}, whose shape [${want}] has a 0`);
  const out = expandDims(c, x.dims, want);
  if (out.length === x.rank && out.every((d, i) => d === x.dims[i])) return x;
  if (isSym(x) || out.some(isSymbolic)) return x.expand(...out);
  // Only leading 1s added (PyTorch's x.repeat exports Expand(x, ones) before its Tile): a view.
  if (numel(out as number[]) === numel(x.maxShape)) return record('reshape', [x], { shape: out as number[] });
  return record('where', [full('bool', 1, out as number[]), x, x]);
}

export function flatten(c: Ctx): Tensor {
  c.only('axis');
  const x = c.t(0);
  let axis = c.int('axis', 1);
  if (axis < 0) axis += x.rank;
  if (axis < 0 || axis > x.rank) c.unsupported(`axis ${c.int('axis', 1)} for rank ${x.rank}`);
  return x.reshape(numelDims(x.dims.slice(0, axis)), numelDims(x.dims.slice(axis)));
}

/** Concat; empty inputs (zero-size constants, a Split's empty outputs) contribute nothing and are dropped. */
export function concat(c: Ctx): AnyVal {
  c.only('axis');
  const given = [...Array(c.count).keys()];
  const empties = given.flatMap((i) => { const e = c.empty(i); return e ? [e] : []; });
  const ts = given.filter((i) => !c.empty(i)).map((i) => c.t(i));
  const first = ts[0] ?? empties[0]!;
  const like = first.dims, rank = like.length;
  const axis = normAxis(c, c.int('axis', 0), rank);
  // An empty input still must fit the others (ONNX's rule), though it adds nothing.
  for (const e of empties) {
    if (e.dims.length !== rank || e.dims.some((d, j) => j !== axis && canonDim(d) !== canonDim(like[j]!))) c.unsupported(`concatenating the empty tensor ${fmtDims(e.dims)} (${e.origin}) with ${fmtDims(like)} along axis ${axis}`);
  }
  if (ts.length === 0) {
    const along = empties.reduce((n, e) => (typeof n === 'number' && typeof e.dims[axis] === 'number' ? n + (e.dims[axis] as number) : c.unsupported(`concatenating empty tensors along the symbolic axis ${axis}`)), 0 as Dim);
    return emptyVal(empties[0]!.dtype, like.map((d, j) => (j === axis ? along : d)), `the output of ${c.where}, whose inputs are all empty`);
  }
  const live = ts.filter((t) => numel(t.maxShape) > 0);
  if (live.length === 0) c.unsupported('concatenating only empty tensors');
  // ONNX's inputs share one type (the DSL's cat would promote them as torch.cat does).
  live.reduce((a, b) => same(c, a, b)[1]);
  return live.length === 1 ? live[0]! : cat(live, axis);
}

/** Pad: constant, edge, reflect and wrap as the DSL's padAxis (torch's names: constant, replicate, reflect, circular); negative pads crop. */
export function pad(c: Ctx): Tensor {
  c.only('mode', 'pads', 'paddings', 'value');
  const x = c.t(0, 'data');
  const mode = c.str('mode', 'constant');
  const pads = c.opset < 11 ? (c.intList('pads') ?? c.intList('paddings') ?? c.unsupported("missing 'pads'")) : c.ints(1, 'pads');
  const value = c.opset < 11 ? c.float('value', 0) : c.has(2) ? Number(c.host(2, 'constant_value').data[0] ?? 0) : 0;
  const axes = (c.opset >= 18 && c.has(3) ? c.ints(3, 'axes') : [...x.maxShape.keys()]).map((a) => normAxis(c, a, x.rank));
  if (pads.length !== 2 * axes.length) c.unsupported(`pads [${pads}] for ${axes.length} axes`);
  const torchMode = ({ constant: 'constant', edge: 'replicate', reflect: 'reflect', wrap: 'circular' } as const)[mode as 'constant'] ?? c.unsupported(`mode '${mode}'`);
  // A symbolic axis pads by slices from its actual ends (F.padAxis), where its least size holds the pad.
  axes.forEach((axis, i) => { if ((pads[i] || pads[i + axes.length]) && typeof x.dims[axis] !== 'number') checkPadAxis('Pad', x, axis, pads[i]!, pads[i + axes.length]!, torchMode); });
  let y = x;
  axes.forEach((axis, i) => { y = padAxis(y, axis, pads[i]!, pads[i + axes.length]!, torchMode, value); });
  return y === x ? x : y;
}

/**
 * DepthToSpace (blocksize b, mode DCR or CRD) and SpaceToDepth on [N, C, H, W] with fixed C, H, W:
 * reshapes and one transpose, in ONNX's orders (CRD is torch's pixel_shuffle: F.pixelShuffle).
 */
export function depthToSpace(c: Ctx): Tensor {
  c.only('blocksize', 'mode');
  const x = c.t(0, 'input'), b = c.int('blocksize', 0), mode = c.str('mode', 'DCR');
  const [C, H, W] = blockDims(c, x, b, 'C divisible by blocksize²', (C) => C % (b * b) === 0);
  if (mode === 'CRD') return pixelShuffle(x, b);
  if (mode !== 'DCR') c.unsupported(`mode '${mode}' (DCR or CRD)`);
  const N = x.dim(0);
  return x.reshape(N, b, b, C / (b * b), H, W).permute(0, 3, 4, 1, 5, 2).reshape(N, C / (b * b), H * b, W * b);
}
export function spaceToDepth(c: Ctx): Tensor {
  c.only('blocksize');
  const x = c.t(0, 'input'), b = c.int('blocksize', 0);
  const [C, H, W] = blockDims(c, x, b, 'H and W divisible by blocksize', (_, H, W) => H % b === 0 && W % b === 0);
  const N = x.dim(0);
  return x.reshape(N, C, H / b, b, W / b, b).permute(0, 3, 5, 1, 2, 4).reshape(N, C * b * b, H / b, W / b);
}
function blockDims(c: Ctx, x: Tensor, b: number, need: string, ok: (C: number, H: number, W: number) => boolean): [number, number, number] {
  if (!(Number.isInteger(b) && b >= 1)) c.unsupported(`blocksize ${b} (a positive integer)`);
  if (x.rank !== 4) c.unsupported(`an input of rank ${x.rank} (it must be [N, C, H, W])`);
  fixedAxes(c, x, 'input', [1, 2, 3], 'the block moves need fixed C, H and W');
  const [C, H, W] = x.maxShape.slice(1) as [number, number, number];
  if (!ok(C, H, W)) c.unsupported(`input ${fmtDims(x.dims)} with blocksize ${b} (${need})`);
  return [C, H, W];
}

export function transpose(c: Ctx): Tensor {
  c.only('perm');
  const x = c.t(0);
  const perm = c.intList('perm') ?? [...Array(x.rank).keys()].reverse();
  const y = x.permute(...perm);
  return y === x ? x : y;
}

export function where(c: Ctx): Tensor {
  const cond = c.t(0, 'condition');
  if (cond.dtype !== 'bool') c.unsupported(`a condition of type ${cond.dtype}`);
  const [a, b] = same(c, c.t(1, 'X'), c.t(2, 'Y'));
  return record('where', [cond, a, b]);
}

/**
 * OneHot (torch's F.one_hot exports it with values [0, 1], then a Cast): values[1] where the index
 * is the class along `axis`, else values[0]. ONNX's rule, not torch's: a negative index counts from
 * the end of depth and one outside [−depth, depth) gives a row of values[0] (torch raises on it).
 */
export function oneHot(c: Ctx): Tensor {
  c.only('axis');
  const idx = c.t(0, 'indices');
  if (idx.dtype !== 'i32') c.unsupported(`indices of type ${idx.dtype} (integers only)`);
  const ds = c.ints(1, 'depth');
  if (ds.length !== 1 || !Number.isInteger(ds[0]) || ds[0]! < 1 || ds[0]! > 2 ** 24) c.unsupported(`depth [${ds}] (one integer in [1, 2^24])`);
  const depth = ds[0]!, values = c.t(2, 'values');
  if (values.rank !== 1 || values.maxShape[0] !== 2) c.unsupported(`values of shape ${fmtDims(values.dims)} (it must be [off, on])`);
  const axis = normAxis(c, c.int('axis', -1), idx.rank + 1);
  const wrapped = record('where', [idx.lt(0), idx.add(depth), idx]);
  const classes = arange(depth).reshape(...Array.from({ length: idx.rank + 1 }, (_, a) => (a === axis ? depth : 1)));
  return record('where', [wrapped.unsqueeze(axis).eq(classes), values.select(0, 1), values.select(0, 0)]);
}

/** Ops whose output's size depends on the values (x[mask], torch.nonzero, torch.unique, masked_select). */
export const dataDependentSize = (c: Ctx): never =>
  c.unsupported(`${c.node.opType}, whose output's size depends on the input's values (PyTorch's x[mask], nonzero, masked_select, unique; an artifact's sizes are fixed or named at compile time; keep the shape, e.g. torch.where(mask, x, 0))`);

// ---- sources -------------------------------------------------------------------------------

export function constantOp(c: Ctx): Host {
  const [k] = [...c.node.attrs.keys()];
  const a = k !== undefined ? c.attr(k)! : undefined;
  if (!a || c.node.attrs.size !== 1) c.unsupported('a Constant without exactly one value attribute');
  switch (k) {
    case 'value': { const t = (a as { kind: 'tensor'; value: OnnxTensor }).value; return host(t.dtype, t.dims, t.data); }
    case 'value_float': return host(DT.FLOAT, [], Float32Array.of(c.float(k, 0)));
    case 'value_floats': return host(DT.FLOAT, [c.floatList(k)!.length], Float32Array.from(c.floatList(k)!));
    case 'value_int': return host(DT.INT64, [], [c.int(k, 0)]);
    case 'value_ints': return host(DT.INT64, [c.intList(k)!.length], c.intList(k)!);
    default: return c.unsupported(`attribute '${k}'`);
  }
}

export function constantOfShape(c: Ctx): Host | Tensor {
  const shape = c.dims(0, 'shape');
  const v = c.attr('value');
  const t = v?.kind === 'tensor' ? v.value : { dtype: DT.FLOAT, data: [0] };
  const x = Number(t.data[0] ?? 0);
  // A symbolic shape: one value broadcast to the run-time size.
  if (shape.some(isSymbolic)) return full(irDtype(t.dtype, `${c.where} value`), x, shape.map(() => 1)).expand(...shape);
  const dims = shape as number[], n = numel(dims);
  const data = t.dtype === DT.FLOAT ? new Float32Array(n).fill(x) : t.dtype === DT.BOOL ? new Uint8Array(n).fill(x ? 1 : 0) : new Array<number>(n).fill(x);
  return host(t.dtype, dims, data);
}

/** The dims of a value (a tensor's with its symbolic sizes; a size value's is its length). */
const dimsOfVal = (v: AnyVal): Dim[] => [...v.dims];

export function shapeOf(c: Ctx): Host | SizeVal {
  c.only('start', 'end');
  const dims = dimsOfVal(c.empty(0) ?? c.any(0));
  const r = dims.length, clampAxis = (a: number) => Math.min(Math.max(a < 0 ? a + r : a, 0), r);
  return sizeValue(dims.slice(clampAxis(c.int('start', 0)), clampAxis(c.int('end', r))));
}

export const size = (c: Ctx): Host | SizeVal => sizeValue([numelDims(dimsOfVal(c.empty(0) ?? c.any(0)))], true);

export function range(c: Ctx): Host | Tensor {
  if ([0, 1, 2].some((i) => c.isSizes(i))) return rangeSymbolic(c);
  const [s, l, d] = [0, 1, 2].map((i) => Number(c.host(i).data[0]));
  if (d === 0) c.unsupported('delta 0');
  const n = Math.max(Math.ceil((l! - s!) / d!), 0);
  const dtype = c.host(0).dtype;
  const vals = Array.from({ length: n }, (_, i) => s! + i * d!);
  return host(dtype, [n], dtype === DT.FLOAT ? Float32Array.from(vals) : vals);
}

/**
 * Range up to a symbolic limit: the values at the bound, sliced to the run-time length
 * (limit − start) / delta, which must be exact; start and delta must be numbers.
 */
function rangeSymbolic(c: Ctx): Tensor {
  const [s, l, d] = (['start', 'limit', 'delta'] as const).map((w, i) => {
    const v = c.dims(i, w);
    if (v.length !== 1) c.unsupported(`${w} of ${v.length} values (a scalar expected)`);
    return v[0]!;
  }) as [Dim, Dim, Dim];
  if (typeof s !== 'number' || typeof d !== 'number' || d <= 0) c.unsupported(`Range(${s}, ${l}, ${d}) with a symbolic limit (start and a positive delta must be numbers)`);
  const n = divDims(subDims(l, s), d);
  if (n === undefined) c.unsupported(`Range(${s}, ${l}, ${d}): its length is not a whole number for every size`);
  const max = evalDim(n, traceBounds());
  if (!(max >= 1)) c.unsupported(`Range(${s}, ${l}, ${d}): empty at the bounds`);
  const dtype = [0, 2].map((i) => c.any(i)).find(isHost)?.dtype ?? DT.INT64;
  if (dtype !== DT.INT64 && dtype !== DT.INT32) c.unsupported(`Range of ${dtypeName(dtype)} with a symbolic limit`);
  const all = constant(Int32Array.from({ length: max }, (_, i) => s + i * d), [max], 'i32', 'range');
  return all.slice(0, 0, n);
}
