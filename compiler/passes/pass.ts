// What a pass is. Each pass lives in its own file and opens with what it does and why.

import type { Graph } from '../ir/node.ts';

/** Options a pass may consult (CompileOptions passes them through). */
export interface PassContext {
  /** Attention: let the cost model choose, or force the fused kernel or the decomposed graph. */
  attention?: 'auto' | 'fused' | 'unfused';
}

export interface Pass {
  /** CLI name, used by --disable-pass. */
  readonly name: string;
  /** One line for `simdflow ir --list-passes`. */
  readonly description: string;
  run(g: Graph, ctx?: PassContext): Graph;
}
