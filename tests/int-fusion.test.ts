// i32 → f32 casts and wrapping i32 arithmetic inside fused f32 loops (passes/elementwise-fusion.ts):
// one DSL model over edge values (2^24 + 1 and other ties, INT_MIN and INT_MAX, products that wrap,
// −0, broadcast operands, a value with several users, an i32 output, `where` over i32 branches),
// checked bit for bit against the values written out here in plain JavaScript, the reference
// interpreter on the traced and on the compiled graph, and the artifact compiled with and without
// elementwise-fusion; then a PyTorch 1.13 ONNX export of BERT / Hugging Face attention-mask
// arithmetic on int64 masks (tests/fixtures/onnx-mask, made by its export.py).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileEntries } from '../compiler/driver/compile.ts';
import { compileModel, defineModel, F, interpret, Module, nn, traceModel, type Tensor } from '../compiler/index.ts';
import { attrsOf, opDef } from '../compiler/ir/ops.ts';
import { printExpr } from '../compiler/ir/print.ts';
import type { Expr, Graph } from '../compiler/ir/node.ts';
import type { DType } from '../compiler/ir/types.ts';
import { importOnnx } from '../compiler/onnx/import.ts';
import { wasmTarget } from '../compiler/codegen/target.ts';
import { runPasses } from '../compiler/passes/manager.ts';
import { readSafetensors } from '../compiler/weights/safetensors.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const MAX = 2147483647, MIN = -2147483648;
// Rows of 37: each row's loop runs eight lanes, then four, then one, so every value below meets
// the vector conversion and the scalar one.
const R = 3, C = 37, N = R * C;
const cycle = <T extends Int32Array | Float32Array>(make: (n: number) => T, vs: number[], n: number): T => make(n).map((_, i) => vs[i % vs.length]!) as T;
// 16777217 and 16777219 are ties (to 16777216 and 16777220: the even one); 33554435 is 3 above a multiple of 4.
const m = cycle((n) => new Int32Array(n), [0, 1, -1, 16777216, 16777217, -16777217, 16777219, 33554435, MAX, MIN, 65536, 46341, -7], N);
const k = cycle((n) => new Int32Array(n), [3, 65536, -1, MAX, 46341, 0, MIN, 7, 2, -65536, 1], N);
const r = cycle((n) => new Int32Array(n), [1, -1, MAX, 0, MIN, 5, 16777216], C);
const c = Int32Array.of(1, MIN, MAX);
const s = cycle((n) => new Float32Array(n), [1, -1, 0.5, -0, 3, 0], N);
const feeds = { s, m, k, r, c };

const forward = (_m: Module, { s, m, k, r, c }: Record<string, Tensor>) => {
  const u = m!.sub(k!), neg = m!.mul(-1);
  return {
    conv: m!.float().mul(s!),
    hf: s!.add(m!.float().neg().add(1).mul(-10000)),
    wrap: m!.mul(k!).add(r!).sub(c!).float().mul(s!),
    minmax: m!.maximum(k!).minimum(r!).float().add(s!),
    // ONNX's Neg and Abs of an integer (onnx/ops.ts): x·−1 and max(x, x·−1); x·−1 has two users.
    abs: m!.maximum(neg).float().sub(neg.float()),
    cmp: F.where(m!.add(k!).gt(0), s!, -1),
    bc: c!.add(1).float().add(s!),
    int_out: u,
    int_used: u.float().mul(2),
    where_i32: F.where(m!.gt(0), m!, k!).float().add(s!),
    shared: k!.float().mul(s!).add(k!.float().sub(1).mul(10000)),
  };
};
const def = defineModel({
  name: 'int_fusion', module: new nn.Identity(), forward,
  inputs: { s: [R, C], m: { shape: [R, C], dtype: 'i32' }, k: { shape: [R, C], dtype: 'i32' }, r: { shape: [C], dtype: 'i32' }, c: { shape: [R, 1], dtype: 'i32' } },
});

/** The outputs computed here element by element: i32 wraps as i32 (|0, Math.imul), every f32 value is rounded (fround). */
function byHand(): Record<string, Float32Array | Int32Array> {
  const f = Math.fround, col = (i: number) => i % C, row = (i: number) => Math.floor(i / C);
  const each = (g: (i: number) => number) => Float32Array.from({ length: N }, (_, i) => g(i));
  return {
    conv: each((i) => f(f(m[i]!) * s[i]!)),
    hf: each((i) => f(s[i]! + f(f(-f(m[i]!) + 1) * -10000))),
    wrap: each((i) => f(f((((Math.imul(m[i]!, k[i]!) + r[col(i)]!) | 0) - c[row(i)]!) | 0) * s[i]!)),
    minmax: each((i) => f(f(Math.min(Math.max(m[i]!, k[i]!), r[col(i)]!)) + s[i]!)),
    abs: each((i) => { const n = Math.imul(m[i]!, -1); return f(f(Math.max(m[i]!, n)) - f(n)); }),
    cmp: each((i) => (((m[i]! + k[i]!) | 0) > 0 ? s[i]! : -1)),
    bc: each((i) => f(f((c[row(i)]! + 1) | 0) + s[i]!)),
    int_out: Int32Array.from({ length: N }, (_, i) => (m[i]! - k[i]!) | 0),
    int_used: each((i) => f(f((m[i]! - k[i]!) | 0) * 2)),
    where_i32: each((i) => f(f(m[i]! > 0 ? m[i]! : k[i]!) + s[i]!)),
    shared: each((i) => f(f(f(k[i]!) * s[i]!) + f(f(f(k[i]!) - 1) * 10000))),
  };
}

/** Bit for bit: −0 apart from 0, the typed array's kind too. */
function expectBits(got: ArrayLike<number> | undefined, want: Float32Array | Int32Array, name: string): void {
  expect(got?.constructor, name).toBe(want.constructor);
  const bits = (a: ArrayLike<number>) => Array.from(a as Float32Array, (v) => (Object.is(v, -0) ? '-0' : v));
  expect(bits(got!), name).toEqual(bits(want));
}

const MASK_DIR = join(import.meta.dirname, 'fixtures', 'onnx-mask');
const maskGraph = () => importOnnx(readFileSync(join(MASK_DIR, 'model.onnx'))).graph;
// One artifact (compiling is the slow part): the DSL model as `run`, the ONNX export as `mask`.
let fusedArtifact: ReturnType<typeof compileEntries> | undefined;
const fusedOnce = () => (fusedArtifact ??= compileEntries([{ name: 'run', graph: traceModel(def) }, { name: 'mask', graph: maskGraph() }], [], { isas: TEST_ISAS }));

const exprOf = (g: Graph, name: string) => {
  const n = g.outputs.find((o) => o.name === name)!.node;
  return n.op === 'elementwise' ? `${printExpr(attrsOf(n, 'elementwise').expr)} <- ${n.inputs.map((i) => i.op).join(' ')}` : n.op;
};

test('i32 → f32 casts and wrapping i32 arithmetic fused into f32 loops: ties to even, INT_MIN/INT_MAX, wraparound, −0, broadcasts, several users', async () => {
  const want = byHand();
  // The edge values as written: conversions round to nearest, ties to even; MAX·2 wraps to −2.
  const bits = (a: ArrayLike<number>) => Array.from(a, (v) => (Object.is(v, -0) ? '-0' : v));
  expect(bits(want.conv.slice(0, 13))).toEqual(bits([0, -1, -0.5, -0, 50331648, -0, 16777220, -33554436, 1073741824, 0, 196608, 0, -7]));
  expect(want.wrap[8]).toBe(-2); // (MAX·2 + r[8] − c[0])·s[8] = (−2 − 1 − 1)·0.5
  expect(want.abs[9]).toBe(0); // |MIN| wraps to MIN, as torch's int32 abs: MIN − MIN
  const traced = traceModel(def), ref = interpret(traced, feeds);
  for (const [name, w] of Object.entries(want)) expectBits(ref[name], w, `reference ${name}`);

  const graph = runPasses(traceModel(def), { target: wasmTarget });
  expect(exprOf(graph, 'conv')).toBe('mul(f32($0), $1) <- input input');
  expect(exprOf(graph, 'hf')).toBe('add($0, mul(add(neg(f32($1)), 1), -10000)) <- input input');
  // i32 operands of a smaller shape are leaves read broadcast; the i32 scalar −1 is a splat input.
  expect(exprOf(graph, 'wrap')).toBe('mul(f32(sub(add(mul($0, $1), $2), $3)), $4) <- input input input input input');
  expect(exprOf(graph, 'minmax')).toBe('add(f32(minimum(maximum($0, $1), $2)), $3) <- input input input input');
  expect(exprOf(graph, 'cmp')).toBe('where(gt(add($0, $1), $2), $3, -1) <- input input const input');
  // m·−1 has two users: computed once as i32 and read by both conversions.
  expect(exprOf(graph, 'abs')).toBe('sub(f32(maximum($0, $1)), f32($1)) <- input mul');
  // c + 1 is [3, 1]: fused on its own, not recomputed for each of the 37 columns.
  expect(exprOf(graph, 'bc')).toBe('add($0, $1) <- elementwise input');
  expect(printExpr(attrsOf(graph.outputs.find((o) => o.name === 'bc')!.node.inputs[0]!, 'elementwise').expr)).toBe('f32(add($0, $1))');
  // m − k is an output: stored as i32 (a scalar i32 loop) and read by the fused conversion.
  expect(exprOf(graph, 'int_out')).toBe('sub');
  expect(exprOf(graph, 'int_used')).toBe('mul(f32($0), 2) <- sub');
  // where over i32 branches is no expression (exprDtype refuses it): it stays a node, its
  // comparison stays bytes, and only the conversion after it fuses.
  expect(exprOf(graph, 'where_i32')).toBe('add(f32($0), $1) <- where input');
  // k.float() twice (one node after cse): the conversion is repeated in the loop, k read once a lane.
  expect(exprOf(graph, 'shared')).toBe('add(mul(f32($0), $1), mul(sub(f32($0), 1), 10000)) <- input input');
  expect(graph.nodes.filter((n) => n.op === 'cast')).toEqual([]);

  const fusedRef = interpret(graph, feeds);
  for (const [name, w] of Object.entries(want)) expectBits(fusedRef[name], w, `fused reference ${name}`);
  const [fused, unfused] = [await fusedOnce(), await compileModel(def, { isas: [TEST_ISAS[0]!], disablePasses: ['elementwise-fusion'] })];
  expect(unfused.graph.nodes.filter((n) => n.op === 'cast').length).toBe(9);
  for (const [artifact, isas, what] of [[fused, TEST_ISAS, 'fused'], [unfused, [TEST_ISAS[0]!], 'unfused']] as const) {
    for (const isa of isas) {
      const model = await loadModelBytes(artifact.bytes, { isa });
      const out = model.run(feeds);
      for (const [name, w] of Object.entries(want)) expectBits(out[name], w, `${what} ${isa} ${name}`);
      model.dispose();
    }
  }
});

test('a fused expression refuses what it cannot hold: i32 div, i32 where, unary math of an i32', () => {
  const ew = (expr: Expr, dtypes: DType[]) => () => opDef('elementwise')!.type(dtypes.map((dtype) => ({ dtype, shape: [4] })), { expr, shape: [4] });
  expect(ew({ op: 'f32', args: [{ op: 'div', args: [{ op: 'in', index: 0 }, { op: 'in', index: 1 }] }] }, ['i32', 'i32']))
    .toThrow(/elementwise: expression div takes f32 \(i32 only for add, sub, mul, maximum, minimum\), got \(i32, i32\)/);
  expect(ew({ op: 'f32', args: [{ op: 'where', args: [{ op: 'in', index: 0 }, { op: 'in', index: 1 }, { op: 'in', index: 1 }] }] }, ['bool', 'i32']))
    .toThrow(/elementwise: expression where takes a bool and two f32 or two bools, got \(bool, i32, i32\)/);
  expect(ew({ op: 'f32', args: [{ op: 'neg', args: [{ op: 'in', index: 0 }] }] }, ['i32'])).toThrow(/elementwise: expression neg takes f32, got \(i32\)/);
  expect(ew({ op: 'f32', args: [{ op: 'in', index: 0 }] }, ['f32'])).toThrow(/elementwise: expression f32 takes i32, got \(f32\)/);
  expect(ew({ op: 'add', args: [{ op: 'in', index: 0 }, { op: 'in', index: 1 }] }, ['i32', 'i32'])).toThrow(/the expression's value must be f32, got i32/);
});

test('BERT / Hugging Face attention masks from an ONNX export (int64 masks: Cast, Sub, Mul, Add) fuse and match PyTorch', async () => {
  const io = readSafetensors(readFileSync(join(MASK_DIR, 'io.safetensors')));
  const int = (name: string) => Int32Array.from(io.get(`input.${name}`)!.data as ArrayLike<number | bigint>, Number);
  const feeds = { scores: io.get('input.scores')!.data as Float32Array, mask: int('mask'), mask4: int('mask4') };
  const outs = ['extended', 'int_first', 'shared', 'probs'];
  const compiled = await fusedOnce(), planned = compiled.graphs.mask!;
  // (1 − m)·−10000 of the [2, 1, 1, 13] mask: one loop of its own size, then the add reads it broadcast.
  const extended = planned.outputs.find((o) => o.name === 'extended')!.node;
  expect(exprOf(planned, 'extended')).toBe('add($0, $1) <- input elementwise');
  expect(printExpr(attrsOf(extended.inputs[1]!, 'elementwise').expr)).toBe('mul(sub(1, f32($0)), -10000)');
  expect(exprOf(planned, 'int_first')).toBe('add($0, f32(mul(sub($1, $2), $3))) <- input const input const');
  expect(exprOf(planned, 'shared')).toBe('add(mul($0, f32($1)), mul(sub(f32($1), 1), 10000)) <- input input');
  expect(planned.nodes.filter((n) => n.op === 'cast')).toEqual([]);
  const ref = interpret(planned, feeds);
  for (const isa of TEST_ISAS) {
    const model = await loadModelBytes(compiled.bytes, { isa });
    const out = model.call('mask', feeds);
    for (const name of outs) {
      const want = io.get(`output.${name}`)!.data as Float32Array;
      expectTorch(out[name] as Float32Array, want, `${isa} ${name}`, { zeroSign: name !== 'probs' });
      expectTorch(ref[name] as Float32Array, want, `reference ${name}`, { zeroSign: name !== 'probs' });
    }
    model.dispose();
  }
});
