// Which nodes run private (codegen/threads.ts): a small node whose users all run on every
// thread and read through Layout.ref. Graphs built by hand so each user kind is explicit.
import { describe, expect, test } from 'vitest';
import { makeGraph, node, type Node } from '../compiler/ir/node.ts';
import { privateNodes } from '../compiler/codegen/threads.ts';

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
});
