// The DSL's F.einsum, Tensor.repeat and Tensor.gather (compiler/dsl/einsum.ts, dsl/tensor.ts; the
// ONNX Einsum, Tile and GatherElements call them) against PyTorch 1.13 (tests/fixtures/torch-extra/
// dslops, made by make_dslops.py): eleven einsums (ellipsis, implicit output, diagonals, three
// operands, a dropped '...' summed as torch does), four repeats, four gathers, in the reference and
// compiled on every test ISA in one model; named sizes through all three by hand; a negative or
// out-of-range run-time index traps (torch raises; ONNX's wrap is not the DSL's); misuse errors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, ints, ModelDefinitionError, nn, readSafetensors, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'dslops');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'dslops/io.safetensors');
const case_ = JSON.parse(readFileSync(join(FIX, 'case.json'), 'utf8')) as { inputs: Record<string, number[]>; outputs: Record<string, number[]> };
const INTS = ['i0', 'i1', 'i2'];
const EINSUMS = ['bmm', 'ell_bcast', 'implicit', 'diag', 'batch_diag', 'trace', 'three', 'ell_dropped', 'outer', 'ell_mid', 'total'];
const EXACT = ['rep', 'rep2d', 'rep_lead', 'rep_lead4', 'g0', 'g1', 'g2', 'g_const'];
const CONST_IDX = [2, 0, 1, 1, 0, 2]; // make_dslops.py's CONST_IDX, [3, 2]

function forward(_m: nn.Module, t: Record<string, Tensor>): Record<string, Tensor> {
  const { a, b, c, d, x, w, z, e, f, i0, i1, i2, s, si } = t as Record<string, Tensor>;
  return {
    bmm: F.einsum('bij,bjk->bik', a!, b!),
    ell_bcast: F.einsum('...ij,...jk->...ik', a!, b!.select(0, 0)),
    implicit: F.einsum('bij,bjk', a!, b!),
    diag: F.einsum('ii->i', c!),
    batch_diag: F.einsum('bii->bi', d!),
    trace: F.einsum('ii', c!),
    three: F.einsum('bi,ij,bj->b', [x!, w!, z!]),
    ell_dropped: F.einsum('...ij->ij', a!),
    outer: F.einsum('i,j->ij', e!, f!),
    ell_mid: F.einsum('i...j->j...i', a!),
    total: F.einsum('bij->', a!),
    rep: a!.repeat(1, 2, 1),
    rep2d: c!.repeat([2, 3]),
    rep_lead: e!.repeat(2, 1, 3),
    rep_lead4: a!.repeat(2, 1, 1, 2),
    g0: F.gather(a!, 0, i0!),
    g1: a!.gather(1, i1!),
    g2: a!.gather(-1, i2!),
    g_const: c!.gather(1, ints(CONST_IDX, [3, 2])),
    // Named sizes: s [B, 3], si [B, 2].
    ein_sym: F.einsum('bi,ij->jb', s!, w!),
    rep_sym: s!.repeat(2, 1),
    g_sym: s!.gather(1, si!),
  };
}
const def = defineModel({
  name: 'dslops', module: new nn.Identity(),
  inputs: {
    ...Object.fromEntries(Object.entries(case_.inputs).map(([k, shape]) => [k, INTS.includes(k) ? { shape, dtype: 'i32' as const } : shape])),
    s: { shape: ['B', 3], max: { B: 4 } }, si: { shape: ['B', 2], dtype: 'i32', max: { B: 4 } },
  },
  forward,
});
const feeds = Object.fromEntries(Object.keys(case_.inputs).map((k) => [k, io.get(`input.${k}`)!.data as Float32Array | Int32Array]));
const want = (o: string) => io.get(`output.${o}`)!.data as Float32Array;

// The named-size cases by hand: s[b, i] = b − i/2, w the fixture's, si[b] = [(b + 1) % 3, b % 3].
const w = feeds.w as Float32Array;
const symFeeds = (B: number) => ({
  s: Float32Array.from({ length: 3 * B }, (_, o) => Math.floor(o / 3) - (o % 3) / 2),
  si: Int32Array.from({ length: 2 * B }, (_, o) => (o % 2 === 0 ? Math.floor(o / 2) + 1 : Math.floor(o / 2)) % 3),
});
function symWant(B: number) {
  const { s, si } = symFeeds(B);
  const ein = Array.from({ length: 4 * B }, (_, o) => { const j = Math.floor(o / B), b = o % B; return [0, 1, 2].reduce((acc, i) => acc + s[b * 3 + i]! * w[i * 4 + j]!, 0); });
  return { ein_sym: Float32Array.from(ein), rep_sym: Array.from([...s, ...s]), g_sym: Array.from(si, (k, o) => s[Math.floor(o / 2) * 3 + k]!) };
}

let compiled: Awaited<ReturnType<typeof compileModel>>;
beforeAll(async () => { compiled = await compileModel(def, { isas: TEST_ISAS }); });

test('F.einsum, Tensor.repeat and Tensor.gather match PyTorch in the reference and compiled on every ISA; named sizes by hand', async () => {
  const graph = traceModel(def);
  for (const o of [...EINSUMS, ...EXACT]) expect(graph.outputs.find((x) => x.name === o)!.node.type.shape, o).toEqual(case_.outputs[o]);
  // bmm, ell_bcast, implicit, three's two contractions and ein_sym are batched matmuls; the rest are none.
  expect(graph.nodes.filter((n) => n.op === 'matmul').length).toBe(6);
  const check = (out: Record<string, ArrayLike<number>>, what: string, B: number) => {
    for (const o of EINSUMS) expectTorch(Float32Array.from(out[o]!), want(o), `${what} ${o}`);
    for (const o of EXACT) expect(Array.from(out[o]!), `${what} ${o}`).toEqual(Array.from(want(o)));
    const sw = symWant(B);
    expectTorch(Float32Array.from(out.ein_sym!), sw.ein_sym, `${what} ein_sym B=${B}`);
    expect(Array.from(out.rep_sym!), `${what} rep_sym B=${B}`).toEqual(sw.rep_sym);
    expect(Array.from(out.g_sym!), `${what} g_sym B=${B}`).toEqual(sw.g_sym);
  };
  for (let B = 1; B <= 4; B++) check(interpret(graph, { ...feeds, ...symFeeds(B) }, undefined, { B }), 'reference', B);

  // Run-time indices follow torch: a negative one is not counted from the end, it traps like one past the end.
  const trap = (k: number) => new RegExp(`gather_elements.*: index ${k} is outside \\[0, 3\\) along axis 1`);
  const bad = (k: number) => ({ ...feeds, ...symFeeds(2), i1: Int32Array.from(feeds.i1!, (v, i) => (i === 7 ? k : v)) });
  expect(() => interpret(graph, bad(-1), undefined, { B: 2 })).toThrow(trap(-1));
  expect(() => interpret(graph, bad(3), undefined, { B: 2 })).toThrow(trap(3));
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(compiled.bytes, { isa });
    for (const B of [1, 4]) {
      const { s, si } = symFeeds(B);
      check(m.run({ ...feeds, s: { data: s, shape: [B, 3] }, si: { data: si, shape: [B, 2] } }), isa, B);
    }
    const sized = (f: Record<string, Float32Array | Int32Array>) => ({ ...f, s: { data: f.s!, shape: [2, 3] }, si: { data: f.si!, shape: [2, 2] } });
    expect(() => m.run(sized(bad(-1))), `${isa} negative`).toThrow(trap(-1));
    expect(() => m.run(sized(bad(3))), `${isa} past the end`).toThrow(trap(3));
    m.dispose();
  }
});

test('misuse of einsum, repeat and gather is a ModelDefinitionError naming the op, the equation or argument, and the problem', () => {
  const shapes: Record<string, number[]> = { a: [2, 3, 4], c: [3, 3], v: [3] };
  const run = (body: (t: Record<string, Tensor>) => Tensor) => () => traceModel(defineModel({
    name: 'bad', module: new nn.Identity(), inputs: { ...shapes, k: { shape: [2, 3, 2], dtype: 'i32' }, k1: { shape: [2], dtype: 'i32' } },
    forward: (_m, t: Record<string, Tensor>) => ({ y: body(t) }),
  }));
  const cases: Array<[(t: Record<string, Tensor>) => Tensor, RegExp]> = [
    // einsum: malformed equations, operand counts and sizes, torch's implicit rules kept.
    [({ c }) => F.einsum('ij,jk->ik', c!), /einsum: equation 'ij,jk->ik': 2 input terms for 1 input/],
    [({ c }) => F.einsum('ij->ji', c!, c!), /einsum: equation 'ij->ji': 1 input term for 2 inputs/],
    [({ c }) => F.einsum('i2->i', c!), /einsum: equation 'i2->i': term 'i2' of input 0 is not letters with at most one '...'/],
    [({ c }) => F.einsum('ij->k', c!), /einsum: equation 'ij->k': output label 'k' is in no input/],
    [({ c }) => F.einsum('ijk->i', c!), /einsum: equation 'ijk->i': term 0 has 3 labels for input 0 of rank 2/],
    [({ a, c }) => F.einsum('bij,jk->bik', a!, c!), /einsum: equation 'bij,jk->bik': label 'j' is 4 in input 0 but 3 in input 1 \(sizes must agree or be 1\)/],
    [({ a }) => F.einsum('iij->j', a!), /einsum: equation 'iij->j': label 'i' repeats in input 0 \(a diagonal\) with the sizes 2 and 3/],
    [({ c }) => F.einsum('ij->ji', c!.cast('i32')), /einsum: equation 'ij->ji': operand 0 must be f32 \(einsum contracts with matmul\), got i32\[3, 3\]/],
    [({ c }) => F.einsum(42 as unknown as string, c!), /einsum: the equation must be a string, got 42/],
    [({ c }) => F.einsum('ij,j->i', c!, [1, 2, 3] as unknown as Tensor), /einsum: equation 'ij,j->i': operand 1 must be a tensor/],
    // repeat: integers ≥ 1, at least one per dim.
    [({ c }) => c!.repeat(2, 1.5), /repeat: sizes must be positive integers .*got \[2, 1.5\]/],
    [({ c }) => c!.repeat(2, 0), /repeat: sizes must be positive integers \(0 would make an empty tensor/],
    [({ a }) => a!.repeat(2, 2), /repeat: 2 sizes \[2, 2\] for a tensor \[2, 3, 4\] of rank 3: give at least one per dim/],
    // gather: index of i32, of the input's rank, no larger off the dim; constant indices in [0, n).
    [({ a, k1 }) => a!.gather(2, k1!), /gather: index \[2\] must have the rank of the input \[2, 3, 4\]/],
    [({ a }) => a!.gather(1, a!), /gather: index must be i32 \(the DSL's integer dtype\), got f32\[2, 3, 4\]/],
    [({ c, k }) => F.gather(c!, 0, k!), /gather: index \[2, 3, 2\] must have the rank of the input \[3, 3\]/],
    [({ c }) => c!.gather(0, ints([0, 1, 2, 0], [1, 4])), /gather: index \[1, 4\] must have the rank of the input \[3, 3\] and no larger size on any dim but 0/],
    [({ c }) => c!.gather(1, ints([0, -1, 2], [3, 1])), /gather: index -1 \(element 1 of the constant index\) is outside \[0, 3\) along dim 1 of \[3, 3\]/],
    [({ c }) => c!.gather(0, ints([3, 0], [1, 2])), /gather: index 3 \(element 0 of the constant index\) is outside \[0, 3\) along dim 0/],
    [({ c }) => c!.gather(0, [0] as unknown as Tensor), /gather: index must be a tensor, got/],
  ];
  for (const [body, msg] of cases) {
    expect(run(body), String(msg)).toThrow(ModelDefinitionError);
    expect(run(body), String(msg)).toThrow(msg);
  }
});
