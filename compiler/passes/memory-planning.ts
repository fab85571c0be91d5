// memory-planning: static offsets in one activation arena, reused by liveness. Values are
// placed in topological order, best fit into the gaps left by values that died; an
// elementwise node may take over the buffer of an input that dies at it (the loop reads
// each element before writing it). Reshapes are views: they share their input's buffer and
// extend its life. Kernel scratch (im2col panels) lives only while its node runs. The extra
// results of a multi-result node (`proj`) are born with it. State tensors live outside the
// arena, in the artifact's state region. A value the target keeps per thread (Target.copies) gets
// one copy per thread side by side, each on its own cache lines, and never shares a buffer
// in place.
// The result is the peak arena size the artifact reports.

import { rootOf } from '../ir/effects.ts';
import { attrsOf, opTraits } from '../ir/ops.ts';
import type { Graph, MemoryPlan, Node } from '../ir/node.ts';
import { roundUp, type Target } from '../ir/target.ts';
import { byteSize, sameDims } from '../ir/types.ts';
import type { Pass } from './pass.ts';

export { rootOf };

/** Per-thread copies start on a cache line of their own (the arena itself starts on one). */
const COPY_ALIGN = 64;

/** Bytes of temporary space the node needs: its kernel's (from the target), or a loop body's arena. */
export function scratchBytes(n: Node, target: Target): number {
  if (n.op === 'loop') { const body = attrsOf(n, 'loop').body; return body.plan?.arenaBytes ?? planMemory(body, target, false).arenaBytes; }
  return target.scratchBytes(n);
}

const inArena = (n: Node) => n.op !== 'const' && n.op !== 'state' && rootOf(n) === n;
/** Where a value is born: a proj with its producer, anything else where it stands. */
const birth = (n: Node, pos: Map<Node, number>) => (n.op === 'input' ? -1 : pos.get(n.op === 'proj' ? n.inputs[0]! : n)!);

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
  /** A block of `size` bytes at a multiple of `align`. */
  alloc(size: number, align = 1): number {
    let best = -1, bestGap = Infinity, at = 0;
    for (const b of this.blocks) {
      const start = roundUp(at, align), gap = b.off - start;
      if (gap >= size && gap < bestGap) { best = start; bestGap = gap; }
      at = Math.max(at, b.off + b.size);
    }
    if (best < 0) best = roundUp(at, align); // no gap fits: grow at the end
    this.blocks.push({ off: best, size });
    this.blocks.sort((a, b) => a.off - b.off);
    this.peak = Math.max(this.peak, best + size);
    return best;
  }
  free(off: number): void { this.blocks = this.blocks.filter((b) => b.off !== off); }
}

export function planMemory(g: Graph, target: Target, reuse: boolean): MemoryPlan {
  const alignedBytes = (n: Node) => roundUp(Math.max(byteSize(n.type), 1), target.align);
  const ranges = liveRanges(g);
  // A loop body's carried values and t live through the step (the next values are copied over
  // them at its end); its captured values are the loop's operands, read where they are.
  const own = g.loopBody ? g.inputs.slice(0, g.loopBody.carried + 1) : g.inputs;
  if (g.loopBody) for (const n of own) ranges.get(n)![1] = Infinity;
  const projs = new Map<Node, Node[]>();
  for (const n of g.nodes) if (n.op === 'proj') projs.set(n.inputs[0]!, [...(projs.get(n.inputs[0]!) ?? []), n]);
  /** Buffers whose last reader is node i: free once node i has run. */
  const dyingAt = new Map<number, Set<Node>>();
  for (const [n, [, last]] of ranges) if (Number.isFinite(last)) dyingAt.set(last, (dyingAt.get(last) ?? new Set()).add(n));
  const offsets = new Map<Node, number>();
  const scratch = new Map<Node, number>();
  const donated = new Map<Node, Node>();
  const copies = g.loopBody ? undefined : target.copies?.(g);
  const copyStride = new Map([...copies?.values ?? []].map((n) => [n, roundUp(Math.max(byteSize(n.type), 1), COPY_ALIGN)]));
  const arena = new Arena();
  // Per-thread copies live in an arena of their own after the main one: a thread must not write
  // its copy into bytes another thread may still be reading as a shared value (the value's last
  // reader runs on every thread too), so copies reuse only each other's buffers.
  const copiesArena = new Arena();
  const arenaOf = (n: Node) => (copyStride.has(n) ? copiesArena : arena);
  const deferred: Node[] = [];
  for (const n of own) offsets.set(n, arena.alloc(alignedBytes(n)));
  // An elementwise loop reads element j of each input just before it writes element j of
  // its output, so it may write over an input that dies at it when that input has the
  // output's dtype and shape (not merely its size: a broadcast operand is re-read after its
  // first element was overwritten) and no other operand reads the same buffer differently.
  const canDonate = (x: Node, n: Node, i: number) =>
    x.op !== 'input' && !copyStride.has(x) && !copyStride.has(n) && dyingAt.get(i)?.has(x) === true && x.type.dtype === n.type.dtype && sameDims(x.type, n.type) &&
    n.inputs.every((y) => rootOf(y) !== x || (y.type.dtype === n.type.dtype && sameDims(y.type, n.type)));
  g.nodes.forEach((n, i) => {
    for (const p of projs.get(n) ?? []) offsets.set(p, arena.alloc(alignedBytes(p)));
    if (inArena(n) && n.op !== 'input' && n.op !== 'proj') {
      const donor = reuse && opTraits(n.op).overwritesInput ? n.inputs.map(rootOf).find((x) => canDonate(x, n, i)) : undefined;
      // The donor's block passes to n: it is freed when n dies, not now.
      if (donor) { dyingAt.get(i)!.delete(donor); offsets.set(n, offsets.get(donor)!); donated.set(n, donor); }
      else if (copyStride.has(n)) offsets.set(n, copiesArena.alloc(copyStride.get(n)! * copies!.count, COPY_ALIGN));
      else offsets.set(n, arena.alloc(alignedBytes(n)));
    }
    const s = scratchBytes(n, target);
    if (s > 0) { const off = arena.alloc(roundUp(s, target.align)); scratch.set(n, off); if (reuse) arena.free(off); }
    // What dies at a per-thread node is freed only once the next value that is not one has its
    // buffer: that node (a split GEMV reading the copies, say) runs on the heels of the copies on
    // every thread, and writing where another thread may still read would cost a barrier before it.
    const dying = [...(dyingAt.get(i) ?? [])];
    if (copyStride.has(n) || (deferred.length > 0 && !inArena(n))) { deferred.push(...dying); return; }
    if (reuse) for (const d of [...dying, ...deferred.splice(0)]) if (offsets.has(d)) arenaOf(d).free(offsets.get(d)!);
  });
  const copiesAt = roundUp(arena.peak, COPY_ALIGN);
  for (const n of copyStride.keys()) offsets.set(n, copiesAt + offsets.get(n)!);
  for (const n of g.nodes) if (rootOf(n) !== n && offsets.has(rootOf(n))) offsets.set(n, offsets.get(rootOf(n))!);
  const peak = copyStride.size ? copiesAt + copiesArena.peak : arena.peak;
  return { arenaBytes: roundUp(peak, target.align), offsets, scratch, donated, ...(copyStride.size ? { copies: { count: copies!.count, stride: copyStride } } : {}) };
}

export const memoryPlanning: Pass = {
  name: 'memory-planning',
  description: 'assign static arena offsets, reusing memory of values that are dead (disabled: no reuse)',
  run(g, ctx) {
    if (!ctx?.target) throw new Error('memory-planning needs the target (its alignment and kernel scratch): runPasses(g, { target })');
    g.plan = planMemory(g, ctx.target, !ctx.noReuse);
    return g;
  },
};
