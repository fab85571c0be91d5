// The 1-D and 2-D pools' ceilMode, dilation and divisorOverride against PyTorch 1.13
// (tests/fixtures/torch-extra/pools, made by make_pools.py), compiled (every test ISA) and in the
// reference interpreter; then hand-computed values and misuse. These options run as poolNd's
// separable slices, the 3-D pools' definition (tests/volumetric.test.ts); the defaults keep the
// pool kernels.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, F, interpret, Module, nn, readSafetensors, traceModel, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'pools');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'pools/io.safetensors');

class Net extends Module {
  mp1 = new nn.MaxPool2d(3, { stride: 2, ceilMode: true });
  mp2 = new nn.MaxPool2d([2, 3], { stride: [2, 2], padding: 1, ceilMode: true });
  mp3 = new nn.MaxPool2d(3, { stride: 1, padding: 1, dilation: [2, 1] });
  mp4 = new nn.MaxPool2d(2, { stride: 3, dilation: 2, ceilMode: true });
  ap1 = new nn.AvgPool2d(3, { stride: 2, ceilMode: true });
  ap2 = new nn.AvgPool2d([3, 2], { stride: 2, padding: 1, ceilMode: true });
  ap3 = new nn.AvgPool2d([3, 2], { stride: 2, padding: 1, ceilMode: true, countIncludePad: false });
  ap4 = new nn.AvgPool2d(2, { stride: [1, 2], divisorOverride: 3 });
  m1 = new nn.MaxPool1d(3, { stride: 2, padding: 1, dilation: 2, ceilMode: true });
  a1 = new nn.AvgPool1d(4, { stride: 3, padding: 2, ceilMode: true, countIncludePad: false });
  forward(): never { throw new Error('unused'); }
}

test('MaxPool2d/AvgPool2d (ceil mode, dilation, divisor override, unbatched) and MaxPool1d/AvgPool1d (ceil mode, dilation) match PyTorch', async () => {
  const def = defineModel({
    name: 'pools', module: new Net(), inputs: { x: [2, 3, 8, 11], u: [2, 7, 9], s: [2, 3, 10] },
    forward: (m: Net, { x, u, s }: Record<string, Tensor>) => ({
      max_ceil: m.mp1.call(x!), max_ceil_pad: m.mp2.call(x!), max_dilation: m.mp3.call(x!), max_dilation_ceil: m.mp4.call(x!),
      max_unbatched: m.mp2.call(u!),
      avg_ceil: m.ap1.call(x!), avg_ceil_pad: m.ap2.call(x!), avg_ceil_nocip: m.ap3.call(x!), avg_divisor: m.ap4.call(x!),
      avg_functional: F.avgPool2d(u!, 2, { stride: 2, padding: 1, ceilMode: true, divisorOverride: 2 }),
      max1d: m.m1.call(s!), avg1d: m.a1.call(s!), max1d_functional: F.maxPool1d(s!, 2, { ceilMode: true }),
    }),
  });
  expect(await expectTorchCase(def, io)).toHaveLength(13);
});

test('the 2-D pools\' options by hand, and their misuse refused clearly', () => {
  const run = (shape: number[], fwd: (x: Tensor) => Tensor, data: number[]) => {
    const g = traceModel(defineModel({ name: 'h', module: new nn.Identity(), inputs: { x: shape }, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!) }));
    return Array.from(interpret(g, { x: new Float32Array(data) }).y as Float32Array);
  };
  const row = [1, 2, 3, 4, 5]; // [1, 1, 1, 5]
  // Kernel 2, stride 2 over 5 cells: floored 2 windows; ceil mode adds [5] alone.
  expect(run([1, 1, 1, 5], (x) => F.maxPool2d(x, [1, 2]), row)).toEqual([2, 4]);
  expect(run([1, 1, 1, 5], (x) => F.maxPool2d(x, [1, 2], { ceilMode: true }), row)).toEqual([2, 4, 5]);
  // The average of the last, partial window divides by the cells inside the input (no padding declared).
  expect(run([1, 1, 1, 5], (x) => F.avgPool2d(x, [1, 2], { ceilMode: true }), row)).toEqual([1.5, 3.5, 5]);
  expect(run([1, 1, 1, 5], (x) => F.avgPool2d(x, [1, 2], { ceilMode: true, divisorOverride: 4 }), row)).toEqual([0.75, 1.75, 1.25]);
  // Dilation 2: cells j and j + 2.
  expect(run([1, 1, 1, 5], (x) => F.maxPool2d(x, [1, 2], { stride: 1, dilation: [1, 2] }), [5, 1, 2, 7, 0])).toEqual([5, 7, 2]);
  expect(run([1, 5], (x) => F.maxPool1d(x, 2, { stride: 1, dilation: 2 }), [5, 1, 2, 7, 0])).toEqual([5, 7, 2]);

  const bad: Array<[() => unknown, string]> = [
    [() => new nn.MaxPool2d(2, { returnIndices: 'yes' as never }), 'MaxPool2d: option returnIndices must be true or false, got "yes"'],
    [() => new nn.MaxPool2d(2, { ceilMode: 1 as never }), 'MaxPool2d: option ceilMode must be true or false, got 1'],
    [() => new nn.MaxPool2d(2, { padding: 2 }), 'MaxPool2d: padding 2,2 must be at most half the kernel size 2,2'],
    [() => new nn.MaxPool2d(2, { dilation: 0 }), 'MaxPool2d: dilation must be a positive integer or a pair of them, got 0'],
    [() => new nn.AvgPool2d(2, { divisorOverride: 0 }), 'AvgPool2d: divisorOverride must be a non-zero integer, got 0'],
    [() => new nn.AvgPool2d(2, { countIncludePad: 'no' as never }), 'AvgPool2d: option countIncludePad must be true or false, got "no"'],
    [() => new nn.AvgPool2d(2, { dilation: 2 } as never), "AvgPool2d: unknown option 'dilation'"],
    [() => new nn.AvgPool1d(2, { dilation: 2 } as never), "AvgPool1d: unknown option 'dilation'"],
    [() => new nn.MaxPool1d(2, { ceilMode: 'yes' as never }), 'MaxPool1d: option ceilMode must be true or false, got "yes"'],
  ];
  for (const [make, message] of bad) expect(make).toThrow(message);
  // A window that does not fit even with ceil mode.
  expect(() => run([1, 1, 1, 2], (x) => F.maxPool2d(x, [1, 2], { dilation: [1, 2], ceilMode: true }), [1, 2])).toThrow(/max_pool2d: kernel 1×2 \(dilation 1,2\) does not fit input \[1, 1, 1, 2\]/);
});
