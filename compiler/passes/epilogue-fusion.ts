// epilogue-fusion: a matmul by a constant 2-D weight becomes a `gemm`, whose kernel reads the
// weight packed at compile time; a following bias add and activation move into the GEMM
// (or conv) epilogue, applied while the tile is still in registers instead of in another
// pass over memory. Fusion needs the producer to have no other user: the unfused value
// would otherwise still be needed. A reshape that keeps rows whole between the GEMM and its
// bias or activation (imported graphs flatten [B, L, E] to [B·L, E] around Gemm) is looked through,
// over named sizes too (rows are compared by dims: [batch*seq, E] ↔ [batch, seq, E]).

import { numelDims } from '../ir/dims.ts';
import { ACTIVATIONS, type Activation } from '../ir/elementwise.ts';
import { node, rewrite, users, type Graph, type Node } from '../ir/node.ts';
import { dimsOf, numel, sameShape } from '../ir/types.ts';
import { reshapeTo } from './match.ts';
import type { Pass } from './pass.ts';

const soleUser = (u: Map<Node, Node[]>, outs: Set<Node>, n: Node) => u.get(n)?.length === 1 && !outs.has(n);

function fold(g: Graph, rule: (n: Node, single: (p: Node) => boolean) => Node | undefined): Graph {
  const u = users(g), outs = new Set(g.outputs.map((o) => o.node));
  return rewrite(g, (n) => rule(n, (p) => soleUser(u, outs, p)));
}

/** A bias for the last dimension: const of n values shaped [n] or [1, …, 1, n]. */
const isRowBias = (b: Node, cols: number) =>
  b.op === 'const' && b.type.dtype === 'f32' && numel(b.type.shape) === cols && b.type.shape[b.type.shape.length - 1] === cols;

const lastDim = (n: Node) => { const d = dimsOf(n.type); return d[d.length - 1]; };

/** The gemm under a reshape that keeps rows whole (same last dim; imported graphs flatten [B, L, E] ↔ [B·L, E] around Gemm), or n itself. */
function rowView(n: Node, single: (p: Node) => boolean): Node {
  const p = n.inputs[0];
  if (n.op !== 'reshape' || !p || p.op !== 'gemm' || !single(p) || !single(n) || lastDim(n) !== lastDim(p)) return n;
  return p;
}

/** `g` given the dims of `like` (a reshape when they differ; over named sizes with its dims in `sym`). */
const reshaped = (g: Node, like: Node): Node => like.type.dims ? reshapeTo(g, like.type.dims, like.label)
  : sameShape(g.type.shape, like.type.shape) ? g : node('reshape', [g], like.type, { shape: [...like.type.shape] }, like.label);

export const epilogueFusion: Pass = {
  name: 'epilogue-fusion',
  description: 'matmul by a constant weight → gemm; bias add and activation into the gemm/conv epilogue',
  run(g) {
    g = fold(g, (n) => {
      const [x, w] = n.inputs;
      if (n.op !== 'matmul' || w!.op !== 'const' || w!.type.shape.length !== 2) return undefined;
      return node('gemm', [x!, w!], n.type, { act: 'none' }, n.label);
    });
    g = fold(g, (n, single) => {
      if (n.op !== 'add') return undefined;
      for (const [r, b] of [[n.inputs[0]!, n.inputs[1]!], [n.inputs[1]!, n.inputs[0]!]] as const) {
        const a = rowView(r, single);
        if (a.op === 'gemm' && a.inputs.length === 2 && a.attrs.act === 'none' && single(a) &&
            isRowBias(b, a.type.shape[a.type.shape.length - 1]!) && numelDims(dimsOf(n.type)) === numelDims(dimsOf(a.type))) {
          const bias = b.type.shape.length === 1 ? b : node('const', [], { dtype: 'f32', shape: [numel(b.type.shape)] }, { data: b.attrs.data }, b.label);
          return reshaped(node('gemm', [a.inputs[0]!, a.inputs[1]!, bias], a.type, { act: 'none' }, a.label), n);
        }
      }
      return undefined;
    });
    return fold(g, (n, single) => {
      const p = n.inputs[0] && rowView(n.inputs[0], single);
      if (!ACTIVATIONS.includes(n.op as Activation) || !p || !(p.op === 'gemm' || p.op === 'conv2d')) return undefined;
      if (p.attrs.act !== 'none' || !single(p) || (p !== n.inputs[0] && p.op !== 'gemm')) return undefined;
      return reshaped(node(p.op, p.inputs, p.type, { ...p.attrs, act: n.op }, p.label), n);
    });
  },
};
