// Reductions: sum, mean, max, prod, argmax over a set of axes; softmax and logsoftmax along one
// axis; layernorm over the last dimension; topk along one axis (values, and their indices as
// result 1). argmax also takes i32 (compared as integers, exact where an f32 compare would tie
// above 2^24).

import { fmtShape, normAxis, numel, sameShape, strides, allocData, type AnyTensorData, type TensorType } from '../types.ts';
import { defineOp, type NodeOf, type Value } from './def.ts';
import { around } from './iterate.ts';
import { arity, fail, wantDtype } from './rules.ts';

export interface ReduceAttrs {
  /** The reduced axes, normalised (0 … rank−1). */
  axes: readonly number[];
  keepdim?: boolean;
}
export interface AxisAttrs { axis: number }
export interface LayerNormAttrs { eps: number }
/** The k largest (or smallest) of an f32 or i32 tensor along `axis`, always in order (torch's sorted=False may be sorted too). */
export interface TopKAttrs { axis: number; k: number; largest: boolean }

function reduceValues(n: NodeOf<ReduceAttrs>, x: Value, f: (a: number[]) => number): AnyTensorData {
  const axes = new Set(n.attrs.axes ?? []);
  const shape = x.type.shape;
  // Move reduced axes last, then reduce contiguous groups.
  const keep = shape.map((_, i) => i).filter((i) => !axes.has(i));
  const red = shape.map((_, i) => i).filter((i) => axes.has(i));
  const perm = [...keep, ...red];
  const xs = strides(shape);
  const groups = numel(keep.map((i) => shape[i]!)), len = numel(red.map((i) => shape[i]!));
  const out = allocData(n.type);
  const pshape = perm.map((i) => shape[i]!);
  const idx = new Array<number>(perm.length).fill(0);
  const buf: number[] = [];
  for (let g = 0; g < groups; g++) {
    buf.length = 0;
    for (let r = 0; r < len; r++) {
      let off = 0;
      for (let d = 0; d < perm.length; d++) off += idx[d]! * xs[perm[d]!]!;
      buf.push(x.data[off]!);
      for (let d = perm.length - 1; d >= 0; d--) { if (++idx[d]! < pshape[d]!) break; idx[d] = 0; }
    }
    out[g] = f(buf);
  }
  return out;
}

function reduce(op: 'sum' | 'mean' | 'max' | 'prod' | 'argmax', f: (a: number[]) => number) {
  return defineOp<ReduceAttrs>({
    type: (ins, a) => {
      arity(op, ins, 1);
      const x = ins[0]!;
      if (op === 'argmax') wantDtype(op, 'input', x, 'f32', 'i32'); else wantDtype(op, 'input', x, 'f32');
      const axes = new Set([...(a.axes ?? [])].map((ax) => normAxis(ax, x.shape.length)));
      const shape: number[] = [];
      x.shape.forEach((d, i) => { if (!axes.has(i)) shape.push(d); else if (a.keepdim) shape.push(1); });
      return { dtype: op === 'argmax' ? 'i32' : 'f32', shape };
    },
    evaluate: (n, [x]) => reduceValues(n, x!, f),
  });
}

function softmaxValues(x: Value, axis: number, log: boolean): Float32Array {
  const [outer, n, inner] = around(x.type.shape, axis);
  const out = new Float32Array(x.data.length);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    const at = (j: number) => (o * n + j) * inner + i;
    let m = -Infinity;
    for (let j = 0; j < n; j++) m = Math.max(m, x.data[at(j)]!);
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(x.data[at(j)]! - m);
    for (let j = 0; j < n; j++) out[at(j)] = log ? x.data[at(j)]! - m - Math.log(s) : Math.exp(x.data[at(j)]! - m) / s;
  }
  return out;
}

const softmax = defineOp<AxisAttrs>({
  type: (ins, a) => { arity('softmax', ins, 1); wantDtype('softmax', 'input', ins[0]!, 'f32'); normAxis(a.axis, ins[0]!.shape.length); return ins[0]!; },
  evaluate: (n, [x]) => softmaxValues(x!, n.attrs.axis, false),
});
const logsoftmax = defineOp<AxisAttrs>({
  type: (ins, a) => { arity('logsoftmax', ins, 1); normAxis(a.axis, ins[0]!.shape.length); return ins[0]!; },
  evaluate: (n, [x]) => softmaxValues(x!, n.attrs.axis, true),
});

// LayerNorm over the last dimension: inputs [x, gamma, beta, residual?]; with a residual
// the normalised value is x + residual (the transformer's "add & norm", fused by a pass).
const layernorm = defineOp<LayerNormAttrs>({
  type: (ins) => {
    arity('layernorm', ins, 3, 4);
    const [x, g, b, r] = ins as [TensorType, TensorType, TensorType, TensorType?];
    const n = x.shape[x.shape.length - 1]!;
    for (const [what, t] of [['weight', g], ['bias', b]] as const) if (!sameShape(t.shape, [n])) fail('layernorm', `${what} must be [${n}], got ${fmtShape(t.shape)}`);
    if (r && !sameShape(r.shape, x.shape)) fail('layernorm', `residual ${fmtShape(r.shape)} must match the input ${fmtShape(x.shape)}`);
    return x;
  },
  evaluate: (n, [x, g, b, r]) => {
    const N = x!.type.shape[x!.type.shape.length - 1]!, rows = numel(x!.type.shape) / N, eps = n.attrs.eps;
    const out = new Float32Array(rows * N);
    for (let i = 0; i < rows; i++) {
      // x + residual is an f32 sum, as in torch. The squared deviations are summed in f32 there
      // (and in the kernel): where that sum overflows, rstd = 1/sqrt(inf) = 0 and y = beta.
      const s = Array.from({ length: N }, (_, j) => (r ? Math.fround(x!.data[i * N + j]! + r.data[i * N + j]!) : x!.data[i * N + j]!));
      const mu = s.reduce((a, v) => a + v, 0) / N;
      const ss = s.reduce((a, v) => a + (v - mu) ** 2, 0);
      const rstd = Math.fround(ss) === Infinity ? 0 : 1 / Math.sqrt(ss / N + eps);
      for (let j = 0; j < N; j++) out[i * N + j] = (s[j]! - mu) * rstd * g!.data[j]! + b!.data[j]!;
    }
    return out;
  },
});

/**
 * Whether a ranks before b in a top-k: NaN is larger than every number (torch.topk and ONNX put
 * it first for largest, last for smallest). Equal values (−0 and 0 included) do not rank before
 * each other, so a stable order keeps the lower index first (ONNX's rule; torch 1.13's CPU order
 * of ties is unspecified). The kernel (assembly/topk.ts) uses the same rule.
 */
export const ranksBefore = (a: number, b: number, largest: boolean): boolean =>
  (largest ? a > b || (a !== a && b === b) : a < b || (b !== b && a === a));

function topkType(ins: readonly TensorType[], a: TopKAttrs): TensorType[] {
  arity('topk', ins, 1);
  const x = ins[0]!;
  wantDtype('topk', 'input', x, 'f32', 'i32');
  if (x.shape.length === 0) fail('topk', `input must have at least one dim, got ${fmtShape(x.shape)}`);
  const axis = a.axis;
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) fail('topk', `axis must be normalised to [0, ${x.shape.length - 1}] for ${fmtShape(x.shape)}, got ${String(axis)}`);
  const n = x.shape[axis]!;
  if (!Number.isInteger(a.k) || a.k < 1 || a.k > n) fail('topk', `k must be an integer in [1, ${n}] (the size of dim ${axis} of ${fmtShape(x.shape)}), got ${String(a.k)}`);
  const shape = x.shape.map((d, i) => (i === axis ? a.k : d));
  return [{ dtype: x.dtype, shape }, { dtype: 'i32', shape }];
}

const topk = defineOp<TopKAttrs>({
  type: (ins, a) => topkType(ins, a)[0]!,
  secondary: (ins, a) => topkType(ins, a).slice(1),
  evaluate: (n, [x]) => {
    const { axis, k, largest } = n.attrs;
    const [outer, len, inner] = around(x!.type.shape, axis);
    const values = allocData({ dtype: x!.type.dtype, shape: [outer * k * inner] }), indices = new Int32Array(outer * k * inner);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      const at = (j: number) => (o * len + j) * inner + i;
      // Array.prototype.sort is stable: ties keep the lower index first.
      const order = [...Array(len).keys()].sort((p, q) => {
        const a = x!.data[at(p)]!, b = x!.data[at(q)]!;
        return ranksBefore(a, b, largest) ? -1 : ranksBefore(b, a, largest) ? 1 : 0;
      });
      for (let r = 0; r < k; r++) {
        values[(o * k + r) * inner + i] = x!.data[at(order[r]!)]!;
        indices[(o * k + r) * inner + i] = order[r]!;
      }
    }
    return [values, indices];
  },
});

export const REDUCE_OPS = {
  sum: reduce('sum', (a) => a.reduce((s, v) => s + v, 0)),
  // The sum rounded to f32 before dividing: torch's f32 sum overflows to inf (the mean of [1e38] × 4 is inf).
  mean: reduce('mean', (a) => Math.fround(a.reduce((s, v) => s + v, 0)) / a.length),
  // The product in the kernel's order (sequential along the flattened reduced axes, from 1), each
  // step rounded to f32, so the reference and the compiled code agree bit for bit; NaN, ±inf and
  // ±0 follow IEEE multiplication (0 · inf is NaN, the sign of a zero is the product's).
  prod: reduce('prod', (a) => a.reduce((s, v) => Math.fround(s * v), 1)),
  // NaN wins a max, and argmax gives the index of the first NaN (torch.max, torch.argmax).
  max: reduce('max', (a) => a.reduce((s, v) => (v > s || v !== v ? v : s), -Infinity)),
  argmax: reduce('argmax', (a) => a.reduce((bi, v, i) => (a[bi] !== a[bi] ? bi : v > a[bi]! || v !== v ? i : bi), 0)),
  softmax,
  logsoftmax,
  layernorm,
  topk,
};
