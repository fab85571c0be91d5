// Attention and Transformer modules against the reference interpreter (fused kernel and
// decomposed graph), and KV-cache generation against full forwards.
import { describe, expect, test } from 'vitest';
import { compileModel } from '../compiler/driver/compile.ts';
import { defineGPT, F, GPT, nn, ones, traceModel, type Tensor } from '../compiler/dsl/index.ts';
import { interpret } from '../compiler/reference/interpret.ts';
import { rng } from '../compiler/dsl/module.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { batches, checkGraph, maxRelErr, TEST_ISAS } from './helpers/e2e.ts';

const T = (r: () => number, n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);

describe('attention vs reference, fused and decomposed', () => {
  const cases: Array<[string, () => nn.Module, Record<string, { shape: number[]; dtype?: 'f32' | 'i32' | 'bool' } | number[]>, (m: nn.Module, i: Record<string, Tensor>) => Record<string, Tensor>]> = [
    ['self-attention, 3 heads of d=5, key padding', () => new nn.MultiheadAttention(15, 3, { batchFirst: true }),
      { x: [2, 7, 15], pad: { shape: [2, 7], dtype: 'bool' } },
      (m, i) => ({ y: (m as nn.MultiheadAttention).call(i.x!, i.x!, i.x!, { keyPaddingMask: i.pad, needWeights: false })[0] })],
    ['cross-attention, packed kv (key is value), seq-first, causal-style attn mask', () => new nn.MultiheadAttention(8, 2),
      { q: [5, 3, 8], kv: [9, 3, 8], am: { shape: [5, 9], dtype: 'bool' } },
      (m, i) => ({ y: (m as nn.MultiheadAttention).call(i.q!, i.kv!, i.kv!, { attnMask: i.am, needWeights: false })[0] })],
    ['cross-attention with kdim/vdim, both masks, head-averaged weights', () => new nn.MultiheadAttention(12, 4, { kdim: 6, vdim: 10, batchFirst: true }),
      { q: [2, 4, 12], k: [2, 6, 6], v: [2, 6, 10], am: { shape: [4, 6], dtype: 'bool' }, pad: { shape: [2, 6], dtype: 'bool' } },
      (m, i) => { const [y, w] = (m as nn.MultiheadAttention).call(i.q!, i.k!, i.v!, { attnMask: i.am, keyPaddingMask: i.pad }); return { y, w: w! }; }],
    ['causal self-attention, 1 head, d=33', () => new nn.MultiheadAttention(33, 1, { batchFirst: true }),
      { x: [1, 17, 33] }, (m, i) => ({ y: (m as nn.MultiheadAttention).call(i.x!, i.x!, i.x!, { isCausal: true, needWeights: false })[0] })],
    ['F.scaledDotProductAttention, dv ≠ d', () => new nn.Identity(),
      { q: [2, 3, 5, 4], k: [2, 3, 6, 4], v: [2, 3, 6, 7] }, (_m, i) => ({ y: F.scaledDotProductAttention(i.q!, i.k!, i.v!, { isCausal: true }) })],
    ['encoder layer post-LN relu, seq-first', () => new nn.TransformerEncoderLayer(16, 4, { dimFeedforward: 24 }),
      { x: [5, 2, 16] }, (m, i) => ({ y: (m as nn.TransformerEncoderLayer).call(i.x!) })],
    ['nn.Transformer pre-LN gelu, 2+1 layers', () => new nn.Transformer(12, 3, { numEncoderLayers: 2, numDecoderLayers: 1, dimFeedforward: 20, batchFirst: true, normFirst: true, activation: 'gelu' }),
      { src: [2, 6, 12], tgt: [2, 5, 12] }, (m, i) => ({ y: (m as nn.Transformer).call(i.src!, i.tgt!, { tgtIsCausal: true }) })],
  ];
  const both = batches({ fused: { attention: 'fused' }, unfused: { attention: 'unfused' } });
  for (const [name, make, inputs, forward] of cases) {
    const check = both(() => traceModel({ name: 'a', module: make(), inputs, forward }));
    test(name, async () => {
      const { fused } = await check();
      if (!('w' in fused.reference)) expect(fused.graph.nodes.some((n) => n.op === 'attention')).toBe(true);
    });
  }

  test('masks must be boolean and shaped as PyTorch says', () => {
    const def = { name: 'bad', module: new nn.MultiheadAttention(8, 2, { batchFirst: true }), inputs: { x: [2, 3, 8], m: { shape: [2, 3], dtype: 'i32' as const } },
      forward: (m: nn.Module, i: Record<string, Tensor>) => (m as nn.MultiheadAttention).call(i.x!, i.x!, i.x!, { keyPaddingMask: i.m })[0] };
    expect(() => traceModel(def)).toThrow('attention: key_padding_mask must be a bool mask (true = not attended) or a float mask (added), got i32[2, 3]');
    const def2 = { ...def, inputs: { x: [2, 3, 8], m: { shape: [3, 2], dtype: 'bool' as const } } };
    expect(() => traceModel(def2)).toThrow('attention: key_padding_mask must be [2, 3], got [3, 2]');
  });
});

test('a float mask is added to the scores: a 0/−inf causal mask equals isCausal', async () => {
  const L = 6, S = 6;
  const mha = new nn.MultiheadAttention(8, 2, { batchFirst: true });
  const floatCausal = Float32Array.from({ length: L * S }, (_, k) => (k % S > Math.floor(k / S) ? -Infinity : 0));
  const def = (useFloat: boolean) => ({
    name: 'm', module: mha, inputs: (useFloat ? { x: [2, L, 8], m: [L, S] } : { x: [2, L, 8] }) as Record<string, number[]>,
    forward: (m: nn.Module, i: Record<string, Tensor>) => (m as nn.MultiheadAttention).call(i.x!, i.x!, i.x!, { attnMask: i.m, isCausal: !useFloat, needWeights: false })[0],
  });
  const r = rng(4), x = T(r, 2 * L * 8);
  const a = await loadModelBytes((await compileModel(def(true), { isas: TEST_ISAS })).bytes), b = await loadModelBytes((await compileModel(def(false), { isas: TEST_ISAS })).bytes);
  expect(maxRelErr(a.run({ x, m: floatCausal }).y!, b.run({ x }).y!)).toBeLessThan(1e-5);
  await checkGraph(traceModel({ name: 'f', module: new nn.Identity(), inputs: { q: [1, 2, 4, 3], k: [1, 2, 5, 3], v: [1, 2, 5, 3], m: [4, 5] },
    forward: (_m, i) => ({ y: F.scaledDotProductAttention(i.q!, i.k!, i.v!, { attnMask: i.m }) }) }));
});

describe('GPT with a KV cache', () => {
  const cfg = { vocab: 37, context: 24, dModel: 16, nhead: 2, layers: 2, dimFeedforward: 24 };
  const make = async (chunk: number, capacity = 20) => {
    const gpt = new GPT(cfg);
    const def = defineGPT({ name: 'gpt', module: gpt, tokens: [1, 20], capacity, chunk });
    const c = await compileModel(def, { isas: TEST_ISAS });
    return { c, model: await loadModelBytes(c.bytes) };
  };

  test('prefill + decode give the same logits as a full forward, position by position', async () => {
    const { c, model } = await make(5);
    const r = rng(9);
    const tokens = Int32Array.from({ length: 20 }, () => Math.floor(r() * cfg.vocab));
    const full = model.run({ tokens }).logits as Float32Array; // [1, 20, V]
    const ref = interpret(c.traced, { tokens }).logits!;
    expect(maxRelErr(full, ref)).toBeLessThan(2e-5);
    const row = (t: number) => full.subarray(t * cfg.vocab, (t + 1) * cfg.vocab);
    model.reset();
    const prompt = 7; // chunks of 5: one full chunk, then a 2-token chunk
    expect(maxRelErr(model.prefill(tokens.subarray(0, prompt)), row(prompt - 1))).toBeLessThan(2e-5);
    expect(model.position).toBe(prompt);
    for (let t = prompt; t < 20; t++) expect(maxRelErr(model.decode(tokens[t]!), row(t))).toBeLessThan(2e-5);
    expect(model.position).toBe(20);
    expect(() => model.decode(1)).toThrow("the KV cache holds 20 tokens; at position 20 it cannot take 1 more (reset() to start over)");
    model.reset();
    expect(() => model.prefill([1, 99])).toThrow('token 99 at index 1 is outside the vocabulary [0, 37)');
    expect(() => model.generate([1, 2, 3], { maxNewTokens: 19 })).toThrow('3 prompt + 19 new tokens need 21 cache positions, the KV cache holds 20');
  });

  test('generate() is greedy decoding of the full forward, token by token', async () => {
    const { c, model } = await make(20);
    const prompt = [3, 1, 4, 1, 5];
    const seen: number[] = [];
    const out = model.generate(prompt, { maxNewTokens: 8, onToken: (t) => seen.push(t) });
    // Oracle: the reference interpreter on the full forward, re-run on the growing sequence.
    const seq = [...prompt];
    for (let i = 0; i < 8; i++) {
      const tokens = Int32Array.from({ length: 20 }, (_, j) => seq[j] ?? 0);
      const logits = interpret(c.traced, { tokens }).logits!;
      const row = Array.from(logits.subarray((seq.length - 1) * cfg.vocab, seq.length * cfg.vocab));
      seq.push(row.indexOf(Math.max(...row)));
    }
    expect(Array.from(out)).toEqual(seq);
    expect(seen).toEqual(seq.slice(prompt.length));
  });

  test('models without a KV cache say so', async () => {
    const c = await compileModel({ name: 'plain', module: new nn.Linear(2, 2), inputs: { x: [1, 2] } }, { isas: TEST_ISAS });
    const m = await loadModelBytes(c.bytes);
    expect(() => m.generate([1], { maxNewTokens: 1 })).toThrow("model 'plain' is not a language model with a KV cache");
  });
});

test('the reference attends over 200,000 keys (a row of scores is not spread into Math.max)', () => {
  const n = 200_000;
  const g = traceModel({ name: 'long', module: new nn.Identity(), inputs: { q: [1, 1, 1, 1], k: [1, 1, n, 1], v: [1, 1, n, 1] },
    forward: (_m, i) => ({ y: F.scaledDotProductAttention(i.q!, i.k!, i.v!) }) });
  // Every score is q·k = 0: the weights are uniform and y is the mean of v (alternating 0 and 1).
  const y = interpret(g, { q: Float32Array.of(1), k: new Float32Array(n), v: Float32Array.from({ length: n }, (_, j) => j % 2) }).y!;
  expect(y[0]).toBeCloseTo(0.5, 6);
});

test('TransformerEncoder/Decoder check their count and norm (-1 built no layers, a wrong norm was a TypeError at call time)', () => {
  const layer = () => new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
  expect(() => new nn.TransformerEncoder(layer(), -1)).toThrow('TransformerEncoder: num_layers must be a non-negative integer, got -1');
  expect(() => new nn.TransformerEncoder({} as never, 2)).toThrow('TransformerEncoder: the first argument must be a TransformerEncoderLayer, got an object');
  expect(() => new nn.TransformerEncoder(layer(), 2, 3 as never)).toThrow('TransformerEncoder: norm (the third argument, positional as in PyTorch) must be a module (e.g. nn.LayerNorm) or left out, got 3');
  // The right arguments still build the stack (null is PyTorch's norm=None).
  const enc = new nn.TransformerEncoder(layer(), 2, null as never);
  expect(enc.layers.length).toBe(2);
  expect(traceModel({ name: 'e', module: enc, inputs: { x: [1, 3, 8] } }).nodes.length).toBeGreaterThan(0);
});

test('F.scaledDotProductAttention on [B, L, d] and [L, d] (one head; a [B, L, S] mask) equals softmax(q·kᵀ/√d, masked)·v written out', async () => {
  const by = (q: Tensor, k: Tensor, v: Tensor, allow?: Tensor) => {
    const s = q.matmul(k.mT).mul(1 / Math.sqrt(q.size(-1)));
    return (allow ? F.whereOp(allow, s, -Infinity) : s).softmax(-1).matmul(v);
  };
  const def = {
    name: 'sdpa3', module: new nn.Identity(),
    inputs: { q: [2, 5, 4], k: [2, 6, 4], v: [2, 6, 3], m: { shape: [2, 5, 6], dtype: 'bool' as const } },
    forward: (_m: nn.Module, { q, k, v, m }: Record<string, Tensor>) => ({
      y3: F.scaledDotProductAttention(q!, k!, v!, { attnMask: m }), w3: by(q!, k!, v!, m),
      y2: F.scaledDotProductAttention(q!.select(0, 1), k!.select(0, 1), v!.select(0, 1), { isCausal: true }),
      w2: by(q!.select(0, 1), k!.select(0, 1), v!.select(0, 1), ones([5, 6]).tril().gt(0)),
    }),
  };
  const r = rng(9), feeds = { q: T(r, 40), k: T(r, 48), v: T(r, 36), m: Uint8Array.from({ length: 60 }, (_, j) => (j % 6 === 0 || (j * 7) % 5 > 1 ? 1 : 0)) };
  const ref = interpret(traceModel(def), feeds);
  expect(maxRelErr(ref.y3!, ref.w3!)).toBeLessThan(1e-6);
  expect(maxRelErr(ref.y2!, ref.w2!)).toBeLessThan(1e-6);
  const out = (await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes)).run(feeds);
  expect(maxRelErr(out.y3!, ref.w3!)).toBeLessThan(1e-5);
  expect(maxRelErr(out.y2!, ref.w2!)).toBeLessThan(1e-5);
  expect(() => traceModel({ ...def, forward: (_m: nn.Module, i: Record<string, Tensor>) => F.scaledDotProductAttention(i.q!, i.k!.unsqueeze(0), i.v!) }))
    .toThrow(/scaled_dot_product_attention: q, k, v must be \[B, H, L, d\], \[B, L, d\] or \[L, d\] alike, got \[2, 5, 4\], \[1, 2, 6, 4\], \[2, 6, 3\]/);
});
