// copy.deepcopy of modules, as PyTorch code uses it (TransformerEncoder/Decoder's copies of their
// layer, ModuleLists of clones): against PyTorch 1.13 (tests/fixtures/torch-extra/module_activation,
// made by make_module_activation.py), whose decoder-layer copies run relu in place of a module
// activation; and what a copy shares, copies and refuses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { copy, defineModel, F, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'module_activation');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `module_activation/${f}`);

class Block extends Module {
  fc = new nn.Linear(8, 8);
  act = new nn.PReLU(8);
  forward(x: Tensor): Tensor { return this.act(this.fc(x)).add(x); }
}

class Net extends Module {
  enc = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 12, dropout: 0, activation: new nn.PReLU(), batchFirst: true }), 3);
  dec = new nn.TransformerDecoder(new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 12, dropout: 0, activation: new nn.PReLU(), normFirst: true }), 2, new nn.LayerNorm(8));
  blocks: Block[];
  constructor() {
    super();
    const block = new Block();
    this.blocks = [copy.deepcopy(block), copy.deepcopy(block)];
  }
  forward(): never { throw new Error('unused'); }
}

test('deep copies of layers with a module activation, and a list of copied blocks, match PyTorch', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  const def = defineModel({
    name: 'copies', module: net, inputs: { src: [2, 5, 8], tgt: [3, 2, 8], v: [4, 8] },
    forward: (m: Net, { src, tgt, v }: Record<string, Tensor>) => {
      let x = v!;
      for (const b of m.blocks) x = b(x);
      return { enc: m.enc(src!), dec: m.dec(tgt!, src!.transpose(0, 1)), blocks: x };
    },
  });
  expect(await expectTorchCase(def, read('io.safetensors'), { threads: 2 })).toEqual(['enc', 'dec', 'blocks']);
  // Each copy holds its own weight: the file's three encoder PReLU weights differ.
  expect(net.enc.layers.map((l) => (l.activation as nn.PReLU).weight.data[0])).toEqual([0.1, 0.4, 0.7].map(Math.fround));
});

test('a copy owns its parameters, keeps ties within it, and shares no state with the original', () => {
  class Tied extends Module {
    emb = new nn.Embedding(5, 4);
    head = new nn.Linear(4, 5, { bias: false });
    cfg = { sizes: [5, 4], note: 'x' };
    constructor() { super(); (this.head as { weight: unknown }).weight = this.emb.weight; }
    forward(i: Tensor): Tensor { return this.head(this.emb(i)); }
  }
  const a = new Tied();
  a.emb.weight.data = Float32Array.from({ length: 20 }, (_, i) => i / 10);
  const b = copy.deepcopy(a);
  expect(b).toBeInstanceOf(Tied);
  expect(typeof b).toBe('function');                      // callable, as every module
  expect(b.emb).not.toBe(a.emb);
  expect(b.emb.weight).not.toBe(a.emb.weight);
  expect(b.head.weight).toBe(b.emb.weight);               // the tie, inside the copy
  expect(Array.from(b.emb.weight.data)).toEqual(Array.from(a.emb.weight.data));
  b.emb.weight.data[0] = 99;
  expect(a.emb.weight.data[0]).toBe(0);
  expect(b.cfg).toEqual(a.cfg);
  expect(b.cfg.sizes).not.toBe(a.cfg.sizes);
  expect([...b.stateDict().keys()]).toEqual([...a.stateDict().keys()]);
  // The copy runs: the tied head gives the embedding's rows' dot products.
  const out = interpret(traceModel(defineModel({ name: 't', module: b, inputs: { i: { shape: [1], dtype: 'i32' } } })), { i: Int32Array.of(1) });
  const row = [0.4, 0.5, 0.6, 0.7];
  const want = [0, 1, 2, 3, 4].map((r) => row.reduce((s, v, k) => s + v * (r === 0 && k === 0 ? 99 : (r * 4 + k) / 10), 0));
  Array.from(out.y as Float32Array).forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 4));
});

test("a decoder layer's copy runs relu where its module activation was, as PyTorch's; the layer itself runs the module", () => {
  const layer = new nn.TransformerDecoderLayer(4, 1, { dimFeedforward: 6, dropout: 0, activation: new nn.PReLU() });
  (layer.activation as nn.PReLU).weight.data = Float32Array.of(0.25);
  const copied = copy.deepcopy(layer);
  const relu = new nn.TransformerDecoderLayer(4, 1, { dimFeedforward: 6, dropout: 0 });
  relu.loadStateDict(layer.stateDict(), { strict: false });
  copied.loadStateDict(layer.stateDict());                 // its activation.weight is still an entry
  const run = (l: nn.TransformerDecoderLayer) => {
    const def = defineModel({ name: 'd', module: l, inputs: { t: [3, 1, 4], m: [2, 1, 4] } });
    return Array.from(interpret(traceModel(def), { t: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)), m: Float32Array.from({ length: 8 }, (_, i) => Math.cos(i)) }).y as Float32Array);
  };
  expect(run(copied)).toEqual(run(relu));
  expect(run(layer)).not.toEqual(run(relu));
  // A function activation is kept by the copy (PyTorch keeps what its __setstate__ finds).
  const fn = new nn.TransformerDecoderLayer(4, 1, { dimFeedforward: 6, dropout: 0, activation: F.silu });
  const fnCopy = copy.deepcopy(fn);
  expect(fnCopy.activation).toBe(F.silu);
  expect(run(fnCopy)).toEqual(run(fn));
});

test('a module with a #private field copies without it and says so when called; copy.deepcopy takes one value', () => {
  class Secret extends Module {
    #scale = 2;
    fc = new nn.Linear(2, 2);
    forward(x: Tensor): Tensor { return this.fc(x).mul(this.#scale); }
  }
  const s = copy.deepcopy(new Secret());
  expect(() => traceModel(defineModel({ name: 's', module: s, inputs: { x: [1, 2] } }))).toThrow(/Secret '<root>' is a deepcopy, and its class keeps a #private field, which JavaScript gives no way to copy .*: use a field whose name starts with _ instead/);
  expect(() => (copy.deepcopy as (...a: unknown[]) => unknown)(s, {})).toThrow(/copy\.deepcopy/);
  expect(copy.deepcopy(3)).toBe(3);
  expect(() => (copy.deepcopy as () => unknown)()).toThrow('copy.deepcopy(x): the value to copy is missing');
  const arr = [new Float32Array([1, 2])];
  const c = copy.deepcopy(arr);
  expect(c[0]).not.toBe(arr[0]);
  expect(Array.from(c[0]!)).toEqual([1, 2]);
});
