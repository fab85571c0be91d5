// A symbolic size with a declared minimum through the importer: Kim's text CNN exported by PyTorch
// 1.13 with dynamic_axes {0: 'batch', 1: 'time'} (tests/fixtures/onnx-text-cnn, written offline by
// its export.py: Gather of the embedding, Conv with kernels 3, 4, 5 unpadded, Relu, ReduceMax over
// time, Concat, Gemm) imports only with { time: { min: 5, max: 40 } } (or --dim time=min:5,max:40)
// and matches PyTorch at T = 5, 17 and 40 in the reference; T = 4 is refused; a min that is not one
// is refused by name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { OnnxGraph } from '../../bench/onnx.ts';
import { main } from '../../compiler/cli/main.ts';
import { dimsOf } from '../../compiler/ir/types.ts';
import { importOnnx, type ImportOptions } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { readSafetensors } from '../../compiler/weights/safetensors.ts';
import { expectTorch } from '../helpers/torch.ts';

const DIR = join(import.meta.dirname, '../fixtures/onnx-text-cnn');
const io = readSafetensors(readFileSync(join(DIR, 'io.safetensors')));
const bytes = readFileSync(join(DIR, 'text_cnn.onnx'));
const load = (time: unknown) => importOnnx(bytes, { dims: { batch: { max: 2 }, time } as ImportOptions['dims'] });

test('a text CNN exported with a dynamic time axis imports with time in [5, 40] and matches PyTorch at T = 5, 17, 40; T = 4 is refused', () => {
  const { graph } = load({ min: 5, max: 40 });
  expect(dimsOf(graph.inputs[0]!.type)).toEqual(['batch', 'time']);
  expect(graph.inputs[0]!.type.min).toEqual({ time: 5 });
  // The import goes through the DSL as a traced model does; its compiled form is tests/text-cnn-min-length.test.ts's (same net, same code path from the graph on).
  for (const t of [5, 17, 40]) {
    const tok = io.get(`input.tokens.t${t}`)!, want = io.get(`output.logits.t${t}`)!.data as Float32Array;
    expectTorch(interpret(graph, { tokens: tok.data as Int32Array }, undefined, { batch: tok.shape[0]!, time: t }).logits as Float32Array, want, `reference logits at T=${t}`);
  }
  expect(() => interpret(graph, { tokens: new Int32Array(4) }, undefined, { batch: 1, time: 4 })).toThrow("interpret: size 'time' must be an integer in [5, 40], got 4");
});

test('without a minimum the kernel is refused, naming the size; a min that is not one is refused by name', () => {
  expect(() => load({ max: 40 })).toThrow(/Conv: the kernel 3 spans 3 cells, so dim 2 of input \[batch, 8, time\] must be at least 3 long, but 'time' is chosen at run time and may be as small as 1/);
  expect(() => load({ min: 4, max: 40 })).toThrow(/Conv: the kernel 5 spans 5 cells, .* may be as small as 4 \(declared minimum time ≥ 4\)/);
  expect(() => load({ min: 41, max: 40 })).toThrow('onnx: dims.time.min must be an integer from 1 to dims.time.max (40), got 41');
  expect(() => load({ min: 0, max: 40 })).toThrow('onnx: dims.time.min must be an integer from 1 to dims.time.max (40), got 0');
  expect(() => load({ min: 2.5, max: 40 })).toThrow('onnx: dims.time.min must be an integer from 1 to dims.time.max (40), got 2.5');
  expect(() => load({ least: 5, max: 40 })).toThrow("onnx: dims.time has the unknown key 'least'; a symbolic size takes only { max: N } or { min: M, max: N }");
});

test('the CLI takes the minimum as --dim time=min:5,max:40', async () => {
  const cli = async (...args: string[]) => {
    let stdout = '', stderr = '';
    const status = await main(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
    return { status, stdout, stderr };
  };
  const model = join(DIR, 'text_cnn.onnx');
  const ok = await cli('ir', model, '--dim', 'batch=max:2', '--dim', 'time=min:5,max:40');
  expect(ok.stderr).toBe('');
  expect(ok.stdout).toMatch(/conv2d/);
  expect((await cli('ir', model, '--dim', 'batch=max:2', '--dim', 'time=max:40')).stderr).toMatch(/Conv: the kernel 3 spans 3 cells, .* may be as small as 1/);
  expect((await cli('ir', model, '--dim', 'time=min:5')).stderr).toMatch(/--dim must be NAME=SIZE or NAME=max:BOUND \(NAME=min:LEAST,max:BOUND for a size never below LEAST\) with positive sizes, not 'time=min:5'/);
  expect((await cli('ir', model, '--dim', 'batch=max:2', '--dim', 'time=min:50,max:40')).stderr).toMatch(/dims.time.min must be an integer from 1 to dims.time.max \(40\), got 50/);
});

test('Squeeze without axes keeps a symbolic axis whose minimum is above 1 (it is never 1) and drops the fixed 1s', () => {
  const g = new OnnxGraph();
  g.input('x', ['batch', 1, 3]);
  g.name(g.op1('Squeeze', ['x']), 'y');
  g.output('y', []);
  const model = g.finish('m', 17);
  const { graph } = importOnnx(model, { dims: { batch: { min: 2, max: 5 } } });
  expect(dimsOf(graph.outputs[0]!.node.type)).toEqual(['batch', 3]);
  const x = Float32Array.from({ length: 6 }, (_, i) => i - 2.5);
  expect(Array.from(interpret(graph, { x }, undefined, { batch: 2 }).y as Float32Array)).toEqual(Array.from(x));
  // From 1, the batch may be 1 and Squeeze would drop it at run time: refused, as before.
  expect(() => importOnnx(model, { dims: { batch: { max: 5 } } })).toThrow(/Squeeze without axes drops the axes that are 1 at run time; give the axes/);
});

test('TopK of 3 along a symbolic axis whose minimum is 3 matches hand-computed values; from 1 it is refused, naming the way out', () => {
  const g = new OnnxGraph();
  g.input('x', ['batch', 'seq']);
  const [v, i] = g.op('TopK', ['x', g.ints('k', [1], [3])], { axis: 1 }, 2);
  g.name(v!, 'values'); g.name(i!, 'indices');
  g.output('values', []); g.output('indices', []);
  const model = g.finish('m', 17);
  const { graph } = importOnnx(model, { dims: { batch: { max: 2 }, seq: { min: 3, max: 9 } } });
  expect(dimsOf(graph.outputs[0]!.node.type)).toEqual(['batch', 3]);
  const out = interpret(graph, { x: Float32Array.of(0.5, -1, 4, 2, 3, /* row 2 */ 7, 1, -2, 0, 6) }, undefined, { batch: 2, seq: 5 });
  expect(Array.from(out.values as Float32Array)).toEqual([4, 3, 2, 7, 6, 1]);
  expect(Array.from(out.indices as Int32Array)).toEqual([2, 4, 3, 0, 4, 1]);
  expect(() => importOnnx(model, { dims: { batch: { max: 2 }, seq: { min: 2, max: 9 } } })).toThrow(/k = 3 along axis 1 of X \[batch, seq\], the symbolic size 'seq' \(k must be at most the size at every size from its least, 2\)/);
  expect(() => importOnnx(model, { dims: { batch: { max: 2 }, seq: { max: 9 } } })).toThrow(/only k = 1 can be, or give the size a min in dims/);
});
