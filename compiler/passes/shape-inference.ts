// shape-inference: recomputes every node's type from its inputs through the op table and
// verifies the graph. The DSL already infers types while tracing; this pass is what keeps
// hand-built or rewritten graphs honest, and it runs first so later passes may trust types.

import { inferType } from '../ir/ops.ts';
import { verify } from '../ir/verify.ts';
import type { Pass } from './pass.ts';

export const shapeInference: Pass = {
  name: 'shape-inference',
  description: 'recompute every node type from its inputs and verify the graph',
  run(g) {
    for (const n of g.nodes) if (n.op !== 'input' && n.op !== 'const' && n.op !== 'state') n.type = inferType(n.op, n.inputs, n.attrs);
    verify(g);
    return g;
  },
};
