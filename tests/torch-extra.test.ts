// DSL options checked against PyTorch 1.13 (tests/fixtures/torch-extra/dsl_options, made by
// hand-written torch code): LayerNorm without elementwise_affine, GELU(approximate='tanh') with
// NaN/±Inf inputs, MultiheadAttention weights per head (average_attn_weights=False). One compile.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, nn, Module, readSafetensors, stateDictFrom, type Tensor } from '../compiler/index.ts';
import { compare } from '../compiler/conformance/run.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const DIR = join(import.meta.dirname, 'fixtures', 'torch-extra', 'dsl_options');

class Options extends Module {
  ln = new nn.LayerNorm(5, 1e-3, { elementwiseAffine: false });
  gelu = new nn.GELU({ approximate: 'tanh' });
  mha = new nn.MultiheadAttention(6, 3, { kdim: 4, vdim: 5 });
  forward(): never { throw new Error('unused'); }
}

test('LayerNorm without affine, GELU tanh (NaN/Inf), per-head MHA weights match PyTorch', async () => {
  const m = new Options();
  m.loadStateDict(stateDictFrom(readSafetensors(readFileSync(join(DIR, 'weights.safetensors')), 'weights')));
  const def = defineModel({
    name: 'dsl_options', module: m,
    inputs: { x: [2, 5], g: [8], q: [3, 2, 6], k: [4, 2, 4], v: [4, 2, 5] },
    forward: (mod: Options, i: Record<string, Tensor>) => {
      const [y, w] = mod.mha.call(i.q!, i.k!, i.v!, { needWeights: true, averageAttnWeights: false });
      return { ln_gelu: mod.gelu.call(mod.ln.call(i.x!)), gelu: mod.gelu.call(i.g!), y, w: w! };
    },
  });
  const model = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const io = readSafetensors(readFileSync(join(DIR, 'io.safetensors')), 'io');
  const out = model.run(Object.fromEntries(['x', 'g', 'q', 'k', 'v'].map((n) => [n, io.get(`input.${n}`)!.data as Float32Array])));
  for (const name of ['ln_gelu', 'gelu', 'y', 'w']) {
    const want = io.get(`output.${name}`)!.data as Float32Array, got = out[name]!;
    // NaN and ±Inf must come out exactly where PyTorch gives them (compare() fails on them).
    const special = Array.from(want, (v) => !Number.isFinite(v));
    expect(Array.from(got).filter((_, j) => special[j]), name).toEqual(Array.from(want).filter((_, j) => special[j]));
    const { bad, maxErr } = compare(got.filter((_, j) => !special[j]), want.filter((_, j) => !special[j]), 1e-4, 1e-4);
    expect(bad, `${name}: max err ${maxErr}`).toBe(-1);
  }
  expect(out.w!.length).toBe(2 * 3 * 3 * 4);
  model.dispose();
});

test('unsupported DSL options throw naming the option', () => {
  expect(() => new nn.GELU({ approximate: 'erf' as 'tanh' })).toThrow(/approximate must be 'none' or 'tanh'/);
  expect(() => new nn.LayerNorm([4, 5] as unknown as [number])).toThrow(/normalized_shape must be one dimension/);
  expect(() => new nn.LayerNorm(4, { elementwiseAffine: false } as unknown as number)).toThrow(/eps must be a non-negative number/);
  expect(() => new nn.LayerNorm(4, 1e-5, { bias: false } as never)).toThrow(/unknown option 'bias'/);
  expect(() => new nn.MaxPool2d(2, { ceilMode: true } as never)).toThrow(/unknown option 'ceilMode'/);
  expect(() => new nn.Embedding(4, 2, { paddingIdx: 4 })).toThrow(/padding_idx must be an integer in \[-4, 4\), got 4/);
  expect(() => new nn.Embedding(4, 2, { maxNorm: 1 } as never)).toThrow(/unknown option 'maxNorm'/);
  expect(() => new nn.LSTM(3, 4, { dropout: 2 })).toThrow(/dropout must be a number in \[0, 1\], got 2/);
});

test('Embedding paddingIdx starts as a zero row (negative counts from the end); RNN dropout is accepted (identity at inference)', () => {
  const e = new nn.Embedding(4, 3, { paddingIdx: -1 });
  expect(e.paddingIdx).toBe(3);
  expect(Array.from(e.weight.data.slice(9))).toEqual([0, 0, 0]);
  expect(e.weight.data.slice(0, 9).some((v) => v !== 0)).toBe(true);
  expect(new nn.GRU(3, 4, { numLayers: 2, dropout: 0.2 }).numLayers).toBe(2);
});
