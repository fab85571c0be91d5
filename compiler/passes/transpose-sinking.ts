// transpose-sinking: row-wise ops (matmul by a constant weight, a bias add over the last
// dimension, a slice of the last dimension, unary elementwise math) commute with a transpose
// that keeps the last axis: f(transpose(x)) = transpose(f(x)). Moving such transposes below
// the row-wise ops lets opposite transposes meet and cancel. The case that matters: PyTorch's
// nn.MultiheadAttention works on [L, B, E], so a batch-first export wraps every projection in
// transposes ([B, L, E] → [L, B, E] → project → heads … merge → project → [B, L, E]); once the
// attention is fused, sinking them makes them cancel and the projections read and write
// [B, L, E] directly, as in the DSL build.
//
// A sunk transpose that meets no opposite one would copy a wider (or as wide) tensor than
// before, so the pass keeps its rewrite only when the graph's transposes then move fewer
// elements in total (counted after view-simplification, at the bounds for named sizes);
// otherwise it returns the graph as is. Over named sizes the row permutation is found as a
// permutation of atoms (views.ts), so it holds at every size; rows must have a fixed width.

import { cloneGraph, rewrite, type Graph, type Node } from '../ir/node.ts';
import { attrsOf } from '../ir/ops.ts';
import { isUnary } from '../ir/elementwise.ts';
import { dimsOf, numel, sameDims } from '../ir/types.ts';
import { builder, coversTrailing, reshapeTo } from './match.ts';
import type { Pass } from './pass.ts';
import { viewSimplification } from './view-simplification.ts';
import { asTranspose } from './views.ts';

const lastDim = (n: Node) => { const d = dimsOf(n.type); return d[d.length - 1]; };

/**
 * x as a view chain that permutes whole rows (its last dim, a fixed size, untouched), with at
 * least one transpose that moves something: one of axes of size 1 leaves the identity over the
 * source, perhaps of rank 1, which a matmul would not take (fuzz seed 3092, an LSTM over [1, 1, 1]).
 */
function rowPermutation(x: Node) {
  const t = asTranspose(x);
  if (!t || t.transposes === 0 || t.perm.every((p, i) => p === i)) return undefined;
  const K = lastDim(t.src), r = t.shape.length;
  if (typeof K !== 'number' || lastDim(x) !== K || t.shape[r - 1] !== K || t.perm[r - 1] !== r - 1) return undefined;
  return t;
}

/** The same row permutation applied to y (a row-wise function of the chain's source, last dim N). */
function permuteRows(y: Node, t: NonNullable<ReturnType<typeof rowPermutation>>, like: Node, label?: string): Node {
  const N = lastDim(y)!;
  const inner = reshapeTo(y, [...t.shape.slice(0, -1), N]);
  const moved = t.perm.every((p, i) => p === i) ? inner : builder(label)('transpose', [inner], { perm: t.perm });
  return reshapeTo(moved, [...dimsOf(like.type).slice(0, -1), N]);
}

function sink(n: Node): Node | undefined {
  const b = builder(n.label);
  const x = n.inputs[0];
  if (!x) return undefined;
  if (n.op === 'matmul' && n.inputs[1]!.op === 'const' && n.inputs[1]!.type.shape.length === 2) {
    const t = rowPermutation(x);
    return t && permuteRows(b('matmul', [t.src, n.inputs[1]!]), t, x, n.label);
  }
  if (n.op === 'add') {
    for (const [a, c] of [[n.inputs[0]!, n.inputs[1]!], [n.inputs[1]!, n.inputs[0]!]] as const) {
      const t = rowPermutation(a);
      if (!t || !sameDims(n.type, a.type) || c.type.dtype !== 'f32') continue;
      if (!coversTrailing(dimsOf(c.type), dimsOf(a.type), a.type.shape.length - 1)) continue;
      const N = lastDim(a)!;
      return permuteRows(b('add', [t.src, reshapeTo(c, [N])]), t, a, n.label);
    }
    return undefined;
  }
  if (n.op === 'slice') {
    const s = attrsOf(n, 'slice'), t = rowPermutation(x);
    if (!t || s.axis !== x.type.shape.length - 1 || n.attrs.sym) return undefined;
    return permuteRows(b('slice', [t.src], { ...s, axis: t.src.type.shape.length - 1 }), t, x, n.label);
  }
  if (isUnary(n.op) && n.inputs.length === 1) {
    const t = rowPermutation(x);
    return t && permuteRows(b(n.op, [t.src]), t, x, n.label);
  }
  return undefined;
}

const transposed = (g: Graph) => g.nodes.reduce((s, n) => s + (n.op === 'transpose' ? numel(n.type.shape) : 0), 0);

export const transposeSinking: Pass = {
  name: 'transpose-sinking',
  description: 'move last-axis-preserving transposes below row-wise ops so opposite ones cancel (kept only if fewer elements move)',
  run(g: Graph) {
    const sunk = viewSimplification.run(rewrite(cloneGraph(g), sink));
    return transposed(sunk) < transposed(g) ? sunk : g;
  },
};
