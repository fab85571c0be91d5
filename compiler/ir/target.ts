// What the passes must know about the machine they compile for, and nothing more. The driver
// hands an implementation to runPasses (codegen/target.ts is the wasm one); the IR and the
// passes never import codegen, so kernel facts (scratch sizes, alignment) live behind this.

import type { Graph, Node } from './node.ts';

export interface Target {
  readonly name: string;
  /** Every buffer starts on a multiple of this many bytes. */
  readonly align: number;
  /** Bytes of temporary space the kernel running `n` needs (0: none). A loop's body arena is the planner's own. */
  scratchBytes(n: Node): number;
  /**
   * The values of graph g the plan keeps `count` copies of side by side, one per thread: small
   * values every thread computes for itself (codegen/threads.ts). Absent: none.
   */
  copies?(g: Graph): { values: ReadonlySet<Node>; count: number };
}

/** x rounded up to a multiple of a. */
export const roundUp = (x: number, a: number): number => Math.ceil(x / a) * a;
