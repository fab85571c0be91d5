// F.normalize, CosineSimilarity, PairwiseDistance and ModuleDict against PyTorch 1.13
// (tests/fixtures/torch-extra/similarity, made by make_similarity.py: a zero row, broadcasting,
// the ModuleDict's state_dict names), compiled (every test ISA) and in the reference; misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, F, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'similarity');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `similarity/${f}`);

class Net extends Module {
  heads = new nn.ModuleDict({ cls: new nn.Linear(6, 3), reg: new nn.Linear(6, 1) });
  forward(): never { throw new Error('unused'); }
}

test('normalize, CosineSimilarity, PairwiseDistance and a ModuleDict match PyTorch', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'sim', module: net, inputs: { a: [4, 6], b: [4, 6], c: [1, 6] },
    forward: (m: Net, { a, b, c }: Record<string, Tensor>) => ({
      norm2: F.normalize(a!), norm1_dim0: F.normalize(a!, 1, 0), norm_inf: F.normalize(b!, Infinity, -1), norm3: F.normalize(b!, 3, 1),
      cos: new nn.CosineSimilarity().call(a!, b!), cos_bcast: F.cosineSimilarity(b!, c!, -1), cos_dim0: new nn.CosineSimilarity(0, 1e-3).call(a!, b!),
      dist: new nn.PairwiseDistance().call(a!, b!), dist1_keep: new nn.PairwiseDistance(1, 1e-6, true).call(a!, c!),
      cls: m.heads.get<nn.Linear>('cls').call(b!), reg: m.heads.get<nn.Linear>('reg').call(b!),
    }),
  });
  expect(await expectTorchCase(def, io)).toHaveLength(11);

  expect(() => net.heads.get('box')).toThrow("ModuleDict: no module 'box' (keys: cls, reg)");
  expect(() => new nn.ModuleDict({ a: 3 as never })).toThrow('ModuleDict: entry \'a\' must be a module, got 3');
  expect(() => new nn.ModuleDict({ 'a.b': new nn.ReLU() })).toThrow('ModuleDict: key "a.b" cannot name a state_dict entry');
  const tr = (f: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: [2, 3] }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(() => tr((x) => F.normalize(x, 0))).toThrow(/normalize: p must be a positive number or Infinity, got 0/);
  expect(() => tr((x) => F.normalize(x, 2, 2))).toThrow(/normalize: dim must be an integer in \[-2, 1\] for input \[2, 3\], got 2/);
  expect(() => tr((x) => F.cosineSimilarity(x, x, 5))).toThrow(/cosine_similarity: dim must be an integer in \[-2, 1\]/);
});
