// ONNX comparisons and rounding on run-time tensors (compiler/onnx/ops/elementwise.ts compare,
// rounding, sign): PyTorch's export of tests/fixtures/torch-extra/compare (make_compare.py writes
// compare.onnx beside the fixture) compiled for every test ISA and in the reference, bit for bit
// against PyTorch; hand-built graphs for int64 and bool operands, Sign, a symbolic size, the
// compile-time path (folded, no kernel) and the refusals.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { compileGraph, readSafetensors } from '../../compiler/index.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'torch-extra', 'compare');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'compare/io.safetensors');
const bits = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : v));

test("PyTorch's export (Less, Greater, Equal, Not, Floor, Ceil, Round, Where on inputs) matches PyTorch bit for bit, compiled and in the reference", async () => {
  const { graph, model } = importOnnx(readFileSync(join(FIX, 'compare.onnx')));
  const ops = new Set(model.graph.nodes.map((n) => n.opType));
  for (const op of ['Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Equal', 'Floor', 'Ceil', 'Round', 'Where']) expect(ops.has(op), op).toBe(true);
  const feeds = Object.fromEntries(['a', 'b', 'c', 'i', 'j'].map((n) => [n, io.get(`input.${n}`)!.data as Float32Array | Int32Array]));
  const names = graph.outputs.map((o) => o.name);
  expect(names.length).toBe(30);
  const ref = interpret(graph, feeds);
  for (const name of names) expect(bits(ref[name]!), `reference ${name}`).toEqual(bits(io.get(`output.${name}`)!.data));
  const { bytes } = await compileGraph(graph, { name: 'compare', isas: TEST_ISAS });
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(bytes, { isa });
    const out = m.run(feeds);
    for (const name of names) expect(bits(out[name]!), `${isa} ${name}`).toEqual(bits(io.get(`output.${name}`)!.data));
    m.dispose();
  }
});

test('int64 and bool operands, Sign, a symbolic size, and the compile-time path', () => {
  const g = new OnnxGraph();
  g.input('p', [5], DT.INT64); g.input('q', [5], DT.INT64); g.input('m', [5], DT.BOOL); g.input('x', ['batch', 4]);
  g.name(g.op1('Less', ['p', 'q']), 'lt'); g.name(g.op1('Equal', ['p', 'q']), 'eq'); g.name(g.op1('GreaterOrEqual', ['p', g.ints('two', [], [2])]), 'ge2');
  g.name(g.op1('Equal', ['m', g.op1('Less', ['p', 'q'])]), 'eqb');   // bools: a where over the operands
  g.name(g.op1('Sign', ['x']), 'sign'); g.name(g.op1('Sign', ['p']), 'signp');
  g.name(g.op1('Greater', ['x', g.init('t', [4], Float32Array.of(0, 1, Number.NaN, -1))]), 'gt');
  g.name(g.op1('Round', ['x']), 'round');
  // On constants the host computes: Cast(Less(3, 5)) is a constant 1, not a kernel.
  g.name(g.op1('Add', ['x', g.op1('Cast', [g.op1('Floor', [g.op1('Ceil', [g.init('k', [], Float32Array.of(0.5))])])], { to: DT.FLOAT })]), 'x1');
  g.name(g.op1('Cast', [g.op1('Less', [g.ints('three', [], [3]), g.ints('five', [], [5])])], { to: DT.INT64 }), 'folded');
  for (const [o, d, t] of [['lt', [5], DT.BOOL], ['eq', [5], DT.BOOL], ['ge2', [5], DT.BOOL], ['eqb', [5], DT.BOOL], ['sign', ['batch', 4], DT.FLOAT], ['signp', [5], DT.INT64],
    ['gt', ['batch', 4], DT.BOOL], ['round', ['batch', 4], DT.FLOAT], ['x1', ['batch', 4], DT.FLOAT], ['folded', [], DT.INT64]] as const) g.output(o, d, t);
  const { graph } = importOnnx(g.finish('cmp', 17), { dims: { batch: { max: 3 } } });
  expect(graph.nodes.filter((n) => ['floor', 'ceil'].includes(n.op))).toEqual([]);
  expect(graph.outputs.find((o) => o.name === 'folded')!.node.op).toBe('const');
  const p = Int32Array.of(-2147483648, 2147483647, 2, 3, -1), q = Int32Array.of(2147483647, 2147483647, 2, -7, 0), m = Uint8Array.of(1, 0, 0, 1, 1);
  for (const B of [1, 3]) {
    const x = Float32Array.from([-0, 0, Number.NaN, -Infinity, 2.5, -2.5, 0.5, 7, -1.5, 1.5, 3.5, -0.4].slice(0, 4 * B));
    const out = interpret(graph, { p, q, m, x }, undefined, { batch: B });
    expect(Array.from(out.lt!)).toEqual([1, 0, 0, 0, 1]);
    expect(Array.from(out.eq!)).toEqual([0, 1, 1, 0, 0]);
    expect(Array.from(out.ge2!)).toEqual([0, 1, 1, 1, 0]);
    expect(Array.from(out.eqb!)).toEqual([1, 1, 1, 0, 1]);
    expect(bits(out.sign!)).toEqual(bits([0, 0, Number.NaN, -1, 1, -1, 1, 1, -1, 1, 1, -1].slice(0, 4 * B)));
    expect(Array.from(out.signp!)).toEqual([-1, 1, 1, 1, -1]);
    expect(Array.from(out.gt!)).toEqual([0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 1].slice(0, 4 * B));
    expect(bits(out.round!)).toEqual(bits([-0, 0, Number.NaN, -Infinity, 2, -2, 0, 7, -2, 2, 4, -0].slice(0, 4 * B)));
    expect(Array.from(out.x1!)).toEqual(Array.from(x, (v) => Math.fround(v + 1)));
    expect(Array.from(out.folded!)).toEqual([1]);
  }
});

test('comparisons and rounding of the wrong types are refused, naming the node, the op and the types', () => {
  const one = (build: (g: OnnxGraph) => string, ins: Array<[string, number]>) => {
    const g = new OnnxGraph();
    for (const [n, t] of ins) g.input(n, [3], t);
    g.name(build(g), 'y'); g.output('y', [3], DT.BOOL);
    return () => importOnnx(g.finish('bad', 17));
  };
  expect(one((g) => g.op1('Less', ['a', 'b']), [['a', DT.BOOL], ['b', DT.BOOL]])).toThrow(/node 'Less_0' \(Less, opset 17\): bool operands is not supported/);
  expect(one((g) => g.op1('Greater', ['a', 'b']), [['a', DT.FLOAT], ['b', DT.INT64]])).toThrow(/\(Greater, opset 17\): operands of different types \(f32, i32\) is not supported/);
  expect(one((g) => g.op1('Floor', ['a']), [['a', DT.INT64]])).toThrow(/\(Floor, opset 17\): X of type int64\/int32 is not supported/);
  expect(one((g) => g.op1('Mod', ['a', 'b']), [['a', DT.FLOAT], ['b', DT.FLOAT]])).toThrow(/node 'Mod_0' \(Mod, opset 17\): fmod = 0 on floats \(ONNX requires fmod = 1 for floating-point operands\) is not supported/);
});
