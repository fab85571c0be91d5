// residual-fusion: LayerNorm of a sum, norm(a + b) with the sum used nowhere else, becomes
// one layernorm with `b` as its residual input: the kernel adds while it reads, so the sum
// never makes a separate pass over memory (post-LN transformer layers: norm(x + sublayer(x))).

import { node, rewrite, users } from '../ir/node.ts';
import { sameDims } from '../ir/types.ts';
import type { Pass } from './pass.ts';

export const residualFusion: Pass = {
  name: 'residual-fusion',
  description: 'layernorm(a + b) → one layernorm reading a and the residual b',
  run(g) {
    const u = users(g), outs = new Set(g.outputs.map((o) => o.node));
    return rewrite(g, (n) => {
      const s = n.inputs[0];
      if (n.op !== 'layernorm' || n.inputs.length !== 3 || !s || s.op !== 'add' || u.get(s)?.length !== 1 || outs.has(s)) return undefined;
      const [a, b] = s.inputs as [typeof s, typeof s];
      if (!sameDims(a.type, n.type) || !sameDims(b.type, n.type)) return undefined;
      return node('layernorm', [a, n.inputs[1]!, n.inputs[2]!, b], n.type, n.attrs, n.label);
    });
  },
};
