// view-simplification: a chain of reshapes and transposes that puts every element back where
// it was becomes one reshape (free: a view), and a chain of several transposes equal to one
// transpose becomes that one (one copy instead of several). Imported graphs are full of such
// chains once attention-recognition has replaced the head split/merge around the fused kernel
// (see views.ts). It never makes a chain longer; intermediate values with other users stay.

import { rewrite, type Graph } from '../ir/node.ts';
import type { Pass } from './pass.ts';
import { simplifyChain } from './views.ts';

export const viewSimplification: Pass = {
  name: 'view-simplification',
  description: 'reshape/transpose chains that cancel → one reshape (or one transpose)',
  run(g: Graph) {
    return rewrite(g, simplifyChain);
  },
};
