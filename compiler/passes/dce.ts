// dce: dead-code elimination. Drops nodes no output depends on and reshapes that do not
// change the shape. Graph inputs stay, even unused: they are the artifact's interface.

import { rewrite } from '../ir/node.ts';
import { sameDims, sameShape } from '../ir/types.ts';
import type { Pass } from './pass.ts';

export const dce: Pass = {
  name: 'dce',
  description: 'remove nodes no output depends on, and identity reshapes',
  run(g) {
    return rewrite(g, (n) => (n.op === 'reshape' && sameShape(n.type.shape, n.inputs[0]!.type.shape) && sameDims(n.type, n.inputs[0]!.type) ? n.inputs[0]! : undefined));
  },
};
