// Loop nests for strided elementwise work, emitted as AssemblyScript text. Operands are
// addressed by element strides over a common iteration shape; adjacent dimensions that are
// contiguous for every operand are merged first, so most loops come out flat. Sizes are dims
// (ir/dims.ts): a named size becomes the run-time value the entry received (`size_T`), so a
// static graph emits exactly the constants it always did.

import { mulDims, numelDims, type Dim } from '../ir/dims.ts';
import type { Node } from '../ir/node.ts';
import { DTYPE_BYTES, dimsOf, type TensorType } from '../ir/types.ts';

/** An operand: its base address (a constant, or an expression evaluated at run time), element strides, element size. */
export interface Operand { base: number | string; strides: Dim[]; bytes: number }

/**
 * A dim as AssemblyScript: a literal, or an i32 expression over the entry's sizes. A floor atom
 * 'floor(R/k)' becomes '(R/k)': i32 `/` truncates, which floors here because R never goes below
 * 0 (its coefficients are non-negative, see ir/dims.ts).
 */
export const code = (d: Dim): string => (typeof d === 'number' ? String(d) : `(${d.replace(/floor\(/g, '(').replace(/[A-Za-z_][A-Za-z0-9_]*/g, (m) => `size_${m}`)})`);
/** The global holding a named size while an entry runs. */
export const sizeGlobal = (name: string): string => `size_${name}`;

/** Row-major strides in elements of a (possibly symbolic) shape. */
export function dimStrides(dims: readonly Dim[]): Dim[] {
  const s = new Array<Dim>(dims.length);
  let acc: Dim = 1;
  for (let i = dims.length - 1; i >= 0; i--) { s[i] = acc; acc = mulDims(acc, dims[i]!); }
  return s;
}
/**
 * Strides for reading `dims` as if broadcast to `to` (0 on broadcast dimensions). A named dim is
 * read at its stride, so it must meet itself (ir/symbolic.ts checkBroadcasts refuses the rest).
 */
export function dimBroadcastStrides(dims: readonly Dim[], to: readonly Dim[]): Dim[] {
  const s = dimStrides(dims);
  const off = to.length - dims.length;
  return to.map((t, i) => {
    const d = dims[i - off];
    if (typeof d === 'string' && d !== t) throw new Error(`codegen: [${dims.join(', ')}] broadcast to [${to.join(', ')}] would broadcast the named size '${d}' only where it is 1`);
    return i < off || d === 1 ? 0 : s[i - off]!;
  });
}
/** Bytes of a value at its actual size. */
export const bytesOf = (t: TensorType): Dim => mulDims(numelDims(dimsOf(t)), DTYPE_BYTES[t.dtype]);

/** Merges dims i, i+1 when every operand (given by its strides) walks them as one; drops size-1 dims. */
export function collapse(shape: readonly Dim[], ops: readonly Dim[][]): { shape: Dim[]; strides: Dim[][] } {
  let dims = shape.map((d, i) => ({ d, s: ops.map((o) => o[i]!) })).filter((x) => x.d !== 1);
  if (dims.length === 0) dims = [{ d: 1, s: ops.map(() => 0) }];
  const out = [dims[0]!];
  for (const x of dims.slice(1)) {
    const last = out[out.length - 1]!;
    if (last.s.every((s, j) => s === mulDims(x.s[j]!, x.d))) out[out.length - 1] = { d: mulDims(last.d, x.d), s: x.s };
    else out.push(x);
  }
  return { shape: out.map((x) => x.d), strides: ops.map((_, j) => out.map((x) => x.s[j]!)) };
}

/**
 * Emits nested loops over all but the innermost dimension; `inner(ptrs, len, innerStrides)`
 * emits the innermost loop given each operand's row base pointer expression.
 */
export function loopNest(shape: readonly Dim[], ops: Operand[],
  inner: (ptrs: string[], len: Dim, strides: Dim[]) => string[]): string[] {
  const { shape: s, strides } = collapse(shape, ops.map((o) => o.strides));
  const outerDims = s.length - 1;
  const lines: string[] = [];
  const ind = (d: number) => '  '.repeat(d + 1);
  for (let d = 0; d < outerDims; d++) lines.push(`${ind(d)}for (let i${d} = 0; i${d} < ${code(s[d]!)}; i${d}++) {`);
  const ptrs = ops.map((o, j) => {
    const terms = [String(o.base)];
    for (let d = 0; d < outerDims; d++) if (strides[j]![d]) terms.push(`<usize>i${d} * ${code(mulDims(strides[j]![d]!, o.bytes))}`);
    return terms.join(' + ');
  });
  ptrs.forEach((p, j) => lines.push(`${ind(outerDims)}const p${j}: usize = ${p};`));
  for (const l of inner(ops.map((_, j) => `p${j}`), s[outerDims]!, strides.map((st) => st[outerDims]!))) lines.push(ind(outerDims) + l);
  for (let d = outerDims - 1; d >= 0; d--) lines.push(`${ind(d)}}`);
  // A block of its own: several nests may share one function (concat).
  return ['{', ...lines, '}'];
}

/** A value's own buffer, walked in row-major order (dense at its actual size). */
export const contiguous = (n: Node, base: number | string): Operand => ({ base, strides: dimStrides(dimsOf(n.type)), bytes: DTYPE_BYTES[n.type.dtype] });
/** The AssemblyScript load/store type of each dtype. */
export const LOAD: Record<string, string> = { f32: 'f32', i32: 'i32', bool: 'u8' };

/** out[...] = in[...] for any strided view of the input (transpose, slice, concat pieces). */
export function stridedCopy(shape: readonly Dim[], out: Operand, inp: Operand, dtype: string): string[] {
  const t = LOAD[dtype]!;
  const bytes = out.bytes;
  return loopNest(shape, [out, inp], (p, len, st) => {
    if (st[0] === 1 && st[1] === 1) return [`memory.copy(${p[0]}, ${p[1]}, ${code(mulDims(len, bytes))});`];
    return [
      `for (let i = 0; i < ${code(len)}; i++) {`,
      `  store<${t}>(${p[0]} + <usize>i * ${code(mulDims(st[0]!, bytes))}, load<${t}>(${p[1]} + <usize>i * ${code(mulDims(st[1]!, bytes))}));`,
      '}',
    ];
  });
}
