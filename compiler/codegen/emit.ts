// Codegen: planned graphs → one AssemblyScript module. Every address is a compile-time
// constant (see layout.ts), so each entry (`run`, `step`, …) is a straight list of calls:
// one function per node, either a hand-written kernel from assembly/ or a generated loop
// (fused elementwise expressions, strided copies, counted loops over a body graph).
// Every entry takes (tid, nt) first (threads.ts): one thread calls it with (0, 1).
// An entry whose inputs name sizes takes them as i32 arguments after those (in `entrySizes`
// order) and stores them in globals the node functions read: node functions stay argument-free.
// Globals are per instance: with threads, every thread's call passes the sizes from the sync region.

import type { Graph, Node } from '../ir/node.ts';
import { byteSize } from '../ir/types.ts';
import { kernelCall, kernelConst, kernelImports } from './kernels.ts';
import type { Layout } from './layout.ts';
import { loweringOf } from './ops/index.ts';
import { f32lit, type Slice } from './ops/lowering.ts';
import { schedule, splitsIn } from './threads.ts';
import { graphSizes } from '../ir/symbolic.ts';
import { sizeGlobal } from './loops.ts';

export { f32lit };

type Ctx = Layout;

/** The node's lowering; sources and `proj` (a result its producer wrote) have no code. */
function loweringFor(n: Node) {
  const l = loweringOf(n);
  if (!l) throw new Error(`codegen: op '${n.op}' (${n.type.dtype}) is not supported${n.label ? ` (at ${n.label})` : ''}`);
  return l;
}

const HELPERS = `// @ts-ignore: decorator
@inline function log_f32x4(v: v128): v128 {
  let r = f32x4.splat(Mathf.log(f32x4.extract_lane(v, 0)));
  r = f32x4.replace_lane(r, 1, Mathf.log(f32x4.extract_lane(v, 1)));
  r = f32x4.replace_lane(r, 2, Mathf.log(f32x4.extract_lane(v, 2)));
  return f32x4.replace_lane(r, 3, Mathf.log(f32x4.extract_lane(v, 3)));
}
// C's pow (and torch.pow): 1^y = 1 even for NaN y, (−1)^±∞ = 1; Mathf.pow gives NaN there (JavaScript's).
// @ts-ignore: decorator
@inline function pow_f32(a: f32, b: f32): f32 {
  return a == 1 || (a == -1 && abs<f32>(b) == Infinity) ? 1 : Mathf.pow(a, b);
}
// @ts-ignore: decorator
@inline function pow_f32x4(a: v128, b: v128): v128 {
  let r = f32x4.splat(pow_f32(f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0)));
  r = f32x4.replace_lane(r, 1, pow_f32(f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1)));
  r = f32x4.replace_lane(r, 2, pow_f32(f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2)));
  return f32x4.replace_lane(r, 3, pow_f32(f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3)));
}
// Integer pow (ir/elementwise.ts INT_BINARY): a^b modulo 2^32 by squaring; for b < 0, 1/a^|b|
// truncated (the caller traps first on a = 0).
// @ts-ignore: decorator
@inline function ipow_i32(a: i32, b: i32): i32 {
  if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
  let r = 1;
  for (; b != 0; b >>>= 1, a *= a) if (b & 1) r *= a;
  return r;
}
// An f32 exponent: ipow_i32 where it is an integer of i32 range, else trunc(pow(a, b)) by C's pow;
// below i32.MIN_VALUE where there is no i32 value (0 to a negative power, NaN, out of range).
function ipow_f32(a: i32, b: f32): i64 {
  if (b == trunc<f32>(b) && abs<f32>(b) < 2147483648.0) return a == 0 && b < 0 ? i64.MIN_VALUE : <i64>ipow_i32(a, <i32>b);
  const r = trunc<f64>(a == 1 || (a == -1 && abs<f32>(b) == Infinity) ? 1 : Math.pow(<f64>a, <f64>b));
  return r >= -2147483648.0 && r <= 2147483647.0 ? <i64>r : i64.MIN_VALUE;
}
`;

export interface EntrySource { export: string; graph: Graph }

/** The named sizes an entry takes, in argument order (sorted by name). */
export const entrySizes = (g: Graph): string[] => Object.keys(graphSizes(g)).sort();

const isSource = (n: Node) => n.op === 'input' || n.op === 'const' || n.op === 'state' || n.op === 'proj';

/**
 * Adds node `n`'s function to `parts` (a split node's takes the thread's tid, nt, and so does a
 * private one's: `threaded`); returns its name, or nothing when it has no code.
 */
function emitNode(name: string, n: Node, i: number, c: Ctx, parts: string[], t?: Slice, threaded = t !== undefined): string | undefined {
  const graph = (p: string, g: Graph, gc: Ctx, gt?: Slice) => {
    if (!gt) return { calls: emitGraph(p, g, gc, parts), splitFirst: false, splitLast: false };
    const e = emitEntry(p, g, gc, parts, gt.sync);
    return { calls: e.body, splitFirst: e.splitFirst, splitLast: e.splitLast };
  };
  const body = loweringFor(n).emit(n, c, { prefix: name, add: (src) => parts.push(src), graph }, t);
  if (body.length === 0) return undefined;
  const fn = `${name}_${n.op}`;
  const how = t ? ' (split across threads)' : threaded ? ' (a copy per thread)' : '';
  parts.push(`// %${i} ${n.op}${n.label ? ` — ${n.label}` : ''}${how}\nfunction ${fn}(${threaded ? 'tid: i32, nt: i32' : ''}): void {\n${body.map((l) => (l.startsWith('  ') ? l : `  ${l}`)).join('\n')}\n}\n`);
  return fn;
}

/** Emits one function per node of `graph` into `parts`; returns the calls that run them in order (one thread). */
function emitGraph(prefix: string, graph: Graph, c: Ctx, parts: string[]): string[] {
  const calls: string[] = [];
  graph.nodes.forEach((n, i) => {
    if (isSource(n)) return;
    const fn = emitNode(`${prefix}_${i}`, n, i, c, parts);
    if (fn) calls.push(`  ${fn}();`);
  });
  return calls;
}

/** State values are stored once the entry has read everything it needs (state has a static size). */
function stateWrites(graph: Graph, c: Ctx): string[] {
  return (graph.stateWrites ?? []).flatMap((w) => {
    const from = c.addr(w.node), to = c.state(w.name);
    return from === to ? [] : [`  memory.copy(${to}, ${from}, ${byteSize(w.node.type)});`];
  });
}

/**
 * An entry's body for thread `tid` of `nt` (threads.ts): split and private nodes on every thread, the rest
 * on thread 0, barriers where the schedule puts them. Returns whether any node is split, and
 * whether one runs before the first barrier or after the last. Also the step of a loop split
 * across threads (a body graph: no state writes).
 */
function emitEntry(name: string, graph: Graph, c: Ctx, parts: string[], sync: number): { body: string[]; split: boolean; splitFirst: boolean; splitLast: boolean } {
  const fns = new Map<Node, string>();
  const splits = splitsIn(graph);
  const copied = (n: Node) => graph.plan?.copies?.stride.has(n) === true;
  const hasCode = (n: Node) => !isSource(n) && (fns.has(n) || (() => {
    const i = graph.nodes.indexOf(n);
    const fn = emitNode(`${name}_${i}`, n, i, c, parts, splits(n) ? { tid: 'tid', nt: 'nt', sync } : undefined, splits(n) || copied(n));
    if (fn) fns.set(n, fn);
    return fn !== undefined;
  })());
  const sched = schedule(graph, c, hasCode, splits, (n) => loweringFor(n).claims?.(n as never) ?? false);
  if (!sched.nodes.some((s) => s.split)) return { body: [...sched.nodes.map((s) => `  ${fns.get(s.node)}();`), ...stateWrites(graph, c)], split: false, splitFirst: false, splitLast: false };
  const first = sched.nodes.findIndex((s) => s.barrierBefore), last = sched.nodes.findLastIndex((s) => s.barrierBefore);
  const splitFirst = sched.nodes.slice(0, first < 0 ? undefined : first).some((s) => s.split);
  const splitLast = sched.nodes.slice(Math.max(last, 0)).some((s) => s.split);
  const body: string[] = [];
  let zero: string[] = [];
  const flush = () => { if (zero.length) body.push('  if (tid == 0) {', ...zero.map((l) => `  ${l}`), '  }'); zero = []; };
  const barrier = `  ${kernelCall('barrier', { sync, nt: 'nt' })};`;
  for (const s of sched.nodes) {
    if (s.barrierBefore) { flush(); body.push(barrier); }
    if (s.split) { flush(); body.push(`  ${fns.get(s.node)}(tid, nt);`); } else zero.push(`  ${fns.get(s.node)}();`);
  }
  const writes = stateWrites(graph, c);
  if (writes.length && sched.barrierBeforeStateWrites) { flush(); body.push(barrier); }
  zero.push(...writes);
  flush();
  return { body, split: true, splitFirst, splitLast };
}

export interface EmittedModule {
  source: string;
  /** Entries (by export name) that split work across threads: their dispatch ids and how many named sizes they take. */
  parallel: Map<string, { id: number; sizes: number }>;
}

/**
 * The AssemblyScript module for a set of entries that share one memory layout. When any entry
 * splits work, the module also exports the thread protocol (runtime/threads.ts drives it) over
 * the sync region at `sync`.
 */
export function emitModule(entries: EntrySource[], layoutFor: (g: Graph) => Ctx, sync: number): EmittedModule {
  const parts: string[] = [];
  const globals = new Set<string>();
  const parallel: EmittedModule['parallel'] = new Map();
  for (const { export: name, graph } of entries) {
    const sizes = entrySizes(graph);
    const { body, split } = emitEntry(name, graph, layoutFor(graph), parts, sync);
    if (split) parallel.set(name, { id: parallel.size, sizes: sizes.length });
    sizes.forEach((s) => globals.add(s));
    const params = ['tid: i32', 'nt: i32', ...sizes.map((s) => `s_${s}: i32`)].join(', ');
    const set = sizes.map((s) => `  ${sizeGlobal(s)} = s_${s};`);
    parts.push(`export function ${name}(${params}): void {\n${[...set, ...body].join('\n')}\n}\n`);
  }
  if (globals.size) parts.unshift([...globals].sort().map((s) => `let ${sizeGlobal(s)}: i32 = 0;`).join('\n') + '\n');
  if (parallel.size) parts.push(threadExports(parallel, sync));
  const body = parts.join('\n');
  return { source: `// Generated by simdflow. Do not edit.\n${kernelImports(body)}\n${HELPERS}\n${body}`, parallel };
}

/** The protocol's exports: workers loop in __threads_worker; thread 0 runs a call with __threads_call. */
function threadExports(parallel: EmittedModule['parallel'], sync: number): string {
  // Named sizes come through the sync region: the entry sets its own (per-thread) size globals from them.
  const sizesAt = sync + kernelConst('SYNC_SIZES');
  const args = (k: number) => Array.from({ length: k }, (_, j) => `, load<i32>(${sizesAt + 4 * j})`).join('');
  const dispatch = (tid: string) => [...parallel].map(([fn, { id, sizes }]) => `    case ${id}: ${fn}(${tid}, nt${args(sizes)}); break;`).join('\n');
  return `export function __threads_worker(tid: i32): void {
  for (;;) {
    const id = ${kernelCall('threads_next', { sync, tid: 'tid' })};
    if (id < 0) return;
    const nt = ${kernelCall('threads_count', { sync })};
    switch (id) {
${dispatch('tid')}
    }
    ${kernelCall('threads_done', { sync })};
  }
}
/** Runs entry \`id\` on nt threads (this one is thread 0); returns non-zero when a thread trapped. */
export function __threads_call(id: i32, nt: i32): i32 {
  ${kernelCall('threads_post', { sync, id: 'id', nt: 'nt' })};
  switch (id) {
${dispatch('0')}
  }
  return ${kernelCall('threads_join', { sync })};
}
export function __threads_may_wait(yes: i32): void { ${kernelCall('threads_may_wait', { yes: 'yes' })}; }
export function __threads_abort(): void { ${kernelCall('threads_abort', { sync })}; }
export function __threads_done(): void { ${kernelCall('threads_done', { sync })}; }
export function __threads_join(): i32 { return ${kernelCall('threads_join', { sync })}; }
export function __threads_reset(): void { ${kernelCall('threads_reset', { sync })}; }
export function __threads_quit(nt: i32): void { ${kernelCall('threads_post', { sync, id: -1, nt: 'nt' })}; }
`;
}
