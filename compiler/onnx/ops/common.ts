// What every ONNX operator translation shares: the translation's type, constants, axis and dtype
// checks, and the checks that keep a symbolic size (a dim_param kept with { max }) off the axes an
// op cannot take it on.

import { fmtShape, numel, type DType } from '../../ir/types.ts';
import { isSymbolic, type Dim, type Sizes } from '../../ir/dims.ts';
import { constant, Tensor } from '../../dsl/tensor.ts';
import { Ctx, UnsupportedError, type AnyVal } from '../ctx.ts';

export type Translate = (c: Ctx) => AnyVal | (AnyVal | undefined)[];

/**
 * A constant of `dtype` filled with `v`, of `shape` (a scalar by default). A shape with symbolic
 * dims (bounded by `max`) is one value broadcast to the run-time size: a block filled at the
 * bounds would be the wrong size at any smaller one.
 */
export function full(dtype: DType, v: number, shape: readonly Dim[] = [], max: Sizes = {}): Tensor {
  if (shape.some(isSymbolic)) return full(dtype, v, shape.map(() => 1)).expand(...shape, max);
  const n = numel(shape as number[]);
  const data = dtype === 'f32' ? new Float32Array(n).fill(v) : dtype === 'i32' ? new Int32Array(n).fill(v) : new Uint8Array(n).fill(v ? 1 : 0);
  return constant(data, shape as number[], dtype, String(v));
}
export const normAxis = (c: Ctx, a: number, rank: number, what = 'axis'): number => {
  const r = a < 0 ? a + rank : a;
  if (!Number.isInteger(a) || r < 0 || r >= rank) throw new UnsupportedError(`${c.where}: ${what} ${a} is out of range for rank ${rank}`);
  return r;
};
export const f32Input = (c: Ctx, i: number, what = `input ${i}`): Tensor => {
  const t = c.t(i, what);
  if (t.dtype !== 'f32') c.unsupported(`${what} of type ${t.dtype === 'i32' ? 'int64/int32' : t.dtype}`);
  return t;
};
/** Makes a and b the same dtype as ONNX requires (it never mixes types); refuses a mismatch. */
export function same(c: Ctx, a: Tensor, b: Tensor): [Tensor, Tensor] {
  if (a.dtype !== b.dtype) c.unsupported(`operands of different types (${a.dtype}, ${b.dtype})`);
  return [a, b];
}

/**
 * Refuses a symbolic size on any of `axes` of `x` (input `what`), naming the axis and the size:
 * the op computes from those sizes at import time, so they must be fixed. `why` says what needs them.
 */
export function fixedAxes(c: Ctx, x: Tensor, what: string, axes: Iterable<number>, why: string): void {
  for (const a of axes) {
    const d = x.dims[a];
    if (d !== undefined && isSymbolic(d)) c.unsupported(`${what} ${fmtShape(x.dims)} with the symbolic size '${d}' on axis ${a} (${why})`);
  }
}
/** A layer over [N, C, spatial…] (convolution, pooling, normalisation): only the batch (axis 0) may be symbolic. */
export function batchOnly(c: Ctx, x: Tensor, what: string): void {
  fixedAxes(c, x, what, [...x.dims.keys()].slice(1), `${c.node.opType} takes a symbolic size only on the batch axis 0; its channels and spatial axes must be fixed sizes`);
}
/** A 1-D or 2-D convolution or pool (F.windowsDim checks each window) or a Batch/Instance/GroupNormalization: the batch and the spatial axes may be symbolic, the channels (axis 1) not. */
export function fixedChannels(c: Ctx, x: Tensor, what: string): void {
  fixedAxes(c, x, what, [1], `${c.node.opType} takes a symbolic size on the batch and the spatial axes; its channels must be a fixed size`);
}
/** A layer's weights (W, B) are read at their shapes: none of their axes may be symbolic. */
export function fixedWeights(c: Ctx, ts: ReadonlyArray<readonly [Tensor | undefined, string]>): void {
  for (const [t, what] of ts) if (t) fixedAxes(c, t, `input ${what}`, t.dims.keys(), `${c.node.opType}'s weights and bias must have fixed sizes`);
}
