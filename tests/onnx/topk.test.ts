// ONNX TopK on hand-built models (bench/onnx.ts): k as attribute (opset 1) and as input K (10, 11
// with largest/sorted) give the same hand-computed values, NaN first for largest and last for
// smallest, ties in index order; compiled on every test ISA with a symbolic axis beside it and a
// symbolic reduced axis at k = 1 (bound first, then below); what cannot be compiled is refused by name.
import { describe, expect, test } from 'vitest';
import { OnnxGraph } from '../../bench/onnx.ts';
import { importOnnx, NeedsConstantError, UnsupportedError } from '../../compiler/onnx/import.ts';
import { OnnxError } from '../../compiler/onnx/proto.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { compileGraph } from '../../compiler/driver/compile.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

// x [2, 5]: row 0 with a NaN and a tie, row 1 with -0 and 0 (equal: index order) and -inf.
const X = Float32Array.of(1, NaN, 3, 3, -2, 0, -1, -0, -Infinity, 0);
/** Three TopKs of x [rows, 5]: k = 3 largest along 1, k = 2 smallest along 1 (sorted = 0), k = 1 largest along 0. */
function model(opset: number, rows: number | string = 2): Uint8Array {
  const g = new OnnxGraph();
  g.input('x', [rows, 5]);
  const topk = (k: number, attrs: Record<string, number>, out: string) => {
    const [v, i] = opset < 10 ? g.op('TopK', ['x'], { k, ...attrs }, 2) : g.op('TopK', ['x', g.ints(`k_${out}`, [1], [k])], attrs, 2);
    g.name(v!, `${out}_v`); g.name(i!, `${out}_i`);
  };
  topk(3, { axis: 1 }, 'top3');
  if (opset >= 11) topk(2, { axis: -1, largest: 0, sorted: 0 }, 'low2');
  for (const o of ['top3', ...(opset >= 11 ? ['low2'] : [])]) { g.output(`${o}_v`, [rows, o === 'top3' ? 3 : 2]); g.output(`${o}_i`, [rows, o === 'top3' ? 3 : 2], 7); }
  return g.finish('topk', opset);
}
const WANT = {
  top3_v: [NaN, 3, 3, 0, -0, 0], top3_i: [1, 2, 3, 0, 2, 4],
  low2_v: [-2, 1, -Infinity, -1], low2_i: [4, 0, 3, 1],
};
const bits = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : v));

describe('ONNX TopK', () => {
  test('k as attribute (opset 1) and input (10, 11: largest, sorted) give the hand-computed values in the reference and compiled, a symbolic batch and a symbolic axis (k = 1) included', async () => {
    for (const opset of [1, 10, 11]) {
      const out = interpret(importOnnx(model(opset)).graph, { x: X });
      for (const o of Object.keys(out)) expect(bits(out[o]!), `opset ${opset} ${o}`).toEqual(bits(WANT[o as keyof typeof WANT]));
    }
    const { graph } = importOnnx(model(11, 'batch'), { dims: { batch: { max: 2 } } });
    // k = 1 along a symbolic length: y [2, 1] the largest of each row's first T.
    const g1 = new OnnxGraph();
    g1.input('x', [2, 'T']);
    const [v, i] = g1.op('TopK', ['x', g1.ints('k', [1], [1])], { axis: 1 }, 2);
    g1.name(v!, 'v'); g1.name(i!, 'i'); g1.output('v', [2, 1]); g1.output('i', [2, 1], 7);
    const seq = importOnnx(g1.finish('seq', 11), { dims: { T: { max: 5 } } }).graph;
    const byT = (t: number) => ({ x: X.filter((_, j) => j % 5 < t), v: t === 1 ? [1, 0] : t === 2 ? [NaN, 0] : [NaN, 0], i: t === 1 ? [0, 0] : [1, 0] });
    const [bytes, seqBytes] = [(await compileGraph(graph, { isas: TEST_ISAS })).bytes, (await compileGraph(seq, { isas: TEST_ISAS })).bytes];
    for (const isa of TEST_ISAS) {
      const m = await loadModelBytes(bytes, { isa });
      for (const b of [2, 1]) {
        const out = m.run({ x: { data: X.slice(0, 5 * b), shape: [b, 5] } });
        for (const [o, w] of Object.entries(WANT)) expect(bits(out[o]!), `${isa} ${o} at batch ${b}`).toEqual(bits(w.slice(0, (w.length / 2) * b)));
      }
      const ms = await loadModelBytes(seqBytes, { isa });
      for (const t of [5, 1, 2, 3]) {
        const w = byT(t), out = ms.run({ x: { data: w.x, shape: [2, t] } });
        expect(bits(out.v!), `${isa} v at T ${t}`).toEqual(bits(w.v));
        expect(Array.from(out.i!), `${isa} i at T ${t}`).toEqual(w.i);
        expect(bits(interpret(seq, { x: w.x }, undefined, { T: t }).v!), `reference v at T ${t}`).toEqual(bits(w.v));
      }
    }
  });

  test('a run-time k, k = 0, k > n, k as attribute from opset 10 and a K of two values are refused, naming the node and what it got', () => {
    const one = (opset: number, k: string[] | number, attrs: Record<string, number> = {}, xDims: Array<number | string> = [2, 5], extra?: (g: OnnxGraph) => string) => {
      const g = new OnnxGraph();
      g.input('x', xDims);
      const kIn = typeof k === 'number' ? [] : extra ? [extra(g)] : k;
      const [v, i] = g.op('TopK', ['x', ...kIn], { axis: 1, ...(typeof k === 'number' ? { k } : {}), ...attrs }, 2);
      g.name(v!, 'v'); g.name(i!, 'i'); g.output('v', [2, 1]); g.output('i', [2, 1], 7);
      return g;
    };
    const withK = (vals: number[]) => one(11, [], {}, [2, 5], (g) => g.ints('k', [vals.length], vals)).finish('m', 11);
    const fromInput = one(11, ['k']); fromInput.input('k', [1], 7);
    expect(() => importOnnx(fromInput.finish('m', 11))).toThrow(NeedsConstantError);
    expect(() => importOnnx(fromInput.finish('m', 11))).toThrow(/\(TopK, opset 11\): K \('k'\) must be known at compile time.*depends on the graph input 'k'/);
    const fromShape = one(11, [], {}, [2, 'T'], (g) => g.op1('Slice', [g.op1('Shape', ['x']), g.ints('s', [1], [1]), g.ints('e', [1], [2])]));
    expect(() => importOnnx(fromShape.finish('m', 11), { dims: { T: { max: 5 } } })).toThrow(/\(TopK, opset 11\): K .*computed from the symbolic size 'T'/);
    expect(() => importOnnx(withK([0]))).toThrow(UnsupportedError);
    expect(() => importOnnx(withK([0]))).toThrow(/\(TopK, opset 11\): k = 0 \(empty outputs\) is not supported/);
    expect(() => importOnnx(withK([6]))).toThrow(OnnxError);
    expect(() => importOnnx(withK([6]))).toThrow(/\(TopK, opset 11\): k = 6 is out of range for axis 1 of X \[2, 5\] \(k must be in \[1, 5\]\)/);
    expect(() => importOnnx(withK([1, 2]))).toThrow(/\(TopK, opset 11\): K must hold one value, got 2/);
    expect(() => importOnnx(one(10, 2).finish('m', 10))).toThrow(/\(TopK, opset 10\): attribute 'k' \(from opset 10 k is input K\) is not supported/);
    expect(() => importOnnx(one(11, [], { k: 2 }, [2, 5], (g) => g.ints('k', [1], [2])).finish('m', 11))).toThrow(/attribute 'k' \(from opset 10 k is input K\) is not supported/);
  });
});
