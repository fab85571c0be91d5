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
  /**
   * Emits the node functions of a body graph; returns the statements that call them in order.
   * With `t`, the statements of thread t.tid (codegen/threads.ts): its split nodes on every thread,
   * the rest on thread 0, barriers between them where needed; and whether a split node runs
   * before its first barrier (`splitFirst`) or after its last (`splitLast`).
   */
  graph(prefix: string, g: Graph, c: Layout, t?: Slice): { calls: string[]; splitFirst: boolean; splitLast: boolean };
}

/**
 * A split node's thread: AssemblyScript expressions for this thread's index (0..nt-1) and the
 * thread count of the call (1..MAX_THREADS, known only at run time), and the address of the
 * threads' sync region, for a node that needs barriers inside it (barrier(sync, nt) in
 * assembly/threads.ts: a recurrent layer meets once per time step) or takes its work through
 * claim(sync, count, nt). See "Threads" in docs/architecture.md.
 */
export interface Slice { tid: string; nt: string; sync: number }

export interface Lowering<A> {
  /**
   * The body of the node's function, one statement per line (none: no function). With `t`
   * (only when `split(n)` is true) every thread runs this body: it must do thread t.tid's share
   * of the work, the shares together exactly the whole, touching no bytes another share writes.
   */
  emit(n: NodeOf<A>, c: Layout, m: ModuleParts, t?: Slice): string[];
  /**
   * Run this node on all threads (emit gets a Slice)? Only when it pays: a split costs a barrier
   * (~1 µs), so small nodes stay on thread 0 (the rule and its numbers live with each lowering).
   * Absent: always on thread 0. Per-thread scratch is the lowering's: scratchBytes covers
   * MAX_THREADS slices when split.
   */
  split?(n: NodeOf<A>): boolean;
  /**
   * Split, do its threads take the work through claim() (assembly/threads.ts) rather than fixed
   * shares? The scheduler then puts a barrier between it and any earlier such node.
   */
  claims?(n: NodeOf<A>): boolean;
  /** Bytes of temporary space the kernel needs while the node runs (0 or absent: none). */
  scratchBytes?(n: NodeOf<A>): number;
  packed?: Packed;
  /**
   * Every operand address the emitted code uses comes from `c.ref` (an expression over the
   * function's \`tid\` for a thread-private value), never `c.addr`: the node may then run private
   * or read private inputs (codegen/threads.ts).
   */
  refs?: true;
}

export const defineLowering = <A>(l: Lowering<A>): Lowering<A> => l;

/**
 * A run-time check, one statement: unless `ok` holds, the call traps with `error` (the op's
 * indexError, which the reference raises), the runtime putting the i32 values of `a` and `b`
 * for its {0} and {1} (runtime/threads.ts, trap).
 */
export const trapUnless = (ok: string, error: string, a: string, b: string): string =>
  `if (!(${ok})) abort(${JSON.stringify(error)}, null, <u32>(${a}), <u32>(${b}));`;

/** An f32 literal that AssemblyScript reads back to exactly the same value. */
export function f32lit(v: number): string {
  const f = Math.fround(v);
  if (Number.isNaN(f)) return '<f32>NaN';
  if (!Number.isFinite(f)) return f > 0 ? '<f32>Infinity' : '<f32>-Infinity';
  if (Object.is(f, -0)) return '<f32>-0.0';
  const s = String(f);
  return `<f32>${s.includes('.') || s.includes('e') ? s : `${s}.0`}`;
}
