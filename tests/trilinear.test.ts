// F.interpolate / nn.Upsample on [N, C, D, H, W] ('trilinear', 'nearest', 'nearest-exact', 'area') and
// nn.AdaptiveAvgPool3d / AdaptiveMaxPool3d against
// PyTorch 1.13 (tests/fixtures/torch-extra/trilinear, made by make_trilinear.py), compiled (every
// test ISA, and 2 threads) and in the reference; the modes' ranks refused by name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, F, Module, nn, readSafetensors, traceModel, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'trilinear');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `trilinear/${f}`);

class Net extends Module {
  up = new nn.Upsample({ scaleFactor: 2, mode: 'trilinear' });
  up_ac = new nn.Upsample({ size: [3, 5, 4], mode: 'trilinear', alignCorners: true });
  forward(): never { throw new Error('unused'); }
}

test('trilinear, 5-D nearest / nearest-exact / area interpolation and the adaptive 3-D pools match PyTorch (an inf and a NaN included)', async () => {
  const io = read('io.safetensors');
  const i = (v: Tensor, o: F.InterpolateOptions) => F.interpolate(v, o);
  const def = defineModel({
    name: 'tri', module: new Net(), inputs: { v: [2, 3, 2, 4, 3] },
    forward: (m: Net, { v }: Record<string, Tensor>) => ({
      tri_up2: m.up.call(v!), tri_size_ac: m.up_ac.call(v!),
      tri_sf: i(v!, { scaleFactor: [1.5, 0.7, 2.3], mode: 'trilinear' }),
      tri_sf_ac: i(v!, { scaleFactor: [2, 1.6, 0.5], mode: 'trilinear', alignCorners: true }),
      tri_size: i(v!, { size: [1, 4, 7], mode: 'trilinear' }),
      tri_recompute: i(v!, { scaleFactor: 1.7, mode: 'trilinear', recomputeScaleFactor: true }),
      near_sf: i(v!, { scaleFactor: [2, 1.5, 0.6] }), near_size: i(v!, { size: [4, 2, 5] }),
      near_exact: i(v!, { scaleFactor: [1.3, 2, 0.8], mode: 'nearest-exact' }),
      area: i(v!, { size: [1, 3, 2], mode: 'area' }),
      aap_global: new nn.AdaptiveAvgPool3d(1).call(v!), aap: new nn.AdaptiveAvgPool3d([2, 3, null]).call(v!),
      amp: new nn.AdaptiveMaxPool3d([1, 3, 2]).call(v!), amp_unbatched: F.adaptiveMaxPool3d(v!.select(0, 0), 2),
    }),
  });
  expect(await expectTorchCase(def, io, { threads: 2 })).toHaveLength(14);
});

test('interpolate: each interpolating mode needs its rank', () => {
  const tr = (shape: number[], f: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: shape }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(() => tr([1, 2, 4, 4], (x) => F.interpolate(x, { scaleFactor: 2, mode: 'trilinear' }))).toThrow(/interpolate: mode 'trilinear' needs \[N, C, D, H, W\] input, got \[1, 2, 4, 4\] \(use 'bilinear' or 'bicubic'\)/);
  expect(() => tr([1, 2, 3, 4, 4], (x) => F.interpolate(x, { scaleFactor: 2, mode: 'bilinear' }))).toThrow(/interpolate: mode 'bilinear' needs \[N, C, H, W\] input, got \[1, 2, 3, 4, 4\] \(use 'trilinear'\)/);
  expect(() => tr([1, 2, 3, 4, 4], (x) => F.interpolate(x, { scaleFactor: [2, 2], mode: 'trilinear' }))).toThrow(/interpolate: scaleFactor has 2 values, input \[1, 2, 3, 4, 4\] has 3 spatial dims/);
  expect(() => tr([1, 2, 3, 4, 4, 2], (x) => F.interpolate(x, { scaleFactor: 2 }))).toThrow(/interpolate: expected \[N, C, L\], \[N, C, H, W\] or \[N, C, D, H, W\] input, got \[1, 2, 3, 4, 4, 2\]/);
  expect(() => new nn.AdaptiveAvgPool3d([2, 2] as never)).toThrow('AdaptiveAvgPool3d: output_size must be a positive integer, a triple of them, or null in a triple, got [2, 2]');
  expect(() => new nn.AdaptiveMaxPool3d(null as never)).toThrow('AdaptiveMaxPool3d: output_size must be a positive integer, a triple of them, or null in a triple, got null');
  expect(() => tr([2, 3, 4], (x) => F.adaptiveAvgPool3d(x, 1))).toThrow(/adaptive_avg_pool3d: expected \[N, C, D, H, W\] or unbatched \[C, D, H, W\] input, got \[2, 3, 4\]/);
});
