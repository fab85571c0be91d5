// Transformer layers with a function as the activation (PyTorch takes F.silu, a lambda, …) against
// PyTorch 1.13 (tests/fixtures/torch-extra/callable_activation, made by make_callable_activation.py),
// compiled (every test ISA, and 2 threads) and in the reference; a function that changes the shape is named.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, F, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'callable_activation');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `callable_activation/${f}`);

class Net extends Module {
  enc = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 12, dropout: 0, activation: F.silu, batchFirst: true });
  dec = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 12, dropout: 0, activation: (t) => F.leakyRelu(t, 0.2).mul(1.5), normFirst: true });
  forward(): never { throw new Error('unused'); }
}

test('Transformer layers with a function as activation match PyTorch', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  const def = defineModel({
    name: 'act', module: net, inputs: { src: [2, 5, 8], tgt: [3, 2, 8] },
    forward: (m: Net, { src, tgt }: Record<string, Tensor>) => ({ enc: m.enc.call(src!), dec: m.dec.call(tgt!, src!.transpose(0, 1)) }),
  });
  expect(await expectTorchCase(def, read('io.safetensors'), { threads: 2 })).toHaveLength(2);
  const bad = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 12, activation: (t) => t.sum(-1) });
  expect(() => traceModel(defineModel({ name: 'b', module: bad, inputs: { x: [1, 3, 8] } }))).toThrow(/activation: the function must return a tensor of its input's shape \[1, 3, 12\], got f32 \[1, 3\] in module '<root>' \(TransformerEncoderLayer\)/);
});
