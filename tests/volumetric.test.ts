// Conv3d, MaxPool3d and AvgPool3d against PyTorch 1.13 (tests/fixtures/torch-extra/volumetric,
// made by make_volumetric.py), compiled (every test ISA) and in the reference interpreter; then
// hand-computed values, a run-time batch, and misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'volumetric');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `volumetric/${f}`);

class Net extends Module {
  c1 = new nn.Conv3d(3, 4, [2, 3, 2], { stride: [2, 1, 2], padding: [1, 1, 0] });
  c2 = new nn.Conv3d(3, 6, 3, { dilation: [2, 1, 2], groups: 3, padding: [0, 1, 2], bias: false });
  c3 = new nn.Conv3d(3, 2, [2, 3, 4], { padding: 'same', dilation: [1, 2, 1] });
  mp1 = new nn.MaxPool3d(2);
  mp2 = new nn.MaxPool3d([3, 2, 3], { stride: 2, padding: 1, ceilMode: true });
  mp3 = new nn.MaxPool3d(3, { stride: [1, 2, 1], padding: 1, dilation: [1, 2, 2] });
  ap1 = new nn.AvgPool3d(3, { stride: 2, padding: 1 });
  ap2 = new nn.AvgPool3d(3, { stride: 2, padding: 1, countIncludePad: false });
  ap3 = new nn.AvgPool3d([2, 3, 3], { stride: 2, padding: 1, ceilMode: true });
  ap4 = new nn.AvgPool3d([2, 3, 3], { stride: 2, padding: 1, ceilMode: true, countIncludePad: false });
  ap5 = new nn.AvgPool3d([2, 2, 3], { stride: [1, 2, 2], divisorOverride: 5 });
  forward(): never { throw new Error('unused'); }
}

test('Conv3d (stride, padding, dilation, groups, same, no bias, unbatched), MaxPool3d, AvgPool3d (ceil, count_include_pad, divisor) match PyTorch', async () => {
  const net = new Net();
  net.loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'volumetric', module: net, inputs: { x: [2, 3, 5, 6, 7], u: [3, 4, 5, 6] },
    forward: (m: Net, i: Record<string, Tensor>) => {
      const x = i.x!, u = i.u!;
      return {
        conv_stride_pad: m.c1.call(x), conv_dil_groups: m.c2.call(x), conv_same: m.c3.call(x), conv_unbatched: m.c1.call(u),
        max_default: m.mp1.call(x), max_ceil_pad: m.mp2.call(x), max_dilation: m.mp3.call(x), max_unbatched: m.mp2.call(u),
        avg_cip: m.ap1.call(x), avg_nocip: m.ap2.call(x), avg_ceil_cip: m.ap3.call(x), avg_ceil_nocip: m.ap4.call(x),
        avg_divisor: m.ap5.call(x), avg_functional: F.avgPool3d(u, 2, { stride: 1, padding: 1, ceilMode: true }),
      };
    },
  });
  const feeds = Object.fromEntries(['x', 'u'].map((n) => [n, io.get(`input.${n}`)!.data as Float32Array]));
  const ref = interpret(traceModel(def), feeds);
  const model = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const out = model.run(feeds);
  const names = [...io.keys()].filter((k) => k.startsWith('output.')).map((k) => k.slice(7));
  expect(names.length).toBe(14);
  for (const name of names) {
    const want = io.get(`output.${name}`)!.data as Float32Array;
    expectTorch(out[name] as Float32Array, want, `compiled ${name}`);
    expectTorch(ref[name] as Float32Array, want, `reference ${name}`);
  }
  model.dispose();
});

test('the 3-D ops by hand, and their misuse refused clearly', () => {
  const run = (shape: number[], fwd: (x: Tensor) => Tensor, data: number[]) => {
    const g = traceModel(defineModel({ name: 'h', module: new nn.Identity(), inputs: { x: shape }, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!) }));
    return Array.from(interpret(g, { x: new Float32Array(data) }).y as Float32Array);
  };
  const cube = [1, 2, 3, 4, 5, 6, 7, 8]; // [1, 1, 2, 2, 2]
  const conv = new nn.Conv3d(1, 1, 2, { bias: false });
  conv.weight.data = new Float32Array([1, 0, 0, 0, 0, 0, 0, 2]); // x[0,0,0] + 2·x[1,1,1]
  expect(run([1, 1, 2, 2, 2], (x) => conv.call(x), cube)).toEqual([17]);
  // Depth only: kernel [2, 1, 1] sums the two planes.
  const depth = new nn.Conv3d(1, 1, [2, 1, 1], { bias: false });
  depth.weight.data = new Float32Array([1, 10]); // x[d] + 10·x[d + 1]
  expect(run([1, 2, 2, 2], (x) => depth.call(x), cube)).toEqual([51, 62, 73, 84]);
  // Depth stride 2, padding 1: [0, 1, 2, 3, 0] gives 0 + 10·1 and 2 + 10·3.
  expect(run([1, 1, 3, 1, 1], (x) => F.conv3d(x, depth.weight.t, undefined, { stride: [2, 1, 1], padding: [1, 0, 0] }), [1, 2, 3])).toEqual([10, 32]);
  expect(run([1, 1, 2, 2, 2], (x) => F.maxPool3d(x, 2), [3, 9, 1, 2, 8, 7, 6, 5])).toEqual([9]);
  expect(run([1, 1, 2, 2, 2], (x) => F.avgPool3d(x, 2), cube)).toEqual([4.5]);
  expect(run([1, 1, 2, 2, 2], (x) => F.avgPool3d(x, 2, { divisorOverride: 4 }), cube)).toEqual([9]);
  // Padding 1, stride 2: each window holds one input cell; counted alone, or as 1 of 8 with the padding.
  expect(run([1, 1, 2, 2, 2], (x) => F.avgPool3d(x, 2, { padding: 1, countIncludePad: false }), cube)).toEqual(cube);
  expect(run([1, 1, 2, 2, 2], (x) => F.avgPool3d(x, 2, { padding: 1 }), cube)).toEqual(cube.map((v) => v / 8));
  expect(run([1, 1, 2, 2, 2], (x) => F.maxPool3d(x, 2, { padding: 1 }), cube.map((v) => -v))).toEqual(cube.map((v) => -v));

  const trace = (shape: number[], fwd: (x: Tensor) => Tensor) => () => traceModel(defineModel({ name: 'e', module: new nn.Identity(), inputs: { x: shape }, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!) }));
  expect(() => new nn.Conv3d(4, 6, 3, { groups: 4 })).toThrow('Conv3d: groups 4 must divide in_channels 4 and out_channels 6');
  expect(() => new nn.Conv3d(4, 6, [3, 3] as never)).toThrow('Conv3d: kernel_size must be a positive integer or a list of 3 of them, got [3, 3]');
  expect(() => new nn.Conv3d(4, 6, 3, { padding: -1 })).toThrow('Conv3d: padding must be a non-negative integer or a list of 3 of them, got -1');
  expect(() => new nn.MaxPool3d(2, { returnIndices: null as never })).toThrow('MaxPool3d: option returnIndices must be true or false, got null');
  expect(() => new nn.MaxPool3d(2, { padding: 2 })).toThrow('MaxPool3d: padding 2,2,2 must be at most half the kernel size 2,2,2');
  expect(() => new nn.AvgPool3d(2, { divisorOverride: 0 })).toThrow('AvgPool3d: divisorOverride must be a non-zero integer, got 0');
  expect(() => new nn.AvgPool3d(2, { dilation: 2 } as never)).toThrow("AvgPool3d: unknown option 'dilation'");
  const c = new nn.Conv3d(2, 4, 3);
  expect(trace([1, 3, 4, 4, 4], (x) => c.call(x))).toThrow('conv3d: input [1, 3, 4, 4, 4] has 3 channels but weight [4, 2, 3, 3, 3] expects 2');
  expect(trace([2, 2, 4, 4], (x) => c.call(x))).toThrow('conv3d: kernel 3×3×3 does not fit input [2, 2, 4, 4] with padding 0/0,0/0,0/0');
  expect(trace([2, 4, 4], (x) => c.call(x))).toThrow('conv3d: expected [N, C, D, H, W] or unbatched [C, D, H, W] input, got [2, 4, 4]');
  expect(trace([1, 2, 2, 4, 4], (x) => c.call(x))).toThrow('conv3d: kernel 3×3×3 does not fit input [1, 2, 2, 4, 4] with padding 0/0,0/0,0/0');
  expect(trace([1, 2, 4, 4, 4], (x) => F.conv3d(x, c.weight.t, undefined, { padding: 'same', stride: 2 }))).toThrow("conv3d: padding 'same' needs stride 1, got stride 2,2,2");
  expect(trace([1, 2, 4, 4, 4], (x) => F.conv3d(x, x.sum(0)))).toThrow('conv3d: weight must be [out, in/groups, kD, kH, kW] of fixed sizes, got [2, 4, 4, 4]');
  expect(trace([1, 2, 1, 4, 4], (x) => F.maxPool3d(x, 2))).toThrow('max_pool3d: kernel 2×2×2 does not fit input [1, 2, 1, 4, 4] with padding 0/0,0/0,0/0 (output 0×2×2)');
  expect(trace([1, 2, 4, 4], (x) => F.avgPool3d(x.unsqueeze(0).unsqueeze(0), 2))).toThrow('avg_pool3d: expected [N, C, D, H, W] or unbatched [C, D, H, W] input, got [1, 1, 1, 2, 4, 4]');
});
