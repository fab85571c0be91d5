// The recognition passes over named sizes (a symbolic ONNX import's batch and seq): patterns
// are matched by dims ('B', '2*B'), so a rewrite must hold at every size from 1 to the bound.
// Each case runs the pass and compares the graph before and after with the reference
// interpreter at several sizes (1, between, the bound); the negative cases are chains and
// masks that look right at the bound only, which the passes must leave alone.

import { describe, expect, test } from 'vitest';
import { whereOp } from '../../compiler/dsl/functional.ts';
import { rng } from '../../compiler/dsl/module.ts';
import { constant, type Tensor } from '../../compiler/dsl/tensor.ts';
import type { InputSpecs } from '../../compiler/dsl/trace.ts';
import type { Sizes } from '../../compiler/ir/dims.ts';
import { cloneGraph, type Graph } from '../../compiler/ir/node.ts';
import { printGraph } from '../../compiler/ir/print.ts';
import { instantiate } from '../../compiler/ir/symbolic.ts';
import { numel } from '../../compiler/ir/types.ts';
import { verify } from '../../compiler/ir/verify.ts';
import { attentionPacking } from '../../compiler/passes/attention-packing.ts';
import { attentionRecognition } from '../../compiler/passes/attention-recognition.ts';
import { constantFolding } from '../../compiler/passes/constant-folding.ts';
import { epilogueFusion } from '../../compiler/passes/epilogue-fusion.ts';
import { geluRecognition } from '../../compiler/passes/gelu-recognition.ts';
import { layernormRecognition } from '../../compiler/passes/layernorm-recognition.ts';
import type { Pass } from '../../compiler/passes/pass.ts';
import { transposeSinking } from '../../compiler/passes/transpose-sinking.ts';
import { viewSimplification } from '../../compiler/passes/view-simplification.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { tiny } from './util.ts';

const ops = (g: Graph) => g.nodes.map((n) => n.op).filter((o) => !['input', 'const', 'reshape'].includes(o));

/** Feeds for g at `sizes`: f32 in [-2, 2), bool masks with some true. */
function feedsAt(g: Graph, sizes: Sizes, seed = 7) {
  const r = rng(seed);
  return Object.fromEntries(instantiate(g, sizes).inputs.map((i) => [i.label!, i.type.dtype === 'bool'
    ? Uint8Array.from({ length: numel(i.type.shape) }, (_, k) => (k % 5 === 4 || r() < 0.2 ? 1 : 0))
    : Float32Array.from({ length: numel(i.type.shape) }, () => r() * 4 - 2)]));
}

/** Runs the passes on a copy and checks that the outputs agree with the original's at every listed size. */
function checkSized(g: Graph, sizes: Sizes[], ...passes: Pass[]): Graph {
  let out = cloneGraph(g);
  for (const p of passes) { out = p.run(out); verify(out); }
  for (const s of sizes) {
    const feeds = feedsAt(g, s);
    const a = interpret(g, feeds, undefined, s), b = interpret(out, feeds, undefined, s);
    for (const k of Object.keys(a)) {
      expect(b[k]!.length, `${k} at ${JSON.stringify(s)}`).toBe(a[k]!.length);
      a[k]!.forEach((v, i) => {
        const w = b[k]![i]!;
        if (!(Object.is(v, w) || Math.abs(v - w) <= 2e-6 * (1 + Math.abs(v)))) throw new Error(`at ${JSON.stringify(s)}, output ${k}[${i}]: ${v} → ${w}\n${printGraph(out)}`);
      });
    }
  }
  return out;
}

const W = (k: number, n: number, label = 'w') => constant(Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.7)), [k, n], 'f32', label);
const vec = (n: number, label: string) => constant(Float32Array.from({ length: n }, (_, i) => i / 4 - 0.5), [n], 'f32', label);
const BT: InputSpecs = { x: { shape: ['B', 'T', 8], max: { B: 3, T: 5 } } };
const SIZES_BT = [{ B: 1, T: 1 }, { B: 2, T: 4 }, { B: 3, T: 5 }];

describe('view-simplification over named sizes', () => {
  test("PyTorch's seq-first head split [T, 2*B, 4] and a batch-first merge become one transpose", () => {
    const g = tiny(({ x }) => x!.reshape('T', '2*B', 4).permute(1, 0, 2).reshape('B', 2, 'T', 4).permute(0, 2, 1, 3).reshape('B', 'T', 8).relu(),
      { x: { shape: ['T', 'B', 8], max: { B: 3, T: 5 } } });
    // (the inner chain is rewritten first, so two free reshapes stay, which dce does not merge)
    expect(printGraph(checkSized(g, SIZES_BT, viewSimplification))).toBe(`graph {
  %0 = input "x"() : f32[T, B, 8]
  %1 = transpose(%0) {perm=[1,0,2]} : f32[B, T, 8]
  %2 = reshape(%1) {shape=[3,5,2,4], sym=shape:[B,T,2,4]} : f32[B, T, 2, 4]
  %3 = reshape(%2) {shape=[3,5,8], sym=shape:[B,T,8]} : f32[B, T, 8]
  %4 = relu(%3) : f32[B, T, 8]
  return y=%4
}`);
    // a split and its merge cancel into a free reshape
    const back = tiny(({ x }) => x!.reshape('T', '2*B', 4).permute(1, 0, 2).permute(1, 0, 2).reshape('T', 'B', 8).relu(), { x: { shape: ['T', 'B', 8], max: { B: 3, T: 5 } } });
    expect(ops(checkSized(back, SIZES_BT, viewSimplification))).toEqual(['relu']);
  });

  test('a chain that is the identity only at the bound is left alone', () => {
    // x [3, N] → [N, 3] → read as [3, N] → [N, 3] → read as [3, N]: at N = 3 it puts every
    // element back (both reshapes are no-ops there); at N = 2 it does not. The bound's
    // element-by-element permutation would call it a free view.
    const g = tiny(({ x }) => x!.permute(1, 0).reshape(3, 'N').permute(1, 0).reshape(3, 'N').relu(), { x: { shape: [3, 'N'], max: { N: 3 } } });
    const at = (s: Sizes) => { const f = feedsAt(g, s); return [f.x!, interpret(g, f, undefined, s).y!] as const; };
    const [x3, y3] = at({ N: 3 }), [x2, y2] = at({ N: 2 });
    expect(Array.from(y3)).toEqual(Array.from(x3, (v) => Math.max(v, 0)));
    expect(Array.from(y2)).not.toEqual(Array.from(x2, (v) => Math.max(v, 0)));
    expect(ops(checkSized(g, [{ N: 1 }, { N: 2 }, { N: 3 }], viewSimplification))).toEqual(['transpose', 'transpose', 'relu']);
  });
});

describe('transpose-sinking over named sizes', () => {
  test('transposes around row-wise ops meet and cancel, through a [T*B, 8] ↔ [T, B, 8] reshape too', () => {
    const g = tiny(({ x }) => x!.permute(1, 0, 2).matmul(W(8, 6)).add(vec(6, 'b')).relu().permute(1, 0, 2), BT);
    expect(ops(checkSized(g, SIZES_BT, transposeSinking))).toEqual(['matmul', 'add', 'relu']);
    const flat = tiny(({ x }) => x!.permute(1, 0, 2).reshape('T*B', 8).matmul(W(8, 8)).reshape('T', 'B', 8).permute(1, 0, 2), BT);
    expect(ops(checkSized(flat, SIZES_BT, transposeSinking))).toEqual(['matmul']);
  });

  test('rows of a run-time width are not sunk', () => {
    const g = tiny(({ x }) => x!.permute(0, 2, 1).relu().permute(0, 2, 1), BT);
    expect(ops(checkSized(g, SIZES_BT, transposeSinking))).toEqual(['transpose', 'relu', 'transpose']);
  });
});

/** Attention as torch.onnx exports nn.MultiheadAttention with dynamic axes: x [B, T, 8] → seq-first packed projection → heads [2*B, T, 4]. */
function exportedAttention(x: Tensor, mask: (scores: Tensor) => Tensor): Tensor {
  const p = x.permute(1, 0, 2).matmul(W(8, 24, 'in_proj')).add(vec(24, 'in_bias'));
  const heads = (s: Tensor) => s.reshape('T', '2*B', 4).permute(1, 0, 2);
  const q = heads(p.slice(2, 0, 8)).div(2), kt = p.slice(2, 8, 16).reshape('T', '2*B', 4).permute(1, 2, 0), v = heads(p.slice(2, 16, 24));
  const o = mask(q.matmul(kt)).softmax(-1).matmul(v).permute(1, 0, 2).reshape('T*B', 8).matmul(W(8, 8, 'out_proj'));
  return o.reshape('T', 'B', 8).permute(1, 0, 2);
}

/** An additive 0/−∞ mask from a bool one, as the exporter writes it: where(m, −∞, zeros expanded to m's dims). */
const additive = (m: Tensor) => whereOp(m, -Infinity, constant(new Float32Array(1), [1, 1, 1], 'f32', 'zero').expand(...m.dims));

/** PyTorch's causal mask for a run-time length: a [bound, bound] constant (true above the diagonal). */
const trilu = (L: number) => constant(Uint8Array.from({ length: L * L }, (_, i) => (i % L > Math.floor(i / L) ? 1 : 0)), [L, L], 'bool', 'trilu');
const RECOGNISE = [attentionRecognition, transposeSinking, viewSimplification, attentionPacking];

describe('attention-recognition and attention-packing over named sizes', () => {
  test('a key-padding mask per batch: one fused attention reading the packed projection, heads = 2 (B = batch)', () => {
    const g = tiny(({ x, pad }) => exportedAttention(x!, (s) => {
      const m = pad!.reshape('B', 1, 1, 'T').expand('B', 2, 1, 'T').reshape('2*B', 1, 'T');
      return s.add(additive(m));
    }), { ...BT, pad: { shape: ['B', 'T'], dtype: 'bool' } });
    const out = checkSized(g, SIZES_BT, ...RECOGNISE);
    expect(ops(out)).toEqual(['matmul', 'add', 'expand', 'attention', 'matmul']);
    expect(printGraph(out)).toMatch(/attention\(%\d+, %\d+\) \{heads=2, scale=0.5, mask=true, layout=qkv\} : f32\[B, T, 8\]/);
  });

  test('the top-left corner of a causal constant is causal at every size', () => {
    const g = tiny(({ x }) => exportedAttention(x!, (s) => {
      const c = trilu(5).slice(0, 0, 'T').slice(1, 0, 'T');
      const m = whereOp(c, constant(Uint8Array.of(1), [1, 1], 'bool', 'true').expand('T', 'T'), constant(Uint8Array.of(0), [], 'bool', 'false'));
      return s.add(additive(m.reshape(1, 'T', 'T')));
    }), BT);
    const out = checkSized(g, SIZES_BT, ...RECOGNISE);
    expect(ops(out)).toEqual(['matmul', 'add', 'attention', 'matmul']);
    expect(printGraph(out)).toMatch(/attention\(%\d+\) \{heads=2, scale=0.5, causal=true, layout=qkv\}/);
  });

  test('a mask causal only at the bound (rows from bound − T) is no causal flag: it stays a mask', () => {
    // rows [5 − T, 5) and columns [0, T) of the causal constant: all of it at T = 5, shifted by a row below
    const g = tiny(({ x }) => exportedAttention(x!, (s) => s.add(additive(trilu(5).slice(0, '5-T', 5).slice(1, 0, 'T').reshape(1, 'T', 'T')))), BT);
    const out = checkSized(g, SIZES_BT, ...RECOGNISE);
    expect(printGraph(out)).not.toContain('causal');
    expect(printGraph(out)).toMatch(/attention\(%\d+, %\d+\) \{heads=2, scale=0.5, mask=true, layout=qkv\}/);
    // the bound's instance folds to the causal constant, so a rewrite read at the bound would have fused it as such
    const atBound = attentionRecognition.run(constantFolding.run(instantiate(cloneGraph(g), { B: 3, T: 5 })));
    expect(printGraph(atBound)).toMatch(/causal=true/);
  });

  test('per-head widths of a run-time size are left alone', () => {
    // heads [B, T, T]: d is the run-time T, which the kernel cannot take
    const g = tiny(({ x }) => { const s = x!.matmul(x!.mT); return s.softmax(-1).matmul(s); }, { x: { shape: ['B', 'T', 'T'], max: { B: 2, T: 4 } } });
    expect(ops(checkSized(g, [{ B: 1, T: 1 }, { B: 2, T: 3 }, { B: 2, T: 4 }], attentionRecognition))).toEqual(['transpose', 'matmul', 'softmax', 'matmul']);
  });
});

describe('layernorm, gelu and epilogue fusion over named sizes', () => {
  const norm = (x: Tensor, axes: number[]) => { const d = x.sub(x.mean(axes, true)); return d.div(d.pow(2).mean(axes, true).add(1e-5).sqrt()); };
  test('LayerNorm over fixed trailing dims fuses (two axes through a reshape over the named ones); over a run-time axis it stays', () => {
    expect(ops(checkSized(tiny(({ x }) => norm(x!, [-1]).mul(vec(8, 'g')), BT), SIZES_BT, layernormRecognition))).toEqual(['layernorm']);
    const two = tiny(({ x }) => norm(x!.reshape('B', 'T', 2, 4), [-2, -1]), BT);
    expect(ops(checkSized(two, SIZES_BT, layernormRecognition))).toEqual(['layernorm']);
    const overT = tiny(({ x }) => norm(x!.permute(0, 2, 1), [-1]), BT);
    expect(ops(checkSized(overT, SIZES_BT, layernormRecognition))).not.toContain('layernorm');
  });

  test('GELU and a gemm epilogue through [B*T, 8] ↔ [B, T, 8] reshapes', () => {
    const gelu = (h: Tensor) => h.mul(h.div(Math.SQRT2).erf().add(1)).mul(0.5);
    const g = tiny(({ x }) => gelu(x!.reshape('B*T', 8).matmul(W(8, 6)).reshape('B', 'T', 6).add(vec(6, 'b'))), BT);
    const out = checkSized(g, SIZES_BT, geluRecognition, epilogueFusion);
    expect(ops(out)).toEqual(['gemm']);
    expect(printGraph(out)).toMatch(/gemm\(%\d+, %\d+, %\d+\) \{act=gelu\} : f32\[B\*T, 6\]/);
  });
});
