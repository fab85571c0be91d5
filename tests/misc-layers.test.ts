// nn.Bilinear, nn.ChannelShuffle, nn.Softmax2d and the dropout variants at inference against
// PyTorch 1.13 (tests/fixtures/torch-extra/misc_layers, made by make_misc_layers.py), compiled
// (every test ISA) and in the reference; misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'misc_layers');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `misc_layers/${f}`);

class Net extends Module {
  bil = new nn.Bilinear(4, 3, 5);
  bil_nobias = new nn.Bilinear(4, 3, 2, { bias: false });
  drop = new nn.Sequential(new nn.Dropout2d(0.2), new nn.Dropout3d(), new nn.AlphaDropout(0.1), new nn.FeatureAlphaDropout(0.4));
  drop1 = new nn.Dropout1d(0.3);
  forward(): never { throw new Error('unused'); }
}

test('Bilinear, ChannelShuffle, Softmax2d and the dropouts (identity in eval()) match PyTorch', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'misc', module: net, inputs: { a: [3, 4], b: [3, 3], x: [2, 6, 2, 3] },
    forward: (m: Net, { a, b, x }: Record<string, Tensor>) => ({
      bilinear: m.bil.call(a!, b!), bilinear_nobias: m.bil_nobias.call(a!, b!), bilinear_3d: m.bil.call(a!.unsqueeze(0).expand(2, 3, 4), b!.unsqueeze(0).expand(2, 3, 3)),
      shuffle: new nn.ChannelShuffle(3).call(x!), softmax2d: new nn.Softmax2d().call(x!), softmax2d_unbatched: new nn.Softmax2d().call(x!.select(0, 1)),
      dropouts: m.drop.call(x!), dropout1d: m.drop1.call(x!.flatten(2)),
    }),
  });
  expect(await expectTorchCase(def, io)).toHaveLength(8);

  expect(() => new nn.Dropout2d(1.5)).toThrow('Dropout2d: p must be a number in [0, 1], got 1.5');
  const tr = (shape: number[], f: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: shape }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(() => tr([2, 6, 2, 3], (x) => new nn.Dropout1d().call(x))).toThrow(/Dropout1d: expected \[N, C, L\] or \[C, L\] input, got \[2, 6, 2, 3\]/);
  expect(() => tr([2, 5, 3], (x) => new nn.ChannelShuffle(2).call(x))).toThrow(/ChannelShuffle: input \[2, 5, 3\] must be \[N, C, \*\] with a fixed C divisible by groups 2/);
  expect(() => tr([2, 5], (x) => new nn.Softmax2d().call(x))).toThrow(/Softmax2d: expected \[N, C, H, W\] or \[C, H, W\] input, got \[2, 5\]/);
  expect(() => tr([3, 5], (x) => new nn.Bilinear(4, 3, 2).call(x, x))).toThrow(/Bilinear: inputs must be \[\*, 4\] and \[\*, 3\] of the same rank, got \[3, 5\] and \[3, 5\]/);
});
