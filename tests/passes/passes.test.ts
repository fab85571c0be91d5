// One golden test per pass: a tiny graph, its IR before and after. applyPass also checks
// with the reference interpreter that the pass kept the graph's meaning.
import { describe, expect, test } from 'vitest';
import { constant } from '../../compiler/dsl/tensor.ts';
import { F } from '../../compiler/dsl/index.ts';
import { constantFolding } from '../../compiler/passes/constant-folding.ts';
import { cse } from '../../compiler/passes/cse.ts';
import { dce } from '../../compiler/passes/dce.ts';
import { elementwiseFusion } from '../../compiler/passes/elementwise-fusion.ts';
import { epilogueFusion } from '../../compiler/passes/epilogue-fusion.ts';
import { shapeInference } from '../../compiler/passes/shape-inference.ts';
import { residualFusion } from '../../compiler/passes/residual-fusion.ts';
import { attentionLowering } from '../../compiler/passes/attention-lowering.ts';
import { record } from '../../compiler/dsl/tensor.ts';
import { PASSES, PASS_NAMES } from '../../compiler/passes/registry.ts';
import { runPasses } from '../../compiler/passes/manager.ts';
import { applyPass, f32, tiny } from './util.ts';
import { printExpr, printGraph } from '../../compiler/ir/print.ts';
import { attrsOf } from '../../compiler/ir/ops.ts';
import { cloneGraph } from '../../compiler/ir/node.ts';
import { interpret } from '../../compiler/reference/interpret.ts';

const W = () => constant(f32(1, 2, 3, 4, 5, 6), [3, 2], 'f32', 'w');
const B = () => constant(f32(0.5, -0.5, 1), [3], 'f32', 'b');

describe('passes', () => {
  test('registry: every pass has a unique name and a description', () => {
    expect(PASS_NAMES).toEqual(['shape-inference', 'constant-folding', 'layernorm-recognition', 'gelu-recognition', 'attention-recognition', 'transpose-sinking', 'view-simplification', 'attention-packing', 'attention-lowering', 'dce', 'cse', 'epilogue-fusion', 'residual-fusion', 'elementwise-fusion', 'memory-planning']);
    for (const p of PASSES) expect(p.description.length).toBeGreaterThan(10);
    expect(() => runPasses(tiny(({ x }) => x!.relu(), { x: [2] }), { disable: ['no-such-pass'] })).toThrow(/unknown pass 'no-such-pass'/);
    expect(() => runPasses(tiny(({ x }) => x!.relu(), { x: [2] }), { disabel: ['cse'] } as never))
      .toThrow("runPasses: unknown option 'disabel' (allowed: disable, onPass, attention, target, noReuse)");
  });

  test('shape-inference recomputes types and rejects a wrong one', () => {
    const g = tiny(({ x }) => x!.add(1), { x: [2, 3] });
    g.nodes[g.nodes.length - 1]!.type = { dtype: 'f32', shape: [9] };
    const { after } = applyPass(shapeInference, g);
    expect(after).toContain('add(%0, %1) : f32[2, 3]');
    const bad = tiny(({ x }) => x!.reshape(3, 2), { x: [2, 3] });
    bad.nodes[1]!.attrs.shape = [4, 2];
    expect(() => shapeInference.run(bad)).toThrow(/cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/);
  });

  test('constant-folding folds a transposed weight', () => {
    const { before, after } = applyPass(constantFolding, tiny(({ x }) => x!.matmul(W().mT), { x: [1, 2] }));
    expect(before).toBe(`graph {
  %0 = input "x"() : f32[1, 2]
  %1 = const "w"() : f32[3, 2]
  %2 = transpose(%1) {perm=[1,0]} : f32[2, 3]
  %3 = matmul(%0, %2) : f32[1, 3]
  return y=%3
}`);
    expect(after).toBe(`graph {
  %0 = input "x"() : f32[1, 2]
  %1 = const "transpose(w)"() : f32[2, 3]
  %2 = matmul(%0, %1) : f32[1, 3]
  return y=%2
}`);
  });

  test('dce drops dead nodes and identity reshapes, keeps unused inputs', () => {
    const g = tiny(({ x, unused }) => { x!.exp(); return x!.relu(); }, { x: [4], unused: [2] });
    const withReshape = tiny(({ x }) => x!.reshape(2, 2).relu(), { x: [2, 2] });
    withReshape.nodes[1]!.attrs.shape = [2, 2]; // an identity reshape a rewrite could leave behind
    expect(applyPass(dce, g).after).toBe(`graph {
  %0 = input "x"() : f32[4]
  %1 = input "unused"() : f32[2]
  %2 = relu(%0) : f32[4]
  return y=%2
}`);
    expect(applyPass(dce, withReshape).after).not.toContain('reshape');
  });

  test('cse merges equal subexpressions and equal small constants', () => {
    const { before, after } = applyPass(cse, tiny(({ x }) => x!.mul(2).tanh().add(x!.mul(2).tanh()), { x: [3] }));
    expect(before.match(/tanh/g)).toHaveLength(2);
    expect(after).toBe(`graph {
  %0 = input "x"() : f32[3]
  %1 = const "2"() : f32[]
  %2 = mul(%0, %1) : f32[3]
  %3 = tanh(%2) : f32[3]
  %4 = add(%3, %3) : f32[3]
  return y=%4
}`);
  });

  test('constant-folding leaves a node the reference refuses to trap at run time (not a compile error)', () => {
    // argmax of constants is 1, an index outside the one-row table: every call is refused, as in the reference.
    const g = () => tiny(({ x }) => x!.add(constant(f32(7), [1], 'f32', 'c').gather(0, constant(f32(0, 5), [2], 'f32', 'v').argmax(0, true))), { x: [1] });
    const folded = printGraph(constantFolding.run(g()));
    expect(folded).toContain('const "argmax(v)"() : i32[1]');
    expect(folded).toContain('gather_elements(%1, %2) {axis=0} : f32[1]');
    expect(() => interpret(g(), { x: f32(1) })).toThrow(/gather_elements.*index 1 is outside \[0, 1\) along axis 0/);
  });

  test('epilogue-fusion: matmul + bias + relu → one gemm', () => {
    const g = constantFolding.run(tiny(({ x }) => x!.matmul(W().mT).add(B()).relu(), { x: [4, 2] }));
    const { after } = applyPass(epilogueFusion, g);
    expect(after).toBe(`graph {
  %0 = input "x"() : f32[4, 2]
  %1 = const "transpose(w)"() : f32[2, 3]
  %2 = const "b"() : f32[3]
  %3 = gemm(%0, %1, %2) {act=relu} : f32[4, 3]
  return y=%3
}`);
  });

  test('epilogue-fusion leaves a matmul whose result has another user', () => {
    const g = constantFolding.run(tiny(({ x }) => { const y = x!.matmul(W().mT); return [y.add(B()), y]; }, { x: [4, 2] }));
    const { after } = applyPass(epilogueFusion, g);
    expect(after).toContain('gemm(%0, %1) {act=none}');
    expect(after).toContain('add(%2, %3)');
  });

  test('elementwise-fusion: a tree of elementwise ops becomes one loop with literals', () => {
    const g = tiny(({ x, y }) => x!.mul(y!).add(1).sigmoid().mul(x!), { x: [2, 8], y: [8] });
    const { after } = applyPass(elementwiseFusion, g);
    expect(after).toBe(`graph {
  %0 = input "x"() : f32[2, 8]
  %1 = input "y"() : f32[8]
  %2 = elementwise(%0, %1) {expr=mul(sigmoid(add(mul($0, $1), 1)), $0), shape=[2,8]} : f32[2, 8]
  return y=%2
}`);
  });

  // Fuzz seed 63: the fused node evaluated x·1e9 in f64, so sin of it was another number entirely.
  test('a fused elementwise node rounds each op to f32, as the ops it replaces do', () => {
    const g = tiny(({ x }) => x!.mul(1e9).sin(), { x: [2] });
    const { after, graph } = applyPass(elementwiseFusion, g);
    expect(after).toContain('expr=sin(mul($0, 1000000000))');
    const x = f32(1.1, -0.3), got = interpret(graph, { x })[g.outputs[0]!.name]!;
    const want = Array.from(x, (v) => Math.fround(Math.sin(Math.fround(v * 1e9))));
    expect(Array.from(got)).toEqual(want);
    // Unrounded, 1.1·1e9 is 1100000023.84 rather than the f32 1100000000: another sine.
    expect(Math.abs(Math.sin(x[0]! * 1e9) - want[0]!)).toBeGreaterThan(0.1);
  });

  test('elementwise-fusion does not recompute a smaller producer per broadcast element', () => {
    const g = tiny(({ x, s }) => x!.mul(s!.exp()), { x: [4, 8], s: [4, 1] });
    const { after } = applyPass(elementwiseFusion, g);
    expect(after).toContain('elementwise(%1) {expr=exp($0), shape=[4,1]}');
    expect(after).toContain('elementwise(%0, %2) {expr=mul($0, $1), shape=[4,8]}');
  });

  test('elementwise-fusion: a comparison feeding only where is part of the loop; a bool output or a smaller bool is read as bytes', () => {
    const g = tiny(({ x, y }) => {
      const m = x!.lt(y!);
      return { y: F.where(x!.gt(0), x!, x!.mul(0.1)).add(F.where(y!.ge(1), x!, -Infinity)), z: F.where(m, x!, 0), m };
    }, { x: [2, 8], y: [8] });
    const { after } = applyPass(elementwiseFusion, g);
    expect(after).toBe(`graph {
  %0 = input "x"() : f32[2, 8]
  %1 = input "y"() : f32[8]
  %2 = const "1"() : f32[]
  %3 = ge(%1, %2) : bool[8]
  %4 = elementwise(%0, %3) {expr=add(where(gt($0, 0), $0, mul($0, 0.10000000149011612)), where($1, $0, -Infinity)), shape=[2,8]} : f32[2, 8]
  %5 = lt(%0, %1) : bool[2, 8]
  %6 = elementwise(%5, %0) {expr=where($0, $1, 0), shape=[2,8]} : f32[2, 8]
  return y=%4, z=%6, m=%5
}`);
  });

  test('elementwise-fusion: i32 → f32 casts and wrapping i32 arithmetic join the f32 loop; where over i32 and a lone cast stay', () => {
    const g = tiny(({ s, m, k }) => ({ y: s!.add(m!.sub(k!).float().mul(-10000)), z: F.where(m!.gt(0), m!, k!).float().mul(s!), w: k!.float() }),
      { s: [2, 8], m: { shape: [2, 8], dtype: 'i32' }, k: { shape: [8], dtype: 'i32' } });
    const { after } = applyPass(elementwiseFusion, g);
    expect(after).toBe(`graph {
  %0 = input "s"() : f32[2, 8]
  %1 = input "m"() : i32[2, 8]
  %2 = input "k"() : i32[8]
  %3 = elementwise(%0, %1, %2) {expr=add($0, mul(f32(sub($1, $2)), -10000)), shape=[2,8]} : f32[2, 8]
  %4 = const "0"() : i32[]
  %5 = gt(%1, %4) : bool[2, 8]
  %6 = where(%5, %1, %2) : i32[2, 8]
  %7 = elementwise(%6, %0) {expr=mul(f32($0), $1), shape=[2,8]} : f32[2, 8]
  %8 = cast(%2) {dtype=f32} : f32[8]
  return y=%3, z=%7, w=%8
}`);
  });

  test('cse keeps literals JSON cannot spell apart: -Infinity, Infinity, NaN, -0', () => {
    const lit = (value: number) => ({ op: 'elementwise', attrs: { expr: { op: 'add', args: [{ op: 'in', index: 0 }, { op: 'lit', value }] }, shape: [3] } });
    const g = tiny(({ x }) => [x!.add(1), x!.add(2), x!.add(3), x!.add(4), x!.add(5)], { x: [3] });
    // The five adds become elementwise nodes differing only in their literal.
    [-Infinity, Infinity, Number.NaN, -0, 0].forEach((v, i) => Object.assign(g.outputs[i]!.node, lit(v), { inputs: [g.inputs[0]!] }));
    const out = cse.run(cloneGraph(g));
    expect(printExpr(attrsOf(out.outputs[3]!.node, 'elementwise').expr)).toBe('add($0, -0)');
    expect(new Set(out.outputs.map((o) => o.node)).size).toBe(5);
  });

  test('cse keeps a small constant −0 apart from 0 (x + −0 keeps x = −0, x + 0 does not)', () => {
    const g = tiny(({ x }) => [x!.add(constant(f32(-0), [1], 'f32', 'mz')), x!.add(constant(f32(0), [1], 'f32', 'z'))], { x: [2] });
    const out = cse.run(cloneGraph(g));
    const feeds = { x: f32(-0, 1) }, got = interpret(out, feeds), [y0, y1] = out.outputs.map((o) => got[o.name]!);
    expect(Object.is(y0![0], -0)).toBe(true);
    expect(Object.is(y1![0], 0)).toBe(true);
  });

  test('residual-fusion: layernorm(a + b) reads the residual itself', () => {
    const g = tiny(({ x, y }) => {
      const g1 = constant(f32(1, 1, 1), [3], 'f32', 'gamma'), b1 = constant(f32(0, 0, 0), [3], 'f32', 'beta');
      return record('layernorm', [x!.add(y!), g1, b1], { eps: 1e-5 });
    }, { x: [2, 3], y: [2, 3] });
    const { after } = applyPass(residualFusion, g);
    expect(after).toBe(`graph {
  %0 = input "x"() : f32[2, 3]
  %1 = input "y"() : f32[2, 3]
  %2 = const "gamma"() : f32[3]
  %3 = const "beta"() : f32[3]
  %4 = layernorm(%0, %2, %3, %1) {eps=0.00001} : f32[2, 3]
  return y=%4
}`);
  });

  test('attention-lowering decomposes fused attention when asked, keeping its meaning', () => {
    const g = tiny(({ qkv }) => record('attention', [qkv!], { heads: 2, scale: 0.5, causal: true, layout: 'qkv', mask: false, cached: false }), { qkv: [1, 3, 12] });
    expect(printGraph(attentionLowering.run(cloneGraph(g)))).toContain('attention(');
    const lowered = attentionLowering.run(cloneGraph(g), { attention: 'unfused' });
    const text = printGraph(lowered);
    expect(text).not.toContain('attention(');
    expect(text).toContain('softmax(');
    const feeds = { qkv: Float32Array.from({ length: 36 }, (_, i) => Math.sin(i)) };
    const a = interpret(g, feeds).y!, b = interpret(lowered, feeds).y!;
    a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(1e-6));
  });
});
