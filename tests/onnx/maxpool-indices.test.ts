// ONNX MaxPool's Indices output (storage_order 0 and 1) and MaxUnpool (with and without
// output_shape), on the PyTorch 1.13 fixture of the DSL's pools with indices
// (tests/fixtures/torch-extra/pool_indices, make_pool_indices.py): ONNX's index is torch's plane
// index moved to the whole tensor, (n·C + c)·H·W + h·W + w (column-major: h + w·H). Compiled and
// in the reference; then the refusals. (The ONNX node tests with_argmax run in conformance:onnx.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { compileGraph, readSafetensors } from '../../compiler/index.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const io = readSafetensors(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'torch-extra', 'pool_indices', 'io.safetensors')), 'pool_indices/io.safetensors');
const torchOut = (n: string) => Array.from(io.get(`output.${n}`)!.data);
const same = (got: ArrayLike<number>, want: number[], what: string) => expect(Array.from(got).map((v) => (Number.isNaN(v) ? 'NaN' : v)), what).toEqual(want.map((v) => (Number.isNaN(v) ? 'NaN' : v)));

test('MaxPool with Indices (row- and column-major) and MaxUnpool (inferred and given output_shape) match PyTorch', async () => {
  const g = new OnnxGraph();
  g.input('x', [2, 3, 7, 9]);
  const [y, i] = g.op('MaxPool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, 2) as [string, string];
  const [, iT] = g.op('MaxPool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], storage_order: 1 }, 2) as [string, string];
  const [y2, i2] = g.op('MaxPool', ['x'], { kernel_shape: [2, 3], strides: [2, 1], dilations: [2, 1], ceil_mode: 1 }, 2) as [string, string];
  g.name(y, 'y'); g.name(i, 'i'); g.name(iT, 'i_col'); g.output('y', [2, 3, 4, 5]); g.output('i', [2, 3, 4, 5], DT.INT64); g.output('i_col', [2, 3, 4, 5], DT.INT64);
  g.name(g.op1('MaxUnpool', [y, i], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }), 'u'); g.output('u', [2, 3, 7, 9]);
  g.name(g.op1('MaxUnpool', [y2, i2, g.ints('shape', [4], [2, 3, 7, 9])], { kernel_shape: [2, 3], strides: [2, 1] }), 'u2'); g.output('u2', [2, 3, 7, 9]);
  const { graph } = importOnnx(g.finish('maxpool_indices', 12));
  const plane = 7 * 9, p2a = torchOut('p2a_i'), per = 4 * 5;
  const want: Record<string, number[]> = {
    y: torchOut('p2a_v'),
    i: p2a.map((v, j) => Math.floor(j / per) * plane + v),
    i_col: p2a.map((v, j) => Math.floor(j / per) * plane + Math.floor(v / 9) + (v % 9) * 7),
    u: torchOut('u2a'), u2: torchOut('u2b'),
  };
  const feeds = { x: io.get('input.x')!.data as Float32Array };
  const ref = interpret(graph, feeds);
  for (const [name, w] of Object.entries(want)) same(ref[name]!, w, `reference ${name}`);
  const { bytes } = await compileGraph(graph, { name: 'maxpool_indices', isas: TEST_ISAS });
  const m = await loadModelBytes(bytes);
  const out = m.run(feeds);
  for (const [name, w] of Object.entries(want)) same(out[name]!, w, `compiled ${name}`);
  m.dispose();
});

test('MaxPool Indices and MaxUnpool refusals name the node and what they cannot take', () => {
  const one = (build: (g: OnnxGraph) => void, x: Array<number | string> = [1, 2, 4, 4]) => () => {
    const g = new OnnxGraph();
    g.input('x', x); build(g);
    return importOnnx(g.finish('bad', 12), x.includes('N') ? { dims: { N: { max: 2 } } } : {});
  };
  const pool = (attrs: Record<string, number | number[]>, x?: Array<number | string>) => one((g) => {
    const [, i] = g.op('MaxPool', ['x'], { kernel_shape: x && x.length === 5 ? [2, 2, 2] : [2, 2], ...attrs }, 2) as [string, string];
    g.name(i, 'i'); g.output('i', [1], DT.INT64);
  }, x);
  expect(pool({ storage_order: 2 })).toThrow(/storage_order 2 \(0 is row-major, 1 column-major\) is not supported/);
  expect(pool({ storage_order: 1 }, [1, 2, 4, 4, 4])).toThrow(/storage_order 1 \(column-major Indices\) of a 3-D pool \(only 1-D and 2-D\) is not supported/);
  expect(pool({}, ['N', 2, 4, 4])).toThrow(/symbolic size 'N' on axis 0 \(the Indices output counts through the batch, so its size must be fixed\)/);
  const unpool = (ins: (g: OnnxGraph) => string[], attrs: Record<string, number | number[]> = { kernel_shape: [2, 2], strides: [2, 2] }, x?: Array<number | string>) => one((g) => {
    g.name(g.op1('MaxUnpool', ['x', ...ins(g)], attrs), 'u'); g.output('u', [1]);
  }, x);
  const idx = (g: OnnxGraph, v = [0, 1, 2, 3]) => g.ints('i', [1, 1, 2, 2], v);
  expect(unpool((g) => [idx(g, [0, 1, 16, 3])], undefined, [1, 1, 2, 2])).toThrow(/MaxUnpool.*: index 16 is outside the output of 16 elements \(\[1,1,4,4\]\)/);
  expect(unpool((g) => [idx(g, [0, -1, 2, 3])], undefined, [1, 1, 2, 2])).toThrow(/index -1 is outside the output of 16 elements/);
  expect(unpool((g) => [idx(g)], undefined, [1, 2, 2, 2])).toThrow(/indices I of shape \[1, 1, 2, 2\] for X of shape \[1, 2, 2, 2\] \(they must be the same\) is not supported/);
  expect(unpool((g) => [idx(g)], { kernel_shape: [2, 2, 2] }, [1, 1, 2, 2])).toThrow(/kernel_shape \[2,2,2\], strides \[1,1,1\], pads \[0,0,0,0\] for 2 spatial axes is not supported/);
  expect(unpool((g) => [idx(g), g.ints('s', [3], [1, 4, 4])], undefined, [1, 1, 2, 2])).toThrow(/the output shape \[1,4,4\] \(output_shape; 4 positive sizes\) is not supported/);
  expect(unpool((g) => [idx(g)], undefined, ['N', 1, 2, 2])).toThrow(/MaxUnpool on a tensor of the symbolic size 'N' is not supported yet; give it a fixed size/);
});
