// ONNX reductions, ArgMax/ArgMin, TopK, CumSum and Trilu.

import { fmtShape, numel } from '../../ir/types.ts';
import { isSymbolic } from '../../ir/dims.ts';
import { halvingReduce, leastSize, record, scan, Tensor } from '../../dsl/tensor.ts';
import { gatherAlong } from '../../dsl/functional.ts';
import { Ctx } from '../ctx.ts';
import { OnnxError } from '../proto.ts';
import { f32Input, full, normAxis, type Translate } from './common.ts';
import { axesOf } from './shapes.ts';


export function reduceOp(kind: 'sum' | 'mean' | 'max' | 'min' | 'prod' | 'sumsq' | 'l1' | 'l2' | 'logsumexp' | 'logsum', since: number): Translate {
  return (c) => {
    c.only('axes', 'keepdims', 'noop_with_empty_axes');
    const data = c.t(0, 'data');
    // Of bools, max is any and min is all: the f32 0/1 reduced, then compared with 0.
    const boolExtreme = data.dtype === 'bool' && (kind === 'max' || kind === 'min');
    // Integer sums, products, maxima and minima exactly (the IR's reductions are f32 only): sums by
    // the DSL's (a reverse running sum: any size), the others by halving (fixed sizes).
    const intExact = data.dtype === 'i32' && (kind === 'sum' || kind === 'prod' || kind === 'max' || kind === 'min');
    const x = boolExtreme ? record('where', [data, full('f32', 1), full('f32', 0)]) : intExact ? data : f32Input(c, 0, 'data');
    const keep = c.int('keepdims', 1) === 1;
    let axes = axesOf(c, since);
    if (!axes || axes.length === 0) {
      if (c.int('noop_with_empty_axes', 0)) return data;
      axes = [...x.maxShape.keys()];
    }
    if (numel(x.maxShape) === 0) c.unsupported('reducing an empty tensor');
    const ax = axes.map((a) => normAxis(c, a, x.rank, 'axes entry'));
    if (boolExtreme) return (kind === 'max' ? x.max(ax, keep) : x.min(ax, keep)).gt(0);
    if (intExact) {
      if (kind === 'sum') return x.sum(ax, keep);
      for (const a of ax) if (isSymbolic(x.dim(a))) c.unsupported(`an integer ${kind === 'prod' ? 'product' : kind === 'max' ? 'maximum' : 'minimum'} along axis ${a} of the symbolic size '${x.dim(a)}'`);
      return kind === 'prod' ? halvingReduce('ReduceProd', x, ax, keep, (a, b) => a.mul(b)) : kind === 'max' ? x.max(ax, keep) : x.min(ax, keep);
    }
    switch (kind) {
      case 'sum': return x.sum(ax, keep);
      case 'mean': return x.mean(ax, keep);
      case 'max': return x.max(ax, keep);
      case 'min': return x.min(ax, keep);
      case 'prod': return x.prod(ax, keep);
      case 'sumsq': return x.mul(x).sum(ax, keep);
      case 'l1': return x.abs().sum(ax, keep);
      case 'l2': return x.mul(x).sum(ax, keep).sqrt();
      case 'logsum': return x.sum(ax, keep).log();
      case 'logsumexp': return x.logsumexp(ax, keep);
    }
  };
}


/**
 * ArgMax/ArgMin of f32 or integer data (int64 held as i32, compared as integers: exact where
 * an f32 compare would tie above 2^24). ArgMin is the argmax of −x for f32 and of −1 − x (= ~x,
 * an exact order reversal with no overflow) for i32. select_last_index takes the first index in
 * the axis reversed (a constant gather), as ONNX's reference does: n − 1 − argmax(flip(x)).
 */
export function argExtreme(max: boolean): Translate {
  return (c) => {
    c.only('axis', 'keepdims', 'select_last_index');
    const x = c.t(0, 'data');
    if (x.dtype === 'bool') c.unsupported('data of type bool');
    const axis = normAxis(c, c.int('axis', 0), x.rank), keep = c.int('keepdims', 1) === 1;
    const last = c.int('select_last_index', 0) === 1, n = x.maxShape[axis]!;
    if (last && isSymbolic(x.dim(axis))) c.unsupported(`select_last_index = 1 along axis ${axis} of a named size`);
    const flipped = last ? gatherAlong(x, axis, Array.from({ length: n }, (_, i) => n - 1 - i)) : x;
    const i = max ? flipped.argmax(axis, keep) : flipped.argmin(axis, keep);
    return last ? full('i32', n - 1).sub(i) : i;
  };
}

/**
 * TopK: k is attribute 'k' (opset 1) or input K (10+), which must be known at compile time (from a
 * graph input: NeedsConstantError naming it; from a symbolic size: refused). Values come out
 * sorted whatever 'sorted' says (ONNX leaves their order open then). A symbolic size on the axis
 * takes k up to its least value (1 unless dims gives a min; the IR's type rule needs k ≤ n at every size).
 */
export function topK(c: Ctx): Tensor[] {
  c.only('axis', 'k', 'largest', 'sorted');
  if (c.opset < 10 ? !c.attr('k') : c.attr('k')) c.unsupported(c.opset < 10 ? 'TopK without attribute k' : "attribute 'k' (from opset 10 k is input K)");
  const x = c.t(0, 'X');
  if (x.dtype === 'bool') c.unsupported('bool input X');
  let k: number;
  if (c.opset < 10) k = c.int('k', 0);
  else {
    const ks = c.ints(1, 'K');
    if (ks.length !== 1) throw new OnnxError(`${c.where}: K must hold one value, got ${ks.length}`);
    k = ks[0]!;
  }
  const axis = normAxis(c, c.int('axis', -1), x.rank);
  const n = x.dims[axis]!;
  if (k === 0) c.unsupported(`k = 0 (empty outputs)`);
  if (isSymbolic(n)) {
    const least = leastSize(n);
    if (!Number.isInteger(k) || k < 1 || k > least) c.unsupported(`k = ${k} along axis ${axis} of X ${fmtShape(x.dims)}, the symbolic size '${n}' (k must be at most the size at every size from ${least === 1 ? '1; only k = 1 can be, or give the size a min in dims' : `its least, ${least}`})`);
  } else if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new OnnxError(`${c.where}: k = ${k} is out of range for axis ${axis} of X ${fmtShape(x.dims)} (k must be in [1, ${n}])`);
  }
  return x.topk(k, axis, c.int('largest', 1) === 1, c.int('sorted', 1) === 1);
}

export function cumsum(c: Ctx): Tensor {
  c.only('exclusive', 'reverse');
  const x = c.t(0, 'x');
  if (x.dtype === 'bool') c.unsupported('bool input');
  const axis = normAxis(c, c.ints(1, 'axis')[0]!, x.rank);
  return scan(x, axis, c.int('exclusive', 0) === 1, c.int('reverse', 0) === 1);
}

export function trilu(c: Ctx): Tensor {
  c.only('upper');
  const x = c.t(0);
  if (x.rank < 2) c.unsupported(`rank ${x.rank}`);
  const k = c.has(1) ? c.ints(1, 'k')[0]! : 0;
  return c.int('upper', 1) ? x.triu(k) : x.tril(k);
}
