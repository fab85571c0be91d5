// Conv3d, MaxPool3d and AvgPool3d against PyTorch 1.13 (tests/fixtures/torch-extra/volumetric,
// made by make_volumetric.py), compiled (every test ISA) and in the reference interpreter; then
// hand-computed values, a run-time batch, and misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'volumetric');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `volumetric/${f}`);

class Net extends Module {
  c1 = new nn.Conv3d(3, 4, [2, 3, 2], { stride: [2, 1, 2], padding: [1, 1, 0] });
  c2 = new nn.Conv3d(3, 6, 3, { dilation: [2, 1, 2], groups: 3, padding: [0, 1, 2], bias: false });
  c3 = new nn.Conv3d(3, 2, [2, 3, 4], { padding: 'same', dilation: [1, 2, 1] });
  mp1 = new nn.MaxPool3d(2);
  mp2 = new nn.MaxPool3d([3, 2, 3], { stride: 2, padding: 1, ceilMode: true });
  mp3 = new nn.MaxPool3d(3, { stride: [1, 2, 1], padding: 1, dilation: [1, 2, 2] });
  ap1 = new nn.AvgPool3d(3, { stride: 2, padding: 1 });
  ap2 = new nn.AvgPool3d(3, { stride: 2, padding: 1, countIncludePad: false });
  ap3 = new nn.AvgPool3d([2, 3, 3], { stride: 2, padding: 1, ceilMode: true });
  ap4 = new nn.AvgPool3d([2, 3, 3], { stride: 2, padding: 1, ceilMode: true, countIncludePad: false });
  ap5 = new nn.AvgPool3d([2, 2, 3], { stride: [1, 2, 2], divisorOverride: 5 });
  forward(): never { throw new Error('unused'); }
}

test('Conv3d (stride, padding, dilation, groups, same, no bias, unbatched), MaxPool3d, AvgPool3d (ceil, count_include_pad, divisor) match PyTorch', async () => {
  const net = new Net();
  net.loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'volumetric', module: net, inputs: { x: [2, 3, 5, 6, 7], u: [3, 4, 5, 6] },
    forward: (m: Net, i: Record<string, Tensor>) => {
      const x = i.x!, u = i.u!;
      return {
        conv_stride_pad: m.c1.call(x), conv_dil_groups: m.c2.call(x), conv_same: m.c3.call(x), conv_unbatched: m.c1.call(u),
        max_default: m.mp1.call(x), max_ceil_pad: m.mp2.call(x), max_dilation: m.mp3.call(x), max_unbatched: m.mp2.call(u),
        avg_cip: m.ap1.call(x), avg_nocip: m.ap2.call(x), avg_ceil_cip: m.ap3.call(x), avg_ceil_nocip: m.ap4.call(x),
        avg_divisor: m.ap5.call(x), avg_functional: F.avgPool3d(u, 2, { stride: 1, padding: 1, ceilMode: true }),
      };
    },
  });
  const feeds = Object.fromEntries(['x', 'u'].map((n) => [n, io.get(`input.${n}`)!.data as Float32Array]));
  const ref = interpret(traceModel(def), feeds);
  const model = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const out = model.run(feeds);
  const names = [...io.keys()].filter((k) => k.startsWith('output.')).map((k) => k.slice(7));
  expect(names.length).toBe(14);
  for (const name of names) {
    const want = io.get(`output.${name}`)!.data as Float32Array;
    expectTorch(out[name] as Float32Array, want, `compiled ${name}`);
    expectTorch(ref[name] as Float32Array, want, `reference ${name}`);
  }
  model.dispose();
});
