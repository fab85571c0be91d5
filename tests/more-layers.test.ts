// The padding layers, AdaptiveAvgPool1d/AdaptiveMaxPool1d and InstanceNorm1d/2d against PyTorch
// 1.13 (tests/fixtures/torch-extra/more_layers, made by make_more_layers.py; InstanceNorm2d's
// state_dict with running statistics loads by PyTorch's names), compiled (every test ISA) and in
// the reference; misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'more_layers');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `more_layers/${f}`);

class Net extends Module {
  zero2 = new nn.ZeroPad2d([1, 2, 0, 3]);
  const1 = new nn.ConstantPad1d(2, 3.5);
  const3 = new nn.ConstantPad3d([1, 0, 2, 1, 0, 1], -1);
  refl1 = new nn.ReflectionPad1d([3, 1]);
  refl2 = new nn.ReflectionPad2d(2);
  repl1 = new nn.ReplicationPad1d(2);
  repl2 = new nn.ReplicationPad2d([1, 0, 2, 3]);
  repl3 = new nn.ReplicationPad3d(1);
  aap3 = new nn.AdaptiveAvgPool1d(3);
  aap1 = new nn.AdaptiveAvgPool1d(1);
  amp4 = new nn.AdaptiveMaxPool1d(4);
  in1 = new nn.InstanceNorm1d(3);
  in2a = new nn.InstanceNorm2d(3, 1e-5, 0.1, { affine: true });
  in2r = new nn.InstanceNorm2d(3, 1e-3, 0.1, { affine: true, trackRunningStats: true });
  forward(): never { throw new Error('unused'); }
}

test('ZeroPad2d, ConstantPad1d/3d, ReflectionPad1d/2d, ReplicationPad1d/2d/3d, AdaptiveAvgPool1d, AdaptiveMaxPool1d, InstanceNorm1d/2d match PyTorch', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'more', module: net, inputs: { x: [2, 3, 5, 6], s: [2, 3, 10], v: [1, 2, 3, 4, 5] },
    forward: (m: Net, { x, s, v }: Record<string, Tensor>) => ({
      zero2: m.zero2.call(x!), const1: m.const1.call(s!), const3: m.const3.call(v!), refl1: m.refl1.call(s!),
      refl2: m.refl2.call(x!), repl1: m.repl1.call(s!), repl2: m.repl2.call(x!), repl3: m.repl3.call(v!),
      aap3: m.aap3.call(s!), aap1: m.aap1.call(s!), amp4: m.amp4.call(s!), amp4_unbatched: m.amp4.call(s!.select(0, 0)),
      in1: m.in1.call(s!), in1_unbatched: m.in1.call(s!.select(0, 1)), in2a: m.in2a.call(x!), in2r: m.in2r.call(x!),
    }),
  });
  expect(await expectTorchCase(def, io)).toHaveLength(16);

  expect(() => new nn.ZeroPad2d([1, 2, 3])).toThrow('ZeroPad2d: padding must be an integer or a list of 4, got');
  expect(() => new nn.ConstantPad1d(1, 'x' as never)).toThrow('ConstantPad1d: value must be a number, got "x"');
  expect(() => new nn.AdaptiveAvgPool1d(0)).toThrow(/AdaptiveAvgPool1d: output_size must be a positive integer, got 0/);
  expect(() => new nn.InstanceNorm2d(3, 1e-5, 0.1, { affine: 1 } as never)).toThrow(/InstanceNorm2d: option affine must be true or false, got 1/);
  const tr = (shape: number[], f: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: shape }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(() => tr([2, 4, 5], (x) => new nn.InstanceNorm2d(4).call(x))).toThrow(/InstanceNorm2d: input \[2, 4, 5\] has 2 channels \(dim 0\), num_features is 4/);
  expect(() => tr([2, 4, 5, 6, 7], (x) => new nn.InstanceNorm2d(4).call(x))).toThrow(/InstanceNorm2d: expected 4-D input or unbatched 3-D, got \[2, 4, 5, 6, 7\]/);
  expect(() => tr([2, 3, 4], (x) => new nn.ReflectionPad1d(4).call(x))).toThrow(/pad: mode reflect pads dim 2 of size 4 by 0 to 3 cells a side, got \(4, 4\)/);
});
