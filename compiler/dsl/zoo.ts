// Whole models built from the nn modules: the encoder-decoders and the decoder-only GPT of
// the examples and conformance cases, with greedy decoding and KV-cache generation.

import { fmtShape } from '../ir/types.ts';
import { sinusoidalPositionalEncoding, type KVCache } from './attention.ts';
import { embedding as embeddingOf } from './functional.ts';
import { loop } from './control.ts';
import * as nn from './nn.ts';
import { Module, positiveInt } from './module.ts';
import { arange, constant, ints, ModelDefinitionError, type Tensor } from './tensor.ts';
import type { EntryDefinition, InputSpecs, ModelDefinition } from './trace.ts';
import { checkOptions } from './options.ts';

/** Every size a positive integer and `bos` a token of the target vocabulary, or an error naming the argument. */
function checkZooArgs(model: string, sizes: Record<string, number>, bos: number, vocab: number): void {
  for (const [k, v] of Object.entries(sizes)) positiveInt(model, k, v);
  if (!Number.isInteger(bos) || bos < 0 || bos >= vocab) throw new ModelDefinitionError(`${model}: bos must be a token id in [0, ${vocab}), got ${String(bos)}`);
}

/** LSTM encoder-decoder: the encoder's final (h, c) starts the decoder; teacher-forced logits and greedy tokens. */
export class Seq2SeqLSTM extends Module {
  enc_emb: nn.Embedding; encoder: nn.LSTM; dec_emb: nn.Embedding; decoder: nn.LSTM; out: nn.Linear;
  constructor(srcVocab: number, tgtVocab: number, emb: number, hidden: number, readonly bos: number, readonly steps: number) {
    super();
    checkZooArgs('Seq2SeqLSTM', { srcVocab, tgtVocab, emb, hidden, steps }, bos, tgtVocab);
    this.enc_emb = new nn.Embedding(srcVocab, emb);
    this.encoder = new nn.LSTM(emb, hidden, { batchFirst: true });
    this.dec_emb = new nn.Embedding(tgtVocab, emb);
    this.decoder = new nn.LSTM(emb, hidden, { batchFirst: true });
    this.out = new nn.Linear(hidden, tgtVocab);
  }
  forward(src: Tensor, tgtIn: Tensor): { logits: Tensor; greedy: Tensor } {
    const [, state] = this.encoder.call(this.enc_emb.call(src));
    const [dy] = this.decoder.call(this.dec_emb.call(tgtIn), state);
    // [B] of bos: B may be a size chosen at run time (src [B, S]).
    const bos = ints([this.bos], [1]).expand(src.dim(0), src.bounds);
    const { tok } = loop(this.steps, { tok: bos, h: state[0], c: state[1] }, ({ tok, h, c }) => {
      const [y, [h2, c2]] = this.decoder.call(this.dec_emb.call(tok!.unsqueeze(1)), [h!, c!]);
      const next = this.out.call(y.squeeze(1)).argmax(-1);
      return { next: { tok: next, h: h2, c: c2 }, emit: { tok: next } };
    }, { axis: 1 });
    return { logits: this.out.call(dy), greedy: tok! };
  }
}

/**
 * The "Attention Is All You Need" translation model: embeddings·√d + sinusoidal positions,
 * nn.Transformer (batch first), a generator. Greedy decoding runs inside wasm: the target
 * buffer starts as [bos], each step appends the argmax at the last filled position.
 */
export class Seq2SeqTransformer extends Module {
  src_emb: nn.Embedding; tgt_emb: nn.Embedding; transformer: nn.Transformer; generator: nn.Linear;
  constructor(readonly vocab: number, readonly dModel: number, nhead: number, layers: number, dimFeedforward: number, readonly bos: number, readonly steps: number) {
    super();
    checkZooArgs('Seq2SeqTransformer', { vocab, dModel, nhead, layers, dimFeedforward, steps }, bos, vocab);
    this.src_emb = new nn.Embedding(vocab, dModel);
    this.tgt_emb = new nn.Embedding(vocab, dModel);
    this.transformer = new nn.Transformer(dModel, nhead, { numEncoderLayers: layers, numDecoderLayers: layers, dimFeedforward, batchFirst: true, dropout: 0 });
    this.generator = new nn.Linear(dModel, vocab);
  }
  private embed(e: nn.Embedding, t: Tensor): Tensor {
    // Positions 0…L−1: with a length chosen at run time, the first L rows of the table at its bound.
    const pe = sinusoidalPositionalEncoding(t.maxSize(1), this.dModel);
    return e.call(t).mul(Math.sqrt(this.dModel)).add(typeof t.dim(1) === 'number' ? pe : pe.slice(0, 0, t.dim(1)));
  }
  forward(src: Tensor, pad: Tensor, tgtIn: Tensor): { logits: Tensor; greedy: Tensor } {
    const memory = this.transformer.encoder.call(this.embed(this.src_emb, src), { srcKeyPaddingMask: pad });
    const decode = (tgt: Tensor) => this.generator.call(this.transformer.decoder.call(this.embed(this.tgt_emb, tgt), memory, { tgtIsCausal: true, memoryKeyPaddingMask: pad }));
    const B = src.dim(0), S = this.steps;
    const start = ints(Array.from({ length: S + 1 }, (_, i) => (i === 0 ? this.bos : 0)), [1, S + 1]).expand(B, S + 1, src.bounds);
    const { tok } = loop(S, { buf: start }, ({ buf }, t) => {
      const next = decode(buf!).dynamicSlice(1, t).argmax(-1); // [B, 1]
      return { next: { buf: buf!.dynamicUpdate(1, t.add(ints([1], [])), next) }, emit: { tok: next.reshape(B) } };
    }, { axis: 1 });
    return { logits: decode(tgtIn), greedy: tok! };
  }
}

export interface GPTConfig { vocab: number; context: number; dModel: number; nhead: number; layers: number; dimFeedforward: number }

/** A decoder-only GPT: token + learned position embeddings, pre-LN GELU blocks with a causal mask, final norm, head without bias. */
export class GPT extends Module {
  tok_emb: nn.Embedding; pos_emb: nn.Embedding; blocks: nn.TransformerEncoderLayer[]; ln_f: nn.LayerNorm; head: nn.Linear;
  constructor(readonly cfg: GPTConfig) {
    super();
    const keys = ['vocab', 'context', 'dModel', 'nhead', 'layers', 'dimFeedforward'] as const;
    // A misspelt or unsupported key (dropout, say: the blocks have none) throws rather than being ignored.
    checkOptions('GPT', cfg ?? undefined, keys);
    for (const k of keys) positiveInt('GPT', k, cfg?.[k]);
    this.tok_emb = new nn.Embedding(cfg.vocab, cfg.dModel);
    this.pos_emb = new nn.Embedding(cfg.context, cfg.dModel);
    this.blocks = Array.from({ length: cfg.layers }, () => new nn.TransformerEncoderLayer(cfg.dModel, cfg.nhead,
      { dimFeedforward: cfg.dimFeedforward, normFirst: true, activation: 'gelu', batchFirst: true, dropout: 0 }));
    this.ln_f = new nn.LayerNorm(cfg.dModel);
    this.head = new nn.Linear(cfg.dModel, cfg.vocab, { bias: false });
  }
  /** Logits for every position of tokens [B, T] (T ≤ context). */
  forward(tokens: Tensor): Tensor {
    const T = tokens.maxSize(1);
    if (T > this.cfg.context) throw new ModelDefinitionError(`GPT: ${T} tokens exceed the context of ${this.cfg.context}`);
    // With a length chosen at run time (T is its bound), positions 0…T−1 are a slice of 0…bound−1.
    const positions = typeof tokens.dim(1) === 'number' ? arange(T) : arange(T).slice(0, 0, tokens.dim(1));
    let x = this.tok_emb.call(tokens).add(this.pos_emb.call(positions));
    for (const b of this.blocks) x = b.call(x, { isCausal: true });
    return this.head.call(this.ln_f.call(x));
  }
  /**
   * One chunk of incremental decoding: tokens [B, n] at positions pos…pos+n−1 (pos i32[], or
   * i32[B] with each sequence at its own), attending to the cached keys and values (updated in
   * place). Returns the logits of row `last` of each sequence, [B, V].
   */
  forwardCached(tokens: Tensor, pos: Tensor, caches: KVCache[], last: Tensor): Tensor {
    const [B, n] = tokens.maxShape as [number, number];
    // n tokens, or a number chosen at run time (tokens [B, 'T']): 0…T−1 is a slice of 0…bound−1.
    const steps = typeof tokens.dim(1) === 'number' ? arange(n) : arange(n).slice(0, 0, tokens.dim(1));
    // Never clamped: defineGPT keeps the capacity within the context and the runtime refuses
    // tokens past the capacity; a position past the context is an error (the reference raises,
    // the compiled code traps with the same message), not a silent reuse.
    const positions = pos.rank === 0 ? pos.add(steps) : pos.reshape(B, 1).add(steps);
    let x = this.tok_emb.call(tokens).add(this.pos_emb.call(positions));
    this.blocks.forEach((b, l) => { x = b.call(x, { cache: caches[l]! }); });
    return this.head.call(this.ln_f.call(x.dynamicSlice(1, last))).reshape(B, this.cfg.vocab);
  }
}

/** How the runtime drives generation; stored in the artifact's manifest. */
export interface GenerationSpec {
  prefill: string; decode: string; chunk: number; capacity: number; vocab: number;
  tokens: string; count: string; logits: string; position: string;
  /** With batch > 1: sequences in the cache, and the prefill input naming the sequence. */
  batch?: number; sequence?: string;
}

/**
 * A GPT as an artifact that can generate: `run` is the full forward over `inputs.tokens`;
 * `prefill` takes up to `chunk` tokens, `decode` one, both against a KV cache of
 * `capacity` positions held in wasm memory. With `batch` B > 1 the cache holds B sequences,
 * each at its own position: `prefill` fills one (input `seq`), `decode` takes one token per
 * sequence ([B, 1]) and returns B rows of logits.
 */
export function defineGPT(o: { name: string; description?: string; module: GPT; tokens: [number, number]; capacity?: number; chunk?: number; batch?: number; weights?: string }): ModelDefinition & { generation: GenerationSpec } {
  if (typeof o !== 'object' || o === null) throw new ModelDefinitionError(`defineGPT: expected { name, module, tokens, capacity?, chunk?, batch?, weights? }, got ${o === null ? 'null' : typeof o}`);
  checkOptions('defineGPT', o, ['name', 'description', 'module', 'tokens', 'capacity', 'chunk', 'batch', 'weights']);
  if (!(o.module instanceof GPT)) throw new ModelDefinitionError(`defineGPT: module must be a GPT (new GPT({ vocab, context, dModel, nhead, layers, dimFeedforward })), got ${(o.module as object | undefined)?.constructor?.name ?? String(o.module)}`);
  if (!Array.isArray(o.tokens) || o.tokens.length !== 2 || !o.tokens.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ModelDefinitionError(`defineGPT: tokens must be the run() input's shape [batch, length] of positive integers, got ${Array.isArray(o.tokens) ? `[${o.tokens.join(', ')}]` : String(o.tokens)}`);
  }
  const m = o.module, cfg = m.cfg;
  const capacity = positiveInt('defineGPT', 'capacity', o.capacity ?? cfg.context), chunk = Math.min(positiveInt('defineGPT', 'chunk', o.chunk ?? capacity), capacity);
  const B = positiveInt('defineGPT', 'batch', o.batch ?? 1);
  if (capacity > cfg.context) throw new ModelDefinitionError(`GPT: KV cache capacity ${capacity} exceeds the context ${cfg.context}`);
  const state: InputSpecs = { pos: { shape: B > 1 ? [B] : [], dtype: 'i32' } };
  for (let l = 0; l < cfg.layers; l++) { state[`k${l}`] = [B, capacity, cfg.dModel]; state[`v${l}`] = [B, capacity, cfg.dModel]; }
  const one = () => constant(Int32Array.of(1), [], 'i32', '1');
  const caches = (s: Record<string, Tensor>, pos: Tensor, row?: Tensor): KVCache[] =>
    Array.from({ length: cfg.layers }, (_, l) => ({ k: s[`k${l}`]!, v: s[`v${l}`]!, pos, ...(row ? { row } : {}) }));
  const stored = (cs: KVCache[], pos: Tensor): Record<string, Tensor> => {
    const next: Record<string, Tensor> = { pos };
    cs.forEach((c, l) => { next[`k${l}`] = c.k; next[`v${l}`] = c.v; });
    return next;
  };
  // Batch 1: one entry shape for prefill and decode, the position a scalar.
  // A prefill takes any number of tokens up to the chunk (no padding: its loops run T rows).
  const prefillTokens = { shape: chunk > 1 ? [1, 'T'] : [1, 1], dtype: 'i32' as const, ...(chunk > 1 ? { max: { T: chunk } } : {}) };
  const step = (n: number): EntryDefinition => ({
    inputs: { tokens: n > 1 ? prefillTokens : { shape: [1, n], dtype: 'i32' }, ...(n > 1 ? { count: { shape: [], dtype: 'i32' } } : {}) },
    forward: (mm, i, s) => {
      const cs = caches(s, s.pos!), count = i.count ?? one();
      const logits = (mm as GPT).forwardCached(i.tokens!, s.pos!, cs, count.sub(ints([1], [])));
      return { outputs: { logits }, state: stored(cs, s.pos!.add(count)) };
    },
  });
  // Batch B: prefill appends up to `chunk` tokens to sequence `seq` (cache row seq, at its position
  // pos[seq], which a gather reads, so the runtime checks seq's range); decode advances every sequence.
  const prefillOne: EntryDefinition = {
    inputs: { tokens: prefillTokens, ...(chunk > 1 ? { count: { shape: [], dtype: 'i32' } } : {}), seq: { shape: [], dtype: 'i32' } },
    forward: (mm, i, s) => {
      const p = embeddingOf(i.seq!, s.pos!), count = i.count ?? one();
      const cs = caches(s, p, i.seq!);
      const logits = (mm as GPT).forwardCached(i.tokens!, p, cs, count.sub(ints([1], [])));
      return { outputs: { logits }, state: stored(cs, s.pos!.dynamicUpdate(0, i.seq!, p.add(count).reshape(1))) };
    },
  };
  const decodeAll: EntryDefinition = {
    inputs: { tokens: { shape: [B, 1], dtype: 'i32' } },
    forward: (mm, i, s) => {
      const cs = caches(s, s.pos!);
      const logits = (mm as GPT).forwardCached(i.tokens!, s.pos!, cs, ints([0], []));
      return { outputs: { logits }, state: stored(cs, s.pos!.add(ints([1], []))) };
    },
  };
  if (o.tokens[1] > cfg.context) throw new ModelDefinitionError(`GPT: run() input ${fmtShape(o.tokens)} exceeds the context ${cfg.context}`);
  return {
    name: o.name, description: o.description, module: m, weights: o.weights,
    inputs: { tokens: { shape: o.tokens, dtype: 'i32' } },
    forward: (mm, i) => ({ logits: (mm as GPT).call(i.tokens!) }),
    state,
    entries: B > 1 ? { prefill: prefillOne, decode: decodeAll } : { prefill: step(chunk), decode: step(1) },
    generation: {
      prefill: 'prefill', decode: 'decode', chunk, capacity, vocab: cfg.vocab, tokens: 'tokens', count: 'count', logits: 'logits', position: 'pos',
      ...(B > 1 ? { batch: B, sequence: 'seq' } : {}),
    },
  };
}
