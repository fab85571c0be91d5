// ONNX reductions, ArgMax/ArgMin, TopK, CumSum and Trilu.

import { fmtShape, numel } from '../../ir/types.ts';
import { addDims, isSymbolic, type Dim } from '../../ir/dims.ts';
import { cat, constant, record, Tensor } from '../../dsl/tensor.ts';
import { gatherAlong } from '../../dsl/functional.ts';
import { Ctx } from '../ctx.ts';
import { OnnxError } from '../proto.ts';
import { f32Input, full, normAxis, type Translate } from './common.ts';
import { axesOf } from './shapes.ts';

const FLT_MAX = 3.4028234663852886e38;

export function reduceOp(kind: 'sum' | 'mean' | 'max' | 'min' | 'prod' | 'sumsq' | 'l1' | 'l2' | 'logsumexp' | 'logsum', since: number): Translate {
  return (c) => {
    c.only('axes', 'keepdims', 'noop_with_empty_axes');
    const data = c.t(0, 'data');
    // Of bools, max is any and min is all: the f32 0/1 reduced, then compared with 0.
    const boolExtreme = data.dtype === 'bool' && (kind === 'max' || kind === 'min');
    const intProd = data.dtype === 'i32' && kind === 'prod';
    const x = boolExtreme ? record('where', [data, full('f32', 1), full('f32', 0)]) : intProd ? data : f32Input(c, 0, 'data');
    const keep = c.int('keepdims', 1) === 1;
    let axes = axesOf(c, since);
    if (!axes || axes.length === 0) {
      if (c.int('noop_with_empty_axes', 0)) return data;
      axes = [...x.shape.keys()];
    }
    if (numel(x.shape) === 0) c.unsupported('reducing an empty tensor');
    const ax = axes.map((a) => normAxis(c, a, x.rank, 'axes entry'));
    if (boolExtreme) return (kind === 'max' ? x.max(ax, keep) : x.neg().max(ax, keep).neg()).gt(0);
    if (intProd) return pairwiseProduct(c, x, ax, keep);
    switch (kind) {
      case 'sum': return x.sum(ax, keep);
      case 'mean': return x.mean(ax, keep);
      case 'max': return x.max(ax, keep);
      case 'min': return x.neg().max(ax, keep).neg();
      case 'prod': return x.prod(ax, keep);
      case 'sumsq': return x.mul(x).sum(ax, keep);
      case 'l1': return x.abs().sum(ax, keep);
      case 'l2': return x.mul(x).sum(ax, keep).sqrt();
      case 'logsum': return x.sum(ax, keep).log();
      case 'logsumexp': {
        // m + ln Σ e^(x − m), m the max clamped to ±FLT_MAX: e^x overflowed from 88 and vanished
        // below −87 (ln Σ = ±inf); an infinite max stays a sum of e^(±inf) (+inf, or −inf for all −inf).
        const m = x.max(ax, true).maximum(-FLT_MAX).minimum(FLT_MAX);
        const s = x.sub(m).exp().sum(ax, true).log().add(m);
        return keep ? s : s.squeeze(ax);
      }
    }
  };
}

/**
 * The product of i32 data over `axes` by halving: the first half of an axis times the second (an
 * odd element carried over) until one entry is left. i32 multiplication wraps modulo 2^32
 * (ONNX's int64 held as i32, as Mul) and is associative and commutative there, so the tree's
 * order gives the exact wrapped product. The IR's prod is f32 only (rounded past 2^24).
 */
function pairwiseProduct(c: Ctx, x: Tensor, axes: number[], keep: boolean): Tensor {
  let y = x;
  for (const a of new Set(axes)) {
    // (import.ts refuses ReduceProd on symbolic sizes before this; kept should that gate open.)
    if (isSymbolic(y.dim(a))) c.unsupported(`an integer product along axis ${a} of the symbolic size '${y.dim(a)}'`);
    for (let n = y.shape[a]!; n > 1; n = Math.ceil(n / 2)) {
      const h = Math.floor(n / 2), pairs = y.slice(a, 0, h).mul(y.slice(a, h, 2 * h));
      y = n % 2 ? cat([pairs, y.slice(a, 2 * h, n)], a) : pairs;
    }
  }
  return keep ? y : y.squeeze([...new Set(axes)]);
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
    const last = c.int('select_last_index', 0) === 1, n = x.shape[axis]!;
    if (last && isSymbolic(x.dim(axis))) c.unsupported(`select_last_index = 1 along axis ${axis} of a named size`);
    const flipped = last ? gatherAlong(x, axis, Array.from({ length: n }, (_, i) => n - 1 - i)) : x;
    const y = max ? flipped : x.dtype === 'i32' ? full('i32', -1).sub(flipped) : flipped.neg();
    const i = y.argmax(axis, keep);
    return last ? full('i32', n - 1).sub(i) : i;
  };
}

/**
 * TopK: k is attribute 'k' (opset 1) or input K (10+), which must be known at compile time (from a
 * graph input: NeedsConstantError naming it; from a symbolic size: refused). Values come out
 * sorted whatever 'sorted' says (ONNX leaves their order open then). A symbolic size on the axis
 * works only with k = 1 (the IR's type rule needs k ≤ n at every size and says so).
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
    if (k !== 1) c.unsupported(`k = ${k} along axis ${axis} of X ${fmtShape(x.dims)}, the symbolic size '${n}' (k must be at most the size at every size from 1; only k = 1 can be)`);
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
  const ex = c.int('exclusive', 0) === 1, rev = c.int('reverse', 0) === 1;
  return x.dtype === 'i32' || x.shape[axis]! > TRIANGLE_MAX ? doublingScan(x, axis, ex, rev) : triangleScan(x, axis, ex, rev);
}

/** The longest axis (its bound, for a symbolic one) scanned by a triangle: 256² f32 is 256 KB of artifact. */
const TRIANGLE_MAX = 256;

/**
 * y = x · T along the axis, T[i][j] = 1 when x_i counts towards y_j. T[i][j] depends on i and j
 * only, so for a symbolic axis it is the triangle at the bound sliced to the run-time size.
 */
function triangleScan(x: Tensor, axis: number, ex: boolean, rev: boolean): Tensor {
  const n = x.shape[axis]!, d = x.dim(axis);
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] = (rev ? (ex ? i > j : i >= j) : (ex ? i < j : i <= j)) ? 1 : 0;
  let t = constant(m, [n, n], 'f32', 'cumsum');
  if (isSymbolic(d)) t = t.slice(0, 0, d).slice(1, 0, d);
  return x.transpose(axis, -1).matmul(t).transpose(axis, -1);
}

/**
 * Hillis–Steele doubling: y += y shifted by k (zeros shifted in) for k = 1, 2, 4, … below the
 * axis's bound. Steps with k at or past a smaller run-time size shift in only zeros, so the same
 * steps serve every size. Integers exactly (an f32 product would round sums past 2^24), wrapping
 * modulo 2^32 as every i32 add (ONNX's int64 held as i32); floats on axes too long for a triangle.
 */
function doublingScan(x: Tensor, axis: number, ex: boolean, rev: boolean): Tensor {
  const n = x.shape[axis]!, d = x.dim(axis);
  // y moved k along the axis (towards the end, or towards the start when reversed), zeros shifted in.
  const shift = (y: Tensor, k: number): Tensor => {
    // One zero broadcast (a block of zeros per step would be stored in the artifact at fixed sizes).
    const z = full(x.dtype, 0, y.dims.map(() => 1)).expand(...y.dims.map((e, i) => (i === axis ? k : e)), y.bounds);
    return rev ? cat([y, z], axis).slice(axis, k, addDims(d, k)) : cat([z, y], axis).slice(axis, 0, d);
  };
  let y = ex ? shift(x, 1) : x;
  for (let k = 1; k < n; k *= 2) y = y.add(shift(y, k));
  return y;
}

export function trilu(c: Ctx): Tensor {
  c.only('upper');
  const x = c.t(0);
  if (x.rank < 2) c.unsupported(`rank ${x.rank}`);
  const k = c.has(1) ? c.ints(1, 'k')[0]! : 0, upper = c.int('upper', 1);
  const [N, M] = x.shape.slice(-2) as [number, number];
  const m = new Uint8Array(N * M);
  for (let i = 0; i < N; i++) for (let j = 0; j < M; j++) m[i * M + j] = (upper ? j - i >= k : j - i <= k) ? 1 : 0;
  // Entry (i, j) depends on i and j only: for symbolic sizes, the mask at the bounds sliced to them.
  let mask = constant(m, [N, M], 'bool', 'trilu');
  const [dn, dm] = x.dims.slice(-2) as [Dim, Dim];
  if (isSymbolic(dn)) mask = mask.slice(0, 0, dn);
  if (isSymbolic(dm)) mask = mask.slice(1, 0, dm);
  return record('where', [mask, x, full(x.dtype, 0)]);
}
