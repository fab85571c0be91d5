import { describe, expect, test } from 'vitest';
import { loop, nn, traceModel } from '../../compiler/dsl/index.ts';
import type { Graph, Node } from '../../compiler/ir/node.ts';
import { rootOf } from '../../compiler/ir/effects.ts';
import { byteSize, sameShape } from '../../compiler/ir/types.ts';
import { runPasses } from '../../compiler/passes/manager.ts';
import { planMemory, scratchBytes } from '../../compiler/passes/memory-planning.ts';
import { tiny } from './util.ts';
import { printPlan } from '../../compiler/ir/print.ts';
import { wasmTarget } from '../../compiler/codegen/target.ts';
import { kernelConst } from '../../compiler/codegen/kernels.ts';
import { PRIVATE_MAX_BYTES } from '../../compiler/codegen/threads.ts';

/**
 * Independent check of a plan against the IR's semantics alone: a value occupies its bytes from
 * the node that makes it through the last node that reads it (both included), so values whose
 * spans meet must not share bytes. The one exception is what an elementwise loop can do
 * safely: write its output exactly over an input that dies at it, when every operand reading
 * that buffer has the output's shape and dtype (element j is read before element j is written;
 * a broadcast operand would be re-read after being overwritten).
 */
function checkNoOverlap(g: Graph): void {
  const plan = g.plan!;
  const pos = new Map(g.nodes.map((n, i) => [n, i]));
  const last = new Map<Node, number>();
  g.nodes.forEach((n, i) => n.inputs.forEach((x) => last.set(rootOf(x), i)));
  for (const o of [...g.outputs, ...(g.stateWrites ?? [])]) last.set(rootOf(o.node), Infinity);
  const vals = [...plan.offsets.keys()].filter((n) => rootOf(n) === n);
  // A value kept per thread occupies all its copies.
  const bytes = (n: Node) => (plan.copies?.stride.has(n) ? plan.copies.stride.get(n)! * plan.copies.count : byteSize(n.type));
  const birth = (n: Node) => (n.op === 'input' ? -1 : pos.get(n.op === 'proj' ? n.inputs[0]! : n)!);
  const span = (n: Node): [number, number] => [birth(n), Math.max(last.get(n) ?? -1, birth(n))];
  const sameElements = (x: Node, n: Node) => x.type.dtype === n.type.dtype && sameShape(x.type.shape, n.type.shape);
  const overwritesSafely = (a: Node, b: Node) =>
    b.op === 'elementwise' && span(a)[1] === birth(b) && plan.offsets.get(a) === plan.offsets.get(b) && sameElements(a, b) &&
    b.inputs.every((x) => rootOf(x) !== a || sameElements(x, b));
  for (const a of vals) for (const b of vals) {
    if (a === b) continue;
    const [a0, a1] = span(a), [b0, b1] = span(b);
    const overlapInTime = a0 <= b1 && b0 <= a1 && !overwritesSafely(a, b) && !overwritesSafely(b, a);
    const oa = plan.offsets.get(a)!, ob = plan.offsets.get(b)!;
    const overlapInSpace = oa < ob + bytes(b) && ob < oa + bytes(a);
    if (overlapInTime && overlapInSpace) throw new Error(`%${pos.get(a)} ${a.op} and %${pos.get(b)} ${b.op} share memory while both alive`);
  }
  for (const [n, off] of plan.scratch) {
    for (const v of vals) {
      const [v0, v1] = span(v), p = pos.get(n)!;
      const o = plan.offsets.get(v)!;
      if (v0 <= p && p <= v1 && off < o + bytes(v) && o < off + scratchBytes(n, wasmTarget)) throw new Error(`scratch of %${p} overlaps %${pos.get(v)}`);
    }
  }
}

describe('memory-planning', () => {
  test('a chain reuses memory: the arena holds two activations, not all of them', () => {
    const g = runPasses(tiny(({ x }) => x!.matmul(x!.mT).softmax(-1).matmul(x!).softmax(-1).matmul(x!.mT).softmax(-1), { x: [8, 8] }), { target: wasmTarget });
    checkNoOverlap(g);
    const noReuse = planMemory(g, wasmTarget, false).arenaBytes;
    expect(g.plan!.arenaBytes).toBeLessThan(noReuse);
    expect(g.plan!.arenaBytes).toBeLessThanOrEqual(4 * 256); // x, x^T and two live 8x8 activations
  });

  test('an elementwise op takes over its dying input buffer', () => {
    const g = runPasses(tiny(({ x }) => x!.matmul(x!).add(x!).softmax(-1), { x: [4, 4] }), { disable: ['epilogue-fusion'], target: wasmTarget });
    const ew = g.nodes.find((n) => n.op === 'elementwise')!;
    const mm = g.nodes.find((n) => n.op === 'matmul')!;
    expect(g.plan!.offsets.get(ew)).toBe(g.plan!.offsets.get(mm));
    expect(g.plan!.donated.get(ew)).toBe(mm);
    checkNoOverlap(g);
  });

  test('a broadcast operand is never overwritten in place, and the checker would catch it', () => {
    const g = runPasses(tiny(({ x }) => { const r = x!.relu(); return r.mean(-1, true).mul(-1).add(r); }, { x: [1, 3] }), { target: wasmTarget });
    checkNoOverlap(g);
    const ew = g.nodes.find((n) => n.op === 'elementwise')!, mean = g.nodes.find((n) => n.op === 'mean')!;
    expect(g.plan!.offsets.get(ew)).not.toBe(g.plan!.offsets.get(mean));
    // The plan the planner used to make (the [1, 1] mean donated to the [1, 3] result, same 16 aligned bytes) is rejected.
    const bad = { ...g.plan!, offsets: new Map(g.plan!.offsets) };
    bad.offsets.set(ew, bad.offsets.get(mean)!);
    expect(() => checkNoOverlap({ ...g, plan: bad })).toThrow(/share memory while both alive/);
  });

  test('printPlan (golden): offsets, sizes, lifetimes, shared buffers', () => {
    const g = runPasses(tiny(({ x }) => { const r = x!.relu(); return r.mean(-1, true).mul(-1).add(r).softmax(-1).reshape(3, 1); }, { x: [1, 3] }), { target: wasmTarget });
    checkNoOverlap(g);
    expect(printPlan(g)).toBe([
      'memory plan: arena 32 bytes (offset, bytes, made..last read, value)',
      '  @0             12 B    in..%1    "x" input f32[1, 3]',
      '  @0              4 B    %2..%3    %2 mean f32[1, 1]',
      '  @0              4 B    %3..%4    %3 elementwise f32[1, 1]  in place of %2',
      '  @0             12 B    %5..end   %5 softmax f32[1, 3]  (also %6 reshape)',
      '  @16            12 B    %1..%4    %1 elementwise f32[1, 3]',
      '  @16            12 B    %4..%5    %4 elementwise f32[1, 3]  in place of %1',
    ].join('\n'));
  });

  test('LeNet: no overlap of live values or conv scratch', () => {
    const m = new nn.Sequential(new nn.Conv2d(1, 6, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Conv2d(6, 16, 5),
      new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(400, 120), new nn.ReLU(), new nn.Linear(120, 10));
    const g = runPasses(traceModel({ name: 'lenet', module: m, inputs: { x: [3, 1, 28, 28] } }), { target: wasmTarget });
    checkNoOverlap(g);
    expect(g.plan!.scratch.size).toBe(2);
  });

  // codegen/threads.ts: a small value whose readers all run on every thread gets one copy per thread.
  test('a value kept per thread: MAX_THREADS copies on their own cache lines, after every shared value, never in place', () => {
    const plan = (m: nn.Module, x: number[]) => runPasses(traceModel({ name: 'p', module: m, inputs: { x } }), { target: wasmTarget });
    // Linear (split GEMV) → LayerNorm → ReLU → Linear (split GEMV): the layernorm and the relu (a fused elementwise) are copies.
    const g = plan(new nn.Sequential(new nn.Linear(256, 512), new nn.LayerNorm(512), new nn.ReLU(), new nn.Linear(512, 512)), [1, 256]);
    checkNoOverlap(g);
    const copies = [...(g.plan!.copies?.stride ?? new Map<Node, number>())];
    expect(copies.map(([n]) => n.op).sort()).toEqual(['elementwise', 'layernorm']);
    expect(g.plan!.copies!.count).toBe(kernelConst('MAX_THREADS')); // one copy for each thread the kernels allow
    const shared = [...g.plan!.offsets].filter(([n]) => rootOf(n) === n && !g.plan!.copies!.stride.has(n));
    const sharedEnd = Math.max(...shared.map(([n, o]) => o + byteSize(n.type)));
    for (const [n, stride] of copies) {
      expect(stride).toBe(2048);
      expect(g.plan!.offsets.get(n)! % 64).toBe(0);
      expect(g.plan!.offsets.get(n)!).toBeGreaterThanOrEqual(sharedEnd);
      expect(g.plan!.donated.get(n)).toBeUndefined();
    }
    expect(g.plan!.arenaBytes).toBeGreaterThanOrEqual(Math.max(...copies.map(([n, s]) => g.plan!.offsets.get(n)! + s * g.plan!.copies!.count)));
    expect(printPlan(g)).toMatch(/layernorm f32\[1, 512\] {2}a copy per thread, 2048 B apart/);
    // No copies: a small value that is an output, one bigger than PRIVATE_MAX_BYTES, one read by a GEMV too small to split (thread 0).
    expect(plan(new nn.Sequential(new nn.Linear(256, 512), new nn.LayerNorm(512)), [1, 256]).plan!.copies).toBeUndefined();
    const wide = PRIVATE_MAX_BYTES / 4 + 4;
    expect(plan(new nn.Sequential(new nn.Linear(256, wide), new nn.LayerNorm(wide), new nn.Linear(wide, 64)), [1, 256]).plan!.copies).toBeUndefined();
    expect(plan(new nn.Sequential(new nn.Linear(256, 512), new nn.LayerNorm(512), new nn.Linear(512, 8)), [1, 256]).plan!.copies).toBeUndefined();
  });

  test("a loop body's arena holds its carried values and t for the whole step, and no bytes for what it captures", () => {
    const g = runPasses(tiny(({ x, m }) => loop(2, { h: x! }, ({ h }, t) => {
      const next = h!.matmul(m!).add(t.float()).tanh(); // m [64, 64]: 16 KiB captured, read in place every step
      return { next: { h: next }, emit: { y: next.relu() } };
    }).y!, { x: [1, 64], m: [64, 64] }), { target: wasmTarget });
    const lp = g.nodes.find((n) => n.op === 'loop')!, body = (lp.attrs.body as Graph);
    const [h, t, m] = body.inputs as [Node, Node, Node];
    expect(body.plan!.offsets.has(m)).toBe(false);
    expect(body.plan!.arenaBytes).toBeLessThan(byteSize(m.type));
    // h and t are never reused by the body's values (the next h is copied over h at the step's end).
    for (const [n, off] of body.plan!.offsets) {
      if (n === h || n === t || rootOf(n) === h) continue;
      for (const pinned of [h, t]) {
        const o = body.plan!.offsets.get(pinned)!;
        expect(off < o + byteSize(pinned.type) && o < off + byteSize(n.type), `%${body.nodes.indexOf(n)} ${n.op} over ${pinned.label}`).toBe(false);
      }
    }
    checkNoOverlap(g);
  });
});
