// memory-planning: static offsets in one activation arena, reused by liveness. Values are
// placed in topological order, best fit into the gaps left by values that died; an
// elementwise node may take over the buffer of an input that dies at it (the loop reads
// each element before writing it). Reshapes are views: they share their input's buffer and
// extend its life. Kernel scratch (im2col panels) lives only while its node runs. The extra
// results of a multi-result node (`proj`) are born with it. State tensors live outside the
// arena, in the artifact's state region.
// The result is the peak arena size the artifact reports.

import { alignedBytes, align } from '../ir/layout.ts';
import { conv2dScratchBytes } from '../codegen/pack.ts';
import { rnnScratchBytes } from '../codegen/rnn-abi.ts';
import { attentionScratchBytes } from '../codegen/attention-abi.ts';
import { attentionDims } from '../ir/ops.ts';
import type { Graph, MemoryPlan, Node } from '../ir/node.ts';
import type { Pass } from './pass.ts';

/** The buffer a value lives in: reshapes are views of their input; a cache write updates its cache in place. */
export const rootOf = (n: Node): Node => (n.op === 'reshape' || n.op === 'cache_write' ? rootOf(n.inputs[0]!) : n);

/** Bytes of temporary space the node's kernel needs. */
export function scratchBytes(n: Node): number {
  if (n.op === 'conv2d') {
    const [, cg, kh, kw] = n.inputs[1]!.type.shape as [number, number, number, number]; // channels per group
    const [, , oh, ow] = n.type.shape as [number, number, number, number];
    return conv2dScratchBytes(cg, kh, kw, oh, ow);
  }
  if (n.op === 'rnn_seq' || n.op === 'lstm_seq' || n.op === 'gru_seq') {
    const [B] = n.type.shape as [number];
    return rnnScratchBytes(n.op.slice(0, n.op.indexOf('_')) as 'rnn', B, n.inputs[1]!.type.shape[1]!);
  }
  if (n.op === 'attention') {
    const { Lq, Lk } = attentionDims(n.inputs.map((i) => i.type), n.attrs);
    return attentionScratchBytes(Lq, Lk);
  }
  if (n.op === 'loop') return (n.attrs.body as Graph).plan?.arenaBytes ?? planMemory(n.attrs.body as Graph, false, true).arenaBytes;
  return 0;
}

const inArena = (n: Node) => n.op !== 'const' && n.op !== 'reshape' && n.op !== 'cache_write' && n.op !== 'state';
/** Where a value is born: a proj with its producer, anything else where it stands. */
const birth = (n: Node, pos: Map<Node, number>) => (n.op === 'input' ? -1 : pos.get(n.op === 'proj' ? n.inputs[0]! : n)!);
const IN_PLACE = new Set(['elementwise']);

/** Live ranges [first, last] in node positions; inputs are born before the first node, outputs live to the end. */
function liveRanges(g: Graph): Map<Node, [number, number]> {
  const pos = new Map(g.nodes.map((n, i) => [n, i]));
  const r = new Map<Node, [number, number]>();
  for (const n of g.nodes) if (inArena(n)) r.set(n, [birth(n, pos), pos.get(n)!]);
  g.nodes.forEach((n, i) => { for (const x of n.inputs) { const b = r.get(rootOf(x)); if (b) b[1] = Math.max(b[1], i); } });
  for (const o of [...g.outputs, ...(g.stateWrites ?? [])]) { const b = r.get(rootOf(o.node)); if (b) b[1] = Infinity; }
  for (const n of g.inputs) r.get(n)![1] = Math.max(r.get(n)![1], -1);
  return r;
}

class Arena {
  private blocks: Array<{ off: number; size: number }> = [];
  peak = 0;
  alloc(size: number): number {
    let best = -1, bestGap = Infinity, at = 0;
    for (const b of this.blocks) {
      const gap = b.off - at;
      if (gap >= size && gap < bestGap) { best = at; bestGap = gap; }
      at = Math.max(at, b.off + b.size);
    }
    if (best < 0) best = at; // no gap fits: grow at the end
    this.blocks.push({ off: best, size });
    this.blocks.sort((a, b) => a.off - b.off);
    this.peak = Math.max(this.peak, best + size);
    return best;
  }
  free(off: number): void { this.blocks = this.blocks.filter((b) => b.off !== off); }
}

export function planMemory(g: Graph, reuse: boolean, pinInputs = false): MemoryPlan {
  const ranges = liveRanges(g);
  if (pinInputs) for (const n of g.inputs) ranges.get(n)![1] = Infinity;
  const projs = new Map<Node, Node[]>();
  for (const n of g.nodes) if (n.op === 'proj') projs.set(n.inputs[0]!, [...(projs.get(n.inputs[0]!) ?? []), n]);
  /** Buffers whose last reader is node i: free once node i has run. */
  const dyingAt = new Map<number, Set<Node>>();
  for (const [n, [, last]] of ranges) if (Number.isFinite(last)) dyingAt.set(last, (dyingAt.get(last) ?? new Set()).add(n));
  const offsets = new Map<Node, number>();
  const scratch = new Map<Node, number>();
  const arena = new Arena();
  for (const n of g.inputs) offsets.set(n, arena.alloc(alignedBytes(n.type)));
  g.nodes.forEach((n, i) => {
    for (const p of projs.get(n) ?? []) offsets.set(p, arena.alloc(alignedBytes(p.type)));
    if (inArena(n) && n.op !== 'input' && n.op !== 'proj') {
      const donor = reuse && IN_PLACE.has(n.op)
        ? n.inputs.map(rootOf).find((x) => x.op !== 'input' && dyingAt.get(i)?.has(x) && alignedBytes(x.type) === alignedBytes(n.type))
        : undefined;
      // The donor's block passes to n: it is freed when n dies, not now.
      if (donor) { dyingAt.get(i)!.delete(donor); offsets.set(n, offsets.get(donor)!); }
      else offsets.set(n, arena.alloc(alignedBytes(n.type)));
    }
    const s = scratchBytes(n);
    if (s > 0) { const off = arena.alloc(align(s)); scratch.set(n, off); if (reuse) arena.free(off); }
    if (reuse) for (const d of dyingAt.get(i) ?? []) if (offsets.has(d)) arena.free(offsets.get(d)!);
  });
  for (const n of g.nodes) if ((n.op === 'reshape' || n.op === 'cache_write') && offsets.has(rootOf(n))) offsets.set(n, offsets.get(rootOf(n))!);
  return { arenaBytes: align(arena.peak), offsets, scratch };
}

export const memoryPlanning: Pass = {
  name: 'memory-planning',
  description: 'assign static arena offsets, reusing memory of values that are dead',
  run(g) {
    g.plan = planMemory(g, true, g.loopBody);
    return g;
  },
};
