// Tensor types of the IR: a dtype and a static shape (row-major, contiguous). A type with
// symbolic sizes (ir/dims.ts) keeps `shape` at the bounds and adds `dims`, `max` and `min`: its
// values are dense at their actual sizes, in a buffer planned for the bounds.

import type { Dim, Sizes } from './dims.ts';

export type DType = 'f32' | 'i32' | 'bool';
export type Shape = readonly number[];

export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
  /** The symbolic shape, when some dim is a named size (shape holds its bound). */
  readonly dims?: readonly Dim[];
  /** The bound of each size `dims` names. */
  readonly max?: Sizes;
  /** The least value of each size `dims` names that is declared above 1 (a size not listed runs from 1). */
  readonly min?: Sizes;
}

/** The shape with its symbolic dims (the static shape when there are none). */
export const dimsOf = (t: TensorType): readonly Dim[] => t.dims ?? t.shape;
/** Same dtype-free shape, symbols included. */
export const sameDims = (a: TensorType, b: TensorType): boolean => sameShape(dimsOf(a), dimsOf(b));

/** Bytes per element in wasm memory (bool is one byte, like safetensors' BOOL). */
export const DTYPE_BYTES: Record<DType, number> = { f32: 4, i32: 4, bool: 1 };
/** The longest name (model, entry, tensor) an artifact holds: runtime/format.ts's MAX_NAME (the IR may not import the runtime; a test pins the two). */
export const MAX_NAME = 200;

export const numel = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);
export const byteSize = (t: TensorType): number => numel(t.shape) * DTYPE_BYTES[t.dtype];
export const fmtShape = (shape: readonly Dim[]): string => `[${shape.join(', ')}]`;
export const fmtType = (t: TensorType): string => `${t.dtype}${fmtShape(dimsOf(t))}`;
export const sameShape = (a: readonly Dim[], b: readonly Dim[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The first element where two results differ in bits, or -1; 0 when their lengths differ. Object.is:
 * -0 is not 0, and any NaN equals any NaN (a payload is not a result).
 */
export function firstUnequal(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/** Row-major strides in elements. */
export function strides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]!; }
  return s;
}

/** NumPy broadcasting; returns undefined when the shapes do not broadcast. */
export function broadcastShapes<D extends Dim>(a: readonly D[], b: readonly D[]): D[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: D[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1 as D;
    const db = b[b.length - n + i] ?? 1 as D;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides for reading `shape` as if broadcast to `to` (0 on broadcast dimensions). */
export function broadcastStrides(shape: Shape, to: Shape): number[] {
  const s = strides(shape);
  const off = to.length - shape.length;
  return to.map((_, i) => (i < off || shape[i - off] === 1 ? 0 : s[i - off]!));
}

/** Normalises a possibly negative axis against a rank. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new RangeError(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export type AnyTensorData = Float32Array | Int32Array | Uint8Array;

export function allocData(t: TensorType): AnyTensorData {
  const n = numel(t.shape);
  return t.dtype === 'f32' ? new Float32Array(n) : t.dtype === 'i32' ? new Int32Array(n) : new Uint8Array(n);
}

/**
 * A typed array's kind ('Uint8Array'), also for one from another realm (vm, jsdom, an iframe), which
 * instanceof refuses; else undefined. (runtime/format.ts has its own: the runtime imports no compiler code.)
 */
export const typedKind = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), Symbol.toStringTag)!.get! as (this: unknown) => string | undefined;
