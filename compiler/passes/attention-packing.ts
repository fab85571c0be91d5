// attention-packing: an attention node whose q, k and v (or k and v) are column slices
// [0, E), [E, 2E), [2E, 3E) of one projection reads that projection directly in the packed
// 'qkv' ('q_kv') layout, as the DSL builds nn.MultiheadAttention: the slices (copies) disappear
// and the fused kernel reads the GEMM's output in place. Imported graphs split the projection
// with Slice/Split; after attention-recognition and the layout passes the slices feed attention.
// Over named sizes the rows are compared by dims (B·L rows for every size), and E is fixed.

import { mulDims, numelDims } from '../ir/dims.ts';
import { rewrite, type Graph, type Node } from '../ir/node.ts';
import { attrsOf } from '../ir/ops.ts';
import { dimsOf } from '../ir/types.ts';
import { builder, reshapeTo } from './match.ts';
import type { Pass } from './pass.ts';

/** reshape(P, [B, L, n·E]) when every x [B, L, E] is reshape?(slice(P, last axis)) of one P, in order. */
function packed(xs: Node[]): Node | undefined {
  const [B, L, E] = dimsOf(xs[0]!.type);
  if (typeof E !== 'number') return undefined;
  const parts = xs.map((x) => {
    let s = x;
    while (s.op === 'reshape') s = s.inputs[0]!;
    const [xb, xl] = dimsOf(x.type);
    if (s.op !== 'slice' || s.attrs.sym || xb !== B || xl !== L) return undefined;
    const a = attrsOf(s, 'slice'), p = s.inputs[0]!;
    return a.axis === p.type.shape.length - 1 && a.step === 1 && a.end - a.start === E ? { p, start: a.start } : undefined;
  });
  if (parts.some((p) => !p || p.p !== parts[0]!.p || p.start !== parts.indexOf(p) * E)) return undefined;
  const P = parts[0]!.p, sh = dimsOf(P.type);
  // x = reshape(slice(P)) of [B, L, E] already proves P's rows are in (b, l) order
  if (sh[sh.length - 1] !== xs.length * E || numelDims(sh.slice(0, -1)) !== mulDims(B!, L!)) return undefined;
  return reshapeTo(P, [B!, L!, xs.length * E]);
}

export const attentionPacking: Pass = {
  name: 'attention-packing',
  description: 'attention on slices of one projection → the packed qkv / q_kv layout',
  run(g: Graph) {
    return rewrite(g, (n) => {
      if (n.op !== 'attention' || attrsOf(n, 'attention').layout !== 'separate' || attrsOf(n, 'attention').cached) return undefined;
      const [q, k, v, ...rest] = n.inputs as [Node, Node, Node, ...Node[]];
      if (dimsOf(q.type)[2] !== dimsOf(v.type)[2]) return undefined;
      const b = builder(n.label);
      const qkv = dimsOf(q.type)[1] === dimsOf(k.type)[1] ? packed([q, k, v]) : undefined;
      if (qkv) return b('attention', [qkv, ...rest], { ...n.attrs, layout: 'qkv' });
      const kv = packed([k, v]);
      return kv ? b('attention', [q, kv, ...rest], { ...n.attrs, layout: 'q_kv' }) : undefined;
    });
  },
};
