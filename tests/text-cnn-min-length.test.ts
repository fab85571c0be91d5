// A length chosen at run time with a declared minimum, against PyTorch 1.13
// (tests/fixtures/torch-extra/text_cnn_min_length, made by make_text_cnn_min_length.py): Kim's text
// CNN (Embedding → Conv1d with kernels 3, 4, 5 unpadded → ReLU → max over time → cat → Linear), which
// T = 1 cannot take, a reflect pad of 2 and TopK of 3 along time (T ≥ 3), compiles once with min: { T: 5 }, max: { T: 40 } and matches PyTorch at T = 5, 17
// and 40 on 1 and 2 threads (bit-identical) and in the reference interpreter; the runtime and the
// interpreter refuse T = 4, and a minimum that is not one is refused at compile time, by name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { cat, compileModel, defineModel, F, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'text_cnn_min_length');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `text_cnn_min_length/${f}`);

class TextCnn extends Module {
  emb = new nn.Embedding(30, 8);
  convs = new nn.ModuleList([3, 4, 5].map((k) => new nn.Conv1d(8, 6, k)));
  fc = new nn.Linear(18, 3);
  forward(tokens: Tensor): Record<string, Tensor> {
    const x = this.emb.call(tokens).transpose(1, 2); // [B, 8, T]
    const feats = this.convs.items.map((c) => F.relu((c as nn.Conv1d).call(x)));
    // Beside the classifier: the kernel-3 conv over the embeddings reflect-padded by 2 (which needs T ≥ 3).
    const refl = (this.convs.items[0] as nn.Conv1d).call(F.pad(x, [2, 2], 'reflect'));
    // And TopK of 3 along time (T − 2 ≥ 3 long).
    return { logits: this.fc.call(cat(feats.map((f) => f.amax(-1)), 1)), feat: feats[2]!, refl, top: feats[0]!.topk(3, -1)[0]! };
  }
}

const spec = (min: Record<string, number | string>, max: Record<string, number> = { B: 2, T: 40 }) => ({ shape: ['B', 'T'], dtype: 'i32' as const, max, min });

test('Kim\'s text CNN, unpadded kernels 3, 4, 5 over T in [5, 40], matches PyTorch at T = 5, 17, 40 from one artifact; T = 4 is refused', async () => {
  const net = new TextCnn();
  net.loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({ name: 'text_cnn_min_length', module: net, inputs: { tokens: spec({ T: 5 }) as never } });
  const g = traceModel(def);
  // The kernel-5 features are T − 4 long: 1 at the least length.
  expect(Object.fromEntries(g.outputs.map((o) => [o.name, o.node.type.dims]))).toEqual({ logits: ['B', 3], feat: ['B', 6, 'T-4'], refl: ['B', 6, 'T+2'], top: ['B', 6, 3] });
  const { bytes, manifest } = await compileModel(def, { isas: TEST_ISAS });
  expect(manifest.entries.run).toMatchObject({ sizes: { B: 2, T: 40 }, min: { T: 5 } });
  const one = await loadModelBytes(bytes), two = await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' });
  for (const t of [5, 17, 40]) {
    const tok = io.get(`input.t${t}`)!, feeds = { tokens: { data: tok.data as Int32Array, shape: tok.shape } };
    const [B] = tok.shape as [number, number];
    const ref = interpret(g, { tokens: feeds.tokens.data }, undefined, { B, T: t });
    const out = one.run(feeds), out2 = two.run(feeds);
    expect(one.outputShapes).toEqual({ logits: [B, 3], feat: [B, 6, t - 4], refl: [B, 6, t + 2], top: [B, 6, 3] });
    for (const [name, key] of [['logits', `t${t}`], ['feat', `feat_t${t}`], ['refl', `refl_t${t}`], ['top', `top_t${t}`]] as const) {
      const want = io.get(`output.${key}`)!.data as Float32Array;
      expectTorch(out[name] as Float32Array, want, `compiled ${name} at T=${t}`);
      expectTorch(ref[name] as Float32Array, want, `reference ${name} at T=${t}`);
      expect(Array.from(out2[name] as Float32Array), `2 threads ${name} at T=${t}`).toEqual(Array.from(out[name] as Float32Array));
    }
  }
  // Below the minimum: refused by the runtime (1 and 2 threads) and the interpreter, naming the input, the size and the range.
  expect(() => one.run({ tokens: { data: new Int32Array(8), shape: [2, 4] } })).toThrow(/input 'tokens': dim 1 is size 'T', which must be an integer in \[5, 40\]; the shape \[2, 4\] says it is 4/);
  expect(() => two.run({ tokens: { data: new Int32Array(1), shape: [1, 1] } })).toThrow(/input 'tokens': dim 1 is size 'T', which must be an integer in \[5, 40\]; the shape \[1, 1\] says it is 1/);
  expect(() => interpret(g, { tokens: new Int32Array(8) }, undefined, { B: 2, T: 4 })).toThrow(/size 'T' must be an integer in \[5, 40\], got 4/);
  // And the model still runs after a refused call.
  const tok = io.get('input.t5')!;
  expectTorch(one.run({ tokens: { data: tok.data as Int32Array, shape: tok.shape } }).logits as Float32Array, io.get('output.t5')!.data as Float32Array, 'after a refused call');
  one.dispose(); two.dispose();
});

test('without the minimum the kernel is refused, naming the way out; a minimum that is not one is refused by name', () => {
  const tr = (tokens: unknown, other?: unknown) => traceModel(defineModel({
    name: 't', module: new TextCnn(), inputs: (other ? { tokens, mask: other } : { tokens }) as never,
    forward: (m: TextCnn, i: Record<string, Tensor>) => m.forward(i.tokens!),
  }));
  expect(() => tr(spec({}))).toThrow(/conv1d: the kernel 3 spans 3 cells, so dim 2 of input \[B, 8, T\] must be at least 3 long, but 'T' is chosen at run time and may be as small as 1 \(every size runs from 1 to its bound\); pad the input, declare a larger minimum \(min: \{ T: … \} beside max\)/);
  expect(() => tr(spec({ T: 4 }))).toThrow(/conv1d: the kernel 5 spans 5 cells, .* may be as small as 4 \(declared minimum T ≥ 4\)/);
  expect(() => tr(spec({ T: 41 }))).toThrow("input 'tokens': min.T is 41, above its bound max.T = 40; a size runs from min to max");
  expect(() => tr(spec({ T: 0 }))).toThrow("input 'tokens': min.T must be an integer from 1 to max.T (40), got 0");
  expect(() => tr(spec({ T: 5.5 }))).toThrow("input 'tokens': min.T must be an integer from 1 to max.T (40), got 5.5");
  expect(() => tr(spec({ T: '5' }))).toThrow(/input 'tokens': min.T must be an integer from 1 to max.T \(40\), got "5"/);
  expect(() => tr(spec({ L: 5 }))).toThrow("input 'tokens': min gives size 'L', which its shape [B, T] does not name");
  expect(() => tr({ ...spec({}), min: [5] })).toThrow(/input 'tokens': min must be an object of least values by size name, e.g. \{ T: 3 \}, got an array of 1/);
  // A size is one size: two inputs that name it give it one minimum (the bound may come from the other input).
  expect(() => tr(spec({ T: 5 }), { shape: ['B', 'T'], max: { B: 2, T: 40 }, min: { T: 6 } })).toThrow("input 'mask': min.T is 6 but input 'tokens' gives it 5; a size has one minimum");
  expect(tr(spec({ T: 5 }), { shape: ['B', 'T'], min: { T: 5 } }).outputs[1]!.node.type).toMatchObject({ dims: ['B', 6, 'T-4'], min: { T: 5 } });
  // Every check made at the least size takes the minimum: a reflect pad of 2, a slice from 2, TopK of 3 and batch statistics over T.
  const at = (min: Record<string, number>, fwd: (x: Tensor) => Tensor) => traceModel(defineModel({
    name: 't', module: new nn.Identity(), inputs: { x: { shape: ['B', 'T'], max: { B: 4, T: 40 }, min } },
    forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!),
  })).outputs[0]!.node.type.dims;
  expect(at({ T: 3 }, (x) => F.pad(x.unsqueeze(1), [2, 2], 'reflect'))).toEqual(['B', 1, 'T+4']);
  expect(() => at({ T: 2 }, (x) => F.pad(x.unsqueeze(1), [2, 2], 'reflect'))).toThrow("pad: mode reflect pads dim 2 of run-time size 'T' (as small as 2: declared minimum T ≥ 2) by 0 to 1 cells a side, got (2, 2)");
  expect(at({ T: 3 }, (x) => x.slice(1, 2))).toEqual(['B', 'T-2']);
  expect(() => at({ T: 2 }, (x) => x.slice(1, 2))).toThrow(/slice: range 2:2:1 is invalid .* with B=1, T=2 .*a symbolic size must work for every value from its declared minimum \(T ≥ 2\) to its bound/);
  expect(at({ T: 3 }, (x) => x.topk(3, 1)[0]!)).toEqual(['B', 3]);
  expect(() => at({}, (x) => x.topk(3, 1)[0]!)).toThrow(/topk: .* with B=1, T=1 .*from 1 to its bound/);
  const bn = (x: Tensor) => F.batchNorm(x.unsqueeze(1), undefined, undefined, undefined, undefined, { training: true });
  expect(at({ B: 2 }, bn)).toEqual(['B', 1, 'T']);
  expect(() => at({}, bn)).toThrow(/batch_norm: the batch's statistics need more than 1 value per channel, input \[B, 1, T\] has 1 when its run-time sizes are at their least/);
  // A minimum equal to the bound: T is always 40 (the runtime still reads it off the inputs), the features a fixed 36 long.
  expect(tr(spec({ T: 40 })).outputs[1]!.node.type.dims).toEqual(['B', 6, 36]);
});
