// nn.ConvTranspose3d and F.convTranspose3d against PyTorch 1.13 (tests/fixtures/torch-extra/convtranspose3d,
// made by make_convtranspose3d.py): stride, padding, output_padding, groups, dilation, no bias,
// unbatched; compiled (every test ISA, and 2 threads) and in the reference; misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, F, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'convtranspose3d');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `convtranspose3d/${f}`);

class Net extends Module {
  up = new nn.ConvTranspose3d(4, 6, [2, 3, 2], { stride: [2, 1, 2], padding: [0, 1, 1], outputPadding: [1, 0, 1], groups: 2, dilation: [1, 2, 1] });
  plain = new nn.ConvTranspose3d(4, 3, 2, { bias: false });
  forward(): never { throw new Error('unused'); }
}

test('ConvTranspose3d matches PyTorch (stride, padding, output padding, groups, dilation; no bias; unbatched)', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  const def = defineModel({
    name: 'ct3', module: net, inputs: { v: [2, 4, 2, 3, 3] },
    forward: (m: Net, { v }: Record<string, Tensor>) => ({
      up: m.up.call(v!), plain: m.plain.call(v!), unbatched: m.plain.call(v!.select(0, 1)),
      functional: F.convTranspose3d(v!, m.up.weight.t.slice(1, 0, 2), undefined, { stride: 2, padding: 1 }),
    }),
  });
  expect(await expectTorchCase(def, read('io.safetensors'), { threads: 2 })).toHaveLength(4);
});

test('ConvTranspose3d: misuse', () => {
  expect(() => new nn.ConvTranspose3d(4, 6, [2, 2] as never)).toThrow('ConvTranspose3d: kernel_size must be a positive integer or a list of 3 of them, got [2, 2]');
  expect(() => new nn.ConvTranspose3d(4, 6, 2, { groups: 4 })).toThrow('ConvTranspose3d: groups 4 must divide in_channels 4 and out_channels 6');
  expect(() => new nn.ConvTranspose3d(4, 6, 2, { stride: [1, 0, 1] })).toThrow('ConvTranspose3d: stride must be a positive integer or a list of 3 of them, got [1, 0, 1]');
  const tr = (f: (x: Tensor, m: nn.ConvTranspose3d) => Tensor, m = new nn.ConvTranspose3d(4, 6, 2)) => traceModel(defineModel({ name: 't', module: m, inputs: { x: [1, 4, 2, 2, 2] }, forward: (mm: nn.ConvTranspose3d, i: Record<string, Tensor>) => f(i.x!, mm) }));
  expect(() => tr((x, m) => m.call(x.slice(1, 0, 3)))).toThrow(/conv_transpose3d: input \[1, 3, 2, 2, 2\] has 3 channels, weight \[4, 6, 2, 2, 2\] takes 4/);
  expect(() => tr((x, m) => F.convTranspose3d(x, m.weight.t, undefined, { outputPadding: 1 }))).toThrow(/conv_transpose3d: output_padding 1,1,1 must be smaller than stride or dilation \(1,1,1 \/ 1,1,1\)/);
  expect(() => tr((x) => F.convTranspose3d(x, x.select(0, 0)))).toThrow(/conv_transpose3d: weight must be \[in, out\/groups, kD, kH, kW\], got \[4, 2, 2, 2\]/);
});
