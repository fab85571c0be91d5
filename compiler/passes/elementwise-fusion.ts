// elementwise-fusion: a tree of elementwise ops whose inner values have one user each
// becomes one `elementwise` node carrying an expression; codegen turns it into a single
// SIMD loop, so intermediates never touch memory. Scalar f32 constants become literals. A
// producer is not fused when it is smaller than its consumer (it would be recomputed per
// broadcast element) or when it is a graph output.
//
// The tree computes f32, and inside it comparisons (of f32 or i32 operands), `where` (over
// f32 or over bools: the IR's and/or/not) and casts between bool and f32 give and take bools,
// which live only in registers as lane masks: `where(x > 0, x, 0.1·x)` is one loop, the
// comparison never stored as bytes. A bool the tree cannot absorb (a graph output, a value with
// several users, a comparison of a smaller shape) stays its own node, and the tree reads its
// bytes as a leaf. The root is always f32: a comparison whose bool goes nowhere fusable (a mask
// as an output) stays a comparison loop, the f32 math feeding it fused up to it.
//
// i32 values join the same way: an i32 → f32 cast is `f32(x)` (f32x4.convert_i32x4_s, rounding
// as the cast does), and the i32 arithmetic that cannot trap (add, sub, mul, maximum, minimum:
// ir/elementwise.ts INT_WRAPPING) feeding a cast or a comparison is i32x4 math in the loop,
// wrapping modulo 2^32 as the unfused op stores it, never computed in f32. So BERT's
// `scores + (1 − mask.float())·−10000` over an int64 (i32) mask of the scores' shape is one loop
// and the f32 mask is never stored. div and pow of i32 (they trap) and `where` over i32 branches
// stay nodes, read as leaves. The one value repeated rather than shared: an i32 → f32 cast of a
// value read as it is, whose users all fuse it, is converted again in each (one instruction a
// lane, where they would read the stored f32); a cast that nothing joins stays the cast it is.
// Cost: fusing only drops stores and loads; those repeated conversions are all it recomputes.

import { INT_WRAPPING, isCompare, isElementwise } from '../ir/elementwise.ts';
import { node, rewrite, users, type Expr, type Node } from '../ir/node.ts';
import { attrsOf } from '../ir/ops.ts';
import { broadcastShapes, dimsOf, numel, sameShape } from '../ir/types.ts';
import type { Pass } from './pass.ts';

const f32 = (n: Node) => n.type.dtype === 'f32', i32 = (n: Node) => n.type.dtype === 'i32';
/** Ops a fused expression can hold (the elementwise node's type rule, exprDtype, checks the same). */
const fusibleOp = (n: Node) =>
  n.op === 'elementwise'
  || (isElementwise(n.op) && f32(n) && n.inputs.every(f32))
  || (n.op in INT_WRAPPING && i32(n) && n.inputs.every(i32))
  || (isCompare(n.op) && n.inputs.every((i) => f32(i) || i32(i)))
  || (n.op === 'where' && (f32(n) || n.type.dtype === 'bool'))
  || (n.op === 'cast' && ((f32(n) && n.inputs[0]!.type.dtype !== 'f32') || (n.type.dtype === 'bool' && f32(n.inputs[0]!))));

/**
 * A cast as the expression it is: bool → f32 is where(c, 1, 0); i32 → f32 is the conversion `f32`;
 * f32 → bool is x ≠ 0 (NaN true, −0 false).
 */
const castExpr = (to: string, from: string, x: Expr): Expr =>
  to === 'bool' ? { op: 'ne', args: [x, { op: 'lit', value: 0 }] }
    : from === 'i32' ? { op: 'f32', args: [x] } : { op: 'where', args: [x, { op: 'lit', value: 1 }, { op: 'lit', value: 0 }] };

export const elementwiseFusion: Pass = {
  name: 'elementwise-fusion',
  description: 'fuse trees of elementwise ops (f32 math, comparisons, where, i32 → f32 casts and i32 add/sub/mul/max/min) into one loop with an expression',
  run(g) {
    const u = users(g), outs = new Set(g.outputs.map((o) => o.node));
    const memo = new Map<Node, boolean>();
    // An i32 → f32 cast of a value read as it is costs one instruction a lane: with several users it
    // is repeated in each user's loop, which reads the i32 where it would have read the stored f32.
    const repeatable = (p: Node) => p.op === 'cast' && i32(p.inputs[0]!) && !fusesIntoUser(p.inputs[0]!);
    /** p is built into its user's tree: a bool or i32 user only if that one is built into a tree in turn (an f32 root). */
    const fusesIntoUser = (p: Node): boolean => {
      let v = memo.get(p);
      if (v !== undefined) return v;
      const us = u.get(p) ?? []; // none for nodes this pass made: those are finished roots
      const joins = (c: Node) => fusibleOp(c) && numel(p.type.shape) === numel(c.type.shape) &&
        sameShape(broadcastShapes(dimsOf(p.type), dimsOf(c.type)) ?? [], dimsOf(c.type)) && (f32(c) || fusesIntoUser(c));
      v = (us.length === 1 || (us.length > 1 && repeatable(p))) && fusibleOp(p) && !outs.has(p) && us.every(joins);
      memo.set(p, v);
      return v;
    };
    return rewrite(g, (root) => {
      if (!fusibleOp(root) || !f32(root) || fusesIntoUser(root)) return undefined;
      // An i32 → f32 cast that nothing joins stays the cast it is (no loop to save).
      if (root.op === 'cast' && i32(root.inputs[0]!) && !fusesIntoUser(root.inputs[0]!)) return undefined;
      const inputs: Node[] = [];
      const leaf = (n: Node): Expr => {
        // An i32 or bool scalar stays an input (a splat): literals are f32.
        if (n.op === 'const' && f32(n) && numel(n.type.shape) === 1) return { op: 'lit', value: (n.attrs.data as Float32Array)[0]! };
        let i = inputs.indexOf(n);
        if (i < 0) i = inputs.push(n) - 1;
        return { op: 'in', index: i };
      };
      const build = (n: Node): Expr => {
        if (n !== root && !fusesIntoUser(n)) return leaf(n);
        const args = n.inputs.map(build);
        return n.op === 'elementwise' ? substitute(attrsOf(n, 'elementwise').expr, args) : n.op === 'cast' ? castExpr(n.type.dtype, n.inputs[0]!.type.dtype, args[0]!) : { op: n.op, args };
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
