// What every ONNX operator translation shares: the translation's type, constants, axis and dtype checks.

import { numel, type DType } from '../../ir/types.ts';
import { constant, Tensor } from '../../dsl/tensor.ts';
import { Ctx, UnsupportedError, type Val } from '../ctx.ts';

export type Translate = (c: Ctx) => Val | (Val | undefined)[];

/** A constant of `dtype` filled with `v`, of `shape` (a scalar by default). */
export function full(dtype: DType, v: number, shape: readonly number[] = []): Tensor {
  const n = numel(shape);
  const data = dtype === 'f32' ? new Float32Array(n).fill(v) : dtype === 'i32' ? new Int32Array(n).fill(v) : new Uint8Array(n).fill(v ? 1 : 0);
  return constant(data, shape, dtype, String(v));
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
