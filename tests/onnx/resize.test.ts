// ONNX Resize on PyTorch 1.13 exports of nn.Upsample / F.interpolate (tests/fixtures/onnx-resize,
// written offline by its export.py): nearest (asymmetric, floor), bilinear/linear with
// pytorch_half_pixel and align_corners, scales and sizes, 4-D and 3-D, at opsets 13 and 17; they
// import, compile as one artifact and match PyTorch's outputs within 1e-5 (compiled and reference).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { OnnxGraph } from '../../bench/onnx.ts';
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
  test('nn.Upsample and F.interpolate (nearest, bilinear, linear, bicubic; scale_factor and size; align_corners) match PyTorch at opsets 13 and 17', async () => {
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

  test('cubic: cubic_coeff_a and exclude_outside by hand; cubic in opset 10 and exclude_outside with other modes refused', () => {
    const build = (attrs: Record<string, number | string | { f: number }>, opset = 19) => {
      const g = new OnnxGraph();
      g.input('x', [1, 5]);
      g.name(g.op1('Resize', ['x', '', g.init('scales', [2], Float32Array.of(1, 2))], { mode: 'cubic', coordinate_transformation_mode: 'asymmetric', ...attrs }), 'y');
      g.output('y', [1, 10]);
      return g.finish('m', opset);
    };
    const run = (attrs: Record<string, number | string | { f: number }>) => Array.from(interpret(importOnnx(build(attrs)).graph, { x: Float32Array.of(16, 0, 0, 0, 0) }).y!);
    // A = −0.5 halfway between samples: weights −1/16, 9/16, 9/16, −1/16 on x − 1.5 … x + 1.5. Output 1 (x = 0.5) reads
    // −1, 0, 1, 2: clamped, the edge 16 weighs −1/16 + 9/16; excluded, tap −1 weighs 0 and the rest are scaled by 16/17.
    expect(run({ cubic_coeff_a: { f: -0.5 } })).toEqual([16, 8, 0, -1, 0, 0, 0, 0, 0, 0]);
    expect(run({ cubic_coeff_a: { f: -0.5 }, exclude_outside: 1 })).toEqual([16, 16 * Math.fround(9 / 17), 0, -1, 0, 0, 0, 0, 0, 0]);
    // The default A = −0.75: −3/32, 19/32, 19/32, −3/32.
    expect(run({})).toEqual([16, 8, 0, -1.5, 0, 0, 0, 0, 0, 0]);
    expect(() => importOnnx(build({ exclude_outside: 2 }))).toThrow(/\(Resize, opset 19\): exclude_outside 2 \(only 0 or 1\) is not supported/);
    expect(() => importOnnx(build({ mode: 'linear', exclude_outside: 1 }))).toThrow(/\(Resize, opset 19\): exclude_outside 1 with mode 'linear' \(only with 'cubic'\) is not supported/);
    expect(() => importOnnx(build({ antialias: 1 }))).toThrow(/\(Resize, opset 19\): antialias is not supported/);
    const v10 = new OnnxGraph();
    v10.input('x', [1, 5]);
    v10.name(v10.op1('Resize', ['x', v10.init('scales', [2], Float32Array.of(1, 2))], { mode: 'cubic' }), 'y');
    v10.output('y', [1, 10]);
    expect(() => importOnnx(v10.finish('m', 10))).toThrow(/\(Resize, opset 10\): mode 'cubic' in opset 10 \(its modes are nearest and linear\) is not supported/);
  });
});
