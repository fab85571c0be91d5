// RReLU, UpsamplingNearest2d / UpsamplingBilinear2d, ReflectionPad3d, InstanceNorm3d, ConvTranspose1d,
// LPPool1d/2d, LocalResponseNorm, Unfold and Fold against PyTorch 1.13
// (tests/fixtures/torch-extra/extra_layers, made by make_extra_layers.py), compiled (every test ISA,
// and 2 threads) and in the reference; misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, F, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'extra_layers');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `extra_layers/${f}`);

class Net extends Module {
  rrelu = new nn.RReLU(0.1, 0.4);
  up_near = new nn.UpsamplingNearest2d({ scaleFactor: 2 });
  up_bil = new nn.UpsamplingBilinear2d({ size: [5, 7] });
  rpad3 = new nn.ReflectionPad3d([1, 2, 0, 1, 1, 0]);
  in3 = new nn.InstanceNorm3d(3, 1e-5, 0.1, { affine: true });
  in3_plain = new nn.InstanceNorm3d(3);
  ct1 = new nn.ConvTranspose1d(4, 6, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2, dilation: 2 });
  ct1_plain = new nn.ConvTranspose1d(4, 3, 2, { bias: false });
  lp1 = new nn.LPPool1d(2, 3, 2);
  lp2 = new nn.LPPool2d(3, [2, 3], null, true);
  lrn_odd = new nn.LocalResponseNorm(3, 0.5, 0.6, 1.5);
  lrn_even = new nn.LocalResponseNorm(4);
  unfold = new nn.Unfold([2, 3], { dilation: [1, 2], padding: 1, stride: [2, 1] });
  fold = new nn.Fold([4, 5], [2, 2], { stride: [1, 2], padding: [1, 0], dilation: [2, 1] });
  forward(): never { throw new Error('unused'); }
}

test('RReLU, Upsampling*2d, ReflectionPad3d, InstanceNorm3d, ConvTranspose1d, LPPool, LocalResponseNorm, Unfold and Fold match PyTorch', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  const def = defineModel({
    name: 'extra', module: net, inputs: { img: [2, 3, 4, 5], vol: [2, 3, 2, 3, 4], seq: [2, 4, 5], cols: [2, 12, 8] },
    forward: (m: Net, { img, vol, seq, cols }: Record<string, Tensor>) => ({
      rrelu: m.rrelu.call(img!), up_near: m.up_near.call(img!), up_bil: m.up_bil.call(img!),
      rpad3: m.rpad3.call(vol!), in3: m.in3.call(vol!), in3_plain: m.in3_plain.call(vol!.select(0, 0)),
      ct1: m.ct1.call(seq!), ct1_plain: m.ct1_plain.call(seq!.select(0, 0)),
      lp1: m.lp1.call(seq!), lp2: m.lp2.call(img!), lp1_f: F.lpPool1d(seq!.abs(), 1.5, 2),
      lrn_odd: m.lrn_odd.call(img!), lrn_even: m.lrn_even.call(seq!), lrn_vol: F.localResponseNorm(vol!, 2),
      unfold: m.unfold.call(img!), unfold_unbatched: F.unfold(img!.select(0, 1), 2),
      fold: m.fold.call(cols!), fold_unbatched: F.fold(cols!.select(0, 0).slice(0, 0, 8).slice(1, 0, 6), [3, 4], 2),
    }),
  });
  expect(await expectTorchCase(def, read('io.safetensors'), { threads: 2 })).toHaveLength(18);
});

test('the extra layers: misuse', () => {
  expect(() => new nn.RReLU(0.5, 0.2)).toThrow('RReLU: lower 0.5 must not exceed upper 0.2');
  expect(() => new nn.LPPool1d(0, 3)).toThrow('LPPool1d: norm_type must be a positive finite number, got 0');
  expect(() => new nn.LPPool2d(2, [2, 0])).toThrow(/LPPool2d: kernel_size must be a positive integer or a pair of them, got \[2, 0\]/);
  expect(() => new nn.LocalResponseNorm(0)).toThrow('LocalResponseNorm: size must be a positive integer, got 0');
  expect(() => new nn.UpsamplingBilinear2d({ scaleFactor: 2, mode: 'nearest' } as never)).toThrow("UpsamplingBilinear2d: unknown option 'mode'");
  expect(() => new nn.ConvTranspose1d(4, 6, 3, { groups: 4 })).toThrow('ConvTranspose1d: groups 4 must divide in_channels 4 and out_channels 6');
  expect(() => new nn.Fold([4, 5], 2, { pad: 1 } as never)).toThrow("Fold: unknown option 'pad'");
  const tr = (shape: number[], f: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: shape }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(() => tr([2, 3], (x) => F.localResponseNorm(x, 2))).toThrow(/local_response_norm: expected \[N, C, …\] input of 3 or more dims, got \[2, 3\]/);
  expect(() => tr([2, 3, 2, 2], (x) => F.unfold(x, 3))).toThrow(/unfold: kernel 3×3 \(dilation 1×1, padding 0×0\) does not fit input \[2, 3, 2, 2\]/);
  expect(() => tr([2, 12, 7], (x) => F.fold(x, [4, 5], 2))).toThrow(/fold: output_size 4×5 with kernel 2×2, dilation 1×1, padding 0×0, stride 1×1 makes 3×4 blocks, input \[2, 12, 7\] has 7/);
  expect(() => tr([2, 10, 12], (x) => F.fold(x, [4, 5], 2))).toThrow(/fold: input \[2, 10, 12\] has 10 columns \(dim 1\), not divisible by the kernel's 2×2 = 4/);
  expect(() => tr([2, 4, 5], (x) => F.convTranspose1d(x, x.select(0, 0)))).toThrow(/conv_transpose1d: weight must be \[in, out\/groups, k\], got \[4, 5\]/);
  expect(() => tr([2, 4, 5], (x) => F.convTranspose1d(x, x.slice(1, 0, 3), undefined, { stride: 0 }))).toThrow(/conv_transpose1d: stride must be a positive integer, got 0/);
});
