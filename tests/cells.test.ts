// nn.RNNCell, nn.LSTMCell and nn.GRUCell against PyTorch 1.13 (tests/fixtures/torch-extra/cells,
// made by make_cells.py: given and zero states, unbatched, two steps fed back, relu, no bias),
// compiled (every test ISA, also on 2 threads: the same bits) and in the reference; misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'cells');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `cells/${f}`);

class Net extends Module {
  rnn = new nn.RNNCell(5, 7, { nonlinearity: 'relu' });
  lstm = new nn.LSTMCell(5, 6);
  gru = new nn.GRUCell(5, 4, { bias: false });
  forward(): never { throw new Error('unused'); }
}

test('RNNCell, LSTMCell and GRUCell match PyTorch (states given or zeros, unbatched, fed back), on 1 and 2 threads', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'cells', module: net, inputs: { x: [3, 5], x2: [3, 5], h7: [3, 7], h6: [3, 6], c6: [3, 6], h4: [3, 4] },
    forward: (m: Net, { x, x2, h7, h6, c6, h4 }: Record<string, Tensor>) => {
      const [h, c] = m.lstm.call(x!, [h6!, c6!]);
      const [h2, c2] = m.lstm.call(x2!, [h, c]);
      const [hz, cz] = m.lstm.call(x!);
      const [hu, cu] = m.lstm.call(x!.select(0, 0), [h6!.select(0, 0), c6!.select(0, 0)]);
      const g = m.gru.call(x!, h4!);
      return {
        rnn: m.rnn.call(x!, h7!), rnn_zero: m.rnn.call(x!), rnn_unbatched: m.rnn.call(x!.select(0, 1)),
        lstm_h: h, lstm_c: c, lstm_h2: h2, lstm_c2: c2, lstm_zero_h: hz, lstm_zero_c: cz, lstm_unbatched_h: hu, lstm_unbatched_c: cu,
        gru: g, gru_twice: m.gru.call(x2!, g), gru_zero: m.gru.call(x!),
      };
    },
  });
  expect(await expectTorchCase(def, io, { threads: 2 })).toHaveLength(14);

  expect(() => new nn.RNNCell(5, 7, { nonlinearity: 'gelu' as never })).toThrow("RNNCell: nonlinearity must be 'tanh' or 'relu', got \"gelu\"");
  expect(() => new nn.GRUCell(5, 0)).toThrow(/GRUCell: hidden_size must be a positive integer/);
  const tr = (f: (x: Tensor) => unknown) => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: [3, 5] }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) as Tensor }));
  expect(() => tr((x) => new nn.GRUCell(4, 3).call(x))).toThrow(/GRUCell: input must be \[B, 4\] or unbatched \[4\], got \[3, 5\]/);
  expect(() => tr((x) => new nn.GRUCell(5, 3).call(x, x))).toThrow(/GRUCell: h must be \[3, 3\], got \[3, 5\]/);
  expect(() => tr((x) => new nn.LSTMCell(5, 3).call(x, x as never))).toThrow(/LSTMCell: the state must be a pair \[h, c\], got a single tensor/);
});
