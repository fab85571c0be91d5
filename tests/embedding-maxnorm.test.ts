// nn.Embedding's and F.embedding's maxNorm / normType against PyTorch 1.13
// (tests/fixtures/torch-extra/embedding_maxnorm, made by make_embedding_maxnorm.py), compiled
// (every test ISA) and in the reference; the renormalized table is folded at compile time; misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, F, Module, nn, readSafetensors, runPasses, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'embedding_maxnorm');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `embedding_maxnorm/${f}`);

class Net extends Module {
  l2 = new nn.Embedding(10, 6, { maxNorm: 1.5, paddingIdx: 2 });
  l1 = new nn.Embedding(10, 6, { maxNorm: 2, normType: 1 });
  linf = new nn.Embedding(10, 6, { maxNorm: 0.9, normType: Infinity });
  p3 = new nn.Embedding(10, 6, { maxNorm: 1.2, normType: 3 });
  table = this.param('table', [7, 5]);
  forward(): never { throw new Error('unused'); }
}

const defOf = (net: Net) => defineModel({
  name: 'emb', module: net, inputs: { ids: { shape: [2, 5], dtype: 'i32' }, ids2: { shape: [5], dtype: 'i32' } },
  forward: (m: Net, { ids, ids2 }: Record<string, Tensor>) => ({
    l2: m.l2.call(ids!), l1: m.l1.call(ids!), linf: m.linf.call(ids!), p3: m.p3.call(ids!),
    functional: F.embedding(ids2!, m.table.t, { maxNorm: 2.5 }),
  }),
});

test('Embedding maxNorm (norm types 2, 1, inf, 3) and F.embedding maxNorm match PyTorch, renormalized at compile time', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  expect(await expectTorchCase(defOf(net), io, { threads: 2 })).toHaveLength(5);
  // The renormalization is constant work: after the passes only the lookups read the tables.
  const g = runPasses(traceModel(defOf(net)));
  expect(g.nodes.filter((n) => n.op !== 'const' && n.op !== 'input').map((n) => n.op).sort()).toEqual(Array(5).fill('gather'));
});

test('Embedding maxNorm: misuse', () => {
  expect(() => new nn.Embedding(4, 3, { maxNorm: -1 })).toThrow('Embedding: max_norm must be a finite number ≥ 0 (or null), got -1');
  expect(() => new nn.Embedding(4, 3, { maxNorm: Infinity })).toThrow('Embedding: max_norm must be a finite number ≥ 0 (or null), got Infinity');
  expect(() => new nn.Embedding(4, 3, { maxNorm: 1, normType: 0 })).toThrow('Embedding: norm_type must be a positive number or Infinity, got 0');
  expect(() => new nn.Embedding(4, 3, { sparse: 'yes' as unknown as boolean })).toThrow('Embedding: option sparse must be true or false, got "yes"');
  expect(() => new nn.Embedding(4, 3, { max_norm: 1 } as never)).toThrow("Embedding: unknown option 'max_norm'");
  const tr = (f: (ids: Tensor, w: Tensor) => Tensor) => traceModel(defineModel({
    name: 't', module: new nn.Embedding(4, 3), inputs: { ids: { shape: [2], dtype: 'i32' } },
    forward: (m: nn.Embedding, i: Record<string, Tensor>) => f(i.ids!, m.weight.t),
  }));
  expect(() => tr((ids, w) => F.embedding(ids, w, { maxNorm: NaN }))).toThrow(/embedding: max_norm must be a finite number ≥ 0 \(or null\), got NaN/);
  expect(() => tr((ids, w) => F.embedding(ids, w.unsqueeze(0), { maxNorm: 1 }))).toThrow(/embedding: max_norm needs an f32 weight \[num_embeddings, embedding_dim\], got f32 \[1, 4, 3\]/);
  expect(() => tr((ids, w) => F.embedding(ids, w, { norm: 2 } as never))).toThrow(/embedding: unknown option 'norm'/);
  // Training-only options change nothing at inference.
  expect(() => tr((ids, w) => F.embedding(ids, w, { paddingIdx: 1, scaleGradByFreq: true, sparse: false }))).not.toThrow();
});
