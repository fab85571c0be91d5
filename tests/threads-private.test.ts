// Which nodes run private (codegen/threads.ts): a small node whose users all run on every
// thread and read through Layout.ref. Graphs built by hand so each user kind is explicit.
import { describe, expect, test } from 'vitest';
import { makeGraph, node, type Node } from '../compiler/ir/node.ts';
import { privateNodes } from '../compiler/codegen/threads.ts';
import { defineModel, manualSeed, nn } from '../compiler/index.ts';
import { compileModel } from '../compiler/driver/compile.ts';
import { interpret } from '../compiler/reference/interpret.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';

const f32 = (shape: number[]) => ({ dtype: 'f32' as const, shape });
const weights = (k: number, n: number) => node('const', [], f32([k, n]), { data: new Float32Array(k * n) });
/** x [1, 256] → a GEMV split across threads (1 × 512 × 256) → relu (small) → what `use` makes of it. */
function chain(use: (r: Node) => { outputs: Array<{ name: string; node: Node }>; stateWrites?: Array<{ name: string; node: Node }> }) {
  const x = node('input', [], f32([1, 256]), { name: 'x' }, 'x');
  const h = node('gemm', [x, weights(256, 512)], f32([1, 512]), { act: 'none' });
  const r = node('relu', [h], f32([1, 512]), {});
  const { outputs, stateWrites = [] } = use(r);
  const extra = [node('input', [], { dtype: 'i32', shape: [] }, { name: 'pos' }, 'pos')];
  return { g: makeGraph([x, ...extra], outputs, stateWrites), r };
}
const gemv = (r: Node) => node('gemm', [r, weights(512, 512)], f32([1, 512]), { act: 'none' });

describe('private nodes', () => {
  test('read only by a split GEMV: private', () => {
    const { g, r } = chain((r) => ({ outputs: [{ name: 'y', node: gemv(r) }] }));
    expect([...privateNodes(g)]).toEqual([r]);
  });

  test('also an output, or also read by a node on thread 0 alone: not private', () => {
    expect(privateNodes(chain((r) => ({ outputs: [{ name: 'y', node: gemv(r) }, { name: 'r', node: r }] })).g).size).toBe(0);
    expect(privateNodes(chain((r) => ({ outputs: [{ name: 'y', node: gemv(r) }, { name: 's', node: node('sum', [r], f32([1]), { axes: [1], keepdim: false }) }] })).g).size).toBe(0);
  });

  test('also read by an in-place write on thread 0 (a cache_write, whose buffer is the state): not private', () => {
    const { g } = chain((r) => {
      const cache = node('state', [], f32([1, 4, 512]), { name: 'k' }, 'k');
      const pos = node('input', [], { dtype: 'i32', shape: [] }, { name: 'pos' }, 'pos');
      const w = node('cache_write', [cache, node('reshape', [r], f32([1, 1, 512]), { shape: [1, 1, 512] }), pos], f32([1, 4, 512]));
      return { outputs: [{ name: 'y', node: gemv(r) }], stateWrites: [{ name: 'k', node: w }] };
    });
    expect(privateNodes(g).size).toBe(0);
  });

  test('a model written by hand: chained private values (layernorm, residual add, relu) run on 1, 2 and 3 threads with the same bits, and match the reference', async () => {
    manualSeed(11);
    const lin1 = new nn.Linear(192, 320), norm1 = new nn.LayerNorm(320), lin2 = new nn.Linear(320, 320), norm2 = new nn.LayerNorm(320), head = new nn.Linear(320, 136);
    const def = defineModel({
      name: 'private_chain', module: new nn.ModuleList([lin1, norm1, lin2, norm2, head]), inputs: { x: [1, 192] },
      forward: (_m, i) => {
        const h = norm1.call(lin1.call(i.x!)).relu();
        return { y: head.call(norm2.call(h.add(lin2.call(h)))) };
      },
    });
    const c = await compileModel(def, { isas: ['wasmsimd'] });
    const g = c.graphs.run!;
    expect(g.plan!.copies?.stride.size).toBeGreaterThanOrEqual(3);
    const x = Float32Array.from({ length: 192 }, (_, k) => Math.sin(k * 0.7) * 2);
    const ref = interpret(c.traced, { x }).y!;
    const outs: Float32Array[] = [];
    for (const threads of [1, 2, 3]) {
      const m = await loadModelBytes(c.bytes, { threads, threadPolicy: 'always', isa: 'wasmsimd' });
      for (let r = 0; r < 3; r++) outs.push(m.run({ x }).y as Float32Array);
      m.dispose();
    }
    let err = 0;
    ref.forEach((v, k) => { err = Math.max(err, Math.abs(outs[0]![k]! - v) / (1 + Math.abs(v))); });
    expect(err).toBeLessThan(2e-5);
    for (const o of outs) expect(Array.from(o)).toEqual(Array.from(outs[0]!));
  });
});
