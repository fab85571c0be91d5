// A symbolic size with a declared minimum through the importer: Kim's text CNN exported by PyTorch
// 1.13 with dynamic_axes {0: 'batch', 1: 'time'} (tests/fixtures/onnx-text-cnn, written offline by
// its export.py: Gather of the embedding, Conv with kernels 3, 4, 5 unpadded, Relu, ReduceMax over
// time, Concat, Gemm) imports only with { time: { min: 5, max: 40 } }, compiles once and matches
// PyTorch at T = 5, 17 and 40; the runtime refuses T = 4; a min that is not one is refused by name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileEntries } from '../../compiler/driver/compile.ts';
import { dimsOf } from '../../compiler/ir/types.ts';
import { importOnnx, type ImportOptions } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { readSafetensors } from '../../compiler/weights/safetensors.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import '../../runtime/node.ts';
import { TEST_ISAS } from '../helpers/isa.ts';
import { expectTorch } from '../helpers/torch.ts';

const DIR = join(import.meta.dirname, '../fixtures/onnx-text-cnn');
const io = readSafetensors(readFileSync(join(DIR, 'io.safetensors')));
const bytes = readFileSync(join(DIR, 'text_cnn.onnx'));
const load = (time: unknown) => importOnnx(bytes, { dims: { batch: { max: 2 }, time } as ImportOptions['dims'] });

test('a text CNN exported with a dynamic time axis imports with time in [5, 40] and matches PyTorch at T = 5, 17, 40; T = 4 is refused', async () => {
  const { graph } = load({ min: 5, max: 40 });
  expect(dimsOf(graph.inputs[0]!.type)).toEqual(['batch', 'time']);
  expect(graph.inputs[0]!.type.min).toEqual({ time: 5 });
  const { bytes: art, manifest } = await compileEntries([{ name: 'run', graph }], [], { isas: TEST_ISAS });
  expect(manifest.entries.run).toMatchObject({ sizes: { batch: 2, time: 40 }, min: { time: 5 } });
  const m = await loadModelBytes(art);
  for (const t of [5, 17, 40]) {
    const tok = io.get(`input.tokens.t${t}`)!, want = io.get(`output.logits.t${t}`)!.data as Float32Array;
    const out = m.run({ tokens: { data: tok.data as Int32Array, shape: tok.shape } });
    expectTorch(out.logits as Float32Array, want, `compiled logits at T=${t}`);
    expectTorch(interpret(graph, { tokens: tok.data as Int32Array }, undefined, { batch: tok.shape[0]!, time: t }).logits as Float32Array, want, `reference logits at T=${t}`);
  }
  expect(() => m.run({ tokens: { data: new Int32Array(4), shape: [1, 4] } })).toThrow(/input 'tokens': dim 1 is size 'time', which must be an integer in \[5, 40\]; the shape \[1, 4\] says it is 4/);
  m.dispose();
});

test('without a minimum the kernel is refused, naming the size; a min that is not one is refused by name', () => {
  expect(() => load({ max: 40 })).toThrow(/Conv: the kernel 3 spans 3 cells, so dim 2 of input \[batch, 8, time\] must be at least 3 long, but 'time' is chosen at run time and may be as small as 1/);
  expect(() => load({ min: 4, max: 40 })).toThrow(/Conv: the kernel 5 spans 5 cells, .* may be as small as 4 \(declared minimum time ≥ 4\)/);
  expect(() => load({ min: 41, max: 40 })).toThrow('onnx: dims.time.min must be an integer from 1 to dims.time.max (40), got 41');
  expect(() => load({ min: 0, max: 40 })).toThrow('onnx: dims.time.min must be an integer from 1 to dims.time.max (40), got 0');
  expect(() => load({ min: 2.5, max: 40 })).toThrow('onnx: dims.time.min must be an integer from 1 to dims.time.max (40), got 2.5');
  expect(() => load({ least: 5, max: 40 })).toThrow("onnx: dims.time has the unknown key 'least'; a symbolic size takes only { max: N } or { min: M, max: N }");
});
