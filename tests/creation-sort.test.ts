// ones/full/eye/linspace/zerosLike/onesLike/fullLike, Tensor.sort/argsort (ties), indexSelect,
// repeatInterleave and F.oneHot against PyTorch 1.13 (tests/fixtures/torch-extra/creation_sort, made
// by make_creation_sort.py), compiled (every test ISA, and 2 threads) and in the reference; an index
// outside its range traps at run time as PyTorch raises; misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, eye, F, floats, full, fullLike, interpret, ints, linspace, nn, ones, onesLike, readSafetensors, traceModel, zerosLike, type Module, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'creation_sort');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `creation_sort/${f}`);
const i32 = (shape: number[]) => ({ shape, dtype: 'i32' as const });

test('creation functions, sort/argsort with ties, indexSelect, repeatInterleave and oneHot match PyTorch', async () => {
  const def = defineModel({
    name: 'cs', module: new nn.Identity(), inputs: { x: [3, 5], idx: i32([4]), idx0: i32([3]), cls: i32([2, 3]) },
    forward: (_m: Module, { x, idx, idx0, cls }: Record<string, Tensor>) => {
      const [v, i] = x!.sort(1), [vd, idd] = x!.sort(0, true);
      return {
        ones: x!.add(ones([3, 5])), full: x!.mul(full([3, 5], -2.5)), eye: eye(3, 5).add(x!), eye_sq: eye(4),
        linspace: linspace(-1.5, 2, 7), linspace_1: linspace(3, 9, 1), linspace_even: linspace(0.1, 0.9, 8),
        like: zerosLike(x!).add(onesLike(x!).mul(2)).add(fullLike(x!, 0.25)),
        sort_v: v, sort_i: i, sortd_v: vd, sortd_i: idd, argsort: x!.argsort(-1, true),
        index_select: x!.indexSelect(1, idx!), index_select_0: x!.indexSelect(0, idx0!),
        rep: x!.repeatInterleave(2, 1), rep_flat: x!.slice(0, 0, 2).slice(1, 0, 2).repeatInterleave(3),
        one_hot: F.oneHot(cls!, 6),
      };
    },
  });
  expect(await expectTorchCase(def, read('io.safetensors'), { threads: 2 })).toHaveLength(18);
});

test('oneHot and indexSelect trap on an index outside the range, as PyTorch raises; misuse named', async () => {
  const def = defineModel({
    name: 'idx', module: new nn.Identity(), inputs: { x: [3, 5], c: i32([4]) },
    forward: (_m: Module, { x, c }: Record<string, Tensor>) => ({ h: F.oneHot(c!, 5), s: x!.indexSelect(1, c!), hc: F.oneHot(c!.add(1), 5) }),
  });
  const m = await loadModelBytes((await compileModel(def)).bytes);
  const x = new Float32Array(15).map((_, k) => k);
  expect(Array.from(m.run({ x, c: Int32Array.of(0, 3, 1, 2) }).h as Int32Array)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]);
  // An input read as indices is checked before the call; a computed index traps inside (c + 1 = 5 here).
  expect(() => m.run({ x, c: Int32Array.of(0, 5, 1, 4) })).toThrow(/run\(\) input 'c': value 5 at flat index 1 is outside the valid range \[0, 5\)/);
  expect(() => m.run({ x, c: Int32Array.of(0, -1, 1, 2) })).toThrow(/run\(\) input 'c': value -1 at flat index 1 is outside the valid range \[0, 5\)/);
  expect(() => m.run({ x, c: Int32Array.of(0, 4, 1, 2) })).toThrow(/the wasm code trapped \(gather: index 5 is outside \[0, 5\)\)/);
  expect(Array.from(m.run({ x, c: Int32Array.of(0, 3, 1, 2) }).hc as Int32Array).slice(0, 10)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0, 1]); // usable after the trap
  expect(Array.from(m.run({ x, c: Int32Array.of(3, 3, 0, 1) }).s as Float32Array).slice(0, 4)).toEqual([3, 3, 0, 1]);
  m.dispose();
  const tr = (f: (x: Tensor, c: Tensor) => Tensor) => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: [3, 5], c: i32([4]) }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!, i.c!) }));
  expect(() => tr((_x, c) => F.oneHot(c, -1))).toThrow(/one_hot: num_classes must be an integer in \[1, 2\^24\] \(−1, the largest index \+ 1, depends on the data: give it\), got -1/);
  expect(() => tr((x) => F.oneHot(x, 3))).toThrow(/one_hot: input must be i32 \(class indices\), got f32/);
  expect(() => tr((x) => x.indexSelect(0, x))).toThrow(/index_select: index must be an i32 tensor of one dim, got f32 \[3, 5\]/);
  expect(() => tr((x) => x.repeatInterleave(0, 1))).toThrow(/repeat_interleave: repeats must be a positive integer, got 0/);
  expect(() => tr((x) => x.sort(2)[0])).toThrow(/sort: dim must be an integer in \[-2, 1\] for \[3, 5\], got 2/);
  expect(() => full([2], 'a' as never)).toThrow(/full: fill value must be a number, got "a"/);
  expect(() => eye(0)).toThrow(/eye: n must be an integer in \[1, 4096\] or a size chosen at run time, got 0/);
  expect(() => linspace(0, 1, 0)).toThrow(/linspace: steps must be an integer in \[1, 2\^26\], got 0/);
});

test('fullLike of an i32 tensor holds an i32 value past 2^24 exactly (an f32 fill lost its low bits)', async () => {
  const def = defineModel({
    name: 'fl', module: new nn.Identity(), inputs: { i: { shape: [3], dtype: 'i32' } },
    forward: (_m: Module, x: Record<string, Tensor>) => ({ y: fullLike(x.i!, 16777217).add(x.i!), z: fullLike(x.i!, -2147483647) }),
  });
  const m = await loadModelBytes((await compileModel(def)).bytes), out = m.run({ i: Int32Array.of(0, 1, -1) });
  expect(Array.from(out.y as Int32Array)).toEqual([16777217, 16777218, 16777216]);
  expect(Array.from(out.z as Int32Array)).toEqual([-2147483647, -2147483647, -2147483647]);
});

test('floats and ints take nested arrays as torch.tensor does (row-major, their shape); a ragged or empty nest is refused as torch refuses it', () => {
  const g = traceModel(defineModel({
    name: 'nest', module: new nn.Identity(), inputs: { x: [2, 3] },
    forward: (_m: Module, i: Record<string, Tensor>) => ({ y: i.x!.matmul(floats([[1, 0], [0, 1], [1, 1]])), k: ints([[[1], [2]], [[3], [4]]]).add(0), v: floats([1.5, 2]) }),
  }));
  const out = interpret(g, { x: Float32Array.of(1, 2, 3, 4, 5, 6) });
  expect(g.outputs.map((o) => o.node.type.shape)).toEqual([[2, 2], [2, 2, 1], [2]]);
  // torch: torch.tensor([[1., 2, 3], [4, 5, 6]]) @ torch.tensor([[1., 0], [0, 1], [1, 1]]) = [[4, 5], [10, 11]]
  expect([Array.from(out.y as Float32Array), Array.from(out.k as Int32Array), Array.from(out.v as Float32Array)]).toEqual([[4, 5, 10, 11], [1, 2, 3, 4], [1.5, 2]]);
  const tr = (f: () => Tensor) => () => traceModel(defineModel({ name: 'c', module: new nn.Identity(), inputs: { x: [2] }, forward: (_m: Module, i: Record<string, Tensor>) => i.x!.add(f().sum()) }));
  expect(tr(() => floats([[1, 2], [3]] as never))).toThrow('floats: a nested array must be rectangular: expected sequence of length 2 at dim 1 (got 1)');
  expect(tr(() => ints([[1, 2], 3] as never))).toThrow('ints: a nested array must be rectangular: expected sequence of length 2 at dim 1 (got 3)');
  expect(tr(() => floats([[1, [2]], [3, 4]] as never))).toThrow(/floats: a nested array must be rectangular: too many dimensions/);
  expect(tr(() => floats([[], []] as never))).toThrow('floats: a nested array holds an empty array at dim 1 (a tensor here has no empty dims)');
  expect(tr(() => floats([[1, 2], [3, '4']] as never))).toThrow('floats: expected an array of numbers, got an array of 4 holding "4"');
});
