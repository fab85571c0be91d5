// interpolate(mode: 'nearest-exact') and Upsample against PyTorch 1.13 (tests/fixtures/torch-extra/
// nearest_exact, made by make_nearest_exact.py: scale factors and sizes that do not divide, recomputed
// scales, 1-D), compiled (every test ISA) and in the reference. Selections: exactly torch's values.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, F, Module, nn, readSafetensors, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const io = readSafetensors(readFileSync(join(import.meta.dirname, 'fixtures', 'torch-extra', 'nearest_exact', 'io.safetensors')), 'nearest_exact/io.safetensors');

test("interpolate 'nearest-exact' picks PyTorch's source pixels (up, down, sizes, recomputed scales, 1-D, Upsample)", async () => {
  const m = 'nearest-exact' as const;
  const def = defineModel({
    name: 'ne', module: new nn.Identity(), inputs: { x: [2, 3, 5, 7], s: [2, 3, 9] },
    forward: (_m: Module, { x, s }: Record<string, Tensor>) => ({
      up_scale: F.interpolate(x!, { scaleFactor: 1.7, mode: m }), down_scale: F.interpolate(x!, { scaleFactor: 0.6, mode: m }),
      size: F.interpolate(x!, { size: [8, 4], mode: m }), recompute: F.interpolate(x!, { scaleFactor: [2.3, 0.45], mode: m, recomputeScaleFactor: true }),
      one_d: F.interpolate(s!, { size: 13, mode: m }), one_d_down: F.interpolate(s!, { scaleFactor: 0.35, mode: m }),
      upsample: new nn.Upsample({ scaleFactor: 3, mode: m }).call(x!),
    }),
  });
  expect(await expectTorchCase(def, io, { exact: true })).toHaveLength(7);
  expect(() => new nn.Upsample({ scaleFactor: 2, mode: m, alignCorners: true })).toThrow(/alignCorners can only be set with the interpolating modes 'linear', 'bilinear', 'bicubic' and 'trilinear', not 'nearest-exact'/);
});
