// What a pass is. Each pass lives in its own file and opens with what it does and why.

import type { Graph } from '../ir/node.ts';
import type { Target } from '../ir/target.ts';

/** Options a pass may consult (CompileOptions passes them through). */
export interface PassContext {
  /** Attention: let the cost model choose, or force the fused kernel or the decomposed graph. */
  attention?: 'auto' | 'fused' | 'unfused';
  /** The machine's facts memory planning needs (the driver passes codegen's wasmTarget). */
  target?: Target;
  /** Memory planning without reuse: every value its own bytes (what disabling memory-planning means). */
  noReuse?: boolean;
}

export interface Pass {
  /** CLI name, used by --disable-pass. */
  readonly name: string;
  /** One line for `simdflow ir --list-passes`. */
  readonly description: string;
  run(g: Graph, ctx?: PassContext): Graph;
}
