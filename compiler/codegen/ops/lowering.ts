// How an op runs on the wasm SIMD target: the AssemblyScript its node function holds, the
// scratch its kernel needs and the operands it reads as packed weights. Each family of ops
// lowers in one file beside this one; codegen/ops/index.ts lists them by op name.

import type { Graph } from '../../ir/node.ts';
import type { NodeOf } from '../../ir/ops/def.ts';
import type { Layout } from '../layout.ts';

/**
 * Weight and bias operand slots a kernel reads packed (pack.ts): packGemmWeights with 'kn' for
 * [K, N] or 'nk' for [N, K] (PyTorch's layout); 'gates' is a recurrent W_hh [G·H, H] packed by
 * packRecurrentWeights.
 */
export interface Packed { w: number; bias: number; layout: 'kn' | 'nk' | 'gates' }

/** The module being emitted, for an op whose lowering needs functions of its own (a loop's body). */
export interface ModuleParts {
  /** A function-name prefix unique to this node. */
  prefix: string;
  /** Adds a function to the module. */
  add(source: string): void;
  /** Emits the node functions of a body graph; returns the statements that call them in order. */
  graph(prefix: string, g: Graph, c: Layout): string[];
}

export interface Lowering<A> {
  /** The body of the node's function, one statement per line (none: no function). */
  emit(n: NodeOf<A>, c: Layout, m: ModuleParts): string[];
  /** Bytes of temporary space the kernel needs while the node runs (0 or absent: none). */
  scratchBytes?(n: NodeOf<A>): number;
  packed?: Packed;
}

export const defineLowering = <A>(l: Lowering<A>): Lowering<A> => l;

/** An f32 literal that AssemblyScript reads back to exactly the same value. */
export function f32lit(v: number): string {
  const f = Math.fround(v);
  if (Number.isNaN(f)) return '<f32>NaN';
  if (!Number.isFinite(f)) return f > 0 ? '<f32>Infinity' : '<f32>-Infinity';
  const s = String(f);
  return `<f32>${s.includes('.') || s.includes('e') ? s : `${s}.0`}`;
}
