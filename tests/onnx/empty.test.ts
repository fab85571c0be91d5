// Zero-size tensors through the ONNX importer (compiler/onnx/ops/empty.ts): an empty graph input,
// Slice and Expand that make one, and what ONNX defines of them (Concat drops them, Shape/Size
// read them, Reshape/elementwise ops give further empties, reductions over an empty axis give
// their identity), on one hand-built model compiled once; values by hand, the reference and
// the compiled artifact alike, empty outputs listed in place with their shapes. What ONNX leaves
// undefined or the shapes do not allow is refused naming the node.
import { describe, expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { printGraph } from '../../compiler/ir/print.ts';
import { compileGraph } from '../../compiler/driver/compile.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const Y = Float32Array.of(1, -2, 3, -4, 5, -6);
/** Outputs: name → [dtype, shape, values] (an empty one has none). */
const WANT: Record<string, [string, number[], number[]]> = {
  cat: ['f32', [2, 1, 3], [1, -2, 3, -4, 5, -6]], // Concat(x [2, 0, 3], y [2, 1, 3]) along 1: y
  relu_add: ['f32', [2, 0, 3], []], // Add(Relu(x), y [2, 1, 3]) broadcasts to [2, 0, 3]
  shape: ['i32', [3], [2, 0, 3]],
  size: ['i32', [], [0]],
  reshaped: ['f32', [2, 3, 0], []], // Reshape(x, [0, 3, -1]): 0 copies 2, -1 is 0
  eq: ['bool', [2, 0, 3], []],
  sum_add: ['f32', [2, 1, 3], [1, -2, 3, -4, 5, -6]], // ReduceSum over the empty axis is 0, plus y at run time
  prod: ['f32', [2, 3], [1, 1, 1, 1, 1, 1]],
  max: ['f32', [2, 1, 3], Array(6).fill(-Infinity)],
  min: ['f32', [2, 1, 3], Array(6).fill(Infinity)],
  lse: ['f32', [2, 1, 3], Array(6).fill(-Infinity)],
  l2: ['f32', [2, 1, 3], Array(6).fill(0)],
  sum_kept_empty: ['f32', [2, 0, 1], []], // over axis 2, the empty axis 1 is kept
  sliced_cat: ['f32', [2, 3], [1, -2, 3, -4, 5, -6]], // Concat(Slice(y, 5..9 on axis 1): [2, 0], y)
  sliced: ['f32', [2, 0], []],
  expanded: ['f32', [0, 2, 3], []], // Expand(y [1, 2, 3], [0, 2, 3])
};

function model(): Uint8Array {
  const g = new OnnxGraph();
  g.input('x', [2, 0, 3]);
  g.input('y', [2, 3]);
  const y3 = g.op1('Unsqueeze', ['y', g.ints('ax1', [1], [1])]);
  const ax = (name: string, a: number) => g.ints(name, [1], [a]);
  const reduce = (op: string, keepdims = 1, axis = 1) => g.op1(op, ['x', ax(`${op}_${axis}_axes`, axis)], { keepdims });
  const outs: Record<string, string> = {
    cat: g.op1('Concat', ['x', y3], { axis: 1 }),
    relu_add: g.op1('Add', [g.op1('Relu', ['x']), y3]),
    shape: g.op1('Shape', ['x']),
    size: g.op1('Size', ['x']),
    reshaped: g.op1('Reshape', ['x', g.ints('to', [3], [0, 3, -1])]),
    eq: g.op1('Equal', ['x', 'x']),
    sum_add: g.op1('Add', [reduce('ReduceSum'), y3]),
    prod: reduce('ReduceProd', 0),
    max: reduce('ReduceMax'),
    min: reduce('ReduceMin'),
    lse: reduce('ReduceLogSumExp'),
    l2: reduce('ReduceL2'),
    sum_kept_empty: reduce('ReduceSum', 1, 2),
  };
  const sliced = g.op1('Slice', ['y', ax('s', 5), ax('e', 9), ax('a', 1)]);
  outs.sliced_cat = g.op1('Concat', [sliced, 'y'], { axis: 1 });
  outs.sliced = sliced;
  outs.expanded = g.op1('Expand', [g.op1('Unsqueeze', ['y', ax('ax0', 0)]), g.ints('eshape', [3], [0, 2, 3])]);
  for (const [name, v] of Object.entries(outs)) {
    const [dtype, shape] = WANT[name]!;
    g.name(v, name);
    g.output(name, shape, dtype === 'bool' ? DT.BOOL : dtype === 'i32' ? DT.INT64 : DT.FLOAT);
  }
  return g.finish('empty', 18);
}

const ARRAY = { f32: Float32Array, i32: Int32Array, bool: Uint8Array } as const;

describe('ONNX zero-size tensors', () => {
  test('an empty input through Concat, Shape, Size, Reshape, elementwise ops and reductions, Slice and Expand to nothing: empty outputs in place, reference and compiled agree with the hand-computed values', async () => {
    const { graph } = importOnnx(model());
    // Only the inputs and outputs with elements are nodes; the empty ones are listed at their positions.
    expect(graph.inputs.map((n) => n.label)).toEqual(['y']);
    expect(graph.empty?.inputs).toEqual([{ name: 'x', dtype: 'f32', shape: [2, 0, 3], at: 0 }]);
    const names = Object.keys(WANT);
    expect(graph.empty?.outputs.map((e) => [e.name, e.at])).toEqual(names.flatMap((n, i) => (WANT[n]![2].length ? [] : [[n, i]])));
    const check = (out: Record<string, ArrayLike<number>>, shapes: Record<string, readonly number[]> | undefined, where: string) => {
      expect(Object.keys(out), where).toEqual(names);
      for (const [name, [dtype, shape, values]] of Object.entries(WANT)) {
        expect(out[name], `${where} ${name}`).toBeInstanceOf(ARRAY[dtype as keyof typeof ARRAY]);
        expect(Array.from(out[name]!), `${where} ${name}`).toEqual(values);
        if (shapes) expect(shapes[name], `${where} ${name} shape`).toEqual(shape);
      }
    };
    check(interpret(graph, { x: new Float32Array(0), y: Y }), undefined, 'reference');
    const c = await compileGraph(graph, { isas: TEST_ISAS });
    const info = c.manifest.entries.run!;
    expect(info.inputs.map((t) => [t.name, t.shape])).toEqual([['x', [2, 0, 3]], ['y', [2, 3]]]);
    expect(info.outputs.map((t) => [t.name, t.dtype, t.shape])).toEqual(names.map((n) => [n, WANT[n]![0], WANT[n]![1]]));
    for (const isa of TEST_ISAS) {
      const m = await loadModelBytes(c.bytes, { isa });
      check(m.run({ x: new Float32Array(0), y: Y }), m.outputShapes, isa);
      expect(() => m.run({ x: Float32Array.of(1), y: Y }), isa).toThrow(/input 'x'.*expected 0 values/);
    }
  });

  test('a graph of empties only (Split of an empty input): no nodes, every output empty', async () => {
    const g = new OnnxGraph();
    g.input('x', [0, 2]);
    const parts = g.op('Split', ['x', g.ints('sizes', [2], [1, 1])], { axis: 1 }, 2);
    parts.forEach((p, i) => { g.name(p, `p${i}`); g.output(`p${i}`, [0, 1]); });
    const { graph } = importOnnx(g.finish('split', 18));
    expect(graph.nodes).toEqual([]);
    expect(printGraph(graph)).toBe('graph {\n  inputs x=empty f32[0, 2]\n\n  return p0=empty f32[0, 1], p1=empty f32[0, 1]\n}');
    expect(graph.empty?.outputs.map((e) => [e.name, e.shape])).toEqual([['p0', [0, 1]], ['p1', [0, 1]]]);
    expect(interpret(graph, { x: new Float32Array(0) })).toEqual({ p0: new Float32Array(0), p1: new Float32Array(0) });
    const m = await loadModelBytes((await compileGraph(graph, { isas: TEST_ISAS.slice(0, 1) })).bytes, { isa: TEST_ISAS[0] });
    expect(m.run({ x: new Float32Array(0) })).toEqual({ p0: new Float32Array(0), p1: new Float32Array(0) });
    expect(m.outputShapes).toEqual({ p0: [0, 1], p1: [0, 1] });
  });

  test('what ONNX leaves undefined, shapes that do not fit and ops that take no empties are refused naming the node', () => {
    const one = (build: (g: OnnxGraph) => string, xDims: (number | string)[] = [2, 0, 3], dims?: Record<string, { max: number }>) => () => {
      const g = new OnnxGraph();
      g.input('x', xDims);
      g.input('y', [2, 3]);
      g.output(build(g), [1]);
      return importOnnx(g.finish('bad', 18), dims ? { dims } : {});
    };
    expect(one((g) => g.op1('ReduceMean', ['x', g.ints('a', [1], [1])]))).toThrow(
      /node 'ReduceMean_0' \(ReduceMean, opset 18\): the mean of an empty tensor \[2, 0, 3\] over axes \[1\] \(ONNX leaves it undefined\) is not supported/);
    expect(one((g) => g.op1('MatMul', ['x', g.init('w', [3, 2], new Float32Array(6))]))).toThrow(
      /node 'MatMul_0' \(MatMul, opset 18\): A \('x'\) is an empty tensor \[2, 0, 3\] \(graph input 'x'\); this op does not take zero-size tensors/);
    expect(one((g) => g.op1('Add', ['x', 'y']))).toThrow(/\(Add, opset 18\): broadcasting the shapes \[2, 0, 3\], \[2, 3\] \(axis 1: 0 and 2\) is not supported/);
    expect(one((g) => g.op1('Reshape', ['x', g.ints('s', [2], [-1, 0])], { allowzero: 1 }))).toThrow(/shape \[-1, 0\] for the empty tensor \[2, 0, 3\] \(the -1 could be any size\) is not supported/);
    expect(one((g) => g.op1('Reshape', ['x', g.ints('s', [2], [2, 3])]))).toThrow(/\(Reshape, opset 18\): cannot reshape the empty tensor \[2, 0, 3\] to \[2, 3\] \(6 elements\)/);
    expect(one((g) => g.op1('Reshape', ['y', g.ints('s', [2], [0, 3])], { allowzero: 1 }))).toThrow(/\(Reshape, opset 18\): cannot reshape \[2,3\] \(6 elements\) to \[0,3\] \(none\)/);
    expect(one((g) => g.op1('Relu', ['x']), ['b', 0], { b: { max: 4 } })).toThrow(/input 'x' \[b, 0\] is empty \(a 0\) and has a symbolic size/);
  });
});
