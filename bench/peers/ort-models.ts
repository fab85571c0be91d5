// The workloads as ONNX graphs (opset 17, standard ops only) from the same PyTorch-named weights.
// Batch 1 sequence models run on 2-D [T, E] activations (a free reshape of [1, T, E]), so every
// projection is one Gemm with transB = 1 on PyTorch's [out, in] weight, as torch.onnx exports it.
// Recurrent gates are reordered for ONNX: LSTM i f g o → i o f c, GRU r z n → z r h.

import { DT, OnnxGraph } from '../onnx.ts';
import type { GPTShape, TransformerShape, Weights, Workload } from '../workloads.ts';

function w(ws: Weights, name: string): Float32Array {
  const t = ws.get(name);
  if (!t) throw new Error(`onnx export: no weight '${name}' (have: ${[...ws.keys()].join(', ')})`);
  return t.data;
}

/** Rows of a [G·H, …] gate-stacked tensor, blocks taken in `order`. */
function reorderGates(a: Float32Array, G: number, order: number[]): Float32Array {
  const blk = a.length / G, out = new Float32Array(a.length);
  order.forEach((src, dst) => out.set(a.subarray(src * blk, (src + 1) * blk), dst * blk));
  return out;
}

const concat = (...as: Float32Array[]) => {
  const out = new Float32Array(as.reduce((s, a) => s + a.length, 0));
  let o = 0;
  for (const a of as) { out.set(a, o); o += a.length; }
  return out;
};

/** Causal additive mask [T, T]: 0 on and below the diagonal, −∞ above. */
function causalMask(T: number): Float32Array {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -Infinity;
  return m;
}

/** `a.b` joined, or `b` alone for the root module. */
const at = (prefix: string, name: string) => (prefix ? `${prefix}.${name}` : name);

/** x [rows, in] → Gemm with a PyTorch weight [out, in] (transB) and optional bias, by their state_dict names. */
function gemm(g: OnnxGraph, ws: Weights, x: string, weight: string, bias: string | undefined, dims: [number, number]): string {
  const W = g.init(weight, dims, w(ws, weight));
  return g.op1('Gemm', bias ? [x, W, g.init(bias, [dims[0]], w(ws, bias))] : [x, W], { transB: 1 });
}

/** nn.Linear at `prefix`. */
const linear = (g: OnnxGraph, ws: Weights, x: string, prefix: string, dims: [number, number], bias = true) =>
  gemm(g, ws, x, at(prefix, 'weight'), bias ? at(prefix, 'bias') : undefined, dims);

function layerNorm(g: OnnxGraph, ws: Weights, x: string, prefix: string, E: number): string {
  const gamma = at(prefix, 'weight'), beta = at(prefix, 'bias');
  return g.op1('LayerNormalization', [x, g.init(gamma, [E], w(ws, gamma)), g.init(beta, [E], w(ws, beta))],
    { axis: -1, epsilon: { f: 1e-5 } });
}

/** Multi-head self-attention on x [T, E] (PyTorch's packed in_proj), optional additive mask name. */
function selfAttention(g: OnnxGraph, ws: Weights, x: string, p: string, s: TransformerShape, mask?: string): string {
  const { T, E, heads } = s, d = E / heads;
  const sa = at(p, 'self_attn');
  const qkv = gemm(g, ws, x, `${sa}.in_proj_weight`, `${sa}.in_proj_bias`, [3 * E, E]);
  const [q, k, v] = g.op('Split', [qkv, g.ints(`${sa}.split`, [3], [E, E, E])], { axis: 1 }, 3) as [string, string, string];
  const heads3 = g.ints(`${sa}.heads_shape`, [3], [T, heads, d]);
  const qs = g.op1('Mul', [q, g.init(`${sa}.scale`, [], Float32Array.of(1 / Math.sqrt(d)))]);
  const qh = g.op1('Transpose', [g.op1('Reshape', [qs, heads3])], { perm: [1, 0, 2] });   // [h, T, d]
  const kt = g.op1('Transpose', [g.op1('Reshape', [k, heads3])], { perm: [1, 2, 0] });    // [h, d, T]
  const vh = g.op1('Transpose', [g.op1('Reshape', [v, heads3])], { perm: [1, 0, 2] });    // [h, T, d]
  let scores = g.op1('MatMul', [qh, kt]);                                                   // [h, T, T]
  if (mask) scores = g.op1('Add', [scores, mask]);
  const o = g.op1('MatMul', [g.op1('Softmax', [scores], { axis: -1 }), vh]);              // [h, T, d]
  const merged = g.op1('Reshape', [g.op1('Transpose', [o], { perm: [1, 0, 2] }), g.ints(`${sa}.merge_shape`, [2], [T, E])]);
  return linear(g, ws, merged, `${sa}.out_proj`, [E, E]);
}

/** 0.5·x·(1 + erf(x/√2)): exact GELU from opset-17 ops, the pattern ORT's Gelu fusion matches. */
function gelu(g: OnnxGraph, x: string, id: string): string {
  const e = g.op1('Erf', [g.op1('Div', [x, g.init(`${id}.sqrt2`, [], Float32Array.of(Math.SQRT2))])]);
  const one = g.op1('Add', [e, g.init(`${id}.one`, [], Float32Array.of(1))]);
  return g.op1('Mul', [g.op1('Mul', [x, one]), g.init(`${id}.half`, [], Float32Array.of(0.5))]);
}

function encoderLayerPostLN(g: OnnxGraph, ws: Weights, x: string, p: string, s: TransformerShape): string {
  const x1 = layerNorm(g, ws, g.op1('Add', [x, selfAttention(g, ws, x, p, s)]), at(p, 'norm1'), s.E);
  const f = linear(g, ws, g.op1('Relu', [linear(g, ws, x1, at(p, 'linear1'), [s.F, s.E])]), at(p, 'linear2'), [s.E, s.F]);
  return layerNorm(g, ws, g.op1('Add', [x1, f]), at(p, 'norm2'), s.E);
}

function gptBlock(g: OnnxGraph, ws: Weights, x: string, p: string, s: TransformerShape, mask: string): string {
  const x1 = g.op1('Add', [x, selfAttention(g, ws, layerNorm(g, ws, x, `${p}.norm1`, s.E), p, s, mask)]);
  const h = gelu(g, linear(g, ws, layerNorm(g, ws, x1, `${p}.norm2`, s.E), `${p}.linear1`, [s.F, s.E]), p);
  return g.op1('Add', [x1, linear(g, ws, h, `${p}.linear2`, [s.E, s.F])]);
}

/** The GPT's tokens [1, T] int32 → logits: of every position [1, T, V], or of the last [1, V]. */
function gpt(g: OnnxGraph, ws: Weights, s: GPTShape, lastOnly: boolean): void {
  const { T, E, V } = s;
  const tokens = g.input('tokens', [1, T], DT.INT32);
  const ids = g.op1('Reshape', [tokens, g.ints('tok_shape', [1], [T])]);
  const tok = g.op1('Gather', [g.init('tok_emb.weight', [V, E], w(ws, 'tok_emb.weight')), ids], { axis: 0 });
  const pos = g.op1('Gather', [g.init('pos_emb.weight', [T, E], w(ws, 'pos_emb.weight')), g.ints('positions', [T], Array.from({ length: T }, (_, i) => i))], { axis: 0 });
  let x = g.op1('Add', [tok, pos]);
  const mask = g.init('causal_mask', [T, T], causalMask(T));
  for (let l = 0; l < s.layers; l++) x = gptBlock(g, ws, x, `blocks.${l}`, s, mask);
  if (lastOnly) x = g.op1('Slice', [x, g.ints('last_start', [1], [T - 1]), g.ints('last_end', [1], [T]), g.ints('last_axes', [1], [0])]);
  const logits = linear(g, ws, layerNorm(g, ws, x, 'ln_f', E), 'head', [V, E], false);
  if (lastOnly) { g.name(logits, 'logits'); g.output('logits', [1, V]); return; }
  g.name(g.op1('Reshape', [logits, g.ints('logits_shape', [3], [1, T, V])]), 'logits');
  g.output('logits', [1, T, V]);
}

/** The ONNX model of a workload: input x (float) or tokens (int32), output y or logits. */
export function onnxModel(wl: Workload): Uint8Array {
  const g = new OnnxGraph(), ws = wl.weights, sp = wl.spec;
  switch (sp.kind) {
    case 'gemm': {
      const x = g.input('x', [sp.M, sp.K]);
      g.name(g.op1('MatMul', [x, g.init('weight', [sp.K, sp.N], w(ws, 'weight'))]), 'y');
      g.output('y', [sp.M, sp.N]);
      break;
    }
    case 'mlp': {
      let h = g.input('x', [sp.B, sp.sizes[0]!]);
      for (let i = 1; i < sp.sizes.length; i++) {
        h = linear(g, ws, h, String(2 * (i - 1)), [sp.sizes[i]!, sp.sizes[i - 1]!]);
        if (i < sp.sizes.length - 1) h = g.op1('Relu', [h]);
      }
      g.name(h, 'y');
      g.output('y', [sp.B, sp.sizes.at(-1)!]);
      break;
    }
    case 'lstm': case 'gru': {
      const { T, I, H } = sp, G = sp.kind === 'lstm' ? 4 : 3;
      const order = sp.kind === 'lstm' ? [0, 3, 1, 2] : [1, 0, 2];
      const x = g.input('x', [1, T, I]);
      const X = g.op1('Reshape', [x, g.ints('seq_shape', [3], [T, 1, I])]);
      const W = g.init('W', [1, G * H, I], reorderGates(w(ws, 'weight_ih_l0'), G, order));
      const R = g.init('R', [1, G * H, H], reorderGates(w(ws, 'weight_hh_l0'), G, order));
      const B = g.init('B', [1, 2 * G * H], concat(reorderGates(w(ws, 'bias_ih_l0'), G, order), reorderGates(w(ws, 'bias_hh_l0'), G, order)));
      const attrs: Record<string, number> = sp.kind === 'lstm' ? { hidden_size: H } : { hidden_size: H, linear_before_reset: 1 };
      const [Y] = g.op(sp.kind === 'lstm' ? 'LSTM' : 'GRU', [X, W, R, B], attrs, 1);    // Y [T, 1, 1, H]
      g.name(g.op1('Reshape', [Y!, g.ints('y_shape', [3], [1, T, H])]), 'y');
      g.output('y', [1, T, H]);
      break;
    }
    case 'transformer': {
      const x = g.input('x', [1, sp.T, sp.E]);
      const x2 = g.op1('Reshape', [x, g.ints('x2_shape', [2], [sp.T, sp.E])]);
      const y = encoderLayerPostLN(g, ws, x2, '', sp);
      g.name(g.op1('Reshape', [y, g.ints('y_shape', [3], [1, sp.T, sp.E])]), 'y');
      g.output('y', [1, sp.T, sp.E]);
      break;
    }
    case 'gpt': gpt(g, ws, sp, sp.mode === 'prefill'); break;
  }
  return g.finish(wl.name);
}
