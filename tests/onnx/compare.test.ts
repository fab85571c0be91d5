// ONNX comparisons and rounding on run-time tensors (compiler/onnx/ops/elementwise.ts compare,
// rounding, sign): PyTorch's export of tests/fixtures/torch-extra/compare (make_compare.py writes
// compare.onnx beside the fixture) compiled for every test ISA and in the reference, bit for bit
// against PyTorch; hand-built graphs for int64 and bool operands, Sign, a symbolic size, the
// compile-time path (folded, no kernel), the refusals, and masked fills and logic fused into Where.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { compileGraph, readSafetensors } from '../../compiler/index.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { attrsOf } from '../../compiler/ir/ops.ts';
import { printExpr } from '../../compiler/ir/print.ts';
import { fmtShape } from '../../compiler/ir/types.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'torch-extra', 'compare');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'compare/io.safetensors');
const bits = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : v));

test("PyTorch's export (Less, Greater, Equal, Not, Floor, Ceil, Round, Where on inputs) matches PyTorch bit for bit, compiled and in the reference", async () => {
  const { graph, model } = importOnnx(readFileSync(join(FIX, 'compare.onnx')));
  const ops = new Set(model.graph.nodes.map((n) => n.opType));
  for (const op of ['Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Equal', 'Floor', 'Ceil', 'Round', 'Where']) expect(ops.has(op), op).toBe(true);
  const feeds = Object.fromEntries(['a', 'b', 'c', 'i', 'j'].map((n) => [n, io.get(`input.${n}`)!.data as Float32Array | Int32Array]));
  const names = graph.outputs.map((o) => o.name);
  expect(names.length).toBe(37);
  const ref = interpret(graph, feeds);
  for (const name of names) expect(bits(ref[name]!), `reference ${name}`).toEqual(bits(io.get(`output.${name}`)!.data));
  const { bytes } = await compileGraph(graph, { name: 'compare', isas: TEST_ISAS });
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(bytes, { isa });
    const out = m.run(feeds);
    for (const name of names) expect(bits(out[name]!), `${isa} ${name}`).toEqual(bits(io.get(`output.${name}`)!.data));
    m.dispose();
  }
});

test('int64 and bool operands, Sign, a symbolic size, and the compile-time path', () => {
  const g = new OnnxGraph();
  g.input('p', [5], DT.INT64); g.input('q', [5], DT.INT64); g.input('m', [5], DT.BOOL); g.input('x', ['batch', 4]);
  g.name(g.op1('Less', ['p', 'q']), 'lt'); g.name(g.op1('Equal', ['p', 'q']), 'eq'); g.name(g.op1('GreaterOrEqual', ['p', g.ints('two', [], [2])]), 'ge2');
  g.name(g.op1('Equal', ['m', g.op1('Less', ['p', 'q'])]), 'eqb');   // bools: a where over the operands
  g.name(g.op1('Sign', ['x']), 'sign'); g.name(g.op1('Sign', ['p']), 'signp');
  g.name(g.op1('Greater', ['x', g.init('t', [4], Float32Array.of(0, 1, Number.NaN, -1))]), 'gt');
  g.name(g.op1('Round', ['x']), 'round');
  // On constants the host computes: Cast(Less(3, 5)) is a constant 1, not a kernel.
  g.name(g.op1('Add', ['x', g.op1('Cast', [g.op1('Floor', [g.op1('Ceil', [g.init('k', [], Float32Array.of(0.5))])])], { to: DT.FLOAT })]), 'x1');
  g.name(g.op1('Cast', [g.op1('Less', [g.ints('three', [], [3]), g.ints('five', [], [5])])], { to: DT.INT64 }), 'folded');
  for (const [o, d, t] of [['lt', [5], DT.BOOL], ['eq', [5], DT.BOOL], ['ge2', [5], DT.BOOL], ['eqb', [5], DT.BOOL], ['sign', ['batch', 4], DT.FLOAT], ['signp', [5], DT.INT64],
    ['gt', ['batch', 4], DT.BOOL], ['round', ['batch', 4], DT.FLOAT], ['x1', ['batch', 4], DT.FLOAT], ['folded', [], DT.INT64]] as const) g.output(o, d, t);
  const { graph } = importOnnx(g.finish('cmp', 17), { dims: { batch: { max: 3 } } });
  expect(graph.nodes.filter((n) => ['floor', 'ceil'].includes(n.op))).toEqual([]);
  expect(graph.outputs.find((o) => o.name === 'folded')!.node.op).toBe('const');
  const p = Int32Array.of(-2147483648, 2147483647, 2, 3, -1), q = Int32Array.of(2147483647, 2147483647, 2, -7, 0), m = Uint8Array.of(1, 0, 0, 1, 1);
  for (const B of [1, 3]) {
    const x = Float32Array.from([-0, 0, Number.NaN, -Infinity, 2.5, -2.5, 0.5, 7, -1.5, 1.5, 3.5, -0.4].slice(0, 4 * B));
    const out = interpret(graph, { p, q, m, x }, undefined, { batch: B });
    expect(Array.from(out.lt!)).toEqual([1, 0, 0, 0, 1]);
    expect(Array.from(out.eq!)).toEqual([0, 1, 1, 0, 0]);
    expect(Array.from(out.ge2!)).toEqual([0, 1, 1, 1, 0]);
    expect(Array.from(out.eqb!)).toEqual([1, 1, 1, 0, 1]);
    expect(bits(out.sign!)).toEqual(bits([0, 0, Number.NaN, -1, 1, -1, 1, 1, -1, 1, 1, -1].slice(0, 4 * B)));
    expect(Array.from(out.signp!)).toEqual([-1, 1, 1, 1, -1]);
    expect(Array.from(out.gt!)).toEqual([0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 1].slice(0, 4 * B));
    expect(bits(out.round!)).toEqual(bits([-0, 0, Number.NaN, -Infinity, 2, -2, 0, 7, -2, 2, 4, -0].slice(0, 4 * B)));
    expect(Array.from(out.x1!)).toEqual(Array.from(x, (v) => Math.fround(v + 1)));
    expect(Array.from(out.folded!)).toEqual([1]);
  }
});

test('comparisons and rounding of the wrong types are refused, naming the node, the op and the types', () => {
  const one = (build: (g: OnnxGraph) => string, ins: Array<[string, number]>) => {
    const g = new OnnxGraph();
    for (const [n, t] of ins) g.input(n, [3], t);
    g.name(build(g), 'y'); g.output('y', [3], DT.BOOL);
    return () => importOnnx(g.finish('bad', 17));
  };
  expect(one((g) => g.op1('Less', ['a', 'b']), [['a', DT.BOOL], ['b', DT.BOOL]])).toThrow(/node 'Less_0' \(Less, opset 17\): bool operands is not supported/);
  expect(one((g) => g.op1('Greater', ['a', 'b']), [['a', DT.FLOAT], ['b', DT.INT64]])).toThrow(/\(Greater, opset 17\): operands of different types \(f32, i32\) is not supported/);
  expect(one((g) => g.op1('Floor', ['a']), [['a', DT.INT64]])).toThrow(/\(Floor, opset 17\): X of type int64\/int32 is not supported/);
  expect(one((g) => g.op1('Mod', ['a', 'b']), [['a', DT.FLOAT], ['b', DT.FLOAT]])).toThrow(/node 'Mod_0' \(Mod, opset 17\): fmod = 0 on floats \(ONNX requires fmod = 1 for floating-point operands\) is not supported/);
});

test('masked fills and And/Or/Not/Xor conditions fuse into one loop with the Where, compiled and in the reference, against hand values', async () => {
  // Where(Equal(m, 0), -inf, s): an int64 mask of the scores' shape fuses (an i32 lane compare); a
  // [1, 7] one is smaller than the Where, so Equal stays a byte loop and the Where reads it broadcast.
  const g = new OnnxGraph();
  g.input('s', [3, 7]); g.input('m', [3, 7], DT.INT64); g.input('r', [1, 7], DT.INT64); g.input('x', [3, 7]); g.input('k', [3, 7], DT.BOOL);
  const zero = g.ints('zero', [], [0]), ninf = g.init('ninf', [], Float32Array.of(-Infinity)), f0 = g.init('f0', [], Float32Array.of(0));
  const one = g.init('one', [], Float32Array.of(1)), mone = g.init('mone', [], Float32Array.of(-1));
  g.name(g.op1('Where', [g.op1('Equal', ['m', zero]), ninf, 's']), 'fill');
  g.name(g.op1('Where', [g.op1('Equal', ['r', zero]), ninf, 's']), 'fill_row');
  const inside = g.op1('And', [g.op1('Greater', ['x', mone]), g.op1('Less', ['x', one])]);
  g.name(g.op1('Where', [inside, 'x', f0]), 'band');
  g.name(g.op1('Where', [g.op1('Or', [g.op1('Less', ['x', mone]), g.op1('Not', ['k'])]), f0, 'x']), 'either');
  g.name(g.op1('Where', [g.op1('Xor', [g.op1('GreaterOrEqual', ['x', 's']), g.op1('Less', ['s', f0])]), 's', 'x']), 'xor');
  const gt = g.name(g.op1('Greater', ['x', 's']), 'gt');                    // an output: kept as bytes
  g.name(g.op1('Where', [gt, 'x', 's']), 'pick');
  for (const o of ['fill', 'fill_row', 'band', 'either', 'xor', 'pick']) g.output(o, [3, 7]);
  g.output('gt', [3, 7], DT.BOOL);
  const { graph } = importOnnx(g.finish('fills', 17));
  const sp = [Number.NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -0.5, 2, -2, 1e-30];
  const x = Float32Array.from({ length: 21 }, (_, i) => sp[i % sp.length]!);
  const s = Float32Array.from({ length: 21 }, (_, i) => sp[(i * 5 + 3) % sp.length]!);
  const m = Int32Array.from({ length: 21 }, (_, i) => [0, 1, -1, 0, 2147483647, -2147483648][i % 6]!), r = Int32Array.of(0, 0, 3, 0, -1, 0, 5);
  const k = Uint8Array.from({ length: 21 }, (_, i) => (i % 3 === 1 ? 1 : 0));
  const at = (f: (i: number) => number) => Array.from({ length: 21 }, (_, i) => f(i));
  const want: Record<string, number[]> = {
    fill: at((i) => (m[i] === 0 ? -Infinity : s[i]!)),
    fill_row: at((i) => (r[i % 7] === 0 ? -Infinity : s[i]!)),
    band: at((i) => (x[i]! > -1 && x[i]! < 1 ? x[i]! : 0)),          // NaN, ±inf and ±1 outside; −0 kept
    either: at((i) => (x[i]! < -1 || !k[i] ? 0 : x[i]!)),
    xor: at((i) => ((x[i]! >= s[i]!) !== (s[i]! < 0) ? s[i]! : x[i]!)),
    pick: at((i) => (x[i]! > s[i]! ? x[i]! : s[i]!)),
    gt: at((i) => (x[i]! > s[i]! ? 1 : 0)),
  };
  const check = (out: Record<string, ArrayLike<number>>, who: string) => { for (const [o, w] of Object.entries(want)) expect(bits(out[o]!), `${who} ${o}`).toEqual(bits(w)); };
  check(interpret(graph, { s, m, r, x, k }), 'reference');
  const { bytes, graph: fused } = await compileGraph(graph, { name: 'fills', isas: TEST_ISAS });
  check(interpret(fused, { s, m, r, x, k }), 'fused reference');
  // Every Where is one elementwise node. Comparisons left: the [1, 7] Equal, the gt output, and
  // Xor's second operand (Xor(a, b) is where(a, not(b), b): b has two users, so it is stored once).
  expect(fused.nodes.filter((n) => n.op === 'where')).toEqual([]);
  expect(fused.nodes.filter((n) => ['lt', 'le', 'gt', 'ge', 'eq', 'ne'].includes(n.op)).map((n) => `${n.op}${fmtShape(n.type.shape)}`)).toEqual(['eq[1, 7]', 'lt[3, 7]', 'gt[3, 7]']);
  const expr = (o: string) => printExpr(attrsOf(fused.outputs.find((x) => x.name === o)!.node, 'elementwise').expr);
  expect(expr('fill')).toBe('where(eq($0, $1), -Infinity, $2)');
  expect(expr('band')).toBe('where(where(gt($0, -1), lt($0, 1), $1), $0, 0)');   // And(a, b) = where(a, b, false)
  for (const isa of TEST_ISAS) {
    const model = await loadModelBytes(bytes, { isa });
    check(model.run({ s, m, r, x, k }), isa);
    model.dispose();
  }
});
