// Threads inside one entry: which thread runs each node and where the barriers go.
//
// Every thread calls the entry with (tid, nt). A node whose lowering splits it (`split(n)`)
// runs on all threads, each its share; every other node runs on thread 0 alone. Between two
// nodes on different threads that touch the same bytes (one writes what the other reads or
// writes — arena reuse makes write-after-read as real as read-after-write) all threads meet at
// a barrier; nodes that do not conflict run on without one. A node whose threads take its work
// through claim() (assembly/threads.ts) needs a barrier after any earlier such node, conflict or
// not: each thread finds where its units start by counting what the earlier ones used. Thread 0
// joins the workers when the entry ends (assembly/threads.ts), so outputs and state writes need no
// barrier of their own.
//
// A third way to run: *private*. A small node whose users all run on every thread (split, or
// private themselves) is computed by every thread into a copy of its own (the plan keeps one per
// thread, memory-planning.ts), and its users read their own thread's copy (Layout.ref). No
// barrier separates a private node from its users — each reads what its own thread wrote — and no
// two cores store into the same lines. A GPT decode step's residual adds and layernorms, each
// between two split GEMVs, lose the barrier after them (34 → 26 a step): a 2-thread step took
// 0.929× the time (166 → 152 µs, 20 rounds interleaved with the build before), one thread
// 0.966×, outputs bit-identical. Every thread repeating the work pays while it costs less than a
// barrier and the skew it absorbs (~0.4–1 µs here): PRIVATE_MAX_BYTES. (Every thread writing the
// *same* shared buffer instead was 1.17× slower: the lines bounce between the cores on every store.)

import type { Graph, Node } from '../ir/node.ts';
import { rootOf } from '../ir/effects.ts';
import { isView } from '../ir/ops.ts';
import { byteSize } from '../ir/types.ts';
import { graphSizes } from '../ir/symbolic.ts';
import { kernelConst } from './kernels.ts';
import type { Layout } from './layout.ts';
import { loweringOf } from './ops/index.ts';

/** An entry with more named sizes than the sync region passes to the workers runs on one thread. */
export const runsSerially = (g: Graph): boolean => Object.keys(graphSizes(g)).length > kernelConst('SYNC_MAX_SIZES');

/**
 * Whether node n of entry g runs split across the threads: its lowering's rule, or for a loop,
 * whether any node of its body splits (every thread then runs the loop: ops/control.ts).
 */
export const splitsIn = (g: Graph): ((n: Node) => boolean) => {
  const serial = runsSerially(g), memo = new Map<Node, boolean>();
  // A body is scheduled by its own rule (emit.ts), so the loop asks the same question of it.
  const ask = (n: Node) => n.op === 'loop' ? (n.attrs.body as Graph).nodes.some(splitsIn(n.attrs.body as Graph)) : loweringOf(n)?.split?.(n as never) ?? false;
  return (n) => {
    if (serial) return false;
    let v = memo.get(n);
    if (v === undefined) memo.set(n, (v = ask(n)));
    return v;
  };
};

/** A private node is at most this big: 1024 f32, ~1 µs of elementwise work or a layernorm row on one core. */
export const PRIVATE_MAX_BYTES = 4096;

/**
 * The nodes of entry g that run private (above): small, addressed through Layout.ref by their
 * lowering (`refs`), not an output, a state write or a view, and every user split or private
 * with a lowering that reads through Layout.ref too. Never in a loop body or a serial entry.
 */
export function privateNodes(g: Graph): Set<Node> {
  const priv = new Set<Node>();
  if (g.loopBody || runsSerially(g)) return priv;
  const splits = splitsIn(g);
  const users = new Map<Node, Node[]>();
  for (const u of g.nodes) {
    if (isView(u.op)) continue; // no code: its users read the root's buffer (an in-place op is a user)
    for (const x of new Set(u.inputs.map(rootOf))) users.set(x, [...(users.get(x) ?? []), u]);
  }
  const kept = new Set([...g.outputs, ...(g.stateWrites ?? [])].map((o) => rootOf(o.node)));
  const refs = (n: Node) => loweringOf(n)?.refs === true;
  for (const n of [...g.nodes].reverse()) {
    if (!refs(n) || rootOf(n) !== n || kept.has(n) || splits(n) || byteSize(n.type) > PRIVATE_MAX_BYTES) continue;
    const us = users.get(n) ?? [];
    if (us.length > 0 && us.every((u) => priv.has(u) || (splits(u) && refs(u)))) priv.add(n);
  }
  return priv;
}

type Span = [number, number];
/** `own`: a private node's copies [start, end), `stride` bytes apart, which the node reads or writes one copy per thread. */
interface Copies { span: Span; stride: number }
interface Footprint { reads: Span[]; writes: Span[]; own: Copies[]; split: boolean; claims: boolean }

const span = (at: number, bytes: number): Span[] => (at > 0 && bytes > 0 ? [[at, at + bytes]] : []);
const overlaps = (a: Span[], b: Span[]) => a.some(([s, e]) => b.some(([t, f]) => s < f && t < e));
/**
 * Per-thread copies at the same place with the same stride (one node's, or a later node's in the
 * buffer of one that died) never conflict: each thread touches only its own copy of each.
 */
const ownConflict = (p: Footprint, q: Footprint) =>
  overlaps(p.own.map((o) => o.span), [...q.reads, ...q.writes]) ||
  p.own.some((o) => q.own.some((r) => (r.span[0] !== o.span[0] || r.stride !== o.stride) && overlaps([o.span], [r.span])));
const conflict = (p: Footprint, q: Footprint) =>
  overlaps(p.writes, q.reads) || overlaps(p.writes, q.writes) || overlaps(p.reads, q.writes) || ownConflict(p, q) || ownConflict(q, p);

/** Bytes the node reads and writes: inputs; its result(s) and scratch (a loop's scratch is its body's arena). */
function footprint(g: Graph, n: Node, c: Layout, split: boolean, claims: boolean): Footprint {
  const copies = (x: Node): Copies | undefined => {
    const all = g.plan?.copies, s = all?.stride.get(rootOf(x));
    return all && s ? { span: span(c.addr(x), s * all.count)[0]!, stride: s } : undefined;
  };
  const own: Footprint['own'] = [];
  // Constants are never written (packed ones have no plain address at all).
  const reads = n.inputs.filter((i) => rootOf(i).op !== 'const').flatMap((i) => {
    const o = copies(i);
    if (o) { own.push(o); return []; }
    return span(c.addr(i), byteSize(i.type));
  });
  const mine = copies(n);
  const writes = mine ? (own.push(mine), []) : span(c.addr(n), byteSize(n.type));
  for (const p of g.nodes) if (p.op === 'proj' && p.inputs[0] === n) writes.push(...span(c.addr(p), byteSize(p.type)));
  const scratch = n.op === 'loop' ? (n.attrs.body as Graph).plan?.arenaBytes ?? 0 : loweringOf(n)?.scratchBytes?.(n) ?? 0;
  if (scratch > 0) writes.push(...span(c.scratch(n), scratch));
  return { reads, writes, own, split, claims };
}

/** `split`: the node runs on every thread (split, or private: `copies`); otherwise on thread 0. */
export interface Scheduled { node: Node; split: boolean; barrierBefore: boolean }

/**
 * The nodes of `g` that have code (`hasCode`), each with its threads and whether a barrier must
 * come first; then whether one must come before the state writes (thread 0's copies at the end).
 * `claims`: the split node's threads take its work through claim().
 */
export function schedule(g: Graph, c: Layout, hasCode: (n: Node) => boolean, splits: (n: Node) => boolean,
                         claims: (n: Node) => boolean): { nodes: Scheduled[]; barrierBeforeStateWrites: boolean } {
  const nodes: Scheduled[] = [];
  let since: Footprint[] = [];
  const place = (f: Footprint): boolean => {
    const barrier = since.some((p) => ((p.split || f.split) && conflict(p, f)) || (p.claims && f.claims));
    if (barrier) since = [];
    since.push(f);
    return barrier;
  };
  for (const n of g.nodes) {
    if (!hasCode(n)) continue;
    const split = splits(n) || g.plan?.copies?.stride.has(n) === true;
    nodes.push({ node: n, split, barrierBefore: place(footprint(g, n, c, split, splits(n) && claims(n))) });
  }
  const writes = g.stateWrites ?? [];
  const stateCopies: Footprint = {
    reads: writes.filter((w) => rootOf(w.node).op !== 'const').flatMap((w) => span(c.addr(w.node), byteSize(w.node.type))),
    writes: writes.flatMap((w) => span(c.state(w.name), byteSize(w.node.type))),
    own: [],
    split: false,
    claims: false,
  };
  return { nodes, barrierBeforeStateWrites: place(stateCopies) };
}
