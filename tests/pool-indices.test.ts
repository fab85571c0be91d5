// Max pooling with indices and max unpooling against PyTorch 1.13 (tests/fixtures/torch-extra/
// pool_indices, made by make_pool_indices.py: ties, NaN, −inf windows, padding, stride, dilation,
// ceil mode, 1-D/2-D/3-D, unbatched, duplicate unpool indices), compiled on every test ISA, on 2
// threads and in the reference interpreter; then hand-computed values and misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, ints, Module, nn, readSafetensors, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { expectTorchCase } from './helpers/torch.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'pool_indices');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'pool_indices/io.safetensors');

class Net extends Module {
  p2a = new nn.MaxPool2d(3, { stride: 2, padding: 1, returnIndices: true });
  p2b = new nn.MaxPool2d([2, 3], { stride: [2, 1], dilation: [2, 1], ceilMode: true, returnIndices: true });
  p2c = new nn.MaxPool2d(2, { ceilMode: true, returnIndices: true });
  p1 = new nn.MaxPool1d(3, { stride: 2, padding: 1, dilation: 2, ceilMode: true, returnIndices: true });
  p3 = new nn.MaxPool3d([2, 3, 2], { stride: [1, 2, 2], padding: [1, 1, 0], ceilMode: true, returnIndices: true });
  u2a = new nn.MaxUnpool2d(3, { stride: 2, padding: 1 });
  u2c = new nn.MaxUnpool2d(2);
  u1 = new nn.MaxUnpool1d(3, { stride: 2, padding: 1 });
  u3 = new nn.MaxUnpool3d([2, 3, 2], { stride: [1, 2, 2], padding: [1, 1, 0] });
  forward(): never { throw new Error('unused'); }
}

test('MaxPool1d/2d/3d with returnIndices and MaxUnpool1d/2d/3d match PyTorch (ties, NaN, −inf, ceil mode, dilation, unbatched, duplicates)', async () => {
  const def = defineModel({
    name: 'pool_indices', module: new Net(),
    inputs: { x: [2, 3, 7, 9], u: [3, 5, 7], s: [2, 3, 10], v: [2, 2, 5, 6, 7], y: [1, 2, 2, 3], dup: { shape: [1, 2, 2, 3], dtype: 'i32' } },
    forward: (m: Net, { x, u, s, v, y, dup }: Record<string, Tensor>) => {
      const [p2a_v, p2a_i] = m.p2a.call(x!), [p2b_v, p2b_i] = m.p2b.call(x!), [p2c_v, p2c_i] = m.p2c.call(u!);
      const [p1_v, p1_i] = m.p1.call(s!), [p1u_v, p1u_i] = F.maxPool1d(s!.select(0, 0), 2, { returnIndices: true });
      const [p3_v, p3_i] = m.p3.call(v!), [p3u_v, p3u_i] = F.maxPool3d(v!.select(0, 0), 2, { dilation: 2, returnIndices: true });
      return {
        p2a_v, p2a_i, p2b_v, p2b_i, p2c_v, p2c_i, p1_v, p1_i, p1u_v, p1u_i, p3_v, p3_i, p3u_v, p3u_i,
        u2a: m.u2a.call(p2a_v, p2a_i), u2a_size: m.u2a.call(p2a_v, p2a_i, [2, 3, 8, 10]), u2c: m.u2c.call(p2c_v, p2c_i),
        u2b: F.maxUnpool2d(p2b_v, p2b_i, [2, 3], { stride: [2, 1], outputSize: [7, 9] }),
        u1: m.u1.call(p1_v, p1_i, [10]), u3: m.u3.call(p3_v, p3_i, [5, 6, 7]), u_dup: F.maxUnpool2d(y!, dup!, 2),
      };
    },
  });
  expect(await expectTorchCase(def, io, { threads: 2 })).toHaveLength(21);
});

const run = (inputs: Record<string, number[] | { shape: number[]; dtype: 'i32' }>, fwd: (i: Record<string, Tensor>) => Record<string, Tensor>, feeds: Record<string, Float32Array | Int32Array>) => {
  const g = traceModel(defineModel({ name: 'h', module: new nn.Identity(), inputs, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i) }));
  return Object.fromEntries(Object.entries(interpret(g, feeds)).map(([k, v]) => [k, Array.from(v as Float32Array)]));
};

test('indices by hand: the last NaN, the first of ties, an all −inf window\'s first cell inside the input; unpooling writes the last duplicate', () => {
  const nan = NaN, inf = Infinity;
  const pool = (x: Tensor, k: number, o: F.MaxPool1dOptions) => { const [v, i] = F.maxPool1d(x, k, { ...o, returnIndices: true }); return { v, i }; };
  const x2 = new Float32Array([1, nan, 3, nan, nan, 0, 0, 1]);
  expect(run({ x: [1, 1, 2, 4] }, ({ x }) => { const [v, i] = F.maxPool2d(x!, 2, { returnIndices: true }); return { v, i }; }, { x: x2 })).toEqual({ v: [nan, nan], i: [4, 3] });
  expect(run({ x: [1, 5] }, ({ x }) => pool(x!, 3, { stride: 2, padding: 1 }), { x: new Float32Array(5).fill(-inf) })).toEqual({ v: [-inf, -inf, -inf], i: [0, 1, 3] });
  expect(run({ x: [1, 5] }, ({ x }) => pool(x!, 3, { stride: 2, padding: 1, ceilMode: true }), { x: new Float32Array([2, 2, 1, 2, 2]) })).toEqual({ v: [2, 2, 2], i: [0, 1, 3] });
  expect(run({ x: [1, 5] }, ({ x }) => pool(x!, 3, { stride: 1 }), { x: new Float32Array([1, nan, 2, nan, 5]) })).toEqual({ v: [nan, nan, nan], i: [1, 3, 3] });
  // torch: max_unpool2d([[1, 2], [3, 4]], [[0, 0], [5, 0]], 2) is 4 at 0 (written last), 3 at 5.
  const u = run({ y: [1, 1, 2, 2], i: { shape: [1, 1, 2, 2], dtype: 'i32' } }, ({ y, i }) => ({ u: F.maxUnpool2d(y!, i!, 2) }), { y: new Float32Array([1, 2, 3, 4]), i: new Int32Array([0, 0, 5, 0]) });
  expect(u.u).toEqual([4, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test('an unpool index outside its plane is an error where torch raises (at compile time for constants, at run time otherwise); a run-time batch', async () => {
  const def = defineModel({
    name: 'u', module: new nn.MaxUnpool2d(2), inputs: { y: { shape: ['B', 1, 2, 2], max: { B: 2 } }, i: { shape: ['B', 1, 2, 2], dtype: 'i32', max: { B: 2 } } },
    forward: (m: nn.MaxUnpool2d, { y, i }: Record<string, Tensor>) => {
      const [v, j] = F.maxPool2d(y!, [1, 2], { returnIndices: true });
      return { u: m.call(y!, i!), v, j, back: F.maxUnpool2d(v, j, [1, 2]) };
    },
  });
  const model = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const y = new Float32Array([1, 2, 3, 4]);
  expect(Array.from(model.run({ y, i: new Int32Array([15, 0, 1, 2]) }).u as Float32Array)).toEqual([2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  // Two samples: pooled pairs (5, 0) (3, 3) | (−1, −2) (NaN, 7), and back in place.
  const two = model.run({ y: new Float32Array([5, 0, 3, 3, -1, -2, NaN, 7]), i: new Int32Array(8) });
  expect(Array.from(two.v as Float32Array)).toEqual([5, 3, -1, NaN]);
  expect(Array.from(two.j as Int32Array)).toEqual([0, 2, 0, 2]);
  expect(Array.from(two.back as Float32Array)).toEqual([5, 0, 3, 0, -1, 0, NaN, 0]);
  // A negative index is moved past the end before the scatter (which would count it from the end), so it is reported as 16.
  for (const bad of [16, -1]) expect(() => model.run({ y, i: new Int32Array([0, bad, 1, 2]) })).toThrow(/scatter_elements.*index 16 is outside \[-16, 16\)/);
  model.dispose();
  const constant = (idx: number[]) => () => traceModel(defineModel({ name: 'c', module: new nn.Identity(), inputs: { y: [1, 1, 2, 2] }, forward: (_m: Module, { y }: Record<string, Tensor>) => F.maxUnpool2d(y!, ints(idx, [1, 1, 2, 2]), 2) }));
  expect(constant([0, 16, 1, 2])).toThrow('max_unpool2d: index 16 is outside the output plane 4×4 (indices must be in [0, 16))');
  expect(constant([0, -1, 1, 2])).toThrow('max_unpool2d: index -1 is outside the output plane 4×4');
});

test('pools with indices and unpools refuse misuse clearly', () => {
  const trace = (inputs: Record<string, number[] | { shape: number[]; dtype: 'i32' }>, fwd: (i: Record<string, Tensor>) => Tensor) => () => traceModel(defineModel({ name: 'm', module: new nn.Identity(), inputs, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i) }));
  const y = [1, 2, 3, 4], yi = { shape: [1, 2, 3, 4], dtype: 'i32' as const };
  const bad: Array<[() => unknown, string | RegExp]> = [
    [() => new nn.MaxPool2d(2, { returnIndices: 1 as never }), 'MaxPool2d: option returnIndices must be true or false, got 1'],
    [() => new nn.MaxUnpool2d(0), 'MaxUnpool2d: kernel_size must be a positive integer or a pair of them, got 0'],
    [() => new nn.MaxUnpool3d([2, 2] as never), 'MaxUnpool3d: kernel_size must be a positive integer or a list of 3 of them, got [2, 2]'],
    [() => new nn.MaxUnpool1d(2, { padding: -1 }), 'MaxUnpool1d: padding must be a non-negative integer'],
    [() => new nn.MaxUnpool2d(2, { outputSize: [4, 4] } as never), "MaxUnpool2d: unknown option 'outputSize' (allowed: stride, padding)"],
    [trace({ y, i: y }, ({ y, i }) => F.maxUnpool2d(y!, i!, 2)), 'max_unpool2d: indices must be i32 (torch\'s int64, as a max pool with returnIndices gives them), got f32'],
    [trace({ y, i: { shape: [1, 2, 3, 3], dtype: 'i32' } }, ({ y, i }) => F.maxUnpool2d(y!, i!, 2)), 'max_unpool2d: indices [1, 2, 3, 3] must have the shape of the input [1, 2, 3, 4]'],
    [trace({ y: [2, 3, 4], i: { shape: [2, 3, 4], dtype: 'i32' } }, ({ y, i }) => F.maxUnpool3d(y!, i!, 2)), 'max_unpool3d: expected [N, C, D, H, W] or unbatched [C, D, H, W] input, got [2, 3, 4]'],
    // torch: the default 6×8 (stride 2) admits sizes strictly between 4 and 8, 6 and 10.
    [trace({ y, i: yi }, ({ y, i }) => F.maxUnpool2d(y!, i!, 2, { outputSize: [8, 8] })), 'max_unpool2d: invalid outputSize [8, 8] (dim 0 must be between 4 and 8, exclusive: the unpooled size 6 ± stride 2)'],
    [trace({ y, i: yi }, ({ y, i }) => F.maxUnpool2d(y!, i!, 2, { outputSize: [1, 2, 7, 10] })), /max_unpool2d: invalid outputSize \[1, 2, 7, 10\] \(dim 1 must be between 6 and 10/],
    [trace({ y, i: yi }, ({ y, i }) => F.maxUnpool2d(y!, i!, 2, { outputSize: [2, 7, 9] })), 'max_unpool2d: outputSize should hold 2 or 4 sizes, got 3 ([2, 7, 9])'],
    [trace({ y, i: yi }, ({ y, i }) => F.maxUnpool2d(y!, i!, 2, { size: 3 } as never)), "max_unpool2d: unknown option 'size'"],
    [trace({ x: [1, 1, 3] }, ({ x }) => F.maxPool2d(x!, 2, { returnIndices: true })[0]), 'max_pool2d: kernel 2×2 does not fit input [1, 1, 1, 3]'],
    [trace({ x: [2, 3] }, ({ x }) => F.maxPool3d(x!, 2, { returnIndices: true })[1]), 'max_pool3d: expected [N, C, D, H, W] or unbatched [C, D, H, W] input, got [2, 3]'],
  ];
  for (const [make, message] of bad) expect(make, String(message)).toThrow(message);
  // A unpooled size of 7×9 (in range) places indices in its own 7×9 plane, as torch does.
  const r = run({ y: [1, 1, 1, 2], i: { shape: [1, 1, 1, 2], dtype: 'i32' } }, ({ y, i }) => ({ u: F.maxUnpool2d(y!, i!, [1, 2], { outputSize: [1, 5] }) }), { y: new Float32Array([7, 8]), i: new Int32Array([4, 1]) });
  expect(r.u).toEqual([0, 8, 0, 0, 7]);
});
