// elementwise-fusion: a tree of elementwise ops whose inner values have one user each
// becomes one `elementwise` node carrying an expression; codegen turns it into a single
// SIMD loop, so intermediates never touch memory. Scalar constants become literals. A
// producer is not fused when it is smaller than its consumer (it would be recomputed per
// broadcast element) or when it is a graph output.

import { isElementwise } from '../ir/elementwise.ts';
import { node, rewrite, users, type Expr, type Node } from '../ir/node.ts';
import { attrsOf } from '../ir/ops.ts';
import { broadcastShapes, dimsOf, numel, sameShape } from '../ir/types.ts';
import type { Pass } from './pass.ts';

const fusibleOp = (n: Node) =>
  (isElementwise(n.op) || n.op === 'elementwise') && n.type.dtype === 'f32' && n.inputs.every((i) => i.type.dtype === 'f32');

export const elementwiseFusion: Pass = {
  name: 'elementwise-fusion',
  description: 'fuse trees of elementwise ops into one loop with an expression',
  run(g) {
    const u = users(g), outs = new Set(g.outputs.map((o) => o.node));
    const fusesIntoUser = (p: Node): boolean => {
      const us = u.get(p); // undefined for nodes this pass made: those are finished roots
      if (!us || !fusibleOp(p) || us.length !== 1 || outs.has(p) || !fusibleOp(us[0]!)) return false;
      const c = us[0]!;
      return numel(p.type.shape) === numel(c.type.shape) && sameShape(broadcastShapes(dimsOf(p.type), dimsOf(c.type)) ?? [], dimsOf(c.type));
    };
    return rewrite(g, (root) => {
      if (!fusibleOp(root) || fusesIntoUser(root)) return undefined;
      const inputs: Node[] = [];
      const leaf = (n: Node): Expr => {
        if (n.op === 'const' && numel(n.type.shape) === 1) return { op: 'lit', value: (n.attrs.data as Float32Array)[0]! };
        let i = inputs.indexOf(n);
        if (i < 0) i = inputs.push(n) - 1;
        return { op: 'in', index: i };
      };
      const build = (n: Node): Expr => {
        if (n !== root && !fusesIntoUser(n)) return leaf(n);
        const args = n.inputs.map(build);
        return n.op === 'elementwise' ? substitute(attrsOf(n, 'elementwise').expr, args) : { op: n.op, args };
      };
      const expr = build(root);
      const sym = root.type.dims ? { sym: { values: { shape: root.type.dims }, max: root.type.max! } } : {};
      return node('elementwise', inputs, root.type, { expr, shape: [...root.type.shape], ...sym }, root.label);
    });
  },
};

function substitute(e: Expr, args: Expr[]): Expr {
  if (e.op === 'in') return args[(e as { index: number }).index]!;
  if (e.op === 'lit') return e;
  return { op: e.op, args: (e as { args: readonly Expr[] }).args.map((a) => substitute(a, args)) };
}
