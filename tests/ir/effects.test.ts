// In-place writes are effects: the verifier rejects a schedule in which a read sees an
// overwritten value, and makeGraph orders (or copies) so that every graph it makes is valid.
import { describe, expect, test } from 'vitest';
import { makeGraph, node, type Graph, type Node } from '../../compiler/ir/node.ts';
import { verify } from '../../compiler/ir/verify.ts';
import { interpret } from '../../compiler/reference/interpret.ts';

const f32 = (shape: number[]) => ({ dtype: 'f32' as const, shape });
function cacheGraph() {
  const k = node('state', [], f32([1, 3, 2]), { name: 'k' }, 'k');
  const rows = node('input', [], f32([1, 1, 2]), { name: 'rows' }, 'rows');
  const pos = node('input', [], { dtype: 'i32', shape: [] }, { name: 'pos' }, 'pos');
  const w = node('cache_write', [k, rows, pos], f32([1, 3, 2]));
  return { k, rows, pos, w };
}
const run = (g: Graph) => interpret(g, { rows: Float32Array.of(7, 8), pos: Int32Array.of(1) }, { k: Float32Array.of(1, 2, 3, 4, 5, 6) });

describe('effects', () => {
  test('the verifier rejects a reader scheduled after the in-place write of its buffer', () => {
    const { k, rows, pos, w } = cacheGraph();
    const r = node('sum', [k], f32([1]), { axes: [1, 2], keepdim: false });
    const g: Graph = { nodes: [k, rows, pos, w, r], inputs: [rows, pos], outputs: [{ name: 'old', node: r }], stateWrites: [{ name: 'k', node: w }] };
    expect(() => verify(g)).toThrow(/%4 sum reads %0 after the in-place write %3 cache_write overwrote it/);
    const ok = makeGraph([rows, pos], [{ name: 'old', node: r }], [{ name: 'k', node: w }]);
    verify(ok);
    expect(ok.nodes.indexOf(r)).toBeLessThan(ok.nodes.indexOf(w));
    expect(Array.from(run(ok).old!)).toEqual([21]);
  });

  test('a reader that needs both the old and the new value gets a copy', () => {
    const { k, rows, pos, w } = cacheGraph();
    const both = node('add', [k, w], f32([1, 3, 2]));
    const g = makeGraph([rows, pos], [{ name: 'y', node: both }], [{ name: 'k', node: w }]);
    verify(g);
    expect(g.nodes.some((n: Node) => n.op === 'copy')).toBe(true);
    expect(Array.from(run(g).y!)).toEqual([2, 4, 10, 12, 10, 12]);
  });

  test('an in-place write of a state the entry does not store, or of a constant, goes to a copy', () => {
    const { k, rows, pos, w } = cacheGraph();
    const g = makeGraph([rows, pos], [{ name: 'y', node: w }]);
    verify(g);
    expect(w.inputs[0]!.op).toBe('copy');
    const bad: Graph = { nodes: [k, rows, pos, node('cache_write', [k, rows, pos], f32([1, 3, 2]))], inputs: [rows, pos], outputs: [] };
    bad.outputs.push({ name: 'y', node: bad.nodes[3]! });
    expect(() => verify(bad)).toThrow(/updates state 'k' in place, but the entry does not store 'k'/);
  });

  test('state writes are parallel: a swap reads both old values', () => {
    const a = node('state', [], f32([2]), { name: 'a' }, 'a'), b = node('state', [], f32([2]), { name: 'b' }, 'b');
    const raw: Graph = { nodes: [a, b], inputs: [], outputs: [], stateWrites: [{ name: 'a', node: b }, { name: 'b', node: a }] };
    expect(() => verify(raw)).toThrow(/reads state 'b', which the entry overwrites/);
    const g = makeGraph([], [], [{ name: 'a', node: b }, { name: 'b', node: a }]);
    verify(g);
    const out = interpret(g, {}, { a: Float32Array.of(1, 2), b: Float32Array.of(3, 4) });
    expect([...out['state.a']!, ...out['state.b']!]).toEqual([3, 4, 1, 2]);
  });
});
