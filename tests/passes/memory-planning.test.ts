import { describe, expect, test } from 'vitest';
import { nn, traceModel } from '../../compiler/dsl/index.ts';
import type { Graph, Node } from '../../compiler/ir/node.ts';
import { alignedBytes } from '../../compiler/ir/layout.ts';
import { runPasses } from '../../compiler/passes/manager.ts';
import { planMemory, rootOf, scratchBytes } from '../../compiler/passes/memory-planning.ts';
import { tiny } from './util.ts';

/** Independent check: values alive at the same time never share bytes. */
function checkNoOverlap(g: Graph): void {
  const plan = g.plan!;
  const pos = new Map(g.nodes.map((n, i) => [n, i]));
  const last = new Map<Node, number>();
  const outs = new Set(g.outputs.map((o) => rootOf(o.node)));
  g.nodes.forEach((n, i) => n.inputs.forEach((x) => last.set(rootOf(x), Math.max(last.get(rootOf(x)) ?? -1, i))));
  const vals = [...plan.offsets.keys()].filter((n) => rootOf(n) === n);
  const span = (n: Node): [number, number] => [n.op === 'input' ? -1 : pos.get(n)!, outs.has(n) ? Infinity : Math.max(last.get(n) ?? -1, pos.get(n)!)];
  for (const a of vals) for (const b of vals) {
    if (a === b) continue;
    const [a0, a1] = span(a), [b0, b1] = span(b);
    // a value may be overwritten by the node that reads it last, if that node is elementwise
    const overlapInTime = a0 < b1 && b0 < a1 && !(a1 === b0 && b.op === 'elementwise') && !(b1 === a0 && a.op === 'elementwise');
    const oa = plan.offsets.get(a)!, ob = plan.offsets.get(b)!;
    const overlapInSpace = oa < ob + alignedBytes(b.type) && ob < oa + alignedBytes(a.type);
    if (overlapInTime && overlapInSpace) throw new Error(`%${a.id} ${a.op} and %${b.id} ${b.op} share memory while both alive`);
  }
  for (const [n, off] of plan.scratch) {
    for (const v of vals) {
      const [v0, v1] = span(v), p = pos.get(n)!;
      const o = plan.offsets.get(v)!;
      if (v0 <= p && p <= v1 && off < o + alignedBytes(v.type) && o < off + scratchBytes(n)) throw new Error(`scratch of %${n.id} overlaps %${v.id}`);
    }
  }
}

describe('memory-planning', () => {
  test('a chain reuses memory: the arena holds two activations, not all of them', () => {
    const g = runPasses(tiny(({ x }) => x!.matmul(x!.mT).softmax(-1).matmul(x!).softmax(-1).matmul(x!.mT).softmax(-1), { x: [8, 8] }));
    checkNoOverlap(g);
    const noReuse = planMemory(g, false).arenaBytes;
    expect(g.plan!.arenaBytes).toBeLessThan(noReuse);
    expect(g.plan!.arenaBytes).toBeLessThanOrEqual(4 * 256); // x, x^T and two live 8x8 activations
  });

  test('an elementwise op takes over its dying input buffer', () => {
    const g = runPasses(tiny(({ x }) => x!.matmul(x!).add(x!).softmax(-1), { x: [4, 4] }), { disable: ['epilogue-fusion'] });
    const ew = g.nodes.find((n) => n.op === 'elementwise')!;
    const mm = g.nodes.find((n) => n.op === 'matmul')!;
    expect(g.plan!.offsets.get(ew)).toBe(g.plan!.offsets.get(mm));
    checkNoOverlap(g);
  });

  test('LeNet: no overlap of live values or conv scratch', () => {
    const m = new nn.Sequential(new nn.Conv2d(1, 6, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Conv2d(6, 16, 5),
      new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(400, 120), new nn.ReLU(), new nn.Linear(120, 10));
    const g = runPasses(traceModel({ name: 'lenet', module: m, inputs: { x: [3, 1, 28, 28] } }));
    checkNoOverlap(g);
    expect(g.plan!.scratch.size).toBe(2);
  });
});
