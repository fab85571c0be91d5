// ONNX operators, each as a translation into the DSL's tensor operations (ops/ beside this file
// holds the larger ones: recurrent layers and attention). Semantics are ONNX's, per opset:
// attributes that became inputs (Split/Squeeze/Unsqueeze/Reduce* axes, Clip min/max, Slice
// starts/ends) are read from where that opset puts them. Anything we cannot compute exactly is
// refused through ctx.unsupported, naming the node and the attribute or dtype.

import { numel, type DType } from '../ir/types.ts';
import { cat, constant, record, Tensor } from '../dsl/tensor.ts';
import { geluTanh } from '../dsl/functional.ts';
import { DT, dtypeName, type OnnxTensor } from './proto.ts';
import { Ctx, host, irDtype, isHost, toTensor, UnsupportedError, type Host, type Val } from './ctx.ts';
import { RECURRENT } from './ops/recurrent.ts';
import { ATTENTION } from './ops/attention.ts';

export type Translate = (c: Ctx) => Val | (Val | undefined)[];

// ---- helpers ------------------------------------------------------------------------------

/** A constant of `dtype` filled with `v`, of `shape` (a scalar by default). */
export function full(dtype: DType, v: number, shape: readonly number[] = []): Tensor {
  const n = numel(shape);
  const data = dtype === 'f32' ? new Float32Array(n).fill(v) : dtype === 'i32' ? new Int32Array(n).fill(v) : new Uint8Array(n).fill(v ? 1 : 0);
  return constant(data, shape, dtype, String(v));
}
const normAxis = (c: Ctx, a: number, rank: number, what = 'axis'): number => {
  const r = a < 0 ? a + rank : a;
  if (!Number.isInteger(a) || r < 0 || r >= rank) throw new UnsupportedError(`${c.where}: ${what} ${a} is out of range for rank ${rank}`);
  return r;
};
const f32Input = (c: Ctx, i: number, what = `input ${i}`): Tensor => {
  const t = c.t(i, what);
  if (t.dtype !== 'f32') c.unsupported(`${what} of type ${t.dtype === 'i32' ? 'int64/int32' : t.dtype}`);
  return t;
};
/** Makes a and b the same dtype as ONNX requires (it never mixes types); refuses a mismatch. */
function same(c: Ctx, a: Tensor, b: Tensor): [Tensor, Tensor] {
  if (a.dtype !== b.dtype) c.unsupported(`operands of different types (${a.dtype}, ${b.dtype})`);
  return [a, b];
}

// ---- elementwise --------------------------------------------------------------------------

const binary = (op: 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum'): Translate => (c) => {
  const [a, b] = same(c, c.t(0), c.t(1));
  if (a.dtype === 'bool') c.unsupported('bool operands');
  if (a.dtype === 'i32' && op === 'div' && !(c.isConst(0) && c.isConst(1))) c.unsupported('integer division of run-time values');
  return record(op, [a, b]);
};
const unary = (f: (x: Tensor, c: Ctx) => Tensor): Translate => (c) => f(f32Input(c, 0, 'X'), c);
const variadic = (op: 'add' | 'maximum' | 'minimum', mean = false): Translate => (c) => {
  let acc = c.t(0);
  for (let i = 1; i < c.count; i++) acc = record(op, same(c, acc, c.t(i)));
  return mean ? acc.div(c.count) : acc;
};
/** relu(x) − a·relu(−x): x for x > 0, a·x below (NaN and ±∞ stay exact). */
const leaky = (x: Tensor, a: Tensor | number): Tensor => x.relu().sub(x.neg().relu().mul(a));
const elu = (x: Tensor, alpha: number): Tensor => x.relu().add(x.neg().relu().neg().exp().sub(1).mul(alpha));
const softplus = (x: Tensor): Tensor => x.exp().add(1).log();
const hardSigmoid = (x: Tensor, a: number, b: number): Tensor => x.mul(a).add(b).maximum(0).minimum(1);

function clip(c: Ctx): Tensor {
  const x = c.t(0);
  let lo: Tensor | undefined, hi: Tensor | undefined;
  if (c.opset < 11) {
    c.only('min', 'max');
    if (c.attr('min')) lo = full(x.dtype, c.float('min', 0));
    if (c.attr('max')) hi = full(x.dtype, c.float('max', 0));
  } else {
    if (c.has(1)) lo = c.t(1, 'min');
    if (c.has(2)) hi = c.t(2, 'max');
  }
  if (x.dtype === 'bool') c.unsupported('bool input');
  let y = x;
  if (lo) y = record('maximum', same(c, y, lo.reshape()));
  if (hi) y = record('minimum', same(c, y, hi.reshape()));
  return y === x ? x : y;
}

function pow(c: Ctx): Tensor {
  const x = c.t(0), e = c.t(1);
  const y = x.cast('f32').pow(e.cast('f32'));
  return x.dtype === 'i32' ? (c.isConst(0) && c.isConst(1) ? y.cast('i32') : c.unsupported('integer Pow of run-time values')) : y;
}

function softmaxLike(log: boolean): Translate {
  return (c) => {
    c.only('axis');
    const x = f32Input(c, 0, 'input');
    const axis = normAxis(c, c.int('axis', c.opset < 13 ? 1 : -1), x.rank);
    if (c.opset >= 13 || axis === x.rank - 1) return log ? x.logSoftmax(axis) : x.softmax(axis);
    // Before opset 13 the input is coerced to 2-D [∏ dims < axis, ∏ dims ≥ axis].
    if (x.node.type.dims) c.unsupported(`axis ${axis} before opset 13 (a 2-D coercion) on a tensor of symbolic size`);
    const outer = numel(x.shape.slice(0, axis)), inner = numel(x.shape.slice(axis));
    const y = x.reshape(outer, inner);
    return (log ? y.logSoftmax(1) : y.softmax(1)).reshape(...x.shape);
  };
}

// ---- host-only logic (comparisons only ever run on values known at compile time) ----------

function hostBinary(name: string, f: (a: number, b: number) => number, out?: number): Translate {
  return (c) => {
    const a = c.compileTime(0, `${name}'s first operand (this comparison runs only at compile time)`), b = c.compileTime(1, `${name}'s second operand (this comparison runs only at compile time)`);
    const rank = Math.max(a.dims.length, b.dims.length);
    const pa = [...Array(rank - a.dims.length).fill(1), ...a.dims], pb = [...Array(rank - b.dims.length).fill(1), ...b.dims];
    const dims = pa.map((d, i) => {
      if (d !== pb[i] && d !== 1 && pb[i] !== 1) throw new UnsupportedError(`${c.where}: shapes [${a.dims}] and [${b.dims}] do not broadcast`);
      return d === 1 ? pb[i]! : d;
    });
    const size = numel(dims), data: number[] = new Array<number>(size);
    const idx = (p: number[], o: number) => { let off = 0, rem = o, stride = 1; const s: number[] = []; for (let i = rank - 1; i >= 0; i--) { s[i] = stride; stride *= p[i]!; } for (let i = 0; i < rank; i++) { const q = Math.floor(rem / numel(dims.slice(i + 1))); rem -= q * numel(dims.slice(i + 1)); if (p[i] !== 1) off += q * s[i]!; } return off; };
    for (let o = 0; o < size; o++) data[o] = f(Number(a.data[idx(pa, o)]), Number(b.data[idx(pb, o)]));
    const dtype = out ?? a.dtype;
    return host(dtype, dims, dtype === DT.BOOL ? Uint8Array.from(data) : dtype === DT.FLOAT ? Float32Array.from(data) : data);
  };
}
/**
 * Logic on run-time bools as `where` over bool constants (not m = where(m, F, T), a and b =
 * where(a, b, F), …); on compile-time values, the host computes it. Other comparisons of run-time
 * values have no kernel yet and are refused.
 */
function boolLogic(name: string, host: Translate, f: (a: Tensor, b: Tensor | undefined) => Tensor): Translate {
  return (c) => {
    if (c.allConst()) return host(c);
    const a = c.t(0), b = c.count > 1 ? c.t(1) : undefined;
    if (a.dtype !== 'bool' || (b && b.dtype !== 'bool')) c.unsupported(`${name} of run-time ${a.dtype}${b ? `, ${b.dtype}` : ''} values (only bools, or compile-time values)`);
    return f(a, b);
  };
}
const T = () => full('bool', 1), F = () => full('bool', 0);
const not = (a: Tensor) => record('where', [a, F(), T()]);

/** Floor / Ceil: no wasm kernel yet, so only on compile-time values (shape arithmetic). */
function hostUnary(name: string, f: (x: number) => number): Translate {
  return (c) => {
    const a = c.compileTime(0, `the operand of ${name} (computed only at compile time)`);
    const vals = Array.from(a.data as ArrayLike<number>, f);
    return host(a.dtype, a.dims, a.dtype === DT.FLOAT ? Float32Array.from(vals) : vals);
  };
}
const hostNot: Translate = (c) => {
  const a = c.compileTime(0, 'the operand of Not');
  return host(DT.BOOL, a.dims, Uint8Array.from(a.data as ArrayLike<number>, (v) => (v ? 0 : 1)));
};

// ---- casts ---------------------------------------------------------------------------------

function castTo(c: Ctx, v: Val, to: number): Val {
  if (isHost(v)) {
    if (to === v.dtype) return v;
    const conv = (x: number): number => to === DT.BOOL ? (x ? 1 : 0) : to === DT.FLOAT ? x : Math.trunc(x);
    const vals = Array.from(v.data as ArrayLike<number>, conv);
    if (to === DT.FLOAT) return host(to, v.dims, Float32Array.from(vals));
    if (to === DT.BOOL) return host(to, v.dims, Uint8Array.from(vals));
    if (to === DT.INT64 || to === DT.INT32) return host(to, v.dims, vals);
    c.unsupported(`Cast to ${dtypeName(to)}`);
  }
  const t = v, target = irDtype(to, `${c.where} attribute 'to'`);
  if (t.dtype === target) return t;
  if (target === 'bool') c.unsupported(`Cast of a run-time ${t.dtype} to BOOL`);
  return t.cast(target);
}

// ---- shapes --------------------------------------------------------------------------------

/** Axes of a Squeeze/Unsqueeze/Reduce: an attribute before `since`, input 1 from it. */
function axesOf(c: Ctx, since: number): number[] | undefined {
  if (c.opset < since) return c.intList('axes');
  return c.has(1) ? c.ints(1, 'axes') : undefined;
}

function reshape(c: Ctx): Tensor {
  c.only('allowzero', 'shape');
  const x = c.t(0, 'data');
  const shape = c.opset < 5 ? (c.intList('shape') ?? c.unsupported("missing 'shape'")) : c.ints(1, 'shape');
  const allowzero = c.int('allowzero', 0);
  const out = shape.map((d, i) => (d === 0 && !allowzero ? (x.shape[i] ?? c.unsupported(`shape [${shape}]: dim 0 at ${i} copies a dim the input lacks`)) : d));
  if (out.includes(0)) c.unsupported(`a zero-size shape [${shape}]`);
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1), free = out.filter((d) => d === -1).length;
  if (free > 1 || out.some((d) => d < -1) || (free && numel(x.shape) % known)) c.unsupported(`shape [${shape}] for an input of shape [${x.shape}]`);
  const full = out.map((d) => (d === -1 ? numel(x.shape) / known : d));
  if (numel(full) !== numel(x.shape)) throw new UnsupportedError(`${c.where}: cannot reshape [${x.shape}] to [${shape}]`);
  return record('reshape', [x], { shape: full });
}

/** x[idx] along `axis` for constant or run-time indices (gather reads rows: move the axis first). */
function gatherAxis(x: Tensor, idx: Tensor, axis: number): Tensor {
  if (axis === 0) return record('gather', [x, idx]);
  const r = x.rank, perm = [axis, ...[...Array(r).keys()].filter((a) => a !== axis)];
  const g = record('gather', [x.permute(...perm), idx]); // [idx..., rest]
  const ir = idx.rank, back: number[] = [];
  for (let i = 0; i < axis; i++) back.push(ir + i);
  for (let i = 0; i < ir; i++) back.push(i);
  for (let i = axis + 1; i < r; i++) back.push(ir + i - 1);
  return g.permute(...back);
}

function gather(c: Ctx): Tensor {
  c.only('axis');
  const x = c.t(0, 'data');
  const axis = normAxis(c, c.int('axis', 0), x.rank);
  const n = x.shape[axis]!;
  let idx: Tensor;
  if (c.isConst(1)) {
    const h = c.host(1, 'indices');
    const vals = Array.from(h.data as ArrayLike<number>, (v) => {
      const r = v < 0 ? v + n : v;
      if (!(r >= 0 && r < n)) throw new UnsupportedError(`${c.where}: index ${v} is out of range for axis ${axis} of size ${n}`);
      return r;
    });
    idx = constant(Int32Array.from(vals), h.dims, 'i32');
  } else {
    idx = c.t(1, 'indices');
    if (idx.dtype !== 'i32') c.unsupported(`indices of type ${idx.dtype}`);
  }
  return gatherAxis(x, idx, axis);
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
  const dim = x.shape[axis]!;
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

function slice(c: Ctx): Val {
  const x = c.t(0, 'data');
  let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
  if (c.opset < 10) { c.only('starts', 'ends', 'axes'); starts = c.intList('starts') ?? []; ends = c.intList('ends') ?? []; axes = c.intList('axes'); }
  else { starts = c.ints(1, 'starts'); ends = c.ints(2, 'ends'); if (c.has(3)) axes = c.ints(3, 'axes'); if (c.has(4)) steps = c.ints(4, 'steps'); }
  if (starts.length !== ends.length) c.unsupported(`starts [${starts}] and ends [${ends}] of different lengths`);
  if (c.isConst(0)) {
    // A compile-time value (shape arithmetic) may slice to nothing: slice it here.
    const h = c.host(0, 'data');
    const pos = h.dims.map((n) => Array.from({ length: n }, (_, i) => i));
    starts.forEach((s0, i) => { const a = normAxis(c, axes?.[i] ?? i, h.dims.length); pos[a] = sliceRange(h.dims[a]!, s0, ends[i]!, steps?.[i] ?? 1); });
    return hostGather(h, pos);
  }
  let y = x;
  starts.forEach((s, i) => {
    const axis = normAxis(c, axes?.[i] ?? i, x.rank), step = steps?.[i] ?? 1;
    if (step === 0) c.unsupported('step 0');
    y = sliceAxis(c, y, axis, sliceRange(x.shape[axis]!, s, ends[i]!, step));
  });
  return y === x ? x : y;
}

function split(c: Ctx): Tensor[] {
  c.only('axis', 'split', 'num_outputs');
  const x = c.t(0);
  const axis = normAxis(c, c.int('axis', 0), x.rank), dim = x.shape[axis]!;
  const outs = c.node.outputs.length;
  let sizes = c.opset < 13 ? c.intList('split') : c.has(1) ? c.ints(1, 'split') : undefined;
  if (!sizes) {
    const num = c.opset >= 18 && c.attr('num_outputs') ? c.int('num_outputs', outs) : outs;
    const each = Math.ceil(dim / num);
    sizes = Array.from({ length: num }, (_, i) => Math.min(each, dim - i * each));
    if (c.opset < 18 && dim % num) c.unsupported(`an uneven split of ${dim} into ${num} outputs`);
  }
  if (sizes.reduce((a, b) => a + b, 0) !== dim || sizes.some((s) => s <= 0)) c.unsupported(`split sizes [${sizes}] for a dimension of ${dim}`);
  let at = 0;
  return sizes.map((s) => { const r = sliceAxis(c, x, axis, Array.from({ length: s }, (_, i) => at + i)); at += s; return r === x ? x : r; });
}

function squeeze(c: Ctx): Tensor {
  const x = c.t(0);
  const axes = (axesOf(c, 13) ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis(c, a, x.rank));
  for (const a of axes) if (x.shape[a] !== 1) c.unsupported(`squeezing axis ${a} of size ${x.shape[a]}`);
  return record('reshape', [x], { shape: x.shape.filter((_, i) => !axes.includes(i)) });
}
function unsqueeze(c: Ctx): Tensor {
  const x = c.t(0);
  const raw = axesOf(c, 13) ?? c.unsupported('missing axes');
  const r = x.rank + raw.length, axes = raw.map((a) => normAxis(c, a, r));
  if (new Set(axes).size !== axes.length) c.unsupported(`repeated axes [${raw}]`);
  const shape: number[] = [];
  for (let i = 0, j = 0; i < r; i++) shape.push(axes.includes(i) ? 1 : x.shape[j++]!);
  return record('reshape', [x], { shape });
}

function expand(c: Ctx): Tensor {
  const x = c.t(0), want = c.ints(1, 'shape');
  const rank = Math.max(x.rank, want.length);
  const a = [...Array(rank - x.rank).fill(1), ...x.shape], b = [...Array(rank - want.length).fill(1), ...want];
  const out = a.map((d, i) => {
    if (d !== b[i] && d !== 1 && b[i] !== 1) c.unsupported(`expanding [${x.shape}] to [${want}]`);
    return d === 1 ? b[i]! : d;
  });
  if (out.length === x.rank && out.every((d, i) => d === x.shape[i])) return x;
  return record('where', [full('bool', 1, out), x, x]);
}

function flatten(c: Ctx): Tensor {
  c.only('axis');
  const x = c.t(0);
  let axis = c.int('axis', 1);
  if (axis < 0) axis += x.rank;
  if (axis < 0 || axis > x.rank) c.unsupported(`axis ${c.int('axis', 1)} for rank ${x.rank}`);
  return record('reshape', [x], { shape: [numel(x.shape.slice(0, axis)), numel(x.shape.slice(axis))] });
}

function concat(c: Ctx): Val {
  c.only('axis');
  const ts = Array.from({ length: c.count }, (_, i) => c.t(i));
  const axis = normAxis(c, c.int('axis', 0), ts[0]!.rank);
  const live = ts.filter((t) => numel(t.shape) > 0);
  if (live.length === 0) c.unsupported('concatenating only empty tensors');
  return live.length === 1 ? live[0]! : cat(live, axis);
}

/** Pad: constant (concatenated blocks), edge / reflect / wrap (a gather of source positions); negative pads crop. */
function pad(c: Ctx): Tensor {
  c.only('mode', 'pads', 'paddings', 'value');
  const x = c.t(0, 'data');
  const mode = c.str('mode', 'constant');
  const pads = c.opset < 11 ? (c.intList('pads') ?? c.intList('paddings') ?? c.unsupported("missing 'pads'")) : c.ints(1, 'pads');
  const value = c.opset < 11 ? c.float('value', 0) : c.has(2) ? Number(c.host(2, 'constant_value').data[0] ?? 0) : 0;
  const axes = (c.opset >= 18 && c.has(3) ? c.ints(3, 'axes') : [...x.shape.keys()]).map((a) => normAxis(c, a, x.rank));
  if (pads.length !== 2 * axes.length) c.unsupported(`pads [${pads}] for ${axes.length} axes`);
  let y = x;
  axes.forEach((axis, i) => {
    let b = pads[i]!, e = pads[i + axes.length]!;
    const n = y.shape[axis]!;
    if (b < 0 || e < 0) { y = sliceAxis(c, y, axis, Array.from({ length: n - Math.max(0, -b) - Math.max(0, -e) }, (_, k) => k + Math.max(0, -b))); b = Math.max(b, 0); e = Math.max(e, 0); }
    if (!b && !e) return;
    const m = y.shape[axis]!;
    if (mode === 'constant') {
      const block = (k: number) => full(y.dtype, value, y.shape.map((d, j) => (j === axis ? k : d)));
      y = cat([...(b ? [block(b)] : []), y, ...(e ? [block(e)] : [])], axis);
      return;
    }
    const src = (k: number): number => {
      if (mode === 'edge') return Math.min(Math.max(k, 0), m - 1);
      if (mode === 'wrap') return ((k % m) + m) % m;
      if (mode !== 'reflect') c.unsupported(`mode '${mode}'`);
      if (m === 1) return 0;
      const period = 2 * (m - 1), r = ((k % period) + period) % period;
      return r < m ? r : period - r;
    };
    y = gatherAxis(y, constant(Int32Array.from({ length: m + b + e }, (_, k) => src(k - b)), [m + b + e], 'i32'), axis);
  });
  return y === x ? x : y;
}

function transpose(c: Ctx): Tensor {
  c.only('perm');
  const x = c.t(0);
  const perm = c.intList('perm') ?? [...Array(x.rank).keys()].reverse();
  const y = x.permute(...perm);
  return y === x ? x : y;
}

function where(c: Ctx): Tensor {
  const cond = c.t(0, 'condition');
  if (cond.dtype !== 'bool') c.unsupported(`a condition of type ${cond.dtype}`);
  const [a, b] = same(c, c.t(1, 'X'), c.t(2, 'Y'));
  return record('where', [cond, a, b]);
}

// ---- sources -------------------------------------------------------------------------------

function constantOp(c: Ctx): Val {
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

function constantOfShape(c: Ctx): Host {
  const dims = c.ints(0, 'shape');
  const v = c.attr('value');
  const t = v?.kind === 'tensor' ? v.value : { dtype: DT.FLOAT, data: [0] };
  const n = numel(dims), x = Number(t.data[0] ?? 0);
  const data = t.dtype === DT.FLOAT ? new Float32Array(n).fill(x) : t.dtype === DT.BOOL ? new Uint8Array(n).fill(x ? 1 : 0) : new Array<number>(n).fill(x);
  return host(t.dtype, dims, data);
}

function shapeOf(c: Ctx): Host {
  c.only('start', 'end');
  const v = c.val(0);
  const dims = isHost(v) ? v.dims : [...v.shape];
  const r = dims.length, clampAxis = (a: number) => Math.min(Math.max(a < 0 ? a + r : a, 0), r);
  const s = dims.slice(clampAxis(c.int('start', 0)), clampAxis(c.int('end', r)));
  return host(DT.INT64, [s.length], s);
}

function range(c: Ctx): Host {
  const [s, l, d] = [0, 1, 2].map((i) => Number(c.host(i).data[0]));
  if (d === 0) c.unsupported('delta 0');
  const n = Math.max(Math.ceil((l! - s!) / d!), 0);
  const dtype = c.host(0).dtype;
  const vals = Array.from({ length: n }, (_, i) => s! + i * d!);
  return host(dtype, [n], dtype === DT.FLOAT ? Float32Array.from(vals) : vals);
}

// ---- reductions ----------------------------------------------------------------------------

function reduceOp(kind: 'sum' | 'mean' | 'max' | 'min' | 'sumsq' | 'l1' | 'l2' | 'logsumexp' | 'logsum', since: number): Translate {
  return (c) => {
    c.only('axes', 'keepdims', 'noop_with_empty_axes');
    const x = f32Input(c, 0, 'data');
    const keep = c.int('keepdims', 1) === 1;
    let axes = axesOf(c, since);
    if (!axes || axes.length === 0) {
      if (c.int('noop_with_empty_axes', 0)) return x;
      axes = [...x.shape.keys()];
    }
    if (numel(x.shape) === 0) c.unsupported('reducing an empty tensor');
    const ax = axes.map((a) => normAxis(c, a, x.rank, 'axes entry'));
    switch (kind) {
      case 'sum': return x.sum(ax, keep);
      case 'mean': return x.mean(ax, keep);
      case 'max': return x.max(ax, keep);
      case 'min': return x.neg().max(ax, keep).neg();
      case 'sumsq': return x.mul(x).sum(ax, keep);
      case 'l1': return x.abs().sum(ax, keep);
      case 'l2': return x.mul(x).sum(ax, keep).sqrt();
      case 'logsum': return x.sum(ax, keep).log();
      case 'logsumexp': return x.exp().sum(ax, keep).log();
    }
  };
}

function argExtreme(max: boolean): Translate {
  return (c) => {
    c.only('axis', 'keepdims', 'select_last_index');
    if (c.int('select_last_index', 0)) c.unsupported('select_last_index = 1');
    const x = f32Input(c, 0, 'data');
    const axis = normAxis(c, c.int('axis', 0), x.rank);
    return (max ? x : x.neg()).argmax(axis, c.int('keepdims', 1) === 1);
  };
}

function cumsum(c: Ctx): Tensor {
  c.only('exclusive', 'reverse');
  const x0 = c.t(0, 'x');
  if (x0.dtype === 'bool') c.unsupported('bool input');
  if (x0.dtype === 'i32' && !c.isConst(0)) c.unsupported('CumSum of run-time integers');
  const x = x0.cast('f32');
  const axis = normAxis(c, c.ints(1, 'axis')[0]!, x.rank), n = x.shape[axis]!;
  const ex = c.int('exclusive', 0), rev = c.int('reverse', 0);
  // y = x · T along the axis, T[i][j] = 1 when x_i counts towards y_j.
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] = (rev ? (ex ? i > j : i >= j) : (ex ? i < j : i <= j)) ? 1 : 0;
  const t = x.transpose(axis, -1);
  const y = t.matmul(constant(m, [n, n], 'f32', 'cumsum')).transpose(axis, -1);
  return x0.dtype === 'i32' ? y.cast('i32') : y;
}

function trilu(c: Ctx): Tensor {
  c.only('upper');
  const x = c.t(0);
  if (x.rank < 2) c.unsupported(`rank ${x.rank}`);
  const k = c.has(1) ? c.ints(1, 'k')[0]! : 0, upper = c.int('upper', 1);
  const [N, M] = x.shape.slice(-2) as [number, number];
  const m = new Uint8Array(N * M);
  for (let i = 0; i < N; i++) for (let j = 0; j < M; j++) m[i * M + j] = (upper ? j - i >= k : j - i <= k) ? 1 : 0;
  return record('where', [constant(m, [N, M], 'bool', 'trilu'), x, full(x.dtype, 0)]);
}

// ---- linear algebra and NN layers ----------------------------------------------------------

function gemm(c: Ctx): Tensor {
  c.only('alpha', 'beta', 'transA', 'transB');
  let a = f32Input(c, 0, 'A'), b = f32Input(c, 1, 'B');
  if (a.rank !== 2 || b.rank !== 2) c.unsupported(`A ${a.rank}-D, B ${b.rank}-D (Gemm takes matrices)`);
  if (c.int('transA', 0)) a = a.mT;
  if (c.int('transB', 0)) b = b.mT;
  const alpha = c.float('alpha', 1), beta = c.float('beta', 1);
  let y = a.matmul(b);
  if (alpha !== 1) y = y.mul(alpha);
  if (c.has(2) && beta !== 0) { const bias = f32Input(c, 2, 'C'); y = y.add(beta === 1 ? bias : bias.mul(beta)); }
  return y;
}

/** Spatial padding [begin, end] per spatial axis from pads / auto_pad, ONNX's rules. */
function spatialPads(c: Ctx, inSizes: number[], k: number[], s: number[], d: number[]): Array<[number, number]> {
  const auto = c.str('auto_pad', 'NOTSET');
  const r = inSizes.length;
  if (auto === 'NOTSET') {
    const p = c.intList('pads') ?? new Array<number>(2 * r).fill(0);
    if (p.length !== 2 * r) c.unsupported(`pads [${p}] for ${r} spatial axes`);
    return inSizes.map((_, i) => [p[i]!, p[i + r]!]);
  }
  if (auto === 'VALID') return inSizes.map(() => [0, 0]);
  if (auto !== 'SAME_UPPER' && auto !== 'SAME_LOWER') c.unsupported(`auto_pad '${auto}'`);
  return inSizes.map((n, i) => {
    const out = Math.ceil(n / s[i]!), total = Math.max(0, (out - 1) * s[i]! + (k[i]! - 1) * d[i]! + 1 - n);
    const small = Math.floor(total / 2);
    return auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
  });
}

/** Pads the spatial axes (2, 3, …) with `value` (asymmetric pads, ceil-mode windows). */
function padSpatial(x: Tensor, pads: Array<[number, number]>, value: number): Tensor {
  let y = x;
  pads.forEach(([b, e], i) => {
    const axis = 2 + i;
    const block = (n: number) => full('f32', value, y.shape.map((d, j) => (j === axis ? n : d)));
    const parts = [...(b ? [block(b)] : []), y, ...(e ? [block(e)] : [])];
    if (parts.length > 1) y = cat(parts, axis);
  });
  return y;
}

/** Runs a 2-D op on a 1-D (N, C, L) input as (N, C, 1, L). */
function as2d(c: Ctx, x: Tensor, f: (x4: Tensor, lift: <T>(v: T[], one: T) => T[]) => Tensor): Tensor {
  if (x.rank === 4) return f(x, (v) => v);
  if (x.rank === 3) { const y = f(x.unsqueeze(2), (v, one) => [one, ...v]); return y.squeeze(2); }
  return c.unsupported(`a ${x.rank - 2}-D input (Conv and pooling take 1-D and 2-D)`);
}

function conv(c: Ctx): Tensor {
  c.only('auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides');
  const x = f32Input(c, 0, 'X');
  const w0 = f32Input(c, 1, 'W'), b = c.has(2) ? f32Input(c, 2, 'B') : undefined;
  const sp = x.rank - 2;
  const ks = c.intList('kernel_shape');
  if (ks && ks.some((k, i) => k !== w0.shape[2 + i])) c.unsupported(`kernel_shape [${ks}] that differs from W's [${w0.shape.slice(2)}]`);
  const k = w0.shape.slice(2), s = c.intList('strides') ?? k.map(() => 1), d = c.intList('dilations') ?? k.map(() => 1);
  const pads = spatialPads(c, x.shape.slice(2), k, s, d);
  return as2d(c, x, (x4, lift) => {
    const w = sp === 1 ? w0.unsqueeze(2) : w0;
    const p = lift(pads, [0, 0] as [number, number]);
    const sym = p.every(([a, e]) => a === e);
    const xin = sym ? x4 : padSpatial(x4, p, 0);
    const padding = sym ? p.map(([a]) => a) : [0, 0];
    return record('conv2d', b ? [xin, w, b] : [xin, w], { stride: lift(s, 1), padding, dilation: lift(d, 1), groups: c.int('group', 1), act: 'none' });
  });
}

function pool(kind: 'max' | 'avg'): Translate {
  return (c) => {
    c.only('auto_pad', 'ceil_mode', 'count_include_pad', 'dilations', 'kernel_shape', 'pads', 'strides', 'storage_order');
    if (c.node.outputs.length > 1 && c.node.outputs[1]) c.unsupported('the Indices output');
    const x = f32Input(c, 0, 'X');
    const k = c.intList('kernel_shape') ?? c.unsupported("missing 'kernel_shape'");
    const s = c.intList('strides') ?? k.map(() => 1), d = c.intList('dilations') ?? k.map(() => 1);
    if (x.rank < 3 || x.rank > 5) c.unsupported(`a ${x.rank - 2}-D input`);
    const pads = spatialPads(c, x.shape.slice(2), k, s, d);
    const ceil = c.int('ceil_mode', 0) === 1, cip = c.int('count_include_pad', 0) === 1;
    if (d.some((v) => v !== 1) || x.rank === 5) return slicePool(x, kind, k, s, d, pads, ceil, cip);
    return as2d(c, x, (x4, lift) => {
      const kk = lift(k, 1), ss = lift(s, 1), pp = lift(pads, [0, 0] as [number, number]);
      const sizes = x4.shape.slice(2);
      // Extra end padding that makes floor-mode windows match ceil mode (a window must start inside the input or its begin pad).
      const extra = sizes.map((n, i) => {
        if (!ceil) return 0;
        const [pb, pe] = pp[i]!, span = n + pb + pe - kk[i]!;
        let out = Math.ceil(span / ss[i]!) + 1;
        if ((out - 1) * ss[i]! >= n + pb) out--;
        return Math.max(0, (out - 1) * ss[i]! + kk[i]! - (n + pb + pe));
      });
      const sym = pp.every(([a, e], i) => a === e && extra[i] === 0 && 2 * a <= kk[i]!);
      const op = kind === 'max' ? 'maxpool2d' : 'avgpool2d';
      if (sym) return record(op, [x4], { kernel: kk, stride: ss, padding: pp.map(([a]) => a), ...(kind === 'avg' ? { countIncludePad: cip } : {}) });
      const all = pp.map(([b, e], i) => [b, e + extra[i]!] as [number, number]);
      if (kind === 'max') return record(op, [padSpatial(x4, all, -Infinity)], { kernel: kk, stride: ss, padding: [0, 0] });
      // Average over the cells that count: the padded sum's pool divided by the pool of a mask of those cells.
      const [N, C, H, W] = x4.shape as [number, number, number, number];
      const PH = H + all[0]![0] + all[0]![1], PW = W + all[1]![0] + all[1]![1];
      const mask = new Float32Array(PH * PW);
      for (let y = 0; y < PH; y++) for (let xx = 0; xx < PW; xx++) {
        const inY = y >= all[0]![0] && y < all[0]![0] + H, inX = xx >= all[1]![0] && xx < all[1]![0] + W;
        const padY = y < all[0]![0] + H + pp[0]![1], padX = xx < all[1]![0] + W + pp[1]![1];
        mask[y * PW + xx] = (inY && inX) || (cip && padY && padX) ? 1 : 0;
      }
      const attrs = { kernel: kk, stride: ss, padding: [0, 0], countIncludePad: true };
      const num = record(op, [padSpatial(x4, all, 0)], attrs);
      const den = record(op, [constant(mask, [1, 1, PH, PW], 'f32', 'pool-count')], attrs);
      void N; void C;
      return num.div(den);
    });
  };
}

/**
 * Pooling of any rank, dilation and padding as slices: each kernel offset is a strided slice
 * of the padded input, combined by maximum or sum (the average divides by the same pool of a
 * constant mask of the cells that count, folded at compile time).
 */
function slicePool(x: Tensor, kind: 'max' | 'avg', k: number[], s: number[], d: number[], pads: Array<[number, number]>, ceil: boolean, cip: boolean): Tensor {
  const sizes = x.shape.slice(2);
  const outs = sizes.map((n, i) => {
    const [pb, pe] = pads[i]!, span = n + pb + pe - ((k[i]! - 1) * d[i]! + 1);
    let out = (ceil ? Math.ceil(span / s[i]!) : Math.floor(span / s[i]!)) + 1;
    if (ceil && (out - 1) * s[i]! >= n + pb) out--;
    return out;
  });
  const all = sizes.map((n, i) => {
    const need = (outs[i]! - 1) * s[i]! + (k[i]! - 1) * d[i]! + 1;
    return [pads[i]![0], Math.max(pads[i]![1], need - n - pads[i]![0])] as [number, number];
  });
  const windows = (t: Tensor, combine: (a: Tensor, b: Tensor) => Tensor): Tensor => {
    let acc: Tensor | undefined;
    const offs = new Array<number>(k.length).fill(0);
    for (;;) {
      let v = t;
      offs.forEach((o, i) => { const start = o * d[i]!; v = record('slice', [v], { axis: 2 + i, start, end: start + (outs[i]! - 1) * s[i]! + 1, step: s[i]! }); });
      acc = acc ? combine(acc, v) : v;
      let j = k.length - 1;
      while (j >= 0 && ++offs[j]! === k[j]) offs[j--] = 0;
      if (j < 0) return acc;
    }
  };
  if (kind === 'max') return windows(padSpatial(x, all, -Infinity), (a, b) => a.maximum(b));
  const padded = all.map(([b, e], i) => b + sizes[i]! + e);
  const mask = new Float32Array(numel(padded));
  const idx = new Array<number>(padded.length).fill(0);
  for (let o = 0; o < mask.length; o++) {
    mask[o] = idx.every((v, i) => (v >= all[i]![0] && v < all[i]![0] + sizes[i]!) || (cip && v < all[i]![0] + sizes[i]! + pads[i]![1])) ? 1 : 0;
    for (let i = padded.length - 1; i >= 0; i--) { if (++idx[i]! < padded[i]!) break; idx[i] = 0; }
  }
  const sum = windows(padSpatial(x, all, 0), (a, b) => a.add(b));
  const count = windows(constant(mask, [1, 1, ...padded], 'f32', 'pool-count'), (a, b) => a.add(b));
  return sum.div(count);
}

function globalPool(kind: 'mean' | 'max'): Translate {
  return (c) => {
    const x = f32Input(c, 0, 'X');
    const axes = [...x.shape.keys()].slice(2);
    return kind === 'mean' ? x.mean(axes, true) : x.max(axes, true);
  };
}

function batchNorm(c: Ctx): Tensor[] {
  c.only('epsilon', 'momentum', 'training_mode', 'spatial', 'is_test', 'consumed_inputs');
  if (c.attr('spatial') && c.int('spatial', 1) !== 1) c.unsupported('spatial = 0');
  const training = c.int('training_mode', 0) === 1;
  if (!training && c.node.outputs.slice(1).some((o) => o)) c.unsupported('the running mean/variance outputs without training_mode');
  const x = f32Input(c, 0, 'X');
  const C = x.shape[1] ?? c.unsupported('a rank-1 input');
  const chan = (t: Tensor) => t.reshape(C, ...Array<number>(Math.max(0, x.rank - 2)).fill(1));
  const scale = chan(f32Input(c, 1, 'scale')), bias = chan(f32Input(c, 2, 'B'));
  let mean = chan(f32Input(c, 3, 'input_mean')), vr = chan(f32Input(c, 4, 'input_var'));
  const eps = c.float('epsilon', 1e-5);
  if (!training) return [x.sub(mean).mul(scale.mul(vr.add(eps).rsqrt())).add(bias)];
  // Training: normalise by the batch's statistics (population variance over N and space) and
  // return the running statistics updated with momentum.
  const axes = [0, ...[...x.shape.keys()].slice(2)], m = c.float('momentum', 0.9);
  const bm = x.mean(axes, true), dx = x.sub(bm), bv = dx.mul(dx).mean(axes, true);
  const y = dx.mul(scale.mul(bv.add(eps).rsqrt())).add(bias);
  const flat = (t: Tensor) => t.reshape(C);
  mean = flat(mean).mul(m).add(flat(bm).mul(1 - m)); vr = flat(vr).mul(m).add(flat(bv).mul(1 - m));
  return [y, mean, vr];
}

function layerNorm(c: Ctx): Tensor[] {
  c.only('axis', 'epsilon', 'stash_type');
  const x = f32Input(c, 0, 'X');
  const axis = normAxis(c, c.int('axis', -1), x.rank), eps = c.float('epsilon', 1e-5);
  const scale = f32Input(c, 1, 'Scale'), bias = c.has(2) ? f32Input(c, 2, 'B') : undefined;
  const n = x.shape[x.rank - 1]!;
  const wantStats = c.node.outputs.slice(1).some((o) => o);
  const vec = (t: Tensor) => t.rank >= 1 && numel(t.shape) === n && t.shape[t.rank - 1] === n;
  if (axis === x.rank - 1 && !wantStats && vec(scale) && (!bias || vec(bias))) {
    return [record('layernorm', [x, scale.reshape(n), bias ? bias.reshape(n) : full('f32', 0, [n])], { eps })];
  }
  const axes = [...x.shape.keys()].slice(axis);
  const mean = x.mean(axes, true), dx = x.sub(mean);
  const inv = dx.mul(dx).mean(axes, true).add(eps).rsqrt();
  let y = dx.mul(inv).mul(scale);
  if (bias) y = y.add(bias);
  return [y, mean, inv];
}

function dropout(c: Ctx): Val[] {
  c.only('ratio', 'seed', 'is_test');
  if (c.has(2) && Number(c.host(2, 'training_mode').data[0])) {
    const ratio = c.has(1) ? Number(c.host(1, 'ratio').data[0]) : 0.5;
    if (ratio !== 0) c.unsupported(`training_mode = true with ratio ${ratio} (random masks)`);
  }
  const x = c.val(0);
  const dims = isHost(x) ? x.dims : [...x.shape];
  return [isHost(x) ? x : x, host(DT.BOOL, dims, new Uint8Array(numel(dims)).fill(1))];
}

// ---- the table -----------------------------------------------------------------------------

export const OPS: Record<string, Translate> = {
  Add: binary('add'), Sub: binary('sub'), Mul: binary('mul'), Div: binary('div'), Pow: pow,
  Max: variadic('maximum'), Min: variadic('minimum'), Sum: variadic('add'), Mean: variadic('add', true),
  Relu: unary((x) => x.relu()), Tanh: unary((x) => x.tanh()), Sigmoid: unary((x) => x.sigmoid()), Exp: unary((x) => x.exp()),
  Log: unary((x) => x.log()), Sqrt: unary((x) => x.sqrt()), Erf: unary((x) => x.erf()),
  Neg: (c) => { const x = c.t(0, 'X'); return x.dtype === 'i32' ? x.mul(full('i32', -1)) : f32Input(c, 0, 'X').neg(); },
  Abs: (c) => { const x = c.t(0, 'X'); return x.dtype === 'i32' ? x.maximum(x.mul(full('i32', -1))) : f32Input(c, 0, 'X').abs(); },
  Floor: hostUnary('Floor', Math.floor), Ceil: hostUnary('Ceil', Math.ceil), Reciprocal: unary((x) => record('recip', [x])),
  Gelu: unary((x, c) => { c.only('approximate'); const a = c.str('approximate', 'none'); return a === 'tanh' ? geluTanh(x) : a === 'none' ? x.gelu() : c.unsupported(`approximate '${a}'`); }),
  LeakyRelu: unary((x, c) => { c.only('alpha'); return leaky(x, c.float('alpha', 0.01)); }),
  PRelu: (c) => leaky(f32Input(c, 0, 'X'), f32Input(c, 1, 'slope')),
  Elu: unary((x, c) => { c.only('alpha'); return elu(x, c.float('alpha', 1)); }),
  Selu: unary((x, c) => { c.only('alpha', 'gamma'); return elu(x, c.float('alpha', 1.67326319217681884765625)).mul(c.float('gamma', 1.05070102214813232421875)); }),
  Softplus: unary((x) => softplus(x)),
  Softsign: unary((x) => x.div(x.abs().add(1))),
  HardSigmoid: unary((x, c) => { c.only('alpha', 'beta'); return hardSigmoid(x, c.float('alpha', 0.2), c.float('beta', 0.5)); }),
  HardSwish: unary((x) => x.mul(hardSigmoid(x, 1 / 6, 0.5))),
  Mish: unary((x) => x.mul(softplus(x).tanh())),
  Swish: unary((x, c) => { c.only('alpha'); const a = c.float('alpha', 1); return x.mul((a === 1 ? x : x.mul(a)).sigmoid()); }),
  Clip: clip,
  Softmax: softmaxLike(false), LogSoftmax: softmaxLike(true),
  Equal: boolLogic('Equal', hostBinary('Equal', (a, b) => (a === b ? 1 : 0), DT.BOOL), (a, b) => record('where', [a, b!, not(b!)])),
  Less: hostBinary('Less', (a, b) => (a < b ? 1 : 0), DT.BOOL),
  Greater: hostBinary('Greater', (a, b) => (a > b ? 1 : 0), DT.BOOL),
  LessOrEqual: hostBinary('LessOrEqual', (a, b) => (a <= b ? 1 : 0), DT.BOOL),
  GreaterOrEqual: hostBinary('GreaterOrEqual', (a, b) => (a >= b ? 1 : 0), DT.BOOL),
  And: boolLogic('And', hostBinary('And', (a, b) => (a && b ? 1 : 0), DT.BOOL), (a, b) => record('where', [a, b!, F()])),
  Or: boolLogic('Or', hostBinary('Or', (a, b) => (a || b ? 1 : 0), DT.BOOL), (a, b) => record('where', [a, T(), b!])),
  Xor: boolLogic('Xor', hostBinary('Xor', (a, b) => (!a !== !b ? 1 : 0), DT.BOOL), (a, b) => record('where', [a, not(b!), b!])),
  Not: boolLogic('Not', hostNot, (a) => not(a)),
  Mod: (c) => { c.only('fmod'); return hostBinary('Mod', c.int('fmod', 0) ? (a, b) => a % b : (a, b) => a - b * Math.floor(a / b))(c); },
  Cast: (c) => { c.only('to', 'saturate', 'round_mode'); return castTo(c, c.val(0), c.int('to', 0)); },
  CastLike: (c) => { c.only('saturate', 'round_mode'); const l = c.val(1); return castTo(c, c.val(0), isHost(l) ? l.dtype : ({ f32: DT.FLOAT, i32: DT.INT64, bool: DT.BOOL } as const)[l.dtype]); },
  Identity: (c) => { const v = c.val(0); return isHost(v) ? v : v; },
  Dropout: dropout,
  Constant: constantOp, ConstantOfShape: constantOfShape, Shape: shapeOf, Range: range,
  Size: (c) => { const v = c.val(0); return host(DT.INT64, [], [numel(isHost(v) ? v.dims : v.shape)]); },
  Reshape: reshape, Flatten: flatten, Transpose: transpose, Concat: concat, Slice: slice, Split: split,
  Pad: pad, Squeeze: squeeze, Unsqueeze: unsqueeze, Expand: expand, Gather: gather, Where: where,
  ReduceSum: reduceOp('sum', 13), ReduceMean: reduceOp('mean', 18), ReduceMax: reduceOp('max', 18), ReduceMin: reduceOp('min', 18),
  ReduceSumSquare: reduceOp('sumsq', 18), ReduceL1: reduceOp('l1', 18), ReduceL2: reduceOp('l2', 18),
  ReduceLogSumExp: reduceOp('logsumexp', 18), ReduceLogSum: reduceOp('logsum', 18),
  ArgMax: argExtreme(true), ArgMin: argExtreme(false),
  CumSum: cumsum, Trilu: trilu,
  MatMul: (c) => {
    const a = f32Input(c, 0, 'A'), b = f32Input(c, 1, 'B');
    return a.rank === 1 && b.rank === 1 ? a.unsqueeze(0).matmul(b.unsqueeze(1)).reshape() : a.matmul(b);
  },
  Gemm: gemm, Conv: conv, MaxPool: pool('max'), AveragePool: pool('avg'),
  GlobalAveragePool: globalPool('mean'), GlobalMaxPool: globalPool('max'),
  BatchNormalization: batchNorm, LayerNormalization: layerNorm,
  ...RECURRENT,
  ...ATTENTION,
};

