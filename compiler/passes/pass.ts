// What a pass is. Each pass lives in its own file and opens with what it does and why.

import type { Graph } from '../ir/node.ts';

export interface Pass {
  /** CLI name, used by --disable-pass. */
  readonly name: string;
  /** One line for `simdflow ir --list-passes`. */
  readonly description: string;
  run(g: Graph): Graph;
}
