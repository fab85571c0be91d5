// SELU, CELU, LogSigmoid, Hardshrink, Softshrink, Tanhshrink, Threshold, Softmin, PixelShuffle and
// PixelUnshuffle against PyTorch 1.13 (tests/fixtures/torch-extra/more_activations, made by
// make_more_activations.py: NaN, ±inf, ±0 and the edges included), compiled (every test ISA) and in
// the reference; misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, F, Module, nn, readSafetensors, traceModel, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const io = readSafetensors(readFileSync(join(import.meta.dirname, 'fixtures', 'torch-extra', 'more_activations', 'io.safetensors')), 'more_activations/io.safetensors');

test('SELU, CELU, LogSigmoid, Hardshrink, Softshrink, Tanhshrink, Threshold, Softmin, PixelShuffle, PixelUnshuffle match PyTorch (NaN, ±inf, ±0 included)', async () => {
  const def = defineModel({
    name: 'acts', module: new nn.Identity(), inputs: { z: [37], x: [2, 8, 3, 4] },
    forward: (_m: Module, { z, x }: Record<string, Tensor>) => ({
      selu: new nn.SELU().call(z!), celu: new nn.CELU().call(z!), celu_half: new nn.CELU(0.5).call(z!), logsigmoid: new nn.LogSigmoid().call(z!),
      hardshrink: new nn.Hardshrink().call(z!), hardshrink_15: new nn.Hardshrink(1.5).call(z!), softshrink: new nn.Softshrink().call(z!),
      softshrink_15: new nn.Softshrink(1.5).call(z!), tanhshrink: new nn.Tanhshrink().call(z!), threshold: new nn.Threshold(0.25, -2).call(z!),
      softmin: new nn.Softmin(1).call(x!), softmin_f: F.softmin(x!, -1),
      pixel_shuffle: new nn.PixelShuffle(2).call(x!), pixel_unshuffle: new nn.PixelUnshuffle(2).call(new nn.PixelShuffle(2).call(x!)),
      pixel_unshuffle_x: F.pixelUnshuffle(x!.slice(2, 0, 2), 2),
    }),
  });
  expect(await expectTorchCase(def, io)).toHaveLength(15);

  expect(() => new nn.CELU(0)).toThrow('CELU: alpha must be a finite non-zero number, got 0');
  expect(() => new nn.Softshrink(-1)).toThrow('Softshrink: lambd must be a finite number at least 0, got -1');
  expect(() => new nn.Threshold(NaN, 0)).toThrow('Threshold: threshold must be a finite number, got NaN');
  expect(() => new nn.PixelShuffle(0)).toThrow(/PixelShuffle: upscale_factor must be a positive integer/);
  const tr = (shape: number[], f: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: shape }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(() => tr([1, 6, 2, 2], (x) => F.pixelShuffle(x, 2))).toThrow(/pixel_shuffle: input \[1, 6, 2, 2\] has 6 channels, which upscale_factor² 4 must divide/);
  expect(() => tr([1, 2, 3, 4], (x) => F.pixelUnshuffle(x, 2))).toThrow(/pixel_unshuffle: input \[1, 2, 3, 4\] has a height or width 3, which downscale_factor 2 must divide/);
});
