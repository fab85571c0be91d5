// Nodes with an empty input (ctx.ts EmptyVal: a 0 in its dims), where ONNX defines the result.
// An empty tensor has no values, so nothing here reaches the IR: each translation computes the
// output's dtype and dims (a further empty tensor), or a constant where ONNX gives elements (a
// reduction over the empty axis is the reduction's identity, Shape and Size are known). import.ts
// sends a node here when one of its inputs is empty; an op not in EMPTY_OPS reads it through
// Ctx.any, which refuses it naming the node. Concat (shapes.ts) drops empty inputs itself.

import { numel, type DType } from '../../ir/types.ts';
import { isSymbolic, type Dim } from '../../ir/dims.ts';
import { Ctx, emptyVal, host, irDtype, isHost, isSizeVal, ONNX_OF, UnsupportedError, type AnyVal, type EmptyVal, type Val } from '../ctx.ts';
import { DT } from '../proto.ts';
import { OPS } from '../ops.ts';
import { full, normAxis, type Translate } from './common.ts';
import { axesOf, expandDims, sliceAxes, sliceParams, splitSizes } from './shapes.ts';

const fmt = (ds: readonly Dim[]): string => `[${ds.join(', ')}]`;
const out = (c: Ctx, dtype: DType, dims: Dim[], k = 0): EmptyVal => emptyVal(dtype, dims, `output ${k} ('${c.node.outputs[k] ?? ''}') of ${c.where}`);
const dtypeOf = (c: Ctx, v: Val | EmptyVal): DType => ('empty' in v ? v.dtype : isHost(v) ? irDtype(v.dtype, c.where) : v.dtype);

/** Input `i`'s dims, which must be fixed sizes (an empty tensor of a symbolic size is refused). */
function fixedDims(c: Ctx, i: number, what: string): number[] {
  const v = c.empty(i) ?? c.any(i, what);
  if (isSizeVal(v)) throw c.sizeRefusal(i, what);
  const d = v.dims.find(isSymbolic);
  if (d !== undefined) c.unsupported(`${what} ${fmt(v.dims)}: an empty tensor with the symbolic size '${d}'`);
  return [...v.dims] as number[];
}

/** ONNX's multidirectional broadcasting, a 0 included (it meets 0 or 1, never a larger size). */
function broadcast(c: Ctx, shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, a) => shapes.reduce((d, s) => {
    const e = s[a - rank + s.length] ?? 1;
    if (d === e || e === 1) return d;
    if (d === 1) return e;
    return c.unsupported(`broadcasting the shapes ${shapes.map(fmt).join(', ')} (axis ${a}: ${d} and ${e})`);
  }, 1));
}

/**
 * An elementwise op (output shape the broadcast of the inputs `shaped`, all by default): the op's
 * own translation runs on stand-ins (each empty input as ones, its 0s as 1s) for its checks and its
 * output's dtype, which the values cannot change; the output is empty, of the broadcast shape.
 * (CastLike's and Trilu's shape is their input's alone: an empty target_type gives only the dtype.)
 */
const elementwise = (shaped?: number[]): Translate => (c) => {
  const dims = c.inputs.flatMap((v, i) => (v === undefined || (shaped && !shaped.includes(i)) ? [] : [fixedDims(c, i, `input ${i}`)]));
  const shape = broadcast(c, dims);
  const standIns = c.inputs.map((v) => {
    if (!v || !('empty' in v)) return v;
    const n = numel(v.dims.map((d) => (d === 0 ? 1 : d)) as number[]), t = ONNX_OF[v.dtype];
    return host(t, v.dims.map((d) => (d === 0 ? 1 : d)) as number[], t === DT.FLOAT ? new Float32Array(n).fill(1) : t === DT.BOOL ? new Uint8Array(n).fill(1) : new Array<number>(n).fill(1));
  });
  const r = OPS[c.node.opType]!(c.withInputs(standIns));
  if (!shape.includes(0)) return r; // no shaping input was empty (CastLike's target is): the stand-in's values were never read
  const first = (Array.isArray(r) ? r[0] : r) as AnyVal;
  if (!first || isSizeVal(first) || 'empty' in first) return c.unsupported(`an empty input (its result could not be typed)`);
  return out(c, dtypeOf(c, first), shape);
};

/** The value of a reduction over nothing (onnx/onnx#5568): 0 for sums, 1 for a product, the dtype's lowest for max, highest for min, −∞ for the logs. */
const IDENTITY = { sum: 0, sumsq: 0, l1: 0, l2: 0, prod: 1, max: -Infinity, min: Infinity, logsum: -Infinity, logsumexp: -Infinity } as const;

/** Reduce* of an empty tensor: along an empty axis, the identity; the output is empty if a kept axis is. */
function reduce(kind: keyof typeof IDENTITY | 'mean', since: number): Translate {
  return (c) => {
    c.only('axes', 'keepdims', 'noop_with_empty_axes');
    const e = c.empty(0)!;
    const dims = fixedDims(c, 0, 'data');
    const keep = c.int('keepdims', 1) === 1;
    let axes = axesOf(c, since);
    if (!axes || axes.length === 0) {
      if (c.int('noop_with_empty_axes', 0)) return e;
      axes = [...dims.keys()];
    }
    const ax = axes.map((a) => normAxis(c, a, dims.length, 'axes entry'));
    const shape = dims.flatMap((d, a) => (!ax.includes(a) ? [d] : keep ? [1] : []));
    // The dtypes reduceOp takes: f32; bool for max and min; i32 for prod.
    const ok = e.dtype === 'f32' || (e.dtype === 'bool' && (kind === 'max' || kind === 'min')) || (e.dtype === 'i32' && kind === 'prod');
    if (!ok) c.unsupported(`data of type ${e.dtype === 'i32' ? 'int64/int32' : e.dtype}`);
    if (shape.includes(0)) return out(c, e.dtype, shape);
    if (kind === 'mean') return c.unsupported(`the mean of an empty tensor ${fmt(dims)} over axes [${ax}] (ONNX leaves it undefined)`);
    const v = e.dtype === 'bool' ? (kind === 'min' ? 1 : 0) : IDENTITY[kind];
    return full(e.dtype, v, shape);
  };
}

const reshape: Translate = (c) => {
  c.only('allowzero', 'shape');
  const xd = fixedDims(c, 0, 'data'), e = c.empty(0)!;
  const shape = c.opset < 5 ? (c.intList('shape') ?? c.unsupported("missing 'shape'")) : c.ints(1, 'shape');
  const o = shape.map((d, i) => (d === 0 && !c.int('allowzero', 0) ? (xd[i] ?? c.unsupported(`shape ${fmt(shape)}: dim 0 at ${i} copies a dim the input lacks`)) : d));
  if (o.filter((d) => d === -1).length > 1 || o.some((d) => d < -1)) c.unsupported(`shape ${fmt(shape)} for an input of shape ${fmt(xd)}`);
  const known = o.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  if (o.includes(-1) && known === 0) c.unsupported(`shape ${fmt(shape)} for the empty tensor ${fmt(xd)} (the -1 could be any size)`);
  const dims = o.map((d) => (d === -1 ? 0 : d));
  if (numel(dims) !== 0) throw new UnsupportedError(`${c.where}: cannot reshape the empty tensor ${fmt(xd)} to ${fmt(shape)} (${numel(dims)} elements)`);
  return out(c, e.dtype, dims);
};

const flatten: Translate = (c) => {
  c.only('axis');
  const xd = fixedDims(c, 0, 'input'), a0 = c.int('axis', 1), axis = a0 < 0 ? a0 + xd.length : a0;
  if (axis < 0 || axis > xd.length) c.unsupported(`axis ${a0} for rank ${xd.length}`);
  return out(c, c.empty(0)!.dtype, [numel(xd.slice(0, axis)), numel(xd.slice(axis))]);
};

const squeeze: Translate = (c) => {
  const xd = fixedDims(c, 0, 'data');
  const axes = (axesOf(c, 13) ?? xd.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis(c, a, xd.length));
  for (const a of axes) if (xd[a] !== 1) c.unsupported(`squeezing axis ${a} of size ${xd[a]}`);
  return out(c, c.empty(0)!.dtype, xd.filter((_, i) => !axes.includes(i)));
};

const unsqueeze: Translate = (c) => {
  const xd = fixedDims(c, 0, 'data');
  const raw = axesOf(c, 13) ?? c.unsupported('missing axes');
  const r = xd.length + raw.length, axes = raw.map((a) => normAxis(c, a, r));
  if (new Set(axes).size !== axes.length) c.unsupported(`repeated axes [${raw}]`);
  const dims: number[] = [];
  for (let i = 0, j = 0; i < r; i++) dims.push(axes.includes(i) ? 1 : xd[j++]!);
  return out(c, c.empty(0)!.dtype, dims);
};

const transpose: Translate = (c) => {
  c.only('perm');
  const xd = fixedDims(c, 0, 'data');
  const perm = c.intList('perm') ?? [...xd.keys()].reverse();
  if (perm.length !== xd.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) c.unsupported(`perm [${perm}] for rank ${xd.length}`);
  return out(c, c.empty(0)!.dtype, perm.map((p) => xd[p]!));
};

const expand: Translate = (c) => {
  return out(c, c.empty(0)!.dtype, expandDims(c, fixedDims(c, 0, 'input'), c.dims(1, 'shape')) as number[]);
};

const slice: Translate = (c) => {
  const xd = fixedDims(c, 0, 'data'), e = c.empty(0)!;
  const { starts, ends, axes, steps } = sliceParams(c);
  if ([...starts, ...ends].some(isSymbolic)) c.unsupported(`slicing the empty tensor ${fmt(xd)} at symbolic starts or ends`);
  const pos = sliceAxes(c, xd, starts as number[], ends as number[], axes, steps);
  return out(c, e.dtype, xd.map((d, a) => pos[a]?.length ?? d));
};

const split: Translate = (c) => {
  c.only('axis', 'split', 'num_outputs');
  const xd = fixedDims(c, 0, 'input'), e = c.empty(0)!;
  const axis = normAxis(c, c.int('axis', 0), xd.length);
  return splitSizes(c, xd[axis]!).map((s, k) => out(c, e.dtype, xd.map((d, i) => (i === axis ? s : d)), k));
};

const ELEMENTWISE = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'SwiGLU',
  'Relu', 'Tanh', 'Sigmoid', 'Exp', 'Log', 'Sqrt', 'Erf', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh',
  'Neg', 'Abs', 'Floor', 'Ceil', 'Round', 'Sign', 'Reciprocal', 'Gelu', 'LeakyRelu', 'Elu', 'Selu', 'Softplus', 'Softsign',
  'HardSigmoid', 'HardSwish', 'Mish', 'Swish', 'Clip', 'Softmax', 'LogSoftmax',
  'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'Where', 'Cast', 'Identity'];

/** Ops whose data (input 0) may be empty: with an empty parameter instead, the op's own translation refuses it. */
const DATA: Record<string, Translate> = {
  Reshape: reshape, Flatten: flatten, Squeeze: squeeze, Unsqueeze: unsqueeze, Transpose: transpose, Expand: expand, Slice: slice, Split: split,
  ReduceSum: reduce('sum', 13), ReduceMean: reduce('mean', 18), ReduceMax: reduce('max', 18), ReduceMin: reduce('min', 18),
  ReduceSumSquare: reduce('sumsq', 18), ReduceL1: reduce('l1', 18), ReduceL2: reduce('l2', 18),
  ReduceLogSumExp: reduce('logsumexp', 18), ReduceLogSum: reduce('logsum', 18), ReduceProd: reduce('prod', 18),
};

/** The ops that take an empty input. (Shape and Size read its dims, Concat drops it: shapes.ts.) */
export const EMPTY_OPS: Record<string, Translate> = {
  ...Object.fromEntries(ELEMENTWISE.map((op) => [op, elementwise()])), CastLike: elementwise([0]), Trilu: elementwise([0]),
  ...Object.fromEntries(Object.entries(DATA).map(([op, f]) => [op, (c: Ctx) => (c.empty(0) ? f(c) : OPS[op]!(c))])),
  Shape: OPS.Shape!, Size: OPS.Size!, Concat: OPS.Concat!,
};
