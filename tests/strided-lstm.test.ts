// An LSTM (projSize) over a strided conv's length chosen at run time, against PyTorch 1.13
// (tests/fixtures/torch-extra/strided_lstm, made by make_strided_lstm.py): Conv1d(3, 4, 5, stride 3)
// gives floor((T+1)/3)-1 steps, negative at T = 1 but at least 1 from the declared minimum T ≥ 5,
// so the LSTM's loop takes it as its count (it was refused, the count read at sizes 1). One
// artifact runs 1, 2 and 4 steps on 1 and 2 threads (bit-identical) and in the reference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, interpret, loop, Module, nn, readSafetensors, stateDictFrom, traceModel, zeros, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'strided_lstm');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `strided_lstm/${f}`);

class StridedLSTM extends Module {
  conv = new nn.Conv1d(3, 4, 5, { stride: 3 });
  lstm = new nn.LSTM(4, 5, { projSize: 2, batchFirst: true });
  forward(x: Tensor): Record<string, Tensor> {
    const [y, [h, c]] = this.lstm.forward(this.conv.call(x).transpose(1, 2));
    return { y, h, c };
  }
}

test('LSTM projSize over a stride-3 conv\'s length, T in [5, 14], matches PyTorch at 1, 2 and 4 steps from one artifact', async () => {
  const net = new StridedLSTM();
  net.loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'strided_lstm', module: net, inputs: { x: { shape: ['B', 3, 'T'], max: { B: 2, T: 14 }, min: { T: 5 } } },
    forward: (m: StridedLSTM, i: Record<string, Tensor>) => m.forward(i.x!),
  });
  const g = traceModel(def);
  expect(g.outputs.map((o) => o.node.type.dims)).toEqual([['B', 'floor((T+1)/3)-1', 2], [1, 'B', 2], [1, 'B', 5]]);
  const bytes = (await compileModel(def, { isas: TEST_ISAS })).bytes;
  const one = await loadModelBytes(bytes), two = await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' });
  for (const [B, T] of [[2, 5], [1, 8], [2, 14]] as const) {
    const x = io.get(`input.x_t${T}`)!;
    const feeds = { x: { data: x.data as Float32Array, shape: x.shape } };
    const out = one.run(feeds), out2 = two.run(feeds), ref = interpret(g, { x: feeds.x.data }, undefined, { B, T });
    for (const name of ['y', 'h', 'c']) {
      const want = io.get(`output.${name}_t${T}`)!;
      expect(one.outputShapes[name], `${name} at T=${T}`).toEqual(want.shape);
      expectTorch(out[name] as Float32Array, want.data as Float32Array, `compiled ${name} at T=${T}`);
      expectTorch(ref[name] as Float32Array, want.data as Float32Array, `reference ${name} at T=${T}`);
      expect(Array.from(out2[name] as Float32Array), `2 threads ${name} at T=${T}`).toEqual(Array.from(out[name] as Float32Array));
    }
  }
  one.dispose(); two.dispose();
});

test('loop: a count is checked at its least sizes, from the declared minimum', () => {
  const tr = (min: Record<string, number>) => traceModel(defineModel({
    name: 't', module: new StridedLSTM(), inputs: { x: { shape: ['B', 'T'], max: { B: 2, T: 9 }, min } },
    forward: (_m: StridedLSTM, { x }: Record<string, Tensor>) => loop('T-4', { k: zeros([1]) }, ({ k }, t) => ({ next: { k: k! }, emit: { t: t.float().add(x!.sum()) } })),
  })).outputs[0]!.node.type.dims;
  expect(tr({ T: 5 })).toEqual(['T-4']);
  expect(() => tr({ T: 4 })).toThrow("loop: steps must be an integer in [1, 2^31) or a size of the model's inputs (a name such as 'T', a polynomial such as 'T+1', or x.dim(i)); got 'T-4', which is 0 at its least sizes (declared minimum T ≥ 4)");
  expect(() => tr({})).toThrow("got 'T-4', which is -3 at its least sizes (every size runs from 1 to its bound)");
});
