// How each PyTorch conformance case is built in the DSL, by case name. A builder gets the
// case's config and input specs and returns the model definition to compile; its input and
// output names are the case's own.

import type { ModelDefinition } from '../dsl/trace.ts';
import { F, nn, Seq2SeqLSTM, Seq2SeqTransformer, GPT, defineGPT } from '../dsl/index.ts';
import type { Model } from '../../runtime/model.ts';
import type { TensorData } from '../../runtime/model.ts';
import type { DType } from '../ir/types.ts';
import { cat, zeros, type Tensor } from '../dsl/tensor.ts';

export interface CaseSpec {
  name: string;
  module: string | null;
  config?: Record<string, unknown>;
  inputs: Record<string, { shape: number[]; dtype: 'F32' | 'I32' | 'BOOL' }>;
  outputs: Record<string, { shape: number[]; dtype: 'F32' | 'I32' | 'BOOL' }>;
  tolerance: { atol: number; rtol: number };
}

export const DTYPES: Record<string, DType> = { F32: 'f32', I32: 'i32', BOOL: 'bool' };

/**
 * The dims of each family's inputs that may vary at run time (batch, sequence lengths), one
 * word per dim: a name, or `_` for a dim the weights fix. The same name in several inputs is
 * the same size. `--max-scale K` compiles these as symbolic dims bounded at K× the case's sizes.
 */
export const VARIABLE_DIMS: Record<string, Record<string, string>> = {
  mlp: { x: 'B _' },
  cnn_lenet: { x: 'B _ _ _' },
  cnn_strided: { x: 'B _ _ _' },
  rnn_n_to_n: { x: 'B T _', h0: '_ B _' },
  rnn_n_to_1: { x: 'B T _' },
  rnn_1_to_n: { x: 'B _' },
  lstm: { x: 'B T _', h0: '_ B _', c0: '_ B _' },
  lstm_bidirectional: { x: 'B T _' },
  gru: { x: 'B T _', h0: '_ B _' },
  seq2seq_lstm: { src: 'B S', tgt_in: 'B T' },
  additive_attention: { q: 'B L _', k: 'B S _', v: 'B S _' },
  sdpa: { q: 'B _ L _', k: 'B _ S _', v: 'B _ S _', q_causal: 'B _ T _', k_causal: 'B _ T _', v_causal: 'B _ T _' },
  mha_self: { x: 'B L _', key_padding_mask: 'B L' },
  mha_cross: { q: 'B L _', k: 'B S _', v: 'B S _', attn_mask: 'L S' },
  encoder_layer_postln_relu: { x: 'B T _', src_key_padding_mask: 'B T' },
  encoder_layer_preln_gelu: { x: 'B T _', src_key_padding_mask: 'B T' },
  decoder_layer: { tgt: 'B T _', memory: 'B S _', memory_key_padding_mask: 'B S' },
  transformer_seq2seq: { src: 'B S', src_key_padding_mask: 'B S', tgt_in: 'B T' },
  tiny_gpt: { tokens: 'B T' },
};

/** Bounds a family cannot exceed whatever the scale: a GPT's positions end at its context. */
export const BOUND_CAPS: Record<string, (c: CaseSpec) => Record<string, number>> = {
  tiny_gpt: (c) => ({ T: num(c, 'context') }),
};

/**
 * The case's inputs with its variable dims symbolic, each bounded at `scale` × the case's size
 * (capped by BOUND_CAPS, never below the case's size) (the spelling of symbolic inputs: { shape: ['B', 'T', 16], max: { B: 4, T: 18 }, dtype }).
 */
export function symbolicInputs(c: CaseSpec, scale: number): Record<string, { shape: (number | string)[]; max: Record<string, number>; dtype: DType }> {
  const family = VARIABLE_DIMS[c.name];
  if (!family) throw new Error(`case ${c.name}: no variable dims are declared for this family (VARIABLE_DIMS in compiler/conformance/cases.ts)`);
  const sizes = new Map<string, number>();
  const out: ReturnType<typeof symbolicInputs> = {};
  for (const [k, v] of Object.entries(c.inputs)) {
    const words = family[k]?.split(' ') ?? v.shape.map(() => '_');
    if (words.length !== v.shape.length) throw new Error(`case ${c.name}: input ${k} is [${v.shape.join(', ')}], VARIABLE_DIMS spells ${words.length} dims ('${family[k]}')`);
    const shape = v.shape.map((d, i) => {
      const w = words[i]!;
      if (w === '_') return d;
      if (sizes.has(w) && sizes.get(w) !== d) throw new Error(`case ${c.name}: dim ${w} is ${sizes.get(w)} in one input and ${d} in ${k}`);
      sizes.set(w, d);
      return w;
    });
    out[k] = { shape, max: {}, dtype: DTYPES[v.dtype]! };
  }
  const caps = BOUND_CAPS[c.name]?.(c) ?? {};
  const max = Object.fromEntries([...sizes].map(([w, d]) => [w, Math.max(d, Math.min(d * scale, caps[w] ?? Infinity))]));
  for (const spec of Object.values(out)) spec.max = Object.fromEntries(Object.entries(max).filter(([w]) => spec.shape.includes(w)));
  return out;
}
export const inputSpecs = (c: CaseSpec) =>
  Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, { shape: v.shape, dtype: DTYPES[v.dtype]! }]));

/** A model definition; `extra` computes outputs that need the runtime's own API (generation). */
export type Built = ModelDefinition & { extra?: (model: Model, feeds: Record<string, TensorData>) => Record<string, TensorData> };
export type Builder = (c: CaseSpec) => Built;
const num = (c: CaseSpec, k: string): number => {
  const v = c.config?.[k];
  if (typeof v !== 'number') throw new Error(`case ${c.name}: config.${k} must be a number, got ${JSON.stringify(v)}`);
  return v;
};

export const BUILDERS: Record<string, Builder> = {
  mlp: (c) => {
    const dims = c.config!.dims as number[];
    const layers: nn.Module[] = [];
    dims.slice(1).forEach((d, i) => {
      layers.push(new nn.Linear(dims[i]!, d));
      if (i < dims.length - 2) layers.push(i % 2 === 0 ? new nn.ReLU() : new nn.Tanh());
    });
    layers.push(new nn.Softmax(-1));
    return { name: c.name, module: new nn.Sequential(...layers), inputs: inputSpecs(c) };
  },
  cnn_lenet: (c) => {
    const [c1, c2] = c.config!.channels as [number, number];
    const [, cin, h, w] = c.inputs.x!.shape as [number, number, number, number];
    const flat = c2 * (Math.floor((Math.floor(h / 2) - 4) / 2)) * (Math.floor((Math.floor(w / 2) - 4) / 2));
    const module = new nn.Sequential(
      new nn.Conv2d(cin, c1, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(c1, c2, 5), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(),
      new nn.Linear(flat, 120), new nn.ReLU(), new nn.Linear(120, 84), new nn.ReLU(), new nn.Linear(84, 10));
    return { name: c.name, module, inputs: inputSpecs(c) };
  },
  cnn_strided: (c) => {
    const [cin, cout] = c.config!.channels as [number, number];
    class Strided extends nn.Module {
      features = new nn.Sequential(new nn.Conv2d(cin, cout, 3, { stride: 2, padding: 1 }), new nn.ReLU(), new nn.AvgPool2d(2),
        new nn.Conv2d(cout, cout, 3, { padding: 1 }), new nn.Sigmoid());
      head = new nn.Linear(cout, c.outputs.y!.shape[1]!);
      forward(x: Tensor): Tensor { return this.head.call(this.features.call(x).mean([2, 3])); }
    }
    return { name: c.name, module: new Strided(), inputs: inputSpecs(c) };
  },
};

const rnnCase = (kind: 'LSTM' | 'GRU'): Builder => (c) => {
  const L = c.config?.layers as number | undefined ?? 1;
  const H = num(c, 'hidden');
  const bidirectional = (c.outputs.y!.shape[2] ?? H) === 2 * H;
  const opts = { numLayers: L, batchFirst: true, bidirectional };
  const module = kind === 'LSTM' ? new nn.LSTM(num(c, 'input'), H, opts) : new nn.GRU(num(c, 'input'), H, opts);
  return {
    name: c.name, module, inputs: inputSpecs(c),
    forward: (m, i) => {
      if (m instanceof nn.LSTM) {
        const [y, [h, cc]] = m.call(i.x!, i.h0 ? [i.h0, i.c0!] : undefined);
        return { y, h_n: h, c_n: cc };
      }
      const [y, h] = (m as nn.GRU).call(i.x!, i.h0);
      return { y, h_n: h };
    },
  } as ModelDefinition;
};

/** StepRNN: s, h_n = rnn(x, h0) (tanh, batch_first); y = softmax(out(s), -1) at every step. */
class StepRNN extends nn.Module {
  rnn: nn.RNN;
  out: nn.Linear;
  constructor(input: number, hidden: number, out: number, layers: number) {
    super();
    this.rnn = new nn.RNN(input, hidden, { numLayers: layers, batchFirst: true });
    this.out = new nn.Linear(hidden, out);
  }
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] {
    const [s, hn] = this.rnn.call(x, h0);
    return [this.out.call(s).softmax(-1), hn];
  }
}

BUILDERS.lstm = rnnCase('LSTM');
BUILDERS.lstm_bidirectional = rnnCase('LSTM');
BUILDERS.gru = rnnCase('GRU');
BUILDERS.rnn_n_to_n = (c) => {
  const m = new StepRNN(num(c, 'input'), num(c, 'hidden'), num(c, 'out'), (c.config?.layers as number | undefined) ?? 1);
  return { name: c.name, module: m, inputs: inputSpecs(c), forward: (mm, i) => { const [y, h_n] = (mm as StepRNN).call(i.x!, i.h0); return { y, h_n }; } } as ModelDefinition;
};
BUILDERS.rnn_n_to_1 = (c) => {
  class LastStepRNN extends nn.Module {
    rnn = new nn.RNN(num(c, 'input'), num(c, 'hidden'), { batchFirst: true });
    out = new nn.Linear(num(c, 'hidden'), num(c, 'out'));
    forward(x: Tensor): Tensor { const [s] = this.rnn.call(x); return this.out.call(s.select(1, -1)); }
  }
  return { name: c.name, module: new LastStepRNN(), inputs: inputSpecs(c) };
};
BUILDERS.rnn_1_to_n = (c) => {
  // One input vector at the first step, zero vectors for the other steps - 1, zero state.
  const m = new StepRNN(num(c, 'input'), num(c, 'hidden'), num(c, 'out'), 1);
  const steps = num(c, 'steps');
  return {
    name: c.name, module: m, inputs: inputSpecs(c),
    forward: (mm, i) => {
      const x = i.x!;
      const seq = cat([x.unsqueeze(1), zeros([x.dim(0), steps - 1, x.maxSize(1)], x.bounds)], 1);
      return { y: (mm as StepRNN).call(seq)[0] };
    },
  } as ModelDefinition;
};

BUILDERS.seq2seq_lstm = (c) => ({
  name: c.name,
  module: new Seq2SeqLSTM(num(c, 'src_vocab'), num(c, 'tgt_vocab'), num(c, 'emb'), num(c, 'hidden'), num(c, 'bos'), num(c, 'greedy_steps')),
  inputs: inputSpecs(c),
});

const attnOut = (y: Tensor, w?: Tensor): Record<string, Tensor> => (w ? { y, weights: w } : { y });

BUILDERS.additive_attention = (c) => ({
  name: c.name, module: new nn.AdditiveAttention(num(c, 'q_dim'), num(c, 'k_dim'), num(c, 'm')), inputs: inputSpecs(c),
  forward: (m, i) => { const [y, w] = (m as nn.AdditiveAttention).call(i.q!, i.k!, i.v!); return { y, weights: w }; },
});
BUILDERS.sdpa = (c) => ({
  name: c.name, module: new nn.Identity(), inputs: inputSpecs(c),
  forward: (_m, i) => ({
    y: F.scaledDotProductAttention(i.q!, i.k!, i.v!),
    y_causal: F.scaledDotProductAttention(i.q_causal!, i.k_causal!, i.v_causal!, { isCausal: true }),
  }),
});
const mha: Builder = (c) => {
  const cfg = c.config as { embed_dim: number; num_heads: number; kdim?: number; vdim?: number };
  return {
    name: c.name, module: new nn.MultiheadAttention(cfg.embed_dim, cfg.num_heads, { kdim: cfg.kdim, vdim: cfg.vdim, batchFirst: true }), inputs: inputSpecs(c),
    forward: (m, i) => {
      const [q, k, v] = i.x ? [i.x, i.x, i.x] : [i.q!, i.k!, i.v!];
      const [y, w] = (m as nn.MultiheadAttention).call(q, k, v, { keyPaddingMask: i.key_padding_mask, attnMask: i.attn_mask });
      return attnOut(y, w);
    },
  };
};
BUILDERS.mha_self = mha;
BUILDERS.mha_cross = mha;
const encoderLayer: Builder = (c) => {
  const cfg = c.config as { d_model: number; nhead: number; dim_feedforward: number; norm_first?: boolean; activation?: 'relu' | 'gelu' };
  return {
    name: c.name, inputs: inputSpecs(c),
    module: new nn.TransformerEncoderLayer(cfg.d_model, cfg.nhead, { dimFeedforward: cfg.dim_feedforward, normFirst: cfg.norm_first, activation: cfg.activation, batchFirst: true, dropout: 0 }),
    forward: (m, i) => ({ y: (m as nn.TransformerEncoderLayer).call(i.x!, { srcKeyPaddingMask: i.src_key_padding_mask }) }),
  };
};
BUILDERS.encoder_layer_postln_relu = encoderLayer;
BUILDERS.encoder_layer_preln_gelu = encoderLayer;
BUILDERS.decoder_layer = (c) => {
  const cfg = c.config as { d_model: number; nhead: number; dim_feedforward: number; norm_first?: boolean; activation?: 'relu' | 'gelu' };
  return {
    name: c.name, inputs: inputSpecs(c),
    module: new nn.TransformerDecoderLayer(cfg.d_model, cfg.nhead, { dimFeedforward: cfg.dim_feedforward, normFirst: cfg.norm_first, activation: cfg.activation, batchFirst: true, dropout: 0 }),
    forward: (m, i) => ({ y: (m as nn.TransformerDecoderLayer).call(i.tgt!, i.memory!, { tgtIsCausal: true, memoryKeyPaddingMask: i.memory_key_padding_mask }) }),
  };
};

BUILDERS.transformer_seq2seq = (c) => ({
  name: c.name, inputs: inputSpecs(c),
  module: new Seq2SeqTransformer(num(c, 'vocab'), num(c, 'd_model'), num(c, 'nhead'), num(c, 'layers'), num(c, 'dim_feedforward'), num(c, 'bos'), num(c, 'greedy_steps')),
  forward: (m, i) => (m as Seq2SeqTransformer).call(i.src!, i.src_key_padding_mask!, i.tgt_in!),
});

BUILDERS.tiny_gpt = (c) => {
  const [B, T] = c.inputs.tokens!.shape as [number, number];
  const steps = num(c, 'greedy_steps');
  const gpt = new GPT({ vocab: num(c, 'vocab'), context: num(c, 'context'), dModel: num(c, 'd_model'), nhead: num(c, 'nhead'), layers: num(c, 'layers'), dimFeedforward: num(c, 'dim_feedforward') });
  return {
    ...defineGPT({ name: c.name, module: gpt, tokens: [B, T], chunk: 4 }),
    // `generated`: each batch row generated on its own from a fresh KV cache.
    extra: (model, feeds) => {
      const tokens = feeds.tokens as Int32Array, out = new Int32Array(B * (T + steps));
      for (let b = 0; b < B; b++) out.set(model.generate(tokens.subarray(b * T, (b + 1) * T), { maxNewTokens: steps }), b * (T + steps));
      return { generated: out };
    },
  };
};

