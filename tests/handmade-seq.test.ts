// Sequence models written by hand in the DSL (not the zoo's classes), against PyTorch 1.13
// (tests/fixtures/torch-extra/handmade_seq_*, made by make_handmade_seq.py): a cell stack stepped
// one call at a time through state, an encoder-decoder with attention (teacher forcing and greedy
// feedback in a loop), a decoder-only transformer with a KV cache of its own (prefill, decode,
// generate) and attention variants; compiled (every test ISA, and 2 threads: the same bits) and
// in the reference interpreter.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { arange, cat, compileModel, defineModel, F, ints, interpret, loop, Module, nn, readSafetensors, stack, stateDictFrom, traceModel, zeros, type EntryDefinition, type Tensor } from '../compiler/index.ts';

type KVCache = nn.KVCache;
import { traceEntries } from '../compiler/dsl/trace.ts';
import { loadModelBytes, type Model } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch, expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra');
const read = (c: string, f: string) => readSafetensors(readFileSync(join(FIX, c, f)), `${c}/${f}`);
const weights = (c: string) => stateDictFrom(read(c, 'weights.safetensors'));
const f32 = (io: Map<string, { data: unknown }>, k: string) => io.get(k)!.data as Float32Array;

/** The models on 1 thread and on 2 (split on every call). */
async function both(def: Parameters<typeof compileModel>[0]): Promise<{ models: Model[]; compiled: Awaited<ReturnType<typeof compileModel>> }> {
  const compiled = await compileModel(def, { isas: TEST_ISAS });
  return { compiled, models: [await loadModelBytes(compiled.bytes), await loadModelBytes(compiled.bytes, { threads: 2, threadPolicy: 'always' })] };
}

class StepNet extends Module {
  cell = new nn.LSTMCell(3, 5);
  gcell = new nn.GRUCell(5, 4);
  lstm = new nn.LSTM(3, 4, { numLayers: 2, batchFirst: true });
  head = new nn.Linear(8, 2);
  forward(): never { throw new Error('unused: the model steps through step()'); }
  step(x: Tensor, s: Record<string, Tensor>): [Tensor, Record<string, Tensor>] {
    const [h1, c1] = this.cell.call(x, [s.h1!, s.c1!]);
    const h2 = this.gcell.call(h1, s.h2!);
    const [y, [lh, lc]] = this.lstm.call(x.unsqueeze(1), [s.lh!, s.lc!]);
    return [this.head.call(cat([h2, y.squeeze(1)], 1)), { h1, c1, h2, lh, lc }];
  }
}

test('a hand-written cell stack stepped through state (batch 2): each step, the state, reset and a loop over the sequence match PyTorch', async () => {
  const io = read('handmade_seq_step', 'io.safetensors');
  const B = 2, T = 6;
  const state = { h1: [B, 5], c1: [B, 5], h2: [B, 4], lh: [2, B, 4], lc: [2, B, 4] };
  const zero = () => ({ h1: zeros([B, 5]), c1: zeros([B, 5]), h2: zeros([B, 4]), lh: zeros([2, B, 4]), lc: zeros([2, B, 4]) });
  const def = defineModel({
    name: 'step', module: new StepNet().loadStateDict(weights('handmade_seq_step')), inputs: { xs: [B, T, 3] }, state,
    forward: (m: StepNet, i: Record<string, Tensor>) => loop(T, zero(), (s, t) => {
      const [y, next] = m.step(i.xs!.dynamicSlice(1, t).squeeze(1), s);
      return { next, emit: { seq: y } };
    }, { axis: 1 }),
    entries: {
      step: { inputs: { x: [B, 3] }, forward: (m: StepNet, i: Record<string, Tensor>, s: Record<string, Tensor>) => { const [y, next] = m.step(i.x!, s); return { outputs: { y }, state: next }; } },
    },
  });
  const { models, compiled } = await both(def);
  const xs = f32(io, 'input.xs');
  const xt = (t: number) => Float32Array.from({ length: B * 3 }, (_, j) => xs[(Math.floor(j / 3) * T + t) * 3 + (j % 3)]!);
  const refRun = interpret(compiled.traced, { xs });
  expectTorch(refRun.seq as Float32Array, f32(io, 'output.seq'), 'reference seq');
  const seqs = models.map((m) => m.run({ xs }).seq as Float32Array);
  expectTorch(seqs[0]!, f32(io, 'output.seq'), 'compiled seq');
  expect(Array.from(seqs[1]!)).toEqual(Array.from(seqs[0]!));
  const steps = compiled.tracedEntries.step!;
  let refState: Record<string, Float32Array> = Object.fromEntries(Object.entries(state).map(([k, s]) => [k, new Float32Array(s.reduce((a, b) => a * b))]));
  const got: Float32Array[][] = models.map(() => []);
  for (let t = 0; t < T; t++) {
    const r = interpret(steps, { x: xt(t) }, refState);
    expectTorch(r.y as Float32Array, f32(io, `output.y${t}`), `reference y${t}`);
    refState = Object.fromEntries(Object.keys(state).map((k) => [k, r[`state.${k}`] as Float32Array]));
    models.forEach((m, j) => got[j]!.push(m.step({ x: xt(t) }).y as Float32Array));
    expectTorch(got[0]![t]!, f32(io, `output.y${t}`), `compiled y${t}`);
    expect(Array.from(got[1]![t]!), `2 threads y${t}`).toEqual(Array.from(got[0]![t]!));
  }
  for (const k of Object.keys(state)) {
    expectTorch(refState[k]!, f32(io, `output.state_${k}`), `reference state ${k}`);
    expectTorch(models[0]!.state()[k] as Float32Array, f32(io, `output.state_${k}`), `compiled state ${k}`);
    expect(Array.from(models[1]!.state()[k] as Float32Array)).toEqual(Array.from(models[0]!.state()[k] as Float32Array));
  }
  for (const m of models) {
    m.reset();
    for (const t of [4, 5]) expectTorch(m.step({ x: xt(t) }).y as Float32Array, f32(io, `output.reset_y${t}`), `after reset y${t}`);
    m.dispose();
  }
});

class S2S extends Module {
  src_emb = new nn.Embedding(7, 4);
  tgt_emb = new nn.Embedding(7, 4);
  enc = new nn.LSTM(4, 6, { batchFirst: true });
  dec = new nn.LSTMCell(10, 6);
  W_enc = new nn.Linear(6, 6, { bias: false });
  W_dec = new nn.Linear(6, 6);
  v = new nn.Linear(6, 1, { bias: false });
  out = new nn.Linear(12, 7);
  plain = new nn.LSTM(4, 6, { batchFirst: true });
  plain_out = new nn.Linear(6, 7);
  attend(enc: Tensor, keys: Tensor, h: Tensor, pad: Tensor): [Tensor, Tensor] {
    const score = this.v.call(keys.add(this.W_dec.call(h).unsqueeze(1)).tanh()).squeeze(2);
    const a = score.maskedFill(pad, -Infinity).softmax(1);
    return [a.unsqueeze(1).matmul(enc).squeeze(1), a];
  }
  dstep(e: Tensor, st: [Tensor, Tensor], ctx: Tensor, enc: Tensor, keys: Tensor, pad: Tensor) {
    const [h, c] = this.dec.call(cat([e, ctx], 1), st);
    const [ctx2, a] = this.attend(enc, keys, h, pad);
    return { logits: this.out.call(cat([h, ctx2], 1)), h, c, ctx: ctx2, a };
  }
  forward(src: Tensor, pad: Tensor, tgtIn: Tensor): Record<string, Tensor> {
    const [enc, [hn, cn]] = this.enc.call(this.src_emb.call(src));
    const keys = this.W_enc.call(enc);
    const B = src.size(0);
    const tf: Tensor[] = [];
    let st: [Tensor, Tensor] = [hn.select(0, 0), cn.select(0, 0)], ctx = zeros([B, 6]);
    for (let t = 0; t < tgtIn.size(1); t++) {
      const r = this.dstep(this.tgt_emb.call(tgtIn.select(1, t)), st, ctx, enc, keys, pad);
      tf.push(r.logits); st = [r.h, r.c]; ctx = r.ctx;
    }
    const g = loop(5, { tok: ints([1, 1], [B]), h: hn.select(0, 0), c: cn.select(0, 0), ctx: zeros([B, 6]) }, ({ tok, h, c, ctx }) => {
      const r = this.dstep(this.tgt_emb.call(tok!), [h!, c!], ctx!, enc, keys, pad);
      const next = r.logits.argmax(-1);
      return { next: { tok: next, h: r.h, c: r.c, ctx: r.ctx }, emit: { tok: next, logits: r.logits, a: r.a } };
    }, { axis: 1 });
    const [y] = this.plain.call(this.tgt_emb.call(tgtIn), [hn, cn]);
    return { tf: stack(tf, 1), greedy: g.tok!, greedy_logits: g.logits!, attn: g.a!, plain_tf: this.plain_out.call(y) };
  }
}

test('a hand-written encoder-decoder (LSTM state seeding an LSTMCell with Bahdanau attention over padded sources): teacher forcing and greedy feedback in a loop match PyTorch', async () => {
  const def = defineModel({
    name: 's2s', module: new S2S().loadStateDict(weights('handmade_seq_s2s')),
    inputs: { src: { shape: [2, 5], dtype: 'i32' }, pad: { shape: [2, 5], dtype: 'bool' }, tgt_in: { shape: [2, 4], dtype: 'i32' } },
  });
  const io = new Map([...read('handmade_seq_s2s', 'io.safetensors')].filter(([k]) => !k.startsWith('output.short_')));
  expect(await expectTorchCase(def, io, { threads: 2 })).toHaveLength(5);
});

class Block extends Module {
  ln1 = new nn.LayerNorm(8);
  attn = new nn.MultiheadAttention(8, 2, { batchFirst: true });
  ln2 = new nn.LayerNorm(8);
  fc1 = new nn.Linear(8, 32);
  fc2 = new nn.Linear(32, 8);
  mlp(x: Tensor): Tensor { return x.add(this.fc2.call(F.gelu(this.fc1.call(this.ln2.call(x))))); }
  forward(x: Tensor, o: { mask?: Tensor; cache?: KVCache }): Tensor {
    const h = this.ln1.call(x);
    return this.mlp(x.add(this.attn.call(h, h, h, { ...(o.mask ? { attnMask: o.mask } : { cache: o.cache! }), needWeights: false })[0]));
  }
  /** The same block through split heads and scaled_dot_product_attention. */
  sdpa(x: Tensor): Tensor {
    const [B, T] = x.shape as [number, number];
    const h = this.ln1.call(x);
    const [q, k, v] = F.linear(h, this.attn.in_proj_weight!.t, this.attn.in_proj_bias!.t).split(8, 2).map((t) => t.reshape(B, T, 2, 4).transpose(1, 2)) as [Tensor, Tensor, Tensor];
    const o = F.scaledDotProductAttention(q, k, v, { isCausal: true }).transpose(1, 2).reshape(B, T, 8);
    return this.mlp(x.add(this.attn.out_proj.call(o)));
  }
}

class TinyGPT extends Module {
  tok = new nn.Embedding(11, 8);
  pos = new nn.Embedding(8, 8);
  blocks = [new Block(), new Block()];
  ln_f = new nn.LayerNorm(8);
  head(x: Tensor): Tensor { return F.linear(this.ln_f.call(x), this.tok.weight.t); }
  forward(tokens: Tensor, sdpa = false): Tensor {
    const T = tokens.size(1);
    let x = this.tok.call(tokens).add(this.pos.call(arange(T)));
    const mask = F.causalMask(T);
    for (const b of this.blocks) x = sdpa ? b.sdpa(x) : b.call(x, { mask });
    return this.head(x);
  }
  cached(tokens: Tensor, pos: Tensor, caches: KVCache[], last: Tensor): Tensor {
    const steps = typeof tokens.dim(1) === 'number' ? arange(tokens.size(1)) : arange(tokens.size(1)).slice(0, 0, tokens.dim(1));
    let x = this.tok.call(tokens).add(this.pos.call(pos.add(steps)));
    this.blocks.forEach((b, l) => { x = b.call(x, { cache: caches[l]! }); });
    return this.head(x.dynamicSlice(1, last)).reshape(1, 11);
  }
}

/** The transformer with a KV cache of its own; its prefill takes up to 4 tokens, or exactly 4 (padded by the runtime) with `fixed`. */
function gptDef(fixed = false) {
  const net = new TinyGPT().loadStateDict(weights('handmade_seq_gpt'));
  const state = { pos: { shape: [], dtype: 'i32' as const }, k0: [1, 8, 8], v0: [1, 8, 8], k1: [1, 8, 8], v1: [1, 8, 8] };
  const entry = (n: number): EntryDefinition<TinyGPT> => ({
    inputs: n > 1 ? { tokens: fixed ? { shape: [1, n], dtype: 'i32' } : { shape: [1, 'T'], dtype: 'i32', max: { T: n } }, count: { shape: [], dtype: 'i32' } } : { tokens: { shape: [1, 1], dtype: 'i32' } },
    forward: (m, i, s) => {
      const cs: KVCache[] = [0, 1].map((l) => ({ k: s[`k${l}`]!, v: s[`v${l}`]!, pos: s.pos! }));
      const count = i.count ?? ints([1], []);
      const logits = m.cached(i.tokens!, s.pos!, cs, count.sub(ints([1], [])));
      return { outputs: { logits }, state: { pos: s.pos!.add(count), k0: cs[0]!.k, v0: cs[0]!.v, k1: cs[1]!.k, v1: cs[1]!.v } };
    },
  });
  return defineModel({
    name: 'gpt', module: net, inputs: { tokens: { shape: [2, 8], dtype: 'i32' } },
    forward: (m: TinyGPT, i: Record<string, Tensor>) => ({ logits: m.call(i.tokens!), sdpa: m.forward(i.tokens!, true) }),
    state, entries: { prefill: entry(4), decode: entry(1) },
    generation: { prefill: 'prefill', decode: 'decode', chunk: 4, capacity: 8, vocab: 11, tokens: 'tokens', count: 'count', logits: 'logits', position: 'pos' },
  });
}

test('a hand-written decoder-only transformer (learned positions, pre-norm, causal MultiheadAttention or SDPA, tied head) with its own KV cache: logits, every decode step and greedy generate match PyTorch', async () => {
  const io = read('handmade_seq_gpt', 'io.safetensors');
  const def = gptDef();
  const { models } = await both(def);
  const tokens = io.get('input.tokens')!.data as Int32Array, logits = f32(io, 'output.logits');
  const run = models.map((m) => m.run({ tokens }));
  const ref = interpret(traceModel(def), { tokens });
  for (const k of ['logits', 'sdpa']) {
    expectTorch(run[0]![k] as Float32Array, f32(io, `output.${k}`), `compiled ${k}`);
    expectTorch(ref[k] as Float32Array, f32(io, `output.${k}`), `reference ${k}`);
    expect(Array.from(run[1]![k] as Float32Array)).toEqual(Array.from(run[0]![k] as Float32Array));
  }
  // Token by token against PyTorch's full recompute (causal: row t of the full logits), for both sequences;
  // then a prefill of 3 and decodes; on 1 and 2 threads.
  for (const m of models) {
    for (let b = 0; b < 2; b++) {
      m.reset();
      for (let t = 0; t < 8; t++) {
        const row = m.decode(tokens[b * 8 + t]!);
        expectTorch(row, logits.subarray((b * 8 + t) * 11, (b * 8 + t + 1) * 11), `decode seq ${b} position ${t}`);
      }
      m.reset();
      expectTorch(m.prefill(tokens.subarray(b * 8, b * 8 + 3)), logits.subarray((b * 8 + 2) * 11, (b * 8 + 3) * 11), `prefill seq ${b}`);
      expectTorch(m.prefill(tokens.subarray(b * 8 + 3, b * 8 + 8)), logits.subarray((b * 8 + 7) * 11, (b * 8 + 8) * 11), `prefill of 5 in chunks, seq ${b}`);
    }
    m.reset();
    expect(Array.from(m.generate([3, 5], { maxNewTokens: 6 }))).toEqual(Array.from(io.get('output.greedy')!.data as Int32Array));
  }
  for (const m of models) m.dispose();
});

test('a hand-written fixed-size prefill entry (tokens [1, 4], a short chunk padded by the runtime) takes tokens that fit near the end of the cache; a capacity past the cache is refused', async () => {
  // Its padding rows sat at positions past the capacity: prefill(2 tokens) at position 6 of 8 trapped
  // ('gather in module pos (Embedding): index 8 is outside [0, 8)') and left the cache stale.
  const io = read('handmade_seq_gpt', 'io.safetensors');
  const def = gptDef(true);
  const { models } = await both(def);
  // A generation.capacity past the cache's positions let the runtime take tokens the cache could not
  // hold: the call trapped ('position 8 + 1 new keys do not fit its 8 positions') with the cache partly written.
  await expect(compileModel({ ...def, generation: { ...def.generation!, capacity: 9 } }, { isas: TEST_ISAS })).rejects.toThrow("model 'gpt': generation.capacity 9 exceeds the KV cache written in entry 'prefill' by module 'blocks.0.attn' (MultiheadAttention), which holds 8 positions ([1, 8, 8]): give the cache state 9 positions or generation.capacity 8");
  const tokens = io.get('input.tokens')!.data as Int32Array, logits = f32(io, 'output.logits');
  for (const m of models) {
    for (let b = 0; b < 2; b++) {
      m.reset();
      expectTorch(m.prefill(tokens.subarray(b * 8, b * 8 + 6)), logits.subarray((b * 8 + 5) * 11, (b * 8 + 6) * 11), `prefill of 6, seq ${b}`);
      expectTorch(m.prefill(tokens.subarray(b * 8 + 6, b * 8 + 8)), logits.subarray((b * 8 + 7) * 11, (b * 8 + 8) * 11), `prefill of 2 at 6, seq ${b}`);
      expect(m.position).toBe(8);
    }
    m.reset();
    expect(Array.from(m.generate([3, 5], { maxNewTokens: 6 }))).toEqual(Array.from(io.get('output.greedy')!.data as Int32Array));
    m.dispose();
  }
});

class AttnVar extends Module {
  W = new nn.Linear(5, 5, { bias: false });
  mha = new nn.MultiheadAttention(6, 3, { batchFirst: true });
  forward(enc: Tensor, s: Tensor, pad: Tensor, x: Tensor, amask: Tensor, kpm: Tensor, bmask: Tensor): Record<string, Tensor> {
    const dot = enc.matmul(s.unsqueeze(2)).squeeze(2).maskedFill(pad, -Infinity).softmax(1);
    const gen = this.W.call(enc).matmul(s.unsqueeze(2)).squeeze(2).maskedFill(pad, -Infinity).softmax(1);
    const [y, w] = this.mha.call(x, x, x, { attnMask: amask, keyPaddingMask: kpm });
    const [y2] = this.mha.call(x, x, x, { attnMask: amask, needWeights: false });
    // A bool mask given per call, one row all masked (NaN there): the weights' path and the fused kernel.
    const [yb, wb] = this.mha.call(x, x, x, { attnMask: bmask, keyPaddingMask: kpm });
    const [yb2] = this.mha.call(x, x, x, { attnMask: bmask, needWeights: false });
    return { dot_ctx: dot.unsqueeze(1).matmul(enc).squeeze(1), dot_w: dot, gen_ctx: gen.unsqueeze(1).matmul(enc).squeeze(1), mha_y: y, mha_w: w!, mha_fast: y2, mhab_y: yb, mhab_w: wb!, mhab_fast: yb2 };
  }
}

test('hand-written Luong attention (dot, general) over padded encoder outputs and MultiheadAttention with a float or bool mask given per call (a row all masked: NaN) match PyTorch', async () => {
  const def = defineModel({
    name: 'attnvar', module: new AttnVar().loadStateDict(weights('handmade_seq_attn')),
    inputs: { enc: [2, 4, 5], s: [2, 5], pad: { shape: [2, 4], dtype: 'bool' }, x: [2, 4, 6], amask: [4, 4], kpm: { shape: [2, 4], dtype: 'bool' }, bmask: { shape: [4, 4], dtype: 'bool' } },
  });
  expect(await expectTorchCase(def, read('handmade_seq_attn', 'io.safetensors'), { threads: 2 })).toHaveLength(9);
});

test('the encoder-decoder over a source length chosen at run time: 5 and 3 tokens match PyTorch', async () => {
  const io = read('handmade_seq_s2s', 'io.safetensors');
  const def = defineModel({
    name: 's2s', module: new S2S().loadStateDict(weights('handmade_seq_s2s')),
    inputs: { src: { shape: [2, 'S'], dtype: 'i32', max: { S: 5 } }, pad: { shape: [2, 'S'], dtype: 'bool' }, tgt_in: { shape: [2, 4], dtype: 'i32' } },
  });
  const { models, compiled } = await both(def);
  const src = io.get('input.src')!.data as Int32Array, pad = io.get('input.pad')!.data as Uint8Array, tgt_in = io.get('input.tgt_in')!.data as Int32Array;
  for (const S of [5, 3]) {
    const cut = <T extends Int32Array | Uint8Array>(a: T) => a.filter((_, j) => j % 5 < S) as T;
    const feeds = { src: { data: cut(src), shape: [2, S] }, pad: { data: cut(pad), shape: [2, S] }, tgt_in };
    const outs = models.map((m) => m.run(feeds));
    const ref = interpret(compiled.traced, { src: cut(src), pad: cut(pad), tgt_in }, undefined, { S });
    for (const k of ['tf', 'greedy', 'greedy_logits', 'attn', 'plain_tf']) {
      const want = io.get(`output.${S === 5 ? '' : 'short_'}${k}`)!.data as Float32Array;
      expectTorch(outs[0]![k] as Float32Array, want, `compiled ${k} S=${S}`);
      expectTorch(ref[k] as Float32Array, want, `reference ${k} S=${S}`);
      expect(Array.from(outs[1]![k] as Float32Array)).toEqual(Array.from(outs[0]![k] as Float32Array));
    }
  }
  for (const m of models) m.dispose();
});

class Stream extends Module {
  gru = new nn.GRU(3, 4, { numLayers: 2, batchFirst: true });
  lstm = new nn.LSTM(3, 4, { batchFirst: true });
  mha = new nn.MultiheadAttention(4, 2, { batchFirst: true });
  v = new nn.Linear(4, 1, { bias: false });
  forward(): never { throw new Error('unused: the definition picks its layers'); }
}

test('recurrent layers fed in chunks of a length chosen at run time through state equal PyTorch over the whole sequence; a row all padding is NaN as in PyTorch', async () => {
  const io = read('handmade_seq_stream', 'io.safetensors');
  const def = defineModel({
    name: 'stream', module: new Stream().loadStateDict(weights('handmade_seq_stream')),
    inputs: { q: [2, 3, 4], kpm: { shape: [2, 3], dtype: 'bool' } },
    forward: (m: Stream, { q, kpm }: Record<string, Tensor>) => {
      const [y, w] = m.mha.call(q!, q!, q!, { keyPaddingMask: kpm });
      const a = m.v.call(q!.tanh()).squeeze(2).maskedFill(kpm!, -Infinity).softmax(1);
      return { mha_y: y, mha_w: w!, add_w: a, add_ctx: a.unsqueeze(1).matmul(q!).squeeze(1) };
    },
    state: { hg: [2, 2, 4], hl: [1, 2, 4], cl: [1, 2, 4] },
    entries: {
      chunk: {
        inputs: { x: { shape: [2, 'T', 3], max: { T: 4 } } },
        forward: (m: Stream, i: Record<string, Tensor>, s: Record<string, Tensor>) => {
          const [yg, hg] = m.gru.call(i.x!, s.hg!);
          const [yl, [hl, cl]] = m.lstm.call(i.x!, [s.hl!, s.cl!]);
          return { outputs: { yg, yl }, state: { hg, hl, cl } };
        },
      },
    },
  });
  const { models, compiled } = await both(def);
  const x = f32(io, 'input.x');
  const feeds = { q: f32(io, 'input.q'), kpm: io.get('input.kpm')!.data as Uint8Array };
  const ref = interpret(compiled.traced, feeds);
  const outs = models.map((m) => m.run(feeds));
  for (const k of ['mha_y', 'mha_w', 'add_w', 'add_ctx']) {
    expectTorch(outs[0]![k] as Float32Array, f32(io, `output.${k}`), `compiled ${k}`);
    expectTorch(ref[k] as Float32Array, f32(io, `output.${k}`), `reference ${k}`);
    expect(Array.from(outs[1]![k] as Float32Array)).toEqual(Array.from(outs[0]![k] as Float32Array));
  }
  const rows = (y: Float32Array[], T: number[]) => Float32Array.from({ length: 2 * 7 * 4 }, (_, j) => {
    const b = Math.floor(j / 28), t = Math.floor(j / 4) % 7, c = j % 4;
    let at = 0, n = 0;
    while (t >= at + T[n]!) at += T[n++]!;
    return y[n]![(b * T[n]! + t - at) * 4 + c]!;
  });
  for (const m of models) {
    const T = [3, 1, 3], yg: Float32Array[] = [], yl: Float32Array[] = [];
    let at = 0, st: Record<string, Float32Array> = { hg: new Float32Array(16), hl: new Float32Array(8), cl: new Float32Array(8) };
    for (const n of T) {
      const xc = Float32Array.from({ length: 2 * n * 3 }, (_, j) => x[(Math.floor(j / (n * 3)) * 7 + at) * 3 + (j % (n * 3))]!);
      const r = m.call('chunk', { x: { data: xc, shape: [2, n, 3] } });
      const rr = interpret(compiled.tracedEntries.chunk!, { x: xc }, st, { T: n });
      st = { hg: rr['state.hg'] as Float32Array, hl: rr['state.hl'] as Float32Array, cl: rr['state.cl'] as Float32Array };
      expectTorch(r.yg as Float32Array, rr.yg as Float32Array, `chunk at ${at} against the reference`);
      yg.push(r.yg as Float32Array); yl.push(r.yl as Float32Array); at += n;
    }
    expectTorch(rows(yg, T), f32(io, 'output.gru_y'), 'gru in chunks');
    expectTorch(rows(yl, T), f32(io, 'output.lstm_y'), 'lstm in chunks');
    const s = m.state();
    expectTorch(s.hg as Float32Array, f32(io, 'output.gru_h'), 'gru h');
    expectTorch(s.hl as Float32Array, f32(io, 'output.lstm_h'), 'lstm h');
    expectTorch(s.cl as Float32Array, f32(io, 'output.lstm_c'), 'lstm c');
    m.dispose();
  }
});

test('the hand-written transformer with a KV cache of 2 sequences at their own positions (prefill one, decode both) matches PyTorch', async () => {
  const io = read('handmade_seq_gpt', 'io.safetensors');
  const net = new TinyGPT().loadStateDict(weights('handmade_seq_gpt'));
  const B = 2;
  const state = { pos: { shape: [B], dtype: 'i32' as const }, k0: [B, 8, 8], v0: [B, 8, 8], k1: [B, 8, 8], v1: [B, 8, 8] };
  const stored = (cs: KVCache[], pos: Tensor) => ({ pos, k0: cs[0]!.k, v0: cs[0]!.v, k1: cs[1]!.k, v1: cs[1]!.v });
  const b2 = (fixed = false) => defineModel({
    name: 'gpt2', module: net, inputs: { tokens: { shape: [2, 8], dtype: 'i32' } },
    forward: (m: TinyGPT, i: Record<string, Tensor>) => ({ logits: m.call(i.tokens!) }),
    state,
    entries: {
      prefill: {
        inputs: { tokens: fixed ? { shape: [1, 4], dtype: 'i32' } : { shape: [1, 'T'], dtype: 'i32', max: { T: 4 } }, count: { shape: [], dtype: 'i32' }, seq: { shape: [], dtype: 'i32' } },
        forward: (m: TinyGPT, i: Record<string, Tensor>, s: Record<string, Tensor>) => {
          const p = F.embedding(i.seq!, s.pos!.reshape(B, 1)).reshape([]);
          const cs: KVCache[] = [0, 1].map((l) => ({ k: s[`k${l}`]!, v: s[`v${l}`]!, pos: p, row: i.seq! }));
          const logits = m.cached(i.tokens!, p, cs, i.count!.sub(ints([1], [])));
          return { outputs: { logits }, state: stored(cs, s.pos!.dynamicUpdate(0, i.seq!, p.add(i.count!).reshape(1))) };
        },
      },
      decode: {
        inputs: { tokens: { shape: [B, 1], dtype: 'i32' } },
        forward: (m: TinyGPT, i: Record<string, Tensor>, s: Record<string, Tensor>) => {
          const cs: KVCache[] = [0, 1].map((l) => ({ k: s[`k${l}`]!, v: s[`v${l}`]!, pos: s.pos! }));
          let x = m.tok.call(i.tokens!).add(m.pos.call(s.pos!.reshape(B, 1)));
          m.blocks.forEach((b, l) => { x = b.call(x, { cache: cs[l]! }); });
          return { outputs: { logits: m.head(x).reshape(B, 11) }, state: stored(cs, s.pos!.add(ints([1], []))) };
        },
      },
    },
    generation: { prefill: 'prefill', decode: 'decode', chunk: 4, capacity: 8, vocab: 11, tokens: 'tokens', count: 'count', logits: 'logits', position: 'pos', batch: B, sequence: 'seq' },
  });
  // A fixed-size prefill is padded by the runtime: near the end of the cache the padding passed its
  // capacity and a prefill of tokens that fit trapped (one sequence goes through decode instead).
  await expect(compileModel(b2(true), { isas: TEST_ISAS })).rejects.toThrow("model 'gpt2': generation with batch 2 needs a prefill entry 'prefill' whose 'tokens' take any number of tokens up to the chunk, { shape: [1, 'T'], dtype: 'i32', max: { T: 4 } }; they are fixed [1, 4]");
  const def = b2();
  const { models } = await both(def);
  const tokens = io.get('input.tokens')!.data as Int32Array, logits = f32(io, 'output.logits');
  const row = (b: number, t: number) => logits.subarray((b * 8 + t) * 11, (b * 8 + t + 1) * 11);
  for (const m of models) {
    expectTorch(m.prefill(tokens.subarray(0, 3), 0), row(0, 2), 'prefill seq 0');
    expectTorch(m.prefill(tokens.subarray(8, 13), 1), row(1, 4), 'prefill seq 1 (two chunks)');
    for (let t = 0; t < 3; t++) {
      const [a, b] = m.decode([tokens[3 + t]!, tokens[8 + 5 + t]!]);
      expectTorch(a!, row(0, 3 + t), `decode seq 0 at ${3 + t}`);
      expectTorch(b!, row(1, 5 + t), `decode seq 1 at ${5 + t}`);
    }
    expect(m.positions).toEqual([6, 8]);
    m.reset();
    const [g] = m.generate([[3, 5], [3, 5, 5]], { maxNewTokens: 5 });
    expect(Array.from(g!)).toEqual(Array.from(io.get('output.greedy')!.data as Int32Array).slice(0, 7));
    m.dispose();
  }
});

test('hand-written stateful entries and caches misused are refused by name (were raw TypeErrors or misleading)', () => {
  const cell = new nn.GRUCell(3, 4), mha = new nn.MultiheadAttention(8, 2, { batchFirst: true });
  const entry = (forward: (m: nn.GRUCell, i: Record<string, Tensor>, s: Record<string, Tensor>) => unknown) =>
    traceEntries(defineModel({ name: 'e', module: cell, inputs: { x: [2, 3] }, state: { h: [2, 4] }, entries: { step: { inputs: { x: [2, 3] }, forward: forward as never } } }));
  // A bare record of outputs was 'forward() must return … it returned undefined'.
  expect(() => entry((m, i, s) => ({ y: m.call(i.x!, s.h!) }))).toThrow("an entry's forward must return { outputs, state? } (outputs: a tensor, an array or a record of tensors; state: new values by name), got an object with keys y");
  // An array of state was "entry writes state '0', which is not declared"; a number, 'the entry writes undefined[undefined]'.
  expect(() => entry((m, i, s) => ({ outputs: { y: s.h! }, state: [m.call(i.x!, s.h!)] }))).toThrow("an entry's forward must return state as an object of tensors by state name, got an array of 1");
  expect(() => entry((_m, _i, s) => ({ outputs: { y: s.h! }, state: { h: 5 } }))).toThrow("entry writes state 'h' as 5, not a tensor (f32[2, 4])");
  // The attention as the definition's module with one input, and a cache without v: raw TypeErrors ('reading size', 'reading node').
  expect(() => traceModel(defineModel({ name: 'm', module: mha, inputs: { x: [1, 2, 8] } }))).toThrow("MultiheadAttention(8, 2): forward(query, key, value) takes three tensors; key is undefined in module '<root>'");
  expect(() => traceEntries(defineModel({
    name: 'c', module: mha, inputs: { x: [1, 1, 8] }, forward: (_m, i) => i.x!, state: { p: { shape: [], dtype: 'i32' }, k: [1, 4, 8] },
    entries: { d: { inputs: { x: [1, 1, 8] }, forward: (m, i, s) => ({ outputs: { y: (m as nn.MultiheadAttention).call(i.x!, i.x!, i.x!, { cache: { k: s.k!, pos: s.p! } as never })[0] } }) } },
  }))).toThrow('MultiheadAttention(8, 2): cache must be { k, v, pos } tensors (state k/v [B, capacity, E], pos i32), its v is undefined');
  // A mask made at the bounds over lengths chosen at run time was refused deep in the IR ("attention: mask
  // [1, 1, 8, 8] must broadcast to [1, 2, 1, 1] with a full key dimension — with B=1, T=1 …").
  const rt = (o: (x: Tensor) => Record<string, Tensor>) => traceModel(defineModel({
    name: 'r', module: mha, inputs: { x: { shape: ['B', 'T', 8], max: { B: 2, T: 8 } } },
    forward: (m, i) => (m as nn.MultiheadAttention).call(i.x!, i.x!, i.x!, { ...o(i.x!), needWeights: false })[0],
  }));
  expect(() => rt((x) => ({ attnMask: F.causalMask(x.maxSize(1)) }))).toThrow("MultiheadAttention(8, 2): attn_mask [8, 8] must have the query and key lengths [T, T], chosen at run time: slice a mask made at the bounds to them (mask.slice(0, 0, 'T').slice(1, 0, 'T'), the lengths as x.dim(1)) or, for a causal mask, give isCausal: true");
  rt((x) => ({ attnMask: F.causalMask(x.size(1)) })); // the run-time length's mask
  expect(() => rt((x) => ({ keyPaddingMask: zeros([2, 8]).gt(0) }))).toThrow('MultiheadAttention(8, 2): key_padding_mask [2, 8] must be [B, T], the batch and key length chosen at run time');
  rt((x) => ({ attnMask: F.causalMask(x.maxSize(1)).slice(0, 0, x.dim(1)).slice(1, 0, x.dim(1)) })); // as the message says
});
