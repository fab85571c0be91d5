// Small helpers the pattern-recognition passes share: reading scalar constants, checking
// a value broadcasts over trailing dimensions, building typed nodes. Patterns compare dims
// (`dimsOf`: a named size such as 'batch' or '4*batch', ir/dims.ts), never the bounds in
// `shape`: two tensors of one shape at the bounds may have different sizes at run time.

import { evalDim, isSymbolic, sizeNames, type Dim } from '../ir/dims.ts';
import { node, type Attrs, type Node } from '../ir/node.ts';
import { inferType } from '../ir/ops.ts';
import { dimsOf, numel, sameShape } from '../ir/types.ts';

/** The value of a one-element f32 constant, else undefined. */
export function scalarOf(n: Node | undefined): number | undefined {
  if (!n || n.op !== 'const' || n.type.dtype !== 'f32' || numel(n.type.shape) !== 1) return undefined;
  return (n.attrs.data as Float32Array)[0];
}

/** `v` is the f32 constant `want` (as float32 rounding of an exact value would store it). */
export const isScalar = (n: Node | undefined, want: number): boolean => {
  const v = scalarOf(n);
  return v !== undefined && Math.abs(v - want) <= 1e-6 * Math.max(1, Math.abs(want));
};

/** The other input of a binary node whose input `one` is given. */
export const otherInput = (n: Node, one: Node): Node | undefined =>
  n.inputs[0] === one ? n.inputs[1] : n.inputs[1] === one ? n.inputs[0] : undefined;

/** `t` broadcast against `shape` covers exactly its trailing dims `shape[k…]`: leading 1s, then those dims. */
export function coversTrailing(t: readonly Dim[], shape: readonly Dim[], k: number): boolean {
  const tail = shape.slice(k);
  if (t.length < tail.length) return false;
  return sameShape(t.slice(t.length - tail.length), tail) && t.slice(0, t.length - tail.length).every((d) => d === 1) && t.length <= shape.length;
}

/** A node builder that infers the result type through the op definitions. */
export function builder(label: string | undefined) {
  return (op: string, inputs: Node[], attrs: Attrs = {}): Node => node(op, inputs, inferType(op, inputs, attrs), attrs, label);
}

/**
 * reshape(x) to `dims`, or x itself when it already has those dims. Over named sizes the
 * reshape carries its dims in `sym` (its `shape` is at the bounds), as the DSL's reshape does.
 */
export function reshapeTo(x: Node, dims: readonly Dim[], label?: string): Node {
  if (sameShape(dimsOf(x.type), dims)) return x;
  const b = builder(label ?? x.label);
  if (!x.type.dims && !dims.some(isSymbolic)) return b('reshape', [x], { shape: [...dims] as number[] });
  const max = x.type.max ?? {}, names = new Set(dims.flatMap(sizeNames));
  const sym = { values: { shape: [...dims] }, max: Object.fromEntries(Object.entries(max).filter(([n]) => names.has(n))) };
  return b('reshape', [x], { shape: dims.map((d) => evalDim(d, max)), sym });
}
