// The vocabulary of type rules: checks that throw a ShapeError naming the op and its operands.

import type { Attrs } from '../node.ts';
import { fmtType, type DType, type Shape, type TensorType } from '../types.ts';

/** A shape or dtype rule was broken; the message names the op and both operands. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

export const fail = (op: string, msg: string): never => { throw new ShapeError(`${op}: ${msg}`); };
export const f32 = (shape: Shape): TensorType => ({ dtype: 'f32', shape });
export const arity = (op: string, ins: readonly TensorType[], lo: number, hi = lo) => {
  if (ins.length < lo || ins.length > hi) fail(op, `expected ${lo === hi ? lo : `${lo}..${hi}`} inputs, got ${ins.length}`);
};
export const wantDtype = (op: string, what: string, t: TensorType, ...d: DType[]) => {
  if (!d.includes(t.dtype)) fail(op, `${what} must be ${d.join(' or ')}, got ${fmtType(t)}`);
};
export const wantRank = (op: string, what: string, t: TensorType, r: number) => {
  if (t.shape.length !== r) fail(op, `${what} must have rank ${r}, got ${fmtType(t)}`);
};
export const nums = (a: Attrs, k: string): number[] => [...((a[k] as readonly number[] | undefined) ?? [])];

/** Output size of a sliding window (PyTorch's formula, floor mode). */
export const windowOut = (size: number, k: number, s: number, p: number, d = 1): number =>
  Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;

/**
 * A run-time index error of an op (an index, a cache position or row out of range), as one
 * message for the reference and the compiled code alike: `{0}` and `{1}` stand for two integers
 * known only when it runs. The reference throws it with `raise`; the compiled code traps with it
 * (codegen's trapUnless), and the runtime fills in the values.
 */
export const indexError = (op: string, label: string | undefined, msg: string): string => `${op}${label ? ` in ${label}` : ''}: ${msg}`;
/** A call the op refuses at run time (raise): constant folding leaves such a node to trap when it runs. */
export class RunTimeError extends RangeError {}
export const raise = (error: string, a: number, b = 0): never => {
  throw new RunTimeError(error.replace('{0}', String(a)).replaceAll('{1}', String(b)));
};
