// Index arithmetic the reference semantics share. Shape legend: outer/n/inner are the three
// blocks around an axis.

import { broadcastStrides, dimsOf, numel, type Shape, type TensorType } from '../types.ts';
import type { Dim } from '../dims.ts';

/** OpDef.broadcasts of an op whose every input broadcasts onto its result (NumPy's rule). */
export const ontoResult = (ins: readonly TensorType[], out: TensorType): Array<[number, readonly Dim[], readonly Dim[]]> => ins.map((t, i) => [i, dimsOf(t), dimsOf(out)]);

/** Calls f(outFlat, inOffsets...) for every element of `shape`, with broadcast offsets per input. */
export function forEachBroadcast(shape: Shape, inShapes: Shape[], f: (o: number, offs: number[]) => void): void {
  const st = inShapes.map((s) => broadcastStrides(s, shape));
  const idx = new Array<number>(shape.length).fill(0);
  const offs = new Array<number>(inShapes.length).fill(0);
  const total = numel(shape);
  for (let o = 0; o < total; o++) {
    f(o, offs);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]!++;
      for (let j = 0; j < st.length; j++) offs[j]! += st[j]![d]!;
      if (idx[d]! < shape[d]!) break;
      for (let j = 0; j < st.length; j++) offs[j]! -= st[j]![d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** [outer, n, inner] around `axis`. */
export const around = (shape: Shape, axis: number): [number, number, number] =>
  [numel(shape.slice(0, axis)), shape[axis]!, numel(shape.slice(axis + 1))];
