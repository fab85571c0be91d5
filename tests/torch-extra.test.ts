// DSL options checked against PyTorch 1.13 (tests/fixtures/torch-extra/dsl_options, made by
// hand-written torch code): LayerNorm without elementwise_affine, GELU(approximate='tanh') with
// NaN/±Inf inputs, MultiheadAttention weights per head (average_attn_weights=False). One compile.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, nn, Module, readSafetensors, Seq2SeqLSTM, Seq2SeqTransformer, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { compare } from '../compiler/conformance/run.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra');
const read = (c: string, f: string) => readSafetensors(readFileSync(join(FIX, c, f)), `${c}/${f}`);

class Options extends Module {
  ln = new nn.LayerNorm(5, 1e-3, { elementwiseAffine: false });
  gelu = new nn.GELU({ approximate: 'tanh' });
  mha = new nn.MultiheadAttention(6, 3, { kdim: 4, vdim: 5 });
  forward(): never { throw new Error('unused'); }
}
class Unbatched extends Module {
  conv = new nn.Conv2d(2, 3, [5, 3], { padding: 'same', dilation: [1, 2] });
  pool = new nn.MaxPool2d(2);
  mha = new nn.MultiheadAttention(4, 2, { kdim: 3, vdim: 5 });
  enc = new nn.TransformerEncoderLayer(6, 3, { dimFeedforward: 7, dropout: 0, batchFirst: true });
  forward(): never { throw new Error('unused'); }
}
class Both extends Module {
  constructor(readonly a = new Options(), readonly b = new Unbatched()) { super(); }
  override namedChildren(): Array<[string, Module]> { return [['a', this.a], ['b', this.b]]; }
  forward(): never { throw new Error('unused'); }
}

test('PyTorch fixtures: LayerNorm without affine, GELU tanh (NaN/Inf), per-head MHA weights; unbatched conv (padding same), MHA, encoder layer', async () => {
  const m = new Both();
  m.a.loadStateDict(stateDictFrom(read('dsl_options', 'weights.safetensors')));
  m.b.loadStateDict(stateDictFrom(read('unbatched', 'weights.safetensors')));
  const def = defineModel({
    name: 'torch_extra', module: m,
    inputs: { x: [2, 5], g: [8], q: [3, 2, 6], k: [4, 2, 4], v: [4, 2, 5],
      ux: [2, 7, 6], uq: [3, 4], uk: [5, 3], uv: [5, 5], ukpm: { shape: [5], dtype: 'bool' }, ue: [4, 6] },
    forward: (mod: Both, i: Record<string, Tensor>) => {
      const { a, b } = mod;
      const [y, w] = a.mha.call(i.q!, i.k!, i.v!, { needWeights: true, averageAttnWeights: false });
      const [uy, uw] = b.mha.call(i.uq!, i.uk!, i.uv!, { keyPaddingMask: i.ukpm!, averageAttnWeights: false });
      return { ln_gelu: a.gelu.call(a.ln.call(i.x!)), gelu: a.gelu.call(i.g!), y, w: w!,
        conv: b.pool.call(b.conv.call(i.ux!)), mha: uy, uw: uw!, enc: b.enc.call(i.ue!) };
    },
  });
  const model = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const io1 = read('dsl_options', 'io.safetensors'), io2 = read('unbatched', 'io.safetensors');
  const f32 = (io: typeof io1, n: string) => io.get(`input.${n}`)!.data as Float32Array;
  const out = model.run({ ...Object.fromEntries(['x', 'g', 'q', 'k', 'v'].map((n) => [n, f32(io1, n)])),
    ...Object.fromEntries(['x', 'q', 'k', 'v', 'e'].map((n) => [`u${n}`, f32(io2, n)])), ukpm: Uint8Array.from(io2.get('input.kpm')!.data) });
  const wanted: Array<[string, typeof io1, string]> = [['ln_gelu', io1, 'ln_gelu'], ['gelu', io1, 'gelu'], ['y', io1, 'y'], ['w', io1, 'w'],
    ['conv', io2, 'conv'], ['mha', io2, 'mha'], ['uw', io2, 'w'], ['enc', io2, 'enc']];
  for (const [name, io, key] of wanted) {
    const want = io.get(`output.${key}`)!.data as Float32Array, got = out[name]!;
    expect(got.length, name).toBe(want.length);
    // NaN and ±Inf must come out exactly where PyTorch gives them (compare() fails on them).
    const special = Array.from(want, (v) => !Number.isFinite(v));
    expect(Array.from(got).filter((_, j) => special[j]), name).toEqual(Array.from(want).filter((_, j) => special[j]));
    const { bad, maxErr } = compare(got.filter((_, j) => !special[j]), want.filter((_, j) => !special[j]), 1e-4, 1e-4);
    expect(bad, `${name}: max err ${maxErr}`).toBe(-1);
  }
  model.dispose();
});

test('unsupported DSL options throw naming the option', () => {
  expect(() => new nn.GELU({ approximate: 'erf' as 'tanh' })).toThrow(/approximate must be 'none' or 'tanh'/);
  expect(() => new nn.LayerNorm([])).toThrow(/LayerNorm: normalized_shape must name at least one dimension, got \[\]/);
  expect(() => new nn.LayerNorm(4, { elementwiseAffine: false } as unknown as number)).toThrow(/eps must be a non-negative number/);
  expect(() => new nn.LayerNorm(4, 1e-5, { bias: false } as never)).toThrow(/unknown option 'bias'/);
  expect(() => new nn.MaxPool2d(2, { countIncludePad: true } as never)).toThrow(/unknown option 'countIncludePad'/);
  expect(() => new nn.Dropout(2)).toThrow(/p must be a number in \[0, 1\], got 2/);
  const tr = <M extends Module>(mod: M, fwd?: (m: M, i: Record<string, Tensor>) => Tensor) => traceModel(defineModel({ name: 't', module: mod, inputs: { x: [1, 2, 6, 6] }, ...(fwd ? { forward: fwd } : {}) }));
  expect(() => tr(new nn.Conv2d(2, 2, 3, { padding: 'same', stride: 2 }))).toThrow(/padding 'same' needs stride 1, got stride 2,2/);
  expect(() => tr(new nn.MultiheadAttention(6, 2, { batchFirst: true }), (m: nn.MultiheadAttention, i) => m.call(i.x!.reshape(2, 6, 6), i.x!.reshape(2, 6, 6), i.x!.reshape(2, 6, 6), { averageAttnWeights: 'no' as never })[0]))
    .toThrow('MultiheadAttention.forward: option averageAttnWeights must be true or false, got "no"');
  const seq = <M extends Module>(mod: M, fwd: (m: M, i: Record<string, Tensor>) => Tensor) => traceModel(defineModel({ name: 't', module: mod, inputs: { x: [5, 2, 3], h: [1, 2, 4] }, forward: fwd }));
  expect(() => seq(new nn.GRU(3, 4), (m: nn.GRU, i) => m.call(i.x!, [i.h!, i.h!] as never)[0])).toThrow(/GRU: h0 must be a tensor, got an array of 2 \(only LSTM takes a pair/);
  expect(() => seq(new nn.LSTM(3, 4), (m: nn.LSTM, i) => m.call(i.x!, i.h! as never)[0])).toThrow(/LSTM: the initial state must be a pair \[h0, c0\], got a single tensor/);
  expect(() => seq(new nn.Flatten(2, 1), (m: nn.Flatten, i) => m.call(i.x!))).toThrow(/flatten: start_dim 2 comes after end_dim 1/);
  expect(() => new nn.Embedding(4, 2, { paddingIdx: 4 })).toThrow(/padding_idx must be an integer in \[-4, 4\), got 4/);
  expect(() => new nn.Embedding(4, 2, { max_norm: 1 } as never)).toThrow(/unknown option 'max_norm'/);
  expect(() => new nn.LSTM(3, 4, { dropout: 2 })).toThrow(/dropout must be a number in \[0, 1\], got 2/);
});

test('a state_dict saved with a prefix (nn.DataParallel) says which prefix to strip', () => {
  const lin = new nn.Linear(3, 2);
  const sd = { 'module.weight': { shape: [2, 3], data: new Float32Array(6) }, 'module.bias': { shape: [2], data: new Float32Array(2) } };
  expect(() => lin.loadStateDict(sd)).toThrow(/missing: weight, bias \| unexpected: module.weight, module.bias \(the file's names carry the prefix 'module.': strip it/);
});

test('the zoo models check their sizes and bos', () => {
  expect(() => new Seq2SeqLSTM(10, 10, 4, 8, 12, 3)).toThrow(/Seq2SeqLSTM: bos must be a token id in \[0, 10\), got 12/);
  expect(() => new Seq2SeqLSTM(10, 10, 4, 8, 1, 0)).toThrow(/Seq2SeqLSTM: steps must be a positive integer, got 0/);
  expect(() => new Seq2SeqTransformer(10, 4, 2, 1, 8, -1, 3)).toThrow(/Seq2SeqTransformer: bos must be a token id in \[0, 10\), got -1/);
  expect(() => new Seq2SeqTransformer(10, 4, 2, 1.5, 8, 1, 3)).toThrow(/Seq2SeqTransformer: layers must be a positive integer, got 1.5/);
});

test('Embedding paddingIdx starts as a zero row (negative counts from the end); RNN dropout is accepted (identity at inference)', () => {
  const e = new nn.Embedding(4, 3, { paddingIdx: -1 });
  expect(e.paddingIdx).toBe(3);
  expect(Array.from(e.weight.data.slice(9))).toEqual([0, 0, 0]);
  expect(e.weight.data.slice(0, 9).some((v) => v !== 0)).toBe(true);
  expect(new nn.GRU(3, 4, { numLayers: 2, dropout: 0.2 }).numLayers).toBe(2);
});
