// nn.LSTM's projSize against PyTorch 1.13 (tests/fixtures/torch-extra/lstm_proj, made by
// make_lstm_proj.py): two layers bidirectional with h0/c0, sequence first, unbatched, no bias;
// compiled (every test ISA, and 2 threads) and in the reference; the same over sequence lengths
// chosen at run time (io_lengths.safetensors: one artifact for T up to 6, called at T = 1, 3, 6); misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type InputSpecs, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch, expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'lstm_proj');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `lstm_proj/${f}`);

class Net extends Module {
  deep = new nn.LSTM(5, 7, { numLayers: 2, bidirectional: true, batchFirst: true, projSize: 3 });
  seq = new nn.LSTM(4, 6, { projSize: 2 });
  nobias = new nn.LSTM(4, 5, { projSize: 4, bias: false, bidirectional: true });
  forward(): never { throw new Error('unused'); }
}

const forward = (m: Net, { x, h0, c0, s, u }: Record<string, Tensor>) => {
  const [y, [hn, cn]] = m.deep.call(x!, [h0!, c0!]);
  const [ys, [hs, cs]] = m.seq.call(s!);
  const [yu, [hu, cu]] = m.seq.call(u!);
  const [yb, [hb, cb]] = m.nobias.call(s!);
  return { y, hn, cn, ys, hs, cs, yu, hu, cu, yb, hb, cb };
};

test('LSTM projSize matches PyTorch (layers, directions, h0/c0, sequence first, unbatched, no bias)', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  const def = defineModel({ name: 'proj', module: net, inputs: { x: [2, 4, 5], h0: [4, 2, 3], c0: [4, 2, 7], s: [3, 2, 4], u: [3, 4] }, forward });
  expect(await expectTorchCase(def, read('io.safetensors'), { threads: 2 })).toHaveLength(12);
});

test('LSTM projSize over a sequence length chosen at run time matches PyTorch at each length (1, 3, the bound 6), compiled (2 threads equal 1) and in the reference', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  const max = { T: 6 };
  const def = defineModel({
    name: 'projT', module: net, forward,
    inputs: { x: { shape: [2, 'T', 5], max }, h0: [4, 2, 3], c0: [4, 2, 7], s: { shape: ['T', 2, 4], max }, u: { shape: ['T', 4], max } },
  });
  const graph = traceModel(def), bytes = (await compileModel(def, { isas: TEST_ISAS })).bytes;
  const [one, two] = [await loadModelBytes(bytes), await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' })];
  const io = read('io_lengths.safetensors');
  let checked = 0;
  for (const T of [1, 3, 6]) {
    const feeds = Object.fromEntries([...io].filter(([k]) => k.startsWith(`L${T}.input.`)).map(([k, v]) => [k.slice(`L${T}.input.`.length), { data: v.data as Float32Array, shape: v.shape }]));
    const ref = interpret(graph, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.data])), undefined, { T });
    const out = one.run(feeds), out2 = two.run(feeds);
    for (const [k, want] of [...io].filter(([k]) => k.startsWith(`L${T}.output.`))) {
      const name = k.slice(`L${T}.output.`.length);
      expectTorch(out[name] as Float32Array, want.data as Float32Array, `compiled ${name} at T=${T}`);
      expectTorch(ref[name] as Float32Array, want.data as Float32Array, `reference ${name} at T=${T}`);
      expect(Array.from(out2[name] as Float32Array), `2 threads ${name} at T=${T}`).toEqual(Array.from(out[name] as Float32Array));
      checked++;
    }
  }
  expect(checked).toBe(36);
  one.dispose(); two.dispose();
});

test('LSTM projSize: misuse', () => {
  expect(() => new nn.LSTM(4, 6, { projSize: 6 })).toThrow('LSTM: proj_size must be an integer in [0, hidden_size 6), got 6');
  expect(() => new nn.LSTM(4, 6, { projSize: 1.5 })).toThrow('LSTM: proj_size must be an integer in [0, hidden_size 6), got 1.5');
  expect(() => new nn.GRU(4, 6, { projSize: 2 } as never)).toThrow("GRU: unknown option 'projSize'");
  expect(new nn.LSTM(4, 6, { projSize: 2 }).stateDict().get('weight_hr_l0')?.shape).toEqual([2, 6]);
  expect(new nn.LSTM(4, 6, { projSize: 2 }).stateDict().get('weight_hh_l0')?.shape).toEqual([24, 2]);
  const tr = (inputs: Record<string, (number | string)[]>, f: (m: nn.LSTM, i: Record<string, Tensor>) => Tensor, max?: Record<string, number>) => traceModel(defineModel({
    name: 't', module: new nn.LSTM(4, 6, { projSize: 2 }), inputs: Object.fromEntries(Object.entries(inputs).map(([k, shape]) => [k, { shape, ...(max ? { max } : {}) }])) as InputSpecs,
    forward: (m: nn.LSTM, i: Record<string, Tensor>) => f(m, i),
  }));
  expect(() => tr({ x: [3, 1, 4], h0: [1, 1, 6], c0: [1, 1, 6] }, (m, i) => m.call(i.x!, [i.h0!, i.c0!])[0])).toThrow(/LSTM: h0 must be \[1, 1, 2\] \(num_layers·directions, batch, proj_size\), got \[1, 1, 6\]/);
  expect(() => tr({ x: [3, 1, 4], h0: [1, 1, 2], c0: [1, 1, 2] }, (m, i) => m.call(i.x!, [i.h0!, i.c0!])[0])).toThrow(/LSTM: c0 must be \[1, 1, 6\] \(num_layers·directions, batch, hidden\), got \[1, 1, 2\]/);
});
