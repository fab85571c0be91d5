// ONNX Resize on PyTorch 1.13 exports of nn.Upsample / F.interpolate (tests/fixtures/onnx-resize,
// written offline by its export.py): nearest (asymmetric, floor), bilinear/linear with
// pytorch_half_pixel and align_corners, scales and sizes, 4-D and 3-D, at opsets 13 and 17; they
// import, compile as one artifact and match PyTorch's outputs within 1e-5 (compiled and reference).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compileEntries } from '../../compiler/driver/compile.ts';
import { importOnnx, UnsupportedError } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { readSafetensors } from '../../compiler/weights/safetensors.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const DIR = join(import.meta.dirname, '../fixtures/onnx-resize');
const io = readSafetensors(readFileSync(join(DIR, 'io.safetensors')));
const tensor = (k: string) => io.get(k)!;
const OUTPUTS = [...io.keys()].filter((k) => k.startsWith('output.')).map((k) => k.slice(7));

/** The largest |got − want|, or an error text when the shape differs. */
function maxDiff(got: { data: ArrayLike<number>; shape?: readonly number[] } | ArrayLike<number>, want: { shape: number[]; data: ArrayLike<number> }): number {
  const data = 'data' in got ? got.data : got;
  expect(data.length).toBe(want.data.length);
  let m = 0;
  for (let i = 0; i < data.length; i++) m = Math.max(m, Math.abs(Number(data[i]) - Number(want.data[i])));
  return m;
}

describe('ONNX Resize from PyTorch 1.13 exports', () => {
  test('nn.Upsample and F.interpolate (nearest, bilinear, linear; scale_factor and size; align_corners) match PyTorch at opsets 13 and 17', async () => {
    const entries = [13, 17].map((o) => ({ name: `resize${o}`, graph: importOnnx(readFileSync(join(DIR, `model.opset${o}.onnx`))).graph }));
    for (const e of entries) expect(e.graph.outputs.map((o) => o.name).sort()).toEqual([...OUTPUTS].sort());
    const feeds = { x: Float32Array.from(tensor('input.x').data as Float32Array), x1: Float32Array.from(tensor('input.x1').data as Float32Array) };
    const compiled = await compileEntries(entries, [], { isas: TEST_ISAS });
    for (const e of entries) {
      const ref = interpret(e.graph, feeds);
      for (const k of OUTPUTS) {
        expect(compiled.manifest.entries[e.name]!.outputs.find((o) => o.name === k)!.shape, `${e.name} ${k} shape`).toEqual(tensor(`output.${k}`).shape);
        expect(maxDiff(ref[k]!, tensor(`output.${k}`)), `${e.name} ${k} reference`).toBeLessThanOrEqual(1e-5);
      }
    }
    for (const isa of TEST_ISAS) {
      const model = await loadModelBytes(compiled.bytes, { isa });
      for (const e of entries) {
        const out = model.call(e.name, feeds);
        for (const k of OUTPUTS) expect(maxDiff(out[k]!, tensor(`output.${k}`)), `${e.name} ${k} on ${isa}`).toBeLessThanOrEqual(1e-5);
      }
    }
  }, 120_000);

  test('align_corners with a scale whose product with the input size is not an integer is refused, naming the node and the two readings', () => {
    // nn.Upsample(scale_factor=1.5, mode='bilinear', align_corners=True) on 5×5: PyTorch divides by 7 − 1, ONNX's reference by 7.5 − 1.
    const bytes = readFileSync(join(DIR, 'align_corners_odd.onnx'));
    expect(() => importOnnx(bytes)).toThrow(UnsupportedError);
    expect(() => importOnnx(bytes)).toThrow(/\(Resize, opset 13\): coordinate_transformation_mode 'align_corners' with a scale whose product with the input size is not an integer \(axis 2: 5 × 1\.5; .*\) is not supported/);
  });
});
