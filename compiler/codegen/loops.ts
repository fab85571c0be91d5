// Loop nests for strided elementwise work, emitted as AssemblyScript text. Operands are
// addressed by element strides over a common iteration shape; adjacent dimensions that are
// contiguous for every operand are merged first, so most loops come out flat.

import type { Node } from '../ir/node.ts';
import { DTYPE_BYTES, strides } from '../ir/types.ts';

/** An operand: its base address (a constant, or an expression evaluated at run time), element strides, element size. */
export interface Operand { base: number | string; strides: number[]; bytes: number }

/** Merges dims i, i+1 when every operand (given by its strides) walks them as one; drops size-1 dims. */
export function collapse(shape: readonly number[], ops: readonly number[][]): { shape: number[]; strides: number[][] } {
  let dims = shape.map((d, i) => ({ d, s: ops.map((o) => o[i]!) })).filter((x) => x.d !== 1);
  if (dims.length === 0) dims = [{ d: 1, s: ops.map(() => 0) }];
  const out = [dims[0]!];
  for (const x of dims.slice(1)) {
    const last = out[out.length - 1]!;
    if (last.s.every((s, j) => s === x.s[j]! * x.d)) out[out.length - 1] = { d: last.d * x.d, s: x.s };
    else out.push(x);
  }
  return { shape: out.map((x) => x.d), strides: ops.map((_, j) => out.map((x) => x.s[j]!)) };
}

/**
 * Emits nested loops over all but the innermost dimension; `inner(ptrs, len, innerStrides)`
 * emits the innermost loop given each operand's row base pointer expression.
 */
export function loopNest(shape: readonly number[], ops: Operand[],
  inner: (ptrs: string[], len: number, strides: number[]) => string[]): string[] {
  const { shape: s, strides } = collapse(shape, ops.map((o) => o.strides));
  const outerDims = s.length - 1;
  const lines: string[] = [];
  const ind = (d: number) => '  '.repeat(d + 1);
  for (let d = 0; d < outerDims; d++) lines.push(`${ind(d)}for (let i${d} = 0; i${d} < ${s[d]}; i${d}++) {`);
  const ptrs = ops.map((o, j) => {
    const terms = [String(o.base)];
    for (let d = 0; d < outerDims; d++) if (strides[j]![d]) terms.push(`<usize>i${d} * ${strides[j]![d]! * o.bytes}`);
    return terms.join(' + ');
  });
  const ptrVars = ops.map((_, j) => `p${j}`);
  ptrs.forEach((p, j) => lines.push(`${ind(outerDims)}const p${j}: usize = ${p};`));
  for (const l of inner(ptrVars, s[outerDims]!, strides.map((st) => st[outerDims]!))) lines.push(ind(outerDims) + l);
  for (let d = outerDims - 1; d >= 0; d--) lines.push(`${ind(d)}}`);
  // A block of its own: several nests may share one function (concat).
  return ['{', ...lines, '}'];
}

/** A value's own buffer, walked in row-major order. */
export const contiguous = (n: Node, base: number): Operand => ({ base, strides: strides(n.type.shape), bytes: DTYPE_BYTES[n.type.dtype] });
/** The AssemblyScript load/store type of each dtype. */
export const LOAD: Record<string, string> = { f32: 'f32', i32: 'i32', bool: 'u8' };

/** out[...] = in[...] for any strided view of the input (transpose, slice, concat pieces). */
export function stridedCopy(shape: readonly number[], out: Operand, inp: Operand, dtype: string): string[] {
  const t = LOAD[dtype]!;
  const bytes = out.bytes;
  return loopNest(shape, [out, inp], (p, len, st) => {
    if (st[0] === 1 && st[1] === 1) return [`memory.copy(${p[0]}, ${p[1]}, ${len * bytes});`];
    return [
      `for (let i = 0; i < ${len}; i++) {`,
      `  store<${t}>(${p[0]} + <usize>i * ${st[0]! * bytes}, load<${t}>(${p[1]} + <usize>i * ${st[1]! * bytes}));`,
      '}',
    ];
  });
}
