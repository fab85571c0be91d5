// ONNX ScatterElements and ScatterND (compiler/onnx/ops/scatter.ts, the IR's scatter_elements and
// scatter_nd): PyTorch's opset-17 export of x.scatter, scatter_add and indexed assignment with
// run-time indices (tests/fixtures/onnx-scatter/export.py) compiled for every test ISA and in the
// reference, bit for bit against PyTorch; run-time negative indices and ones out of range fed to
// the same artifact; duplicate indices under each reduction (opset 18) against hand-computed
// values; the refusals. (The ONNX node tests of both run in conformance:onnx.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { compileGraph, readSafetensors } from '../../compiler/index.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'onnx-scatter');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'onnx-scatter/io.safetensors');
const input = (n: string) => io.get(`input.${n}`)!.data as Float32Array | Int32Array;
const expected = (n: string) => Array.from(io.get(`output.${n}`)!.data);

test("PyTorch's x.scatter, scatter_add and y[:, j] = v (f32, int64 and bool data; run-time, constant and computed indices) match PyTorch exactly; negative indices wrap, one out of range traps", async () => {
  const { graph, model } = importOnnx(readFileSync(join(FIX, 'model.onnx')));
  const ops = model.graph.nodes.map((n) => n.opType);
  expect(ops.filter((o) => o === 'ScatterElements').length).toBe(8);
  expect(ops.filter((o) => o === 'ScatterND').length).toBe(3);
  const names = ['x', 'src', 'idx', 'idx0', 'j', 'v', 'cache', 'pos', 'kv'];
  const feeds = Object.fromEntries(names.map((n) => [n, input(n)]));
  const outs = graph.outputs.map((o) => o.name);
  expect(outs).toEqual(['s1', 'add0', 's_scalar', 's_const', 's_int', 's_bool', 'put_cols', 'put_rows', 'kv_write', 'chain']);
  const ref = interpret(graph, feeds);
  for (const name of outs) expect(Array.from(ref[name]!), `reference ${name}`).toEqual(expected(name));

  // Negative indices count from the end of the axis (ONNX; torch.scatter would raise).
  const x = input('x'), src = input('src'), neg = Int32Array.of(-1, 0, -5, 3, 2, -2);
  const s1 = Array.from(x);
  neg.forEach((k, i) => { const r = Math.floor(i / 2); s1[r * 5 + (k < 0 ? k + 5 : k)] = src[i]!; });
  expect(Array.from(interpret(graph, { ...feeds, idx: neg }).s1!)).toEqual(s1);
  // Out of range at run time: a column for y[:, j] = v, a cache position, a row for scatter_add.
  const bad: Array<[Record<string, Int32Array>, RegExp]> = [
    [{ j: Int32Array.of(3, 5) }, /scatter_nd in ScatterND '\/ScatterND': index 5 is outside \[-5, 5\) along axis 1/],
    [{ pos: Int32Array.of(-7) }, /scatter_nd in ScatterND '\/ScatterND_2': index -7 is outside \[-6, 6\) along axis 1/],
    [{ idx0: Int32Array.of(0, 2, 2, 1, 0, 0, 0, 3, 1, 1) }, /scatter_elements in ScatterElements '\/ScatterElements_1': index 3 is outside \[-3, 3\) along axis 0/],
  ];
  for (const [b, msg] of bad) expect(() => interpret(graph, { ...feeds, ...b })).toThrow(msg);

  const { bytes } = await compileGraph(graph, { name: 'scatter', isas: TEST_ISAS });
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(bytes, { isa });
    const out = m.run(feeds);
    for (const name of outs) expect(Array.from(out[name]!), `${isa} ${name}`).toEqual(expected(name));
    // The data input is copied, never written: the same feeds give the same results again.
    expect(Array.from(m.run({ ...feeds, idx: neg }).s1!), `${isa} negative`).toEqual(s1);
    for (const [b, msg] of bad) expect(() => m.run({ ...feeds, ...b }), `${isa} out of range`).toThrow(msg);
    const again = m.run(feeds);
    for (const name of outs) expect(Array.from(again[name]!), `${isa} ${name} after the traps`).toEqual(expected(name));
    m.dispose();
  }
});

test('duplicate indices: the last write wins under none, the reductions combine in index order (f32 with NaN, int64, bool), by hand', async () => {
  const g = new OnnxGraph();
  g.input('d', [2, 3]); g.input('di', [2, 3], DT.INT64); g.input('db', [2, 3], DT.BOOL); g.input('ub', [3], DT.BOOL);
  g.input('ie', [2, 2], DT.INT64); g.input('nd', [2, 1], DT.INT64); g.input('ne', [3, 2], DT.INT64);
  const u = g.init('u', [2, 2], Float32Array.of(10, 20, 30, 40));
  const u2 = g.init('u2', [2, 2], Float32Array.of(NaN, 0, 1, 7)), u3 = g.init('u3', [2, 2], Float32Array.of(-1, 2, 3, -5));
  const ui = g.ints('ui', [2, 3], [10, 20, 30, 100, 200, 300]);
  const cases: Array<[string, string, string[], Record<string, number | string>, number]> = [
    ['none', 'ScatterElements', ['d', 'ie', u], { axis: 1 }, DT.FLOAT],
    ['add', 'ScatterElements', ['d', 'ie', u], { axis: 1, reduction: 'add' }, DT.FLOAT],
    ['mul', 'ScatterElements', ['d', 'ie', u], { axis: -1, reduction: 'mul' }, DT.FLOAT],
    ['max', 'ScatterElements', ['d', 'ie', u2], { axis: 1, reduction: 'max' }, DT.FLOAT],
    ['min', 'ScatterElements', ['d', 'ie', u3], { axis: 1, reduction: 'min' }, DT.FLOAT],
    ['nd_add', 'ScatterND', ['di', 'nd', ui], { reduction: 'add' }, DT.INT64],
    ['nd_max', 'ScatterND', ['di', 'nd', ui], { reduction: 'max' }, DT.INT64],
    ['nd_bool', 'ScatterND', ['db', 'ne', 'ub'], {}, DT.BOOL],
  ];
  for (const [name, op, ins, attrs, dt] of cases) { g.name(g.op1(op, ins, attrs), name); g.output(name, [2, 3], dt); }
  const { graph } = importOnnx(g.finish('dups', 18));
  const feeds = {
    d: Float32Array.of(1, 2, 3, 4, 5, 6), di: Int32Array.of(1, 2, 3, 4, 5, 6), db: Uint8Array.of(1, 0, 1, 0, 0, 0), ub: Uint8Array.of(0, 0, 1),
    ie: Int32Array.of(2, 2, 0, -1),       // row 0: column 2 twice; row 1: columns 0 and -1 (2)
    nd: Int32Array.of(1, -1),             // row 1 twice
    ne: Int32Array.of(0, 0, 1, 2, -1, -1), // (0, 0), then (1, 2) twice
  };
  const want: Record<string, number[]> = {
    none: [1, 2, 20, 30, 5, 40],
    add: [1, 2, 33, 34, 5, 46],
    mul: [1, 2, 600, 120, 5, 240],
    max: [1, 2, NaN, 4, 5, 7],           // max(max(3, NaN), 0): NaN propagates
    min: [1, 2, -1, 3, 5, -5],
    nd_add: [1, 2, 3, 114, 225, 336],
    nd_max: [1, 2, 3, 100, 200, 300],
    nd_bool: [0, 0, 1, 0, 0, 1],
  };
  const ref = interpret(graph, feeds);
  for (const [name, w] of Object.entries(want)) expect(Array.from(ref[name]!), `reference ${name}`).toEqual(w);
  const oob = { ...feeds, ne: Int32Array.of(0, 0, 1, 3, 1, 2) };
  const msg = /scatter_nd in ScatterND 'ScatterND_\d+': index 3 is outside \[-3, 3\) along axis 1/;
  expect(() => interpret(graph, oob)).toThrow(msg);
  const { bytes } = await compileGraph(graph, { name: 'dups', isas: TEST_ISAS });
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(bytes, { isa });
    const out = m.run(feeds);
    for (const [name, w] of Object.entries(want)) expect(Array.from(out[name]!), `${isa} ${name}`).toEqual(w);
    expect(() => m.run(oob), isa).toThrow(msg);
    expect(Array.from(m.run(feeds).nd_bool!), `${isa} after the trap`).toEqual(want.nd_bool);
    m.dispose();
  }
});

test("Scatter (opsets 9–10) is ScatterElements without a reduction: ONNX's own example, in the reference", () => {
  const g = new OnnxGraph();
  g.input('x', [1, 5]); g.input('i', [1, 2], DT.INT64);
  g.name(g.op1('Scatter', ['x', 'i', g.init('u', [1, 2], Float32Array.of(1.1, 2.1))], { axis: 1 }), 'y'); g.output('y', [1, 5]);
  const { graph } = importOnnx(g.finish('scatter9', 10));
  expect(graph.nodes.map((n) => n.op)).toContain('scatter_elements');
  const y = interpret(graph, { x: Float32Array.of(1, 2, 3, 4, 5), i: Int32Array.of(1, 3) }).y!;
  expect(Array.from(y)).toEqual(Array.from(Float32Array.of(1, 1.1, 3, 2.1, 5)));
});

test('refusals name the node and what it cannot take', () => {
  const one = (op: string, build: (g: OnnxGraph) => string[], attrs: Record<string, number | string> = {}, opset = 18, x: Array<number | string> = [3, 4], dt: number = DT.FLOAT, opts = {}) => {
    const g = new OnnxGraph();
    g.input('x', x, dt);
    g.name(g.op1(op, ['x', ...build(g)], attrs), 'y'); g.output('y', x, dt);
    return () => importOnnx(g.finish('bad', opset), opts);
  };
  const upd = (g: OnnxGraph, dims: number[]) => g.init('u', dims, new Float32Array(dims.reduce((a, b) => a * b, 1)));
  // Reductions: only ONNX's, only from the opset that defines them, not on bool data.
  expect(one('ScatterElements', (g) => [g.ints('i', [1, 1], [0]), upd(g, [1, 1])], { reduction: 'max' }, 17)).toThrow(/\(ScatterElements, opset 17\): reduction 'max' before opset 18 is not supported/);
  expect(one('ScatterND', (g) => [g.ints('i', [1, 1], [0]), upd(g, [1, 4])], { reduction: 'add' }, 13)).toThrow(/\(ScatterND, opset 13\): reduction 'add' before opset 16 is not supported/);
  expect(one('ScatterElements', (g) => [g.ints('i', [1, 1], [0]), upd(g, [1, 1])], { reduction: 'sum' })).toThrow(/reduction 'sum' \(none, add, mul, max, min\) is not supported/);
  expect(one('Scatter', (g) => [g.ints('i', [1, 1], [0]), upd(g, [1, 1])], { reduction: 'add' }, 10)).toThrow(/\(Scatter, opset 10\): attribute 'reduction' is not supported/);
  const g = new OnnxGraph();
  g.input('x', [3], DT.BOOL); g.input('u', [1], DT.BOOL);
  g.name(g.op1('ScatterElements', ['x', g.ints('i', [1], [0]), 'u'], { reduction: 'add' }), 'y'); g.output('y', [3], DT.BOOL);
  expect(() => importOnnx(g.finish('bool', 18))).toThrow(/reduction 'add' on bool data is not supported/);
  // Shapes: indices of another rank or larger off the axis, updates not shaped as ONNX says, too many coordinates.
  expect(one('ScatterElements', (g) => [g.ints('i', [2], [0, 1]), upd(g, [2])], { axis: 1 })).toThrow(/indices of shape \[2\] for data of shape \[3,4\] \(the same rank, and no larger than the data on any axis but 1\) is not supported/);
  expect(one('ScatterElements', (g) => [g.ints('i', [4, 1], [0, 1, 2, 3]), upd(g, [4, 1])], { axis: 1 })).toThrow(/indices of shape \[4,1\] for data of shape \[3,4\]/);
  expect(one('ScatterElements', (g) => [g.ints('i', [1, 2], [0, 1]), upd(g, [1, 3])], { axis: 1 })).toThrow(/updates of shape \[1,3\] for indices of shape \[1,2\] \(they must be the same\) is not supported/);
  expect(one('ScatterND', (g) => [g.ints('i', [2, 1], [0, 1]), upd(g, [2, 3])])).toThrow(/updates of shape \[2,3\] for indices \[2,1\] into data \[3,4\] \(they must be \[2,4\]\) is not supported/);
  expect(one('ScatterND', (g) => [g.ints('i', [1, 3], [0, 0, 0]), upd(g, [1])])).toThrow(/indices of shape \[1,3\] for data of rank 2 \(the last axis holds 1 to 2 coordinates\) is not supported/);
  // Constant indices out of range are found at compile time.
  expect(one('ScatterElements', (g) => [g.ints('i', [1, 2], [0, 4]), upd(g, [1, 2])], { axis: 1 })).toThrow(/\(ScatterElements, opset 18\): index 4 is out of range for axis 1 of size 4/);
  expect(one('ScatterND', (g) => [g.ints('i', [1, 2], [-4, 0]), upd(g, [1])])).toThrow(/\(ScatterND, opset 18\): index -4 is out of range for axis 0 of size 3/);
  // Symbolic sizes: refused (the checks and the copy read the data's sizes).
  expect(one('ScatterElements', (g) => [g.ints('i', [1, 1], [0]), upd(g, [1, 1])], {}, 18, ['batch', 4], DT.FLOAT, { dims: { batch: { max: 4 } } })).toThrow(/ScatterElements on a tensor of the symbolic size 'batch' is not supported yet/);
});
