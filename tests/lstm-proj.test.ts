// nn.LSTM's projSize against PyTorch 1.13 (tests/fixtures/torch-extra/lstm_proj, made by
// make_lstm_proj.py): two layers bidirectional with h0/c0, sequence first, unbatched, no bias;
// compiled (every test ISA, and 2 threads) and in the reference; misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, Module, nn, readSafetensors, stateDictFrom, traceModel, type InputSpecs, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'lstm_proj');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `lstm_proj/${f}`);

class Net extends Module {
  deep = new nn.LSTM(5, 7, { numLayers: 2, bidirectional: true, batchFirst: true, projSize: 3 });
  seq = new nn.LSTM(4, 6, { projSize: 2 });
  nobias = new nn.LSTM(4, 5, { projSize: 4, bias: false, bidirectional: true });
  forward(): never { throw new Error('unused'); }
}

test('LSTM projSize matches PyTorch (layers, directions, h0/c0, sequence first, unbatched, no bias)', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  const def = defineModel({
    name: 'proj', module: net, inputs: { x: [2, 4, 5], h0: [4, 2, 3], c0: [4, 2, 7], s: [3, 2, 4], u: [3, 4] },
    forward: (m: Net, { x, h0, c0, s, u }: Record<string, Tensor>) => {
      const [y, [hn, cn]] = m.deep.call(x!, [h0!, c0!]);
      const [ys, [hs, cs]] = m.seq.call(s!);
      const [yu, [hu, cu]] = m.seq.call(u!);
      const [yb, [hb, cb]] = m.nobias.call(s!);
      return { y, hn, cn, ys, hs, cs, yu, hu, cu, yb, hb, cb };
    },
  });
  expect(await expectTorchCase(def, read('io.safetensors'), { threads: 2 })).toHaveLength(12);
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
  expect(() => tr({ x: ['T', 1, 4] }, (m, i) => m.call(i.x!)[0], { T: 5 })).toThrow(/LSTM: proj_size with a sequence length chosen at run time is not supported \(input \[T, 1, 4\]\)/);
});
