// A long f32 cumsum against PyTorch 1.13 (tests/fixtures/torch-extra/cumsum_long, made by
// make_cumsum_long.py): PyTorch accumulates in double, so each output is the exact running sum
// rounded once; the compensated doubling scan gives the same within an ulp or two (the plain f32
// scan was 1.3e-5 off over 4,000 values), compiled and in the reference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compare } from '../compiler/conformance/run.ts';
import { compileModel, defineModel, interpret, nn, readSafetensors, traceModel, type Module, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'cumsum_long');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'cumsum_long/io.safetensors');

test('a long f32 cumsum is the running sum PyTorch gives, rounded once (compensated scan)', async () => {
  const def = defineModel({
    name: 'cs', module: new nn.Identity(), inputs: { x: [3000], big: [1000] },
    forward: (_m: Module, { x, big }: Record<string, Tensor>) => ({ cumsum: x!.cumsum(0), cumsum_big: big!.cumsum(0) }),
  });
  const feeds = { x: io.get('input.x')!.data as Float32Array, big: io.get('input.big')!.data as Float32Array };
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  for (const [where, out] of [['reference', interpret(traceModel(def), feeds)], ['compiled', m.run(feeds)]] as const) {
    for (const name of ['cumsum', 'cumsum_big']) {
      const want = io.get(`output.${name}`)!.data as Float32Array, got = out[name] as Float32Array;
      // Within two ulps of PyTorch's (relative 2.4e-7), or 1e-6 absolute near a zero crossing.
      const { bad, maxErr } = compare(got, want, 2.4e-7, name === 'cumsum' ? 1e-6 : 1e-3);
      expect(bad, `${where} ${name}: max err ${maxErr}`).toBe(-1);
    }
  }
  m.dispose();
});
