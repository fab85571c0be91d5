// Golden tests of the passes that recognise decomposed ops (as ONNX exporters write them) and
// turn them into the fused ops the DSL emits: layernorm, gelu, attention, and the view chains
// left around attention. Each checks the meaning is kept with the reference interpreter, and
// that the rewrite does not fire where it would change results.

import { describe, expect, test } from 'vitest';
import { wasmTarget } from '../../compiler/codegen/target.ts';
import { constant, type Tensor } from '../../compiler/dsl/tensor.ts';
import { whereOp } from '../../compiler/dsl/functional.ts';
import { rng } from '../../compiler/dsl/module.ts';
import type { Graph } from '../../compiler/ir/node.ts';
import { cloneGraph } from '../../compiler/ir/node.ts';
import { printGraph } from '../../compiler/ir/print.ts';
import { numel } from '../../compiler/ir/types.ts';
import { verify } from '../../compiler/ir/verify.ts';
import { attentionPacking } from '../../compiler/passes/attention-packing.ts';
import { transposeSinking } from '../../compiler/passes/transpose-sinking.ts';
import { attentionRecognition } from '../../compiler/passes/attention-recognition.ts';
import { geluRecognition } from '../../compiler/passes/gelu-recognition.ts';
import { layernormRecognition } from '../../compiler/passes/layernorm-recognition.ts';
import { runPasses } from '../../compiler/passes/manager.ts';
import type { Pass } from '../../compiler/passes/pass.ts';
import { viewSimplification } from '../../compiler/passes/view-simplification.ts';
import { epilogueFusion } from '../../compiler/passes/epilogue-fusion.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { f32, tiny } from './util.ts';

const ops = (g: Graph) => g.nodes.map((n) => n.op).filter((o) => !['input', 'const'].includes(o));

/** Runs the passes on a copy and checks with the interpreter (bool inputs get a random 0/1 mask) that outputs agree. */
function check(g: Graph, ...passes: Pass[]): Graph {
  let out = cloneGraph(g);
  for (const p of passes) { out = p.run(out); verify(out); }
  const r = rng(7);
  const feeds = Object.fromEntries(g.inputs.map((i) => [i.label!, i.type.dtype === 'bool'
    ? Uint8Array.from({ length: numel(i.type.shape) }, (_, k) => (k % 5 === 4 || r() < 0.2 ? 1 : 0))
    : Float32Array.from({ length: numel(i.type.shape) }, () => r() * 4 - 2)]));
  const a = interpret(g, feeds), b = interpret(out, feeds);
  for (const k of Object.keys(a)) {
    a[k]!.forEach((v, i) => {
      const w = b[k]![i]!;
      if (!(Object.is(v, w) || Math.abs(v - w) <= 2e-6 * (1 + Math.abs(v)))) throw new Error(`output ${k}[${i}]: ${v} → ${w}\n${printGraph(out)}`);
    });
  }
  return out;
}

const vec = (n: number, label: string, f: (i: number) => number) => constant(Float32Array.from({ length: n }, (_, i) => f(i)), [n], 'f32', label);

/** LayerNorm as torch.onnx exports it at opset < 17. */
function decomposedNorm(x: Tensor, axes: number[], o: { eps?: number; gamma?: Tensor; beta?: Tensor; square?: 'pow' | 'mul' } = {}): Tensor {
  const d = x.sub(x.mean(axes, true));
  const sq = o.square === 'mul' ? d.mul(d) : d.pow(2);
  let y = d.div(sq.mean(axes, true).add(o.eps ?? 1e-5).sqrt());
  if (o.gamma) y = y.mul(o.gamma);
  if (o.beta) y = y.add(o.beta);
  return y;
}

describe('layernorm-recognition', () => {
  test('the exported decomposition with γ and β becomes one layernorm', () => {
    const g = tiny(({ x }) => decomposedNorm(x!, [-1], { gamma: vec(8, 'g', (i) => 1 + i / 8), beta: vec(8, 'b', (i) => i / 10 - 0.3) }), { x: [2, 3, 8] });
    const out = check(g, layernormRecognition, viewSimplification);
    expect(printGraph(out)).toBe(`graph {
  %0 = input "x"() : f32[2, 3, 8]
  %1 = const "g"() : f32[8]
  %2 = const "b"() : f32[8]
  %3 = layernorm(%0, %1, %2) {eps=0.00001} : f32[2, 3, 8]
  return y=%3
}`);
  });

  test('variants: no affine, γ only, d·d, rsqrt, two trailing axes, γ shaped [1, 1, 8]', () => {
    const gamma = () => constant(Float32Array.from({ length: 8 }, (_, i) => 2 - i / 4), [1, 1, 8], 'f32', 'g');
    const cases: Array<(x: Tensor) => Tensor> = [
      (x) => decomposedNorm(x, [-1], { eps: 1e-3 }),
      (x) => decomposedNorm(x, [-1], { gamma: gamma(), square: 'mul' }),
      (x) => { const d = x.sub(x.mean(-1, true)); return d.mul(d.pow(2).mean(-1, true).add(1e-5).rsqrt()).add(vec(8, 'b', (i) => i)); },
      (x) => decomposedNorm(x.reshape(2, 3, 2, 4), [-2, -1], { gamma: constant(Float32Array.from({ length: 8 }, (_, i) => i - 3), [2, 4], 'f32', 'g2') }),
    ];
    for (const f of cases) {
      const out = check(tiny(({ x }) => f(x!), { x: [2, 3, 8] }), layernormRecognition);
      expect(ops(out).filter((o) => o !== 'reshape')).toEqual(['layernorm']);
    }
  });

  test('does not fire on another axis, an unbiased variance, a γ over another axis, or a non-square', () => {
    const cases: Array<(x: Tensor) => Tensor> = [
      (x) => decomposedNorm(x, [1]),
      (x) => { const d = x.sub(x.mean(-1, true)); return d.div(d.pow(2).sum(-1, true).div(7).add(1e-5).sqrt()); },
      (x) => { const d = x.sub(x.mean(-1, true)); return d.div(d.pow(3).mean(-1, true).add(1e-5).sqrt()); },
      (x) => { const d = x.sub(x.mean(-1, true)); return d.div(x.pow(2).mean(-1, true).add(1e-5).sqrt()); },
    ];
    for (const f of cases) expect(ops(check(tiny(({ x }) => f(x!), { x: [2, 3, 8] }), layernormRecognition))).not.toContain('layernorm');
    // a γ broadcast over another axis is not LayerNorm's: the normalisation fuses, the product stays
    const g = tiny(({ x }) => decomposedNorm(x!, [-1], { gamma: constant(f32(1, 2, 3), [3, 1], 'f32', 'g') }), { x: [2, 3, 8] });
    expect(ops(check(g, layernormRecognition))).toEqual(['layernorm', 'mul']);
  });

  test('an intermediate used elsewhere keeps being computed for that user', () => {
    const g = tiny(({ x }) => { const d = x!.sub(x!.mean(-1, true)); return [d.div(d.pow(2).mean(-1, true).add(1e-5).sqrt()), d]; }, { x: [3, 8] });
    const out = check(g, layernormRecognition);
    expect(ops(out).sort()).toEqual(['layernorm', 'mean', 'sub']);
  });
});

describe('gelu-recognition', () => {
  const exported = (x: Tensor) => x.mul(x.div(Math.SQRT2).erf().add(1)).mul(0.5);
  test('0.5·x·(1 + erf(x/√2)) in any grouping becomes gelu', () => {
    const out = check(tiny(({ x }) => exported(x!), { x: [4, 6] }), geluRecognition);
    expect(printGraph(out)).toBe(`graph {
  %0 = input "x"() : f32[4, 6]
  %1 = gelu(%0) : f32[4, 6]
  return y=%1
}`);
    for (const f of [(x: Tensor) => x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1)), (x: Tensor) => x.mul(x.div(Math.SQRT2).erf().add(1).mul(0.5))]) {
      expect(ops(check(tiny(({ x }) => f(x!), { x: [5] }), geluRecognition))).toEqual(['gelu']);
    }
  });

  test('does not fire on other constants, another x, or an extra factor', () => {
    const cases: Array<(x: Tensor, y: Tensor) => Tensor> = [
      (x) => x.mul(x.div(2).erf().add(1)).mul(0.5),
      (x) => x.mul(x.div(Math.SQRT2).erf().add(1)).mul(0.6),
      (x, y) => y.mul(x.div(Math.SQRT2).erf().add(1)).mul(0.5),
      (x) => x.mul(x.div(Math.SQRT2).tanh().add(1)).mul(0.5),
    ];
    for (const f of cases) expect(ops(check(tiny(({ x, y }) => f(x!, y!), { x: [5], y: [5] }), geluRecognition))).not.toContain('gelu');
    // an extra factor: the inner product is gelu, the factor stays
    expect(ops(check(tiny(({ x, y }) => exported(x!).mul(y!), { x: [5], y: [5] }), geluRecognition))).toEqual(['gelu', 'mul']);
  });
});

/** Multi-head attention as exporters write it, from [B, L, E] projections. */
function splitHeadsAttention(q: Tensor, k: Tensor, v: Tensor, H: number, o: { mask?: Tensor; additive?: Tensor; scaleOnQ?: boolean } = {}): Tensor {
  const [B, Lq, E] = q.shape as [number, number, number], Lk = k.shape[1]!, d = E / H;
  const heads = (x: Tensor, L: number) => x.reshape(B, L, H, d).permute(0, 2, 1, 3);
  const qh = o.scaleOnQ ? heads(q.mul(1 / Math.sqrt(d)), Lq) : heads(q, Lq);
  let s = qh.matmul(heads(k, Lk).permute(0, 1, 3, 2));
  if (!o.scaleOnQ) s = s.div(Math.sqrt(d));
  if (o.additive) s = s.add(o.additive);
  if (o.mask) s = whereOp(o.mask, -Infinity, s);
  return s.softmax(-1).matmul(heads(v, Lk)).permute(0, 2, 1, 3).reshape(B, Lq, E);
}

const causalConst = (L: number, value: (masked: boolean) => number) =>
  constant(Float32Array.from({ length: L * L }, (_, i) => value(i % L > Math.floor(i / L))), [L, L], 'f32', 'causal');

describe('attention-recognition', () => {
  test('split heads + QKᵀ/√d + softmax + PV + merge → one attention; the head chains cancel', () => {
    const g = tiny(({ q, k, v }) => splitHeadsAttention(q!, k!, v!, 2), { q: [2, 3, 8], k: [2, 5, 8], v: [2, 5, 8] });
    const out = check(g, attentionRecognition, viewSimplification);
    expect(printGraph(out)).toBe(`graph {
  %0 = input "q"() : f32[2, 3, 8]
  %1 = input "k"() : f32[2, 5, 8]
  %2 = input "v"() : f32[2, 5, 8]
  %3 = attention(%0, %1, %2) {heads=2, scale=0.5, layout=separate} : f32[2, 3, 8]
  return y=%3
}`);
  });

  test('masks: bool where, additive 0/−∞ constant (causal → causal), where(m, −∞, 0); scale on q', () => {
    const specs = { q: [2, 4, 8], k: [2, 4, 8], v: [2, 4, 8], m: { shape: [2, 1, 1, 4], dtype: 'bool' as const } };
    const variants: Array<[(i: Record<string, Tensor>) => Tensor, RegExp]> = [
      [({ q, k, v, m }) => splitHeadsAttention(q!, k!, v!, 2, { mask: m }), /attention\(%0, %1, %2, %3\) \{heads=2, scale=0.5, mask=true, layout=separate\}/],
      [({ q, k, v }) => splitHeadsAttention(q!, k!, v!, 4, { additive: causalConst(4, (x) => (x ? -Infinity : 0)), scaleOnQ: true }), /attention\(%0, %1, %2\) \{heads=4, scale=0.7071\d*, causal=true, layout=separate\}/],
      [({ q, k, v, m }) => splitHeadsAttention(q!, k!, v!, 2, { additive: whereOp(m!, -Infinity, constant(new Float32Array(8), [2, 1, 1, 4], 'f32', 'zeros')) }), /mask=true/],
    ];
    for (const [f, want] of variants) {
      const out = check(tiny(f, specs), attentionRecognition, viewSimplification);
      expect(printGraph(out)).toMatch(want);
      expect(ops(out)).not.toContain('softmax');
      expect(ops(out)).not.toContain('transpose');
    }
  });

  test('heads split from one packed projection become the qkv layout (PyTorch seq-first heads: [L, B·H, d])', () => {
    // the bench's ONNX graphs: x [T, E] → Gemm → Split → [T, H, d] → [H, T, d]
    const packedG = tiny(({ x }) => {
      const T = 5, E = 8, H = 2, d = 4, p = x!.matmul(constant(Float32Array.from({ length: 8 * 24 }, (_, i) => Math.sin(i)), [8, 24], 'f32', 'w'));
      const heads = (s: Tensor) => s.reshape(T, H, d).permute(1, 0, 2);
      const q = heads(p.slice(1, 0, E).mul(0.5)), k = heads(p.slice(1, E, 2 * E)).permute(0, 2, 1), v = heads(p.slice(1, 2 * E, 3 * E));
      const s = q.matmul(k).add(causalConst(T, (m) => (m ? -Infinity : 0)));
      return s.softmax(-1).matmul(v).permute(1, 0, 2).reshape(T, E);
    }, { x: [5, 8] });
    const out = check(packedG, attentionRecognition, viewSimplification, attentionPacking);
    expect(printGraph(out)).toMatch(/attention\(%\d+\) \{heads=2, scale=0.5, causal=true, layout=qkv\} : f32\[1, 5, 8\]/);
    expect(ops(out)).toEqual(['matmul', 'reshape', 'attention', 'reshape']);
    // PyTorch 1.13's nn.MultiheadAttention: [L, B, E] projections, heads [B·H, L, d], key padding mask per batch
    const seqFirst = tiny(({ q, k, v, kpm }) => {
      const L = 3, S = 4, B = 2, H = 2, d = 4;
      const heads = (x: Tensor, n: number) => x.reshape(n, B * H, d).permute(1, 0, 2);
      const mask = kpm!.reshape(B, 1, 1, S);
      const addMask = whereOp(mask, -Infinity, constant(new Float32Array(B * S), [B, 1, 1, S], 'f32', 'zeros'));
      const bh = (t: Tensor) => t.reshape(B * H, 1, S);
      const stacked = bh(addMask.add(constant(new Float32Array(B * H * S), [B, H, 1, S], 'f32', 'z')));
      const s = heads(q!, L).div(Math.sqrt(d)).matmul(k!.reshape(S, B * H, d).permute(1, 2, 0)).add(stacked);
      return s.softmax(-1).matmul(heads(v!, S)).permute(1, 0, 2).reshape(L, B, H * d);
    }, { q: [3, 2, 8], k: [4, 2, 8], v: [4, 2, 8], kpm: { shape: [2, 4], dtype: 'bool' } });
    // the mask is materialised per head here (an add of zeros), which is not a 0/−∞ pattern: no fusion
    expect(ops(check(seqFirst, attentionRecognition))).toContain('softmax');
  });

  test('seq-first heads with a bool key-padding mask fuse, leaving one transpose per operand', () => {
    const g = tiny(({ q, k, v, kpm }) => {
      const L = 3, S = 4, B = 2, H = 2, d = 4;
      const heads = (x: Tensor, n: number) => x.reshape(n, B * H, d).permute(1, 0, 2);
      const m = kpm!.reshape(B, 1, 1, S);
      const s4 = heads(q!, L).div(Math.sqrt(d)).matmul(k!.reshape(S, B * H, d).permute(1, 2, 0)).reshape(B, H, L, S);
      const s = whereOp(m, -Infinity, s4).reshape(B * H, L, S);
      return s.softmax(-1).matmul(heads(v!, S)).permute(1, 0, 2).reshape(L, B, H * d);
    }, { q: [3, 2, 8], k: [4, 2, 8], v: [4, 2, 8], kpm: { shape: [2, 4], dtype: 'bool' } });
    // scores reshaped between matmul and mask: not matched (the mask must apply to the matmul's shape)
    expect(ops(check(g, attentionRecognition))).toContain('softmax');
    const g2 = tiny(({ q, k, v }) => {
      const L = 3, S = 4, B = 2, H = 2, d = 4;
      const heads = (x: Tensor, n: number) => x.reshape(n, B * H, d).permute(1, 0, 2);
      const s = heads(q!, L).div(Math.sqrt(d)).matmul(k!.reshape(S, B * H, d).permute(1, 2, 0));
      return s.softmax(-1).matmul(heads(v!, S)).permute(1, 0, 2).reshape(L, B, H * d);
    }, { q: [3, 2, 8], k: [4, 2, 8], v: [4, 2, 8] });
    const out = check(g2, attentionRecognition, viewSimplification);
    expect(ops(out).filter((o) => o === 'transpose')).toHaveLength(4);
    expect(printGraph(out)).toMatch(/attention\(%\d+, %\d+, %\d+\) \{heads=2, scale=0.5, layout=separate\} : f32\[2, 3, 8\]/);
  });

  test('does not fire: softmax over another axis or used elsewhere, non-0/−∞ additive mask, negative scale', () => {
    const specs = { q: [2, 4, 8], k: [2, 4, 8], v: [2, 4, 8] };
    const heads = (x: Tensor) => x.reshape(2, 4, 2, 4).permute(0, 2, 1, 3);
    const cases: Array<(i: Record<string, Tensor>) => Tensor | Tensor[]> = [
      ({ q, k, v }) => heads(q!).matmul(heads(k!).mT).softmax(-2).matmul(heads(v!)),
      ({ q, k, v }) => { const p = heads(q!).matmul(heads(k!).mT).softmax(-1); return [p.matmul(heads(v!)), p]; },
      ({ q, k, v }) => heads(q!).matmul(heads(k!).mT).add(causalConst(4, (m) => (m ? -Infinity : 0.5))).softmax(-1).matmul(heads(v!)),
      ({ q, k, v }) => heads(q!).matmul(heads(k!).mT).mul(-0.5).softmax(-1).matmul(heads(v!)),
      ({ q, k, v }) => heads(q!.mul(-1)).matmul(heads(k!).mT).add(causalConst(4, (m) => (m ? -Infinity : 0))).mul(0.5).softmax(-1).matmul(heads(v!)),
      ({ q, k, v }) => heads(q!).matmul(heads(k!.div(0)).mT).softmax(-1).matmul(heads(v!)),
    ];
    for (const f of cases) expect(ops(check(tiny(f, specs), attentionRecognition))).not.toContain('attention');
  });
});

describe('view-simplification', () => {
  test('a split and merge that cancel become a free reshape; two transposes equal to one become one', () => {
    const g = tiny(({ x }) => x!.reshape(3, 2, 4).permute(1, 0, 2).permute(1, 0, 2).reshape(3, 8).relu(), { x: [3, 8] });
    expect(ops(check(g, viewSimplification))).toEqual(['relu']);
    const g2 = tiny(({ x }) => x!.permute(1, 0, 2).reshape(4, 2, 2, 3).permute(1, 0, 2, 3).permute(0, 1, 3, 2).relu(), { x: [2, 4, 6] });
    expect(printGraph(check(g2, viewSimplification))).toBe(`graph {
  %0 = input "x"() : f32[2, 4, 6]
  %1 = reshape(%0) {shape=[2,4,2,3]} : f32[2, 4, 2, 3]
  %2 = transpose(%1) {perm=[0,1,3,2]} : f32[2, 4, 3, 2]
  %3 = relu(%2) : f32[2, 4, 3, 2]
  return y=%3
}`);
  });
});

describe('transpose-sinking', () => {
  const W = (k: number, n: number) => constant(Float32Array.from({ length: k * n }, (_, i) => Math.cos(i)), [k, n], 'f32', 'w');
  test('transposes around row-wise ops (matmul by a constant, bias, slice, relu) meet and cancel', () => {
    const g = tiny(({ x }) => x!.permute(1, 0, 2).matmul(W(4, 6)).add(vec(6, 'b', (i) => i)).slice(2, 1, 5).relu().permute(1, 0, 2), { x: [2, 3, 4] });
    expect(printGraph(check(g, transposeSinking))).toBe(`graph {
  %0 = input "x"() : f32[2, 3, 4]
  %1 = const "w"() : f32[4, 6]
  %2 = matmul(%0, %1) : f32[2, 3, 6]
  %3 = const "b"() : f32[6]
  %4 = add(%2, %3) : f32[2, 3, 6]
  %5 = slice(%4) {axis=2, start=1, end=5, step=1} : f32[2, 3, 4]
  %6 = relu(%5) : f32[2, 3, 4]
  return y=%6
}`);
  });

  test('through a reshape merging leading dims; a transpose that cancels nothing and would widen stays', () => {
    const g = tiny(({ x }) => x!.permute(1, 0, 2).reshape(6, 4).matmul(W(4, 4)).reshape(3, 2, 4).permute(1, 0, 2), { x: [2, 3, 4] });
    expect(ops(check(g, transposeSinking))).toEqual(['matmul']);
    const widen = tiny(({ x }) => x!.permute(1, 0, 2).matmul(W(4, 12)), { x: [2, 3, 4] });
    expect(ops(check(widen, transposeSinking))).toEqual(['transpose', 'matmul']);
  });

  // Fuzz seed 3092 (--moves 40): an LSTM over one step of one sample of one feature transposes
  // [1, 1, 1]. Sinking that transpose, which moves nothing, made a matmul of the rank-1 source
  // f32[1], and the type rule threw ("operands must have rank >= 2") inside the pass.
  test('a transpose of axes of size 1 is not sunk into a matmul of the rank-1 source', () => {
    const g = tiny(({ x }) => x!.reshape(1, 1, 1).permute(1, 0, 2).matmul(W(1, 12)), { x: [1] });
    expect(ops(check(g, transposeSinking))).toEqual(['reshape', 'matmul']);
    const y = interpret(runPasses(g, { target: wasmTarget }), { x: Float32Array.of(2) }).y!;
    expect(Array.from(y)).toEqual(Array.from({ length: 12 }, (_, i) => 2 * Math.fround(Math.cos(i))));
  });
});

describe('pipeline', () => {
  test('the bench-style ONNX encoder block gets the DSL kernels: gemm epilogues, layernorm, packed attention, gelu in the gemm', () => {
    const T = 4, E = 8, H = 2, d = 4, F = 16;
    const r = rng(11), w = (n: number, label: string, shape: number[]) => constant(Float32Array.from({ length: n }, () => r() - 0.5), shape, 'f32', label);
    const g = tiny(({ x }) => {
      const ln = decomposedNorm(x!, [-1], { gamma: w(E, 'g', [E]), beta: w(E, 'b', [E]) });
      const p = w(3 * E, 'bqkv', [3 * E]).add(ln.matmul(w(E * 3 * E, 'wqkv', [3 * E, E]).mT));
      const heads = (s: Tensor) => s.reshape(T, H, d).permute(1, 0, 2);
      const q = heads(p.slice(1, 0, E)).mul(1 / Math.sqrt(d)), k = heads(p.slice(1, E, 2 * E)).permute(0, 2, 1), v = heads(p.slice(1, 2 * E, 3 * E));
      const a = q.matmul(k).add(causalConst(T, (m) => (m ? -Infinity : 0))).softmax(-1).matmul(v).permute(1, 0, 2).reshape(T, E);
      const x1 = x!.add(a.matmul(w(E * E, 'wo', [E, E]).mT).add(w(E, 'bo', [E])));
      const h = x1.matmul(w(E * F, 'w1', [F, E]).mT).add(w(F, 'b1', [F]));
      const gl = h.mul(h.div(Math.SQRT2).erf().add(1)).mul(0.5);
      return x1.add(gl.matmul(w(F * E, 'w2', [E, F]).mT).add(w(E, 'b2', [E])));
    }, { x: [T, E] });
    const out = runPasses(g, { disable: ['elementwise-fusion'], target: wasmTarget });
    const names = ops(out);
    expect(names.filter((o) => o === 'gemm')).toHaveLength(4);
    expect(names).toContain('layernorm');
    expect(printGraph(out)).toMatch(/attention\(%\d+\) \{heads=2, scale=0.5, causal=true, layout=qkv\}/);
    expect(printGraph(out)).toMatch(/gemm\(.*\{act=gelu\}/);
    for (const bad of ['softmax', 'transpose', 'erf', 'pow', 'mean', 'slice']) expect(names).not.toContain(bad);
    const feeds = { x: Float32Array.from({ length: T * E }, () => r() * 2 - 1) };
    const want = interpret(g, feeds).y!, got = interpret(out, feeds).y!;
    want.forEach((v, i) => expect(Math.abs(v - got[i]!)).toBeLessThan(1e-5));
  });
});

describe('epilogue-fusion through row-keeping reshapes', () => {
  test('bias and activation after a [B·L, E] ↔ [B, L, E] reshape of the gemm still fuse', () => {
    const w = () => constant(Float32Array.from({ length: 8 * 6 }, (_, i) => Math.sin(i)), [8, 6], 'f32', 'w');
    const g = tiny(({ x }) => x!.reshape(6, 8).matmul(w()).reshape(2, 3, 6).add(vec(6, 'b', (i) => i / 3 - 1)).relu(), { x: [2, 3, 8] });
    const out = check(g, epilogueFusion);
    expect(ops(out)).toEqual(['reshape', 'gemm', 'reshape']);
    expect(printGraph(out)).toContain('{act=relu}');
    // a reshape with another user keeps the unfused gemm for it
    const shared = tiny(({ x }) => { const r = x!.reshape(6, 8).matmul(w()).reshape(2, 3, 6); return [r.add(vec(6, 'b', (i) => i)), r]; }, { x: [2, 3, 8] });
    expect(ops(check(shared, epilogueFusion))).toContain('add');
  });
});
