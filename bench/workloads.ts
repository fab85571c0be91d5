// The benchmark's workloads, built with the DSL from seeded default-initialised modules, and what
// the peers need to rebuild them: the PyTorch-named weights, the input, the FLOPs and the bytes
// of weights (and cache) one call must read.
//
// Shape legend: T sequence length, I input width, H hidden width, E = d_model, F feed-forward
// width, V vocabulary, B batch.

import { nn, defineModel, defineGPT, GPT, manualSeed, type Tensor, Module, Parameter } from '../compiler/dsl/index.ts';
import type { ModelDefinition } from '../compiler/dsl/trace.ts';
import { rng } from '../compiler/dsl/module.ts';

export type Weights = Map<string, { shape: readonly number[]; data: Float32Array }>;

export interface TransformerShape { T: number; E: number; heads: number; F: number }
export interface GPTShape extends TransformerShape { layers: number; V: number }

export type Spec =
  | { kind: 'gemm'; M: number; K: number; N: number }
  | { kind: 'mlp'; B: number; sizes: number[] }
  | { kind: 'lstm' | 'gru'; T: number; I: number; H: number }
  | ({ kind: 'transformer' } & TransformerShape)
  /** prefill: logits of the last position only (what a generator needs); forward: all T rows; decode: one token at T−1 with the cache. */
  | ({ kind: 'gpt'; mode: 'prefill' | 'forward' | 'decode' } & GPTShape);

export interface Workload {
  name: string;
  spec: Spec;
  def: ModelDefinition;
  weights: Weights;
  /** The float input of non-GPT workloads; the token ids of GPT ones. */
  x: Float32Array;
  xShape: number[];
  tokens?: Int32Array;
  flops: number;
  /** Bytes of parameters (and KV cache) one call reads at least once. */
  bytes: number;
  note: string;
}

/** A constant right operand: x [M, K] · W [K, N]. */
class ConstMatmul extends Module {
  readonly weight: Parameter;
  constructor(K: number, N: number) { super(); this.weight = this.param('weight', [K, N], { uniform: 1 / Math.sqrt(K) }); }
  forward(x: Tensor): Tensor { return x.matmul(this.weight.t); }
}

const SEED = 1234;

function floats(n: number, seed: number): Float32Array {
  const r = rng(seed), a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 - 1;
  return a;
}

function weightsOf(m: Module): Weights {
  m.assignPaths();
  return new Map(m.namedParameters().map(([k, p]) => [k, { shape: p.shape, data: p.data }]));
}

const paramBytes = (w: Weights, skip: (name: string) => boolean = () => false) =>
  [...w].reduce((s, [k, t]) => s + (skip(k) ? 0 : t.data.length * 4), 0);

/** FLOPs of one transformer layer's matmuls on T query rows against L keys (attention: QKᵀ and PV over `pairs` query–key pairs). */
function layerFlops(s: TransformerShape, T: number, pairs: number): number {
  const { E, F } = s;
  return 2 * T * E * 3 * E + 2 * 2 * pairs * E + 2 * T * E * E + 2 * 2 * T * E * F;
}

export const WORKLOAD_NAMES = ['gemm512', 'mlp_b1', 'mlp_b64', 'lstm', 'gru', 'transformer', 'gpt_prefill', 'gpt_decode'] as const;

export function buildWorkload(name: string): Workload {
  manualSeed(SEED);
  switch (name) {
    case 'gemm512': {
      const M = 512, K = 512, N = 512;
      const m = new ConstMatmul(K, N);
      return {
        name, spec: { kind: 'gemm', M, K, N }, weights: weightsOf(m), x: floats(M * K, 1), xShape: [M, K], flops: 2 * M * N * K,
        bytes: K * N * 4, note: '512×512 · 512×512, constant right operand',
        def: defineModel({ name, module: m, inputs: { x: [M, K] } }),
      };
    }
    case 'mlp_b1': case 'mlp_b64': {
      const B = name === 'mlp_b1' ? 1 : 64, sizes = [784, 512, 512, 10];
      const m = new nn.Sequential(new nn.Linear(784, 512), new nn.ReLU(), new nn.Linear(512, 512), new nn.ReLU(), new nn.Linear(512, 10));
      const w = weightsOf(m);
      let flops = 0;
      for (let i = 1; i < sizes.length; i++) flops += 2 * B * sizes[i - 1]! * sizes[i]!;
      return {
        name, spec: { kind: 'mlp', B, sizes }, weights: w, x: floats(B * 784, 2), xShape: [B, 784], flops, bytes: paramBytes(w),
        note: `784-512-512-10 ReLU, batch ${B}`,
        def: defineModel({ name, module: m, inputs: { x: [B, 784] } }),
      };
    }
    case 'lstm': case 'gru': {
      const T = 64, I = 128, H = 256, G = name === 'lstm' ? 4 : 3;
      const m = name === 'lstm' ? new nn.LSTM(I, H, { batchFirst: true }) : new nn.GRU(I, H, { batchFirst: true });
      const w = weightsOf(m);
      return {
        name, spec: { kind: name, T, I, H }, weights: w, x: floats(T * I, 3), xShape: [1, T, I], flops: 2 * T * G * H * (I + H), bytes: paramBytes(w),
        note: `${name.toUpperCase()}(${I}, ${H}), T=${T}, batch 1, output y`,
        def: defineModel({
          name, module: m, inputs: { x: [1, T, I] },
          forward: (mm, i) => ({ y: (mm as nn.LSTM).call(i.x!)[0] }),
        }),
      };
    }
    case 'transformer': {
      const s = { T: 128, E: 256, heads: 4, F: 1024 };
      const m = new nn.TransformerEncoderLayer(s.E, s.heads, { dimFeedforward: s.F, batchFirst: true, dropout: 0 });
      const w = weightsOf(m);
      return {
        name, spec: { kind: 'transformer', ...s }, weights: w, x: floats(s.T * s.E, 4), xShape: [1, s.T, s.E], flops: layerFlops(s, s.T, s.T * s.T), bytes: paramBytes(w),
        note: `TransformerEncoderLayer(${s.E}, ${s.heads}, ff ${s.F}) post-LN ReLU, T=${s.T}`,
        def: defineModel({ name, module: m, inputs: { x: [1, s.T, s.E] } }),
      };
    }
    case 'gpt_prefill': case 'gpt_forward': case 'gpt_decode': {
      const s = { T: 128, E: 256, heads: 4, F: 1024, layers: 4, V: 1000 };
      const m = new GPT({ vocab: s.V, context: s.T, dModel: s.E, nhead: s.heads, layers: s.layers, dimFeedforward: s.F });
      const w = weightsOf(m);
      const r = rng(5), tokens = Int32Array.from({ length: s.T }, () => Math.floor(r() * s.V));
      const mode = name === 'gpt_prefill' ? 'prefill' : name === 'gpt_forward' ? 'forward' : 'decode';
      // Embedding tables count only for the rows gathered; causal attention for the keys each row sees.
      const emb = (k: string) => k === 'tok_emb.weight' || k === 'pos_emb.weight';
      const causal = (s.T * (s.T + 1)) / 2;
      const flops = mode === 'decode'
        ? s.layers * layerFlops(s, 1, s.T) + 2 * s.E * s.V
        : s.layers * layerFlops(s, s.T, causal) + 2 * (mode === 'forward' ? s.T : 1) * s.E * s.V;
      const rows = mode === 'decode' ? 1 : s.T;
      const kvBytes = mode === 'decode' ? s.layers * 2 * s.T * s.E * 4 : 0;
      return {
        name, spec: { kind: 'gpt', mode, ...s }, weights: w, x: new Float32Array(0), xShape: [1, s.T], tokens, flops,
        bytes: paramBytes(w, emb) + 2 * rows * s.E * 4 + kvBytes,
        note: mode === 'decode' ? `GPT one decode step at position ${s.T - 1} (KV cache); peers: full forward over ${s.T} tokens`
          : `GPT ${s.layers} layers E=${s.E} ${s.heads} heads F=${s.F} V=${s.V}, ${s.T} tokens, ${mode === 'prefill' ? 'logits of the last token' : 'logits of every token'}`,
        def: defineGPT({ name: 'gpt', module: m, tokens: [1, s.T], capacity: s.T, chunk: s.T }),
      };
    }
    default: throw new Error(`bench: unknown workload '${name}' (known: ${[...WORKLOAD_NAMES, 'gpt_forward'].join(', ')})`);
  }
}
