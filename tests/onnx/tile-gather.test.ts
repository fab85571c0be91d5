// ONNX Tile, GatherElements and RMSNormalization (compiler/onnx/ops/shapes.ts tile and
// gatherElements, the IR's gather_elements; ops/nn.ts rmsNorm): PyTorch's opset-17 export of
// x.repeat and torch.gather with run-time indices (tests/fixtures/onnx-tile-gather/export.py)
// compiled for every test ISA and in the reference, bit for bit against PyTorch; a negative index
// and one out of range fed at run time to the same artifact; a hand-built RMSNormalization against
// hand-computed values; the refusals. (The ONNX node tests of all three run in conformance:onnx.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { compileGraph, readSafetensors } from '../../compiler/index.ts';
import { importOnnx, NeedsConstantError } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'onnx-tile-gather');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'onnx-tile-gather/io.safetensors');
const input = (n: string) => io.get(`input.${n}`)!.data as Float32Array | Int32Array;
const expected = (n: string) => Array.from(io.get(`output.${n}`)!.data);

test("PyTorch's x.repeat and torch.gather (f32, bool and int64 data; run-time, constant and computed indices) match PyTorch exactly; a negative index wraps, one out of range traps", async () => {
  const { graph, model } = importOnnx(readFileSync(join(FIX, 'model.onnx')));
  expect(model.graph.nodes.filter((n) => n.opType === 'Tile').length).toBe(6);
  expect(model.graph.nodes.filter((n) => n.opType === 'GatherElements').length).toBe(7);
  // Tile is a view, a broadcast copy and a view; the exporter's Expand(x, ones) before it a view.
  expect(graph.nodes.filter((n) => n.op === 'where')).toEqual([]);
  const feeds = Object.fromEntries(['x', 'y', 'idx', 'idx0', 'idx3'].map((n) => [n, input(n)]));
  const names = graph.outputs.map((o) => o.name);
  expect(names).toEqual(['rep2d', 'rep_lead', 'rep3d', 'g1', 'g0', 'g3', 'g_const', 'g_computed', 'rep_of_gather', 'g_bool', 'g_int', 'rep_bool']);
  const ref = interpret(graph, feeds);
  for (const name of names) expect(Array.from(ref[name]!), `reference ${name}`).toEqual(expected(name));

  // idx with negative entries counts from the end of x's axis 1 (ONNX; PyTorch would raise).
  const x = input('x'), neg = Int32Array.of(-1, 0, -4, 3, -2, -3);
  const g1 = Array.from(neg, (k, i) => x[Math.floor(i / 2) * 4 + (k < 0 ? k + 4 : k)]!);
  expect(Array.from(interpret(graph, { ...feeds, idx: neg }).g1!)).toEqual(g1);
  const bad = { ...feeds, idx0: Int32Array.of(0, 1, 2, 0, 1, 3, 0, 0) };
  const trap = /gather_elements in GatherElements '\/GatherElements_(1|6)': index 3 is outside \[-3, 3\) along axis 0/;
  expect(() => interpret(graph, bad)).toThrow(trap);

  const { bytes } = await compileGraph(graph, { name: 'tile_gather', isas: TEST_ISAS });
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(bytes, { isa });
    const out = m.run(feeds);
    for (const name of names) expect(Array.from(out[name]!), `${isa} ${name}`).toEqual(expected(name));
    expect(Array.from(m.run({ ...feeds, idx: neg }).g1!), `${isa} negative`).toEqual(g1);
    expect(() => m.run(bad), `${isa} out of range`).toThrow(trap);
    expect(Array.from(m.run(feeds).g0!), `${isa} after the trap`).toEqual(expected('g0'));
    m.dispose();
  }
});

test('RMSNormalization over the last two axes with a [1, 3] scale: x·rsqrt(mean(x²) + ε)·scale, by hand', () => {
  const g = new OnnxGraph();
  g.input('x', [2, 2, 3]);
  g.name(g.op1('RMSNormalization', ['x', g.init('s', [1, 3], Float32Array.of(1, 2, -1))], { axis: -2, epsilon: { f: 0.5 } }), 'y');
  g.output('y', [2, 2, 3]);
  const { graph } = importOnnx(g.finish('rms', 23));
  const x = Float32Array.of(1, 2, 3, 4, 5, 6, -1, 0, 1, 0, 0, 2);
  // Group 1: Σx² = 91, mean 91/6, + 0.5 = 94/6; group 2: Σx² = 6, mean 1, + 0.5 = 1.5.
  const r1 = 1 / Math.sqrt(94 / 6), r2 = 1 / Math.sqrt(1.5), s = [1, 2, -1];
  const want = Array.from(x, (v, i) => v * (i < 6 ? r1 : r2) * s[i % 3]!);
  const got = interpret(graph, { x }).y!;
  got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
});

test('refusals name the node and what it cannot take', () => {
  const one = (op: string, build: (g: OnnxGraph) => string[], attrs: Record<string, number | { f: number }> = {}, opset = 17, x: Array<number | string> = [3, 4], opts = {}) => {
    const g = new OnnxGraph();
    g.input('x', x);
    g.name(g.op1(op, ['x', ...build(g)], attrs), 'y'); g.output('y', x);
    return () => importOnnx(g.finish('bad', opset), opts);
  };
  // Tile: run-time repeats (bind them with { constants }), a repeat per axis, no zero-size result.
  // (A symbolic size it takes: tests/onnx/symbolic-sweep.test.ts.)
  const g = new OnnxGraph();
  g.input('x', [3, 4]); g.input('r', [2], DT.INT64);
  g.name(g.op1('Tile', ['x', 'r']), 'y'); g.output('y', [6, 4]);
  const runTime = g.finish('tile', 17);
  expect(() => importOnnx(runTime)).toThrow(NeedsConstantError);
  expect(() => importOnnx(runTime)).toThrow(/node 'Tile_0' \(Tile, opset 17\): repeats \('r'\) must be known at compile time .*graph input 'r'/);
  expect(importOnnx(runTime, { constants: { r: { name: 'r', dtype: DT.INT64, dims: [2], data: [2, 1] } } }).graph.outputs[0]!.node.type.shape).toEqual([6, 4]);
  expect(one('Tile', (g) => [g.ints('r', [3], [1, 2, 2])])).toThrow(/\(Tile, opset 17\): repeats \[1,2,2\] for an input of rank 2 \(one repeat per axis\) is not supported/);
  expect(one('Tile', (g) => [g.ints('r', [2], [0, 2])])).toThrow(/repeats \[0,2\] \(each must be ≥ 1; 0 would make a zero-size tensor\) is not supported/);
  // GatherElements: constant indices out of range, of another rank, or larger off the axis.
  expect(one('GatherElements', (g) => [g.ints('i', [1, 2], [0, 4])], { axis: 1 })).toThrow(/\(GatherElements, opset 17\): index 4 is out of range for axis 1 of size 4/);
  expect(one('GatherElements', (g) => [g.ints('i', [2], [0, 1])], { axis: 1 })).toThrow(/indices of shape \[2\] for data of shape \[3,4\] \(the same rank, and no larger than the data on any axis but 1\) is not supported/);
  expect(one('GatherElements', (g) => [g.ints('i', [4, 1], [0, 1, 2, 3])], { axis: 1 })).toThrow(/indices of shape \[4,1\] for data of shape \[3,4\]/);
  // (Its checks read the data's sizes: indices [3] against data [batch] of bound 3 would read past it at batch 1.)
  expect(one('GatherElements', (g) => [g.ints('i', [1, 4], [0, 0, 0, 0])], { axis: 0 }, 17, ['batch', 4], { dims: { batch: { max: 4 } } })).toThrow(/\(GatherElements, opset 17\): constant indices along axis 0 of the symbolic size 'batch' \(they are checked at compile time\) is not supported/);
  expect(one('GatherElements', (g) => [g.ints('i', [2, 4], [0, 0, 0, 0, 1, 1, 1, 1])], { axis: 1 }, 17, ['batch', 4], { dims: { batch: { max: 4 } } })).toThrow(/\(GatherElements, opset 17\): indices \[2, 4\] for data \[batch, 4\]: axis 0 of the indices must be the data's 'batch' \(or 1\) to fit it at every size is not supported/);
  // RMSNormalization: statistics in another type, a scale that does not broadcast to the normalized shape.
  expect(one('RMSNormalization', (g) => [g.init('s', [4], new Float32Array(4))], { stash_type: 11 }, 23)).toThrow(/\(RMSNormalization, opset 23\): stash_type 11 \(only 1: the statistics in float32\) is not supported/);
  expect(one('RMSNormalization', (g) => [g.init('s', [3], new Float32Array(3))], {}, 23)).toThrow(/scale of shape \[3\] for the normalized shape \[4\] \(it must broadcast to it\) is not supported/);
});
