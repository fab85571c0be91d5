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

import type { Graph, Node } from '../ir/node.ts';
import { rootOf } from '../ir/effects.ts';
import { byteSize } from '../ir/types.ts';
import type { Layout } from './layout.ts';
import { loweringOf } from './ops/index.ts';

type Span = [number, number];
interface Footprint { reads: Span[]; writes: Span[]; split: boolean; claims: boolean }

const span = (at: number, bytes: number): Span[] => (at > 0 && bytes > 0 ? [[at, at + bytes]] : []);
const overlaps = (a: Span[], b: Span[]) => a.some(([s, e]) => b.some(([t, f]) => s < f && t < e));
const conflict = (p: Footprint, q: Footprint) => overlaps(p.writes, q.reads) || overlaps(p.writes, q.writes) || overlaps(p.reads, q.writes);

/** Bytes the node reads and writes: inputs; its result(s) and scratch (a loop's scratch is its body's arena). */
function footprint(g: Graph, n: Node, c: Layout, split: boolean, claims: boolean): Footprint {
  // Constants are never written (packed ones have no plain address at all).
  const reads = n.inputs.filter((i) => rootOf(i).op !== 'const').flatMap((i) => span(c.addr(i), byteSize(i.type)));
  const writes = span(c.addr(n), byteSize(n.type));
  for (const p of g.nodes) if (p.op === 'proj' && p.inputs[0] === n) writes.push(...span(c.addr(p), byteSize(p.type)));
  const scratch = n.op === 'loop' ? (n.attrs.body as Graph).plan?.arenaBytes ?? 0 : loweringOf(n)?.scratchBytes?.(n) ?? 0;
  if (scratch > 0) writes.push(...span(c.scratch(n), scratch));
  return { reads, writes, split, claims };
}

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
    const split = splits(n);
    nodes.push({ node: n, split, barrierBefore: place(footprint(g, n, c, split, split && claims(n))) });
  }
  const writes = g.stateWrites ?? [];
  const stateCopies: Footprint = {
    reads: writes.filter((w) => rootOf(w.node).op !== 'const').flatMap((w) => span(c.addr(w.node), byteSize(w.node.type))),
    writes: writes.flatMap((w) => span(c.state(w.name), byteSize(w.node.type))),
    split: false,
    claims: false,
  };
  return { nodes, barrierBeforeStateWrites: place(stateCopies) };
}
