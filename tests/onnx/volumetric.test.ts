// ONNX 3-D Conv, MaxPool and AveragePool on a PyTorch 1.13 export of Conv3d / MaxPool3d / AvgPool3d
// with a dynamic batch (tests/fixtures/onnx-volumetric, written offline by its export.py): compiled
// once with the batch symbolic (up to 4) and run at batch 3 and 1 on every test ISA, and in the
// reference at batch 3, within 1e-5 of PyTorch's outputs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileEntries } from '../../compiler/driver/compile.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { readSafetensors } from '../../compiler/weights/safetensors.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';
import { expectTorch } from '../helpers/torch.ts';

const DIR = join(import.meta.dirname, '../fixtures/onnx-volumetric');
const io = readSafetensors(readFileSync(join(DIR, 'io.safetensors')));
const OUTPUTS = [...io.keys()].filter((k) => k.startsWith('output.')).map((k) => k.slice(7));

test('Conv3d (stride, padding, dilation, groups), MaxPool3d (ceil) and AvgPool3d (ceil, count_include_pad both ways) exported to ONNX match PyTorch, batch symbolic', async () => {
  const bytes = readFileSync(join(DIR, 'model.onnx'));
  const x = Float32Array.from(io.get('input.x')!.data as Float32Array), n = x.length / 3;
  expect(OUTPUTS.length).toBe(5);
  const fixed = importOnnx(bytes, { dims: { batch: 3 } }).graph, ref = interpret(fixed, { x });
  for (const k of OUTPUTS) expectTorch(ref[k] as Float32Array, io.get(`output.${k}`)!.data as Float32Array, `reference ${k}`);
  const sym = importOnnx(bytes, { dims: { batch: { max: 4 } } }).graph;
  const compiled = await compileEntries([{ name: 'vol', graph: sym }], [], { isas: TEST_ISAS });
  for (const isa of TEST_ISAS) {
    const model = await loadModelBytes(compiled.bytes, { isa });
    const three = model.call('vol', { x: { data: x, shape: [3, 4, 5, 6, 7] } });
    const one = model.call('vol', { x: { data: x.slice(0, n), shape: [1, 4, 5, 6, 7] } });
    for (const k of OUTPUTS) {
      const want = io.get(`output.${k}`)!.data as Float32Array;
      expectTorch(three[k] as Float32Array, want, `${k} at batch 3 on ${isa}`);
      expectTorch(one[k] as Float32Array, want.slice(0, want.length / 3), `${k} at batch 1 on ${isa}`);
    }
    model.dispose();
  }
}, 60_000);
