// gelu-recognition: exact GELU written with erf, 0.5 · x · (1 + erf(x / √2)), as torch.onnx
// exports F.gelu (Div, Erf, Add, Mul, Mul), becomes one `gelu` node, which epilogue-fusion
// can then move into the preceding GEMM. The three factors may be multiplied in any order
// and grouping; x/√2 may be written x · (1/√2). The constants must be 0.5, 1 and √2 (as f32);
// the tanh approximation and any other scaling are left alone.

import { rewrite, users, type Graph, type Node } from '../ir/node.ts';
import { sameDims } from '../ir/types.ts';
import { builder, isScalar, otherInput } from './match.ts';
import type { Pass } from './pass.ts';

/** The factors of a product tree of `mul` nodes (inner products with other users stay whole). */
function factors(n: Node, inner: (m: Node) => boolean): Node[] {
  return n.op === 'mul' ? n.inputs.flatMap((i) => (i.op === 'mul' && inner(i) ? factors(i, inner) : [i])) : [n];
}

/** x when `n` is 1 + erf(x/√2). */
function onePlusErf(n: Node): Node | undefined {
  if (n.op !== 'add') return undefined;
  const one = n.inputs.find((i) => isScalar(i, 1));
  const e = one && otherInput(n, one);
  if (!e || e.op !== 'erf') return undefined;
  const s = e.inputs[0]!;
  if (s.op === 'div' && isScalar(s.inputs[1], Math.SQRT2)) return s.inputs[0];
  if (s.op === 'mul') {
    const c = s.inputs.find((i) => isScalar(i, Math.SQRT1_2));
    return c && otherInput(s, c);
  }
  return undefined;
}

export const geluRecognition: Pass = {
  name: 'gelu-recognition',
  description: '0.5 · x · (1 + erf(x/√2)) → gelu',
  run(g: Graph) {
    const u = users(g), outs = new Set(g.outputs.map((o) => o.node));
    const inner = (m: Node) => u.get(m)?.length === 1 && !outs.has(m);
    const match = (n: Node): Node | undefined => {
      if (n.op !== 'mul' || n.type.dtype !== 'f32') return undefined;
      const fs = factors(n, inner);
      if (fs.length !== 3) return undefined;
      const half = fs.findIndex((f) => isScalar(f, 0.5));
      const erfAt = fs.findIndex((f) => onePlusErf(f) !== undefined);
      if (half < 0 || erfAt < 0) return undefined;
      const x = onePlusErf(fs[erfAt]!)!;
      const rest = fs.filter((_, i) => i !== half && i !== erfAt);
      return rest.length === 1 && rest[0] === x && sameDims(x.type, n.type) ? x : undefined;
    };
    return rewrite(g, (n) => {
      const x = match(n);
      // Fire on the outermost product only: an inner one whose sole user completes the match waits.
      if (!x || (inner(n) && match(u.get(n)![0]!))) return undefined;
      return builder(n.label)('gelu', [x]);
    });
  },
};
