// nn.EmbeddingBag and F.embeddingBag against PyTorch 1.13 (tests/fixtures/torch-extra/embedding_bag,
// made by make_embedding_bag.py): sum/mean/max, 1-D indices with offsets (an empty bag, a bag of
// padding only, includeLastOffset) and 2-D indices, paddingIdx, perSampleWeights, maxNorm; compiled
// (every test ISA, and 2 threads) and in the reference; misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, ints, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { expectTorch, expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'embedding_bag');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `embedding_bag/${f}`);

class Net extends Module {
  mean = new nn.EmbeddingBag(10, 3);
  sum_pad = new nn.EmbeddingBag(10, 3, { mode: 'sum', paddingIdx: 4 });
  max = new nn.EmbeddingBag(10, 3, { mode: 'max' });
  last = new nn.EmbeddingBag(10, 3, { mode: 'mean', includeLastOffset: true, paddingIdx: -1 });
  renorm = new nn.EmbeddingBag(10, 3, { mode: 'sum', maxNorm: 1 });
  forward(): never { throw new Error('unused'); }
}

const i32 = (shape: number[]) => ({ shape, dtype: 'i32' as const });
/** The fixture's model: every output of io.safetensors. */
const bagsModel = () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  return defineModel({
    name: 'bags', module: net,
    inputs: { flat: i32([10]), offsets: i32([4]), offsets_last: i32([5]), rows: i32([3, 3]), w_flat: [10], w_rows: [3, 3] },
    forward: (m: Net, { flat, offsets, offsets_last, rows, w_flat, w_rows }: Record<string, Tensor>) => ({
      mean_1d: m.mean.call(flat!, offsets), sum_pad_1d: m.sum_pad.call(flat!, offsets, w_flat), max_1d: m.max.call(flat!, offsets),
      last_1d: m.last.call(flat!, offsets_last), renorm_1d: m.renorm.call(flat!, offsets),
      mean_2d: m.mean.call(rows!), sum_pad_2d: m.sum_pad.call(rows!, undefined, w_rows), max_2d: m.max.call(rows!),
      mean_pad_2d: F.embeddingBag(rows!, m.sum_pad.weight.t, { mode: 'mean', paddingIdx: 4 }),
      max_pad_2d: F.embeddingBag(rows!, m.sum_pad.weight.t, { mode: 'max', paddingIdx: 4 }),
      one_bag_max: m.max.call(flat!, offsets!.slice(0, 0, 1)), one_bag_sum_pad: m.sum_pad.call(flat!, offsets!.slice(0, 0, 1), w_flat),
    }),
  });
};

test('EmbeddingBag (sum, mean, max; offsets or rows; padding, weights, maxNorm) matches PyTorch', async () => {
  expect(await expectTorchCase(bagsModel(), read('io.safetensors'), { threads: 2 })).toHaveLength(12);
});

// PyTorch 1.13 raises on each (a decrease fails its sum's internal check and corrupts the heap in
// mode max); here they gave odd bags. A last offset below len(indices) with includeLastOffset,
// which PyTorch documents as len(indices), it takes in some modes and corrupts its heap in others.
test('EmbeddingBag: offsets PyTorch raises on are errors, compiled (1 and 2 threads) and in the reference; the model works on', async () => {
  const def = bagsModel(), io = read('io.safetensors');
  const feeds = Object.fromEntries([...io.keys()].filter((k) => k.startsWith('input.')).map((k) => [k.slice(6), io.get(k)!.data as Float32Array | Int32Array]));
  const bytes = (await compileModel(def)).bytes, traced = traceModel(def);
  const models = [await loadModelBytes(bytes), await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' })];
  const bad: Array<[string, number[], RegExp]> = [
    ['offsets', [3, 4, 4, 8], /embedding_bag in .*: offsets\[0\] must be 0 \(where the first bag starts\), got 3/],
    ['offsets', [0, 4, 2, 8], /embedding_bag in .*: offsets must not decrease, got offsets\[2\] = 2, below the offset before it/],
    ['offsets', [0, 4, 4, 11], /embedding_bag in .*: offsets\[3\] = 11 is past the end of the indices \(10\)/],
    ['offsets_last', [0, 3, 3, 7, 11], /embedding_bag in .*: offsets\[4\] = 11 is past the end of the indices \(10\)/],
    ['offsets_last', [0, 3, 3, 7, 9], /embedding_bag in .*: with includeLastOffset the last offset must be the number of indices \(10\), got 9/],
  ];
  try {
    for (const [name, values, error] of bad) {
      const f = { ...feeds, [name]: Int32Array.from(values) };
      expect(() => interpret(traced, f), `reference ${values}`).toThrow(error);
      for (const [k, m] of models.entries()) {
        expect(() => m.run(f), `${k + 1} thread(s) ${values}`).toThrow(error);
        // Usable afterwards: the fixture's call gives PyTorch's values.
        const out = m.run(feeds);
        for (const o of ['mean_1d', 'max_1d', 'last_1d', 'sum_pad_1d']) expectTorch(out[o] as Float32Array, io.get(`output.${o}`)!.data as Float32Array, `${k + 1} thread(s) ${o} after ${values}`);
      }
    }
  } finally { for (const m of models) m.dispose(); }
});

test('EmbeddingBag: misuse', () => {
  expect(() => new nn.EmbeddingBag(10, 3, { mode: 'min' as never })).toThrow(`EmbeddingBag: mode must be 'sum', 'mean' or 'max', got "min"`);
  expect(() => new nn.EmbeddingBag(10, 3, { paddingIdx: 10 })).toThrow('EmbeddingBag: padding_idx must be an integer in [-10, 10), got 10');
  expect(() => new nn.EmbeddingBag(10, 3, { include_last_offset: true } as never)).toThrow("EmbeddingBag: unknown option 'include_last_offset'");
  const tr = (f: (m: nn.EmbeddingBag, i: Record<string, Tensor>) => Tensor, mode: 'sum' | 'mean' | 'max' = 'mean') => traceModel(defineModel({
    name: 't', module: new nn.EmbeddingBag(10, 3, { mode }),
    inputs: { flat: { shape: [6], dtype: 'i32' }, rows: { shape: [2, 3], dtype: 'i32' }, off: { shape: [2], dtype: 'i32' }, w: [2, 3] },
    forward: (m: nn.EmbeddingBag, i: Record<string, Tensor>) => f(m, i),
  }));
  expect(() => tr((m, i) => m.call(i.flat!))).toThrow(/embedding_bag: 1-D indices \[6\] need offsets \(where each bag starts\)/);
  expect(() => tr((m, i) => m.call(i.rows!, i.off!))).toThrow(/embedding_bag: offsets must be left out with 2-D indices \[2, 3\] \(each row is a bag\)/);
  expect(() => tr((m, i) => m.call(i.rows!, undefined, i.w!))).toThrow(/embedding_bag: perSampleWeights is only supported with mode 'sum', got mode 'mean'/);
  expect(() => tr((m, i) => m.call(i.rows!, undefined, i.w!.slice(1, 0, 2)), 'sum')).toThrow(/embedding_bag: perSampleWeights must be f32 of the indices' shape \[2, 3\], got f32 \[2, 2\]/);
  // Was 3 bags, one per row; PyTorch 1.13 gives 2 (the last row dropped), wrong means, or a heap corruption in mode 'max'.
  expect(() => tr((m, i) => F.embeddingBag(i.rows!, m.weight.t, { includeLastOffset: true }))).toThrow(/embedding_bag: includeLastOffset needs 1-D indices with offsets; with 2-D indices \[2, 3\] each row is a bag \(PyTorch 1.13 drops the last row\)/);
  expect(() => tr((m, i) => m.call(i.flat!, i.w!))).toThrow(/embedding_bag: offsets must be i32 \[bags\], got f32 \[2, 3\]/);
  // Constant offsets PyTorch raises on: refused when traced (the indices are 6).
  const bag = (offsets: number[], includeLastOffset = false) => tr((m, i) => F.embeddingBag(i.flat!, m.weight.t, { offsets: ints(offsets), includeLastOffset }));
  expect(() => bag([3, 4])).toThrow(/embedding_bag: offsets\[0\] must be 0 \(where the first bag starts\), got 3/);
  expect(() => bag([0, 4, 2])).toThrow(/embedding_bag: offsets must not decrease, got offsets\[2\] = 2, below the offset before it/);
  expect(() => bag([0, 7])).toThrow(/embedding_bag: offsets\[1\] = 7 is past the end of the indices \(6\)/);
  expect(() => bag([0, 2, 5], true)).toThrow(/embedding_bag: with includeLastOffset the last offset must be the number of indices \(6\), got 5/);
  expect(bag([0, 2, 6], true).nodes.some((n) => n.op === 'check')).toBe(false); // good constants: nothing left to check
  expect(tr((m, i) => m.call(i.flat!, i.off!)).nodes.filter((n) => n.op === 'check')).toHaveLength(3);
});
