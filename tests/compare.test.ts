// Comparisons (lt, le, gt, ge, eq, ne on f32 and i32) and rounding (floor, ceil, round, trunc)
// against PyTorch 1.13 (tests/fixtures/torch-extra/compare, made by make_compare.py): one model,
// compiled for every test ISA and run, and the reference interpreter on the traced and on the
// compiled (fused) graph, bit for bit (NaN as NaN; bools exactly); which comparisons fused into
// the where reading them and which stayed bytes; then misuse refused clearly.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, Module, nn, readSafetensors, traceModel, type Tensor } from '../compiler/index.ts';
import { attrsOf } from '../compiler/ir/ops.ts';
import { printExpr } from '../compiler/ir/print.ts';
import { wasmTarget } from '../compiler/codegen/target.ts';
import { runPasses } from '../compiler/passes/manager.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'compare');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'compare/io.safetensors');
const CMP = ['lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const;

const forward = (_m: Module, { a, b, c, i, j, s }: Record<string, Tensor>) => {
  // s is a's first B rows, B chosen at run time: the same ops over a named size.
  const out: Record<string, Tensor> = { s_lt: s!.lt(b!), s_ne_col: s!.ne(c!.slice(0, 0, 1)), s_round: s!.round() };
  for (const op of CMP) {
    out[op] = a![op](b!);
    out[`${op}_col`] = a![op](c!);
    out[`${op}_int`] = i![op](j!);
  }
  Object.assign(out, {
    gt0: a!.gt(0), le_half: a!.le(-0.5), ne_nan_self: a!.ne(a!), ge_int2: i!.ge(2), lt_int_float: i!.lt(0.5),
    floor: a!.floor(), ceil: a!.ceil(), round: a!.round(), trunc: a!.trunc(),
    leaky: F.where(a!.gt(0), a!, a!.mul(0.1)),
    mask: a!.ge(c!).float().mul(b!),
    chain: a!.mul(3).floor().add(a!.sub(1).round().mul(b!.ceil().sub(b!.trunc()))),
    cmp_chain: a!.mul(2).gt(b!.add(1)),
    where_round: F.where(a!.round().eq(a!), a!, a!.neg()),
    where_sqrt: F.where(a!.ge(0), a!.sqrt(), a!.mul(0.5)),
    fill_int: F.where(i!.eq(0), -Infinity, a!),
    clamp_where: F.where(a!.gt(1), 1, F.where(a!.lt(-1), -1, a!)),
    where_col: F.where(c!.gt(0), b!, a!.mul(2)),
    where_row: F.where(b!.lt(1), a!, b!.neg()),
    where_tiny: F.where(a!.add(1e-8).gt(1), a!, b!),
    where_gt: F.where(a!.gt(b!), a!.sub(b!), b!),
    s_where: F.where(s!.gt(0), s!, s!.mul(0.1)),
    s_where_row: F.where(b!.lt(1), s!, b!.neg()),
  });
  return out;
};
const def = defineModel({
  name: 'compare', module: new nn.Identity(), forward,
  inputs: { a: [3, 37], b: [37], c: [3, 1], i: { shape: [3, 37], dtype: 'i32' }, j: { shape: [37], dtype: 'i32' }, s: { shape: ['B', 37], max: { B: 3 } } },
});

/** Bit for bit, NaN matching any NaN (its payload and sign are not specified by torch or wasm). */
function expectBits(got: ArrayLike<number> | undefined, want: Float32Array | Uint8Array, name: string): void {
  expect(got?.constructor, name).toBe(want.constructor);
  const bits = (a: ArrayLike<number>) => Array.from(a as Float32Array | Uint8Array, (v) => (Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : v));
  expect(bits(got!), name).toEqual(bits(want));
}

test('comparisons and rounding match PyTorch bit for bit: NaN, ±inf, ±0, ties, equal values, broadcasting, i32 extremes', async () => {
  const feeds = Object.fromEntries(['a', 'b', 'c', 'i', 'j'].map((n) => [n, io.get(`input.${n}`)!.data as Float32Array | Int32Array]));
  const want = (name: string) => io.get(`output.${name}`)!.data as Float32Array | Uint8Array;
  const names = [...io.keys()].filter((k) => k.startsWith('output.')).map((k) => k.slice(7));
  expect(names.length).toBe(39);
  // The named-size outputs at B = 2: torch's rows 0 and 1 of lt, ne_col (c's first row, 0.5), round, leaky and where_row.
  const sized = { s_lt: want('lt').slice(0, 74), s_ne_col: want('ne_col').slice(0, 74), s_round: want('round').slice(0, 74),
    s_where: want('leaky').slice(0, 74), s_where_row: want('where_row').slice(0, 74) };
  const s = (feeds.a as Float32Array).slice(0, 74);
  const ref = interpret(traceModel(def), { ...feeds, s }, undefined, { B: 2 });
  for (const name of names) expectBits(ref[name], want(name), `reference ${name}`);
  for (const [name, w] of Object.entries(sized)) expectBits(ref[name], w, `reference ${name}`);
  const { bytes, graph } = await compileModel(def, { isas: TEST_ISAS });
  // The compiled graph in the reference: the fused expressions' meaning (ir/ops/elementwise.ts exprEvaluator) is torch's too.
  const fused = interpret(graph, { ...feeds, s }, undefined, { B: 2 });
  for (const name of names) expectBits(fused[name], want(name), `fused reference ${name}`);
  for (const [name, w] of Object.entries(sized)) expectBits(fused[name], w, `fused reference ${name}`);
  for (const isa of TEST_ISAS) {
    const model = await loadModelBytes(bytes, { isa });
    const out = model.run({ ...feeds, s: { data: s, shape: [2, 37] } });
    for (const name of names) expectBits(out[name], want(name), `${isa} ${name}`);
    for (const [name, w] of Object.entries(sized)) expectBits(out[name], w, `${isa} ${name}`);
    model.dispose();
  }
});

test('comparing or rounding the wrong dtypes, shapes or values is refused, naming the op, what it takes and what it got', () => {
  const tr = (fwd: (x: Tensor) => Tensor) => () => traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: [2, 3] }, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!) }));
  // (Bool operands compare as torch promotes them, 0/1: handmade-models checks them against PyTorch.)
  expect(tr((x) => x.cast('i32').floor())).toThrow(/floor: input must be f32, got i32\[2, 3\]/);
  expect(tr((x) => x.gt(0).round())).toThrow(/round: input must be f32, got bool\[2, 3\]/);
  expect(tr((x) => x.le(x.reshape(3, 2)))).toThrow(/le: shapes do not broadcast: \[2, 3\] vs \[3, 2\]/);
  expect(tr((x) => x.ne('0' as never))).toThrow(/ne: expected a tensor or a number, got "0"/);
  expect(tr((x) => F.where(x, x, 0))).toThrow(/where: condition must be bool, got f32\[2, 3\]/);
  expect(tr((x) => (F.where as (...a: unknown[]) => Tensor)(x.gt(0)))).toThrow(/where: input must be a tensor or a number, got undefined/);
  expect(tr((x) => F.where(x.gt(0), x, null as never))).toThrow(/where: other must be a tensor or a number, got null/);
  expect(tr((x) => F.where(1 as never, x, x))).toThrow(/where: condition must be a tensor, got 1/);
});

test('a comparison feeding only where fuses into the f32 loop; a bool that is an output, is read twice or is smaller stays bytes', () => {
  const graph = runPasses(traceModel(def), { target: wasmTarget });
  const out = (name: string) => graph.outputs.find((o) => o.name === name)!.node;
  // One elementwise node where compare + where were: its inputs are the graph's inputs and constants.
  const fusedExpr = (name: string, ins: string[]) => {
    const n = out(name);
    expect(n.op, name).toBe('elementwise');
    expect(n.inputs.map((i) => i.op), name).toEqual(ins);
    return printExpr(attrsOf(n, 'elementwise').expr);
  };
  expect(fusedExpr('where_sqrt', ['input'])).toBe('where(ge($0, 0), sqrt($0), mul($0, 0.5))');
  expect(fusedExpr('fill_int', ['input', 'const', 'input'])).toBe('where(eq($0, $1), -Infinity, $2)'); // the i32 0 is a splat input: literals are f32
  expect(fusedExpr('clamp_where', ['input'])).toBe('where(gt($0, 1), 1, where(lt($0, -1), -1, $0))');
  expect(fusedExpr('where_tiny', ['input', 'input'])).toBe('where(gt(add($0, 9.99999993922529e-9), 1), $0, $1)');
  expect(fusedExpr('s_where', ['input'])).toBe('where(gt($0, 0), $0, mul($0, 0.10000000149011612))');
  expect(out('s_where').attrs.sym).toEqual({ values: { shape: ['B', 37] }, max: { B: 3 } });
  // c > 0 is [3, 1] and b < 1 is [37], smaller than the where: computed once as bytes, read broadcast.
  expect(fusedExpr('where_col', ['gt', 'input', 'elementwise'])).toBe('where($0, $1, $2)');
  expect(fusedExpr('where_row', ['lt', 'input', 'elementwise'])).toBe('where($0, $1, $2)');
  expect(fusedExpr('s_where_row', ['lt', 'input', 'elementwise'])).toBe('where($0, $1, $2)'); // over [B, 37]
  // a > 0, a > b and a >= c are outputs as well (gt0, gt, ge_col): stored once, read back as bytes.
  expect(fusedExpr('leaky', ['gt', 'input'])).toBe('where($0, $1, mul($1, 0.10000000149011612))');
  expect(out('leaky').inputs[0]).toBe(out('gt0'));
  expect(fusedExpr('where_gt', ['gt', 'input', 'input'])).toBe('where($0, sub($1, $2), $2)');
  expect(out('where_gt').inputs[0]).toBe(out('gt'));
  expect(fusedExpr('mask', ['ge', 'input'])).toBe('mul(where($0, 1, 0), $1)'); // (a >= c).float(): the cast fuses
  // A comparison of f32 math that is itself an output: the math fuses up to it, the comparison stays.
  expect(out('cmp_chain').op).toBe('gt');
  expect(out('cmp_chain').inputs.map((i) => i.op)).toEqual(['elementwise', 'elementwise']);
  expect(graph.nodes.filter((n) => n.op === 'where')).toEqual([]);
  // The one cast left converts i32 to f32 (i < 0.5): not an expression op.
  expect(graph.nodes.filter((n) => n.op === 'cast').map((n) => n.inputs[0]!.type.dtype)).toEqual(['i32']);
});
