// nn.ConvTranspose2d against PyTorch 1.13 (tests/fixtures/torch-extra/convtranspose, made by
// make_convtranspose.py): stride, padding (also past the kernel, which crops), output_padding,
// groups, dilation, no bias, an unbatched input; compiled (every test ISA, a run-time batch) and
// in the reference interpreter; then hand values and misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'convtranspose');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `convtranspose/${f}`);

class Net extends Module {
  up = new nn.ConvTranspose2d(3, 4, 3, { stride: 2, padding: 1, outputPadding: 1 });
  grouped = new nn.ConvTranspose2d(4, 6, [2, 3], { stride: [2, 1], groups: 2, bias: false, dilation: [1, 2] });
  cropped = new nn.ConvTranspose2d(2, 2, 4, { stride: 3, padding: 4, outputPadding: [2, 0] });
  plain = new nn.ConvTranspose2d(2, 3, 1);
  forward(): never { throw new Error('unused'); }
}

test('ConvTranspose2d matches PyTorch (stride, cropping padding, output_padding, groups, dilation, unbatched), over a run-time batch', async () => {
  const net = new Net();
  net.loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'convtranspose', module: net,
    inputs: { x: { shape: ['B', 3, 5, 4], max: { B: 3 } }, g: [2, 4, 3, 3], u: [2, 4, 5] },
    forward: (m: Net, i: Record<string, Tensor>) => ({ up: m.up.call(i.x!), grouped: m.grouped.call(i.g!), cropped: m.cropped.call(i.u!), plain: m.plain.call(i.u!) }),
  });
  const input = (n: string) => io.get(`input.${n}`)!.data as Float32Array;
  const feeds = { x: { data: input('x'), shape: [2, 3, 5, 4] }, g: input('g'), u: input('u') };
  const ref = interpret(traceModel(def), { x: input('x'), g: input('g'), u: input('u') }, undefined, { B: 2 });
  const model = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const out = model.run(feeds);
  for (const name of ['up', 'grouped', 'cropped', 'plain']) {
    const want = io.get(`output.${name}`)!.data as Float32Array;
    expectTorch(out[name] as Float32Array, want, `compiled ${name}`);
    expectTorch(ref[name] as Float32Array, want, `reference ${name}`);
  }
  // Batch 1 is the first sample's output.
  const one = model.run({ x: { data: input('x').slice(0, 60), shape: [1, 3, 5, 4] }, g: input('g'), u: input('u') });
  expectTorch(one.up as Float32Array, (io.get('output.up')!.data as Float32Array).slice(0, 320), 'compiled up, batch 1');
  model.dispose();
});

test('ConvTranspose2d by hand, and its misuse refused clearly', () => {
  // A 1×1 input through a 2×2 kernel with stride 2 is the kernel scaled: [[1, 2], [3, 4]]·3.
  const ct = new nn.ConvTranspose2d(1, 1, 2, { stride: 2, bias: false });
  ct.weight.data = new Float32Array([1, 2, 3, 4]);
  const g = traceModel(defineModel({ name: 'h', module: ct, inputs: { x: [1, 1, 1, 2] } }));
  // Two pixels [3, 5] side by side: each stamps its own 2×2 block.
  expect(Array.from(interpret(g, { x: new Float32Array([3, 5]) }).y as Float32Array)).toEqual([3, 6, 5, 10, 9, 12, 15, 20]);

  const tr = (shape: number[], fwd: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: shape }, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!) }));
  expect(() => new nn.ConvTranspose2d(3, 4, 3, { groups: 2 })).toThrow(/ConvTranspose2d: groups 2 must divide in_channels 3 and out_channels 4/);
  expect(() => new nn.ConvTranspose2d(3, 4, 0)).toThrow(/ConvTranspose2d: kernel_size must be a positive integer or a pair of them, got 0/);
  expect(() => new nn.ConvTranspose2d(3, 4, 3, { outputPadding: -1 })).toThrow(/ConvTranspose2d: outputPadding must be a non-negative integer or a pair of them, got -1/);
  expect(() => new nn.ConvTranspose2d(3, 4, 3, { paddingMode: 'zeros' } as never)).toThrow(/unknown option 'paddingMode'/);
  expect(() => tr([1, 3, 4, 4], (x) => new nn.ConvTranspose2d(3, 4, 3, { stride: 2, outputPadding: 2 }).call(x))).toThrow(/conv_transpose2d: output_padding 2,2 must be smaller than stride or dilation \(2,2 \/ 1,1\)/);
  expect(() => tr([1, 2, 4, 4], (x) => new nn.ConvTranspose2d(3, 4, 3).call(x))).toThrow(/conv_transpose2d: input \[1, 2, 4, 4\] has 2 channels, weight \[3, 4, 3, 3\] takes 3/);
  expect(() => tr([1, 3, 1, 1], (x) => new nn.ConvTranspose2d(3, 4, 1, { padding: 1 }).call(x))).toThrow(/conv_transpose2d: the output of input \[1, 3, 1, 1\] would be -1×-1/);
  expect(() => tr([3, 4], (x) => F.convTranspose2d(x, x))).toThrow(/conv_transpose2d: expected \[N, C, H, W\] or unbatched \[C, H, W\] input, got \[3, 4\]/);
  expect(() => tr([1, 3, 4, 4], (x) => F.convTranspose2d(x.cast('i32'), x))).toThrow(/conv_transpose2d: input must be f32, got i32/);
});
