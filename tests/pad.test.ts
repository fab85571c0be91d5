// F.pad (constant, reflect, replicate, circular) and the convolutions' paddingMode against PyTorch
// 1.13 (tests/fixtures/torch-extra/pad, made by make_pad.py), compiled (every test ISA) and in the
// reference; hand values and misuse. ONNX's Pad runs the same padAxis (its node tests).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, F, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'pad');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `pad/${f}`);

class Net extends Module {
  reflect = new nn.Conv2d(3, 4, 3, { padding: 1, paddingMode: 'reflect' });
  replicate = new nn.Conv2d(3, 2, [3, 5], { stride: 2, padding: [1, 2], paddingMode: 'replicate' });
  circular = new nn.Conv2d(3, 2, [2, 4], { padding: 'same', dilation: [1, 2], paddingMode: 'circular', bias: false });
  circular1d = new nn.Conv1d(3, 4, 3, { padding: 2, paddingMode: 'circular' });
  reflect3d = new nn.Conv3d(2, 3, [2, 3, 3], { padding: [1, 1, 2], paddingMode: 'reflect' });
  forward(): never { throw new Error('unused'); }
}

test('F.pad in every mode and Conv1d/Conv2d/Conv3d paddingMode match PyTorch', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'pad', module: net, inputs: { x: [2, 3, 5, 6], s: [2, 3, 7], v: [1, 2, 3, 4, 5] },
    forward: (m: Net, { x, s, v }: Record<string, Tensor>) => ({
      constant: F.pad(x!, [1, 2, 0, 3], 'constant', -1.5), crop: F.pad(x!, [-1, 2, 1, -2]),
      reflect: F.pad(x!, [2, 3, 4, 1], 'reflect'), replicate: F.pad(x!, [3, 0, 2, 6], 'replicate'),
      circular: F.pad(x!, [6, 1, 2, 5], 'circular'),
      reflect1d: F.pad(s!, [6, 5], 'reflect'), circular1d: F.pad(s!, [7, 3], 'circular'),
      conv_reflect: m.reflect.call(x!), conv_replicate: m.replicate.call(x!), conv_circular: m.circular.call(x!),
      conv1d_circular: m.circular1d.call(s!), conv3d_reflect: m.reflect3d.call(v!),
    }),
  });
  expect(await expectTorchCase(def, io)).toHaveLength(12);
});

test('F.pad by hand (an integer tensor keeps its type), and its misuse refused clearly', () => {
  const run = (shape: number[], fwd: (x: Tensor) => Tensor, data: number[], dtype: 'f32' | 'i32' = 'f32') => {
    const g = traceModel(defineModel({ name: 'h', module: new nn.Identity(), inputs: { x: { shape, dtype } }, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!) }));
    return Array.from(interpret(g, { x: dtype === 'f32' ? new Float32Array(data) : new Int32Array(data) }).y as Float32Array);
  };
  expect(run([4], (x) => F.pad(x, [2, 3], 'reflect'), [1, 2, 3, 4])).toEqual([3, 2, 1, 2, 3, 4, 3, 2, 1]);
  expect(run([4], (x) => F.pad(x, [2, 1], 'replicate'), [1, 2, 3, 4])).toEqual([1, 1, 1, 2, 3, 4, 4]);
  expect(run([4], (x) => F.pad(x, [3, 4], 'circular'), [1, 2, 3, 4])).toEqual([2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
  expect(run([4], (x) => F.pad(x, [1, -2], 'constant', 9), [1, 2, 3, 4], 'i32')).toEqual([9, 1, 2]);
  const tr = (f: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: [2, 3] }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(() => tr((x) => F.pad(x, [1]))).toThrow(/pad: pad must be a list of integer pairs \(before, after\), at most one pair per dim of the input \[2, 3\], got/);
  expect(() => tr((x) => F.pad(x, [1, 1, 1, 1, 1, 1]))).toThrow(/pad: pad must be a list of integer pairs/);
  expect(() => tr((x) => F.pad(x, [3, 0], 'reflect'))).toThrow(/pad: mode reflect pads dim 1 of size 3 by 0 to 2 cells a side, got \(3, 0\)/);
  expect(() => tr((x) => F.pad(x, [4, 0], 'circular'))).toThrow(/pad: mode circular pads dim 1 of size 3 by 0 to 3 cells a side, got \(4, 0\)/);
  expect(() => tr((x) => F.pad(x, [1, 0], 'edge' as never))).toThrow(/pad: mode must be one of constant, reflect, replicate, circular, got "edge"/);
  expect(() => tr((x) => F.pad(x, [1, 0], 'reflect', 2))).toThrow(/pad: value is a number, for mode constant only; got 2 with mode reflect/);
  expect(() => tr((x) => F.pad(x, [-2, -1]))).toThrow(/pad: \(-2, -1\) leaves dim 1 of size 3 empty/);
  // A pad and a crop of one dim are applied pad first (torch's order): one cell of the value for a
  // length-1 dim, which cropping first had left empty and refused (RWKV's token shift at T = 1).
  expect(run([1], (x) => F.pad(x, [-1, 1], 'constant', 9), [7])).toEqual([9]);
  expect(run([1], (x) => F.pad(x, [1, -1], 'constant', 9), [7])).toEqual([9]);
  const shift = (T: number | string) => traceModel(defineModel({ name: 's', module: new nn.ZeroPad2d([0, 0, 1, -1]), inputs: { x: typeof T === 'number' ? [1, T, 3] : { shape: [1, T, 3], max: { T: 4 } } } }));
  expect(Array.from(interpret(shift(1), { x: Float32Array.of(1, 2, 3) }).y as Float32Array)).toEqual([0, 0, 0]);
  const rt = shift('T');
  expect(Array.from(interpret(rt, { x: Float32Array.of(1, 2, 3) }, undefined, { T: 1 }).y as Float32Array)).toEqual([0, 0, 0]);
  expect(Array.from(interpret(rt, { x: Float32Array.from({ length: 9 }, (_, k) => k + 1) }, undefined, { T: 3 }).y as Float32Array)).toEqual([0, 0, 0, 1, 2, 3, 4, 5, 6]);
  expect(() => new nn.Conv2d(1, 1, 3, { paddingMode: 'mirror' as never })).toThrow("Conv2d: paddingMode must be 'zeros', 'reflect', 'replicate' or 'circular', got \"mirror\"");
});
