// torch.topk (Tensor.topk, F.topk) against PyTorch 1.13 (tests/fixtures/torch-extra/topk, made by
// make_topk.py): along every dim, largest and smallest, k from 1 to the whole axis, NaN, ±inf,
// ±0, ties (in index order: torch 1.13 leaves their order open, the script checks it agrees up to
// that), int32; a named batch and a named reduced axis (k = 1) at their bounds and below. One
// model compiled for every test ISA and the reference interpreter, bit for bit; then misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, Module, nn, readSafetensors, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'topk');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'topk/io.safetensors');
const want = (name: string) => io.get(`output.${name}`)!.data as Float32Array | Int32Array;
// name: [input, k, dim, largest], as make_topk.py's CASES.
const CASES: Record<string, [string, number, number, boolean]> = {
  a_top5: ['a', 5, -1, true], a_low5: ['a', 5, -1, false], a_all: ['a', 37, 1, true], a_col2: ['a', 2, 0, true], a_low_col3: ['a', 3, 0, false],
  b_d0: ['b', 3, 0, true], b_d1: ['b', 4, 1, false], b_d2: ['b', 2, 2, true], b_d1_top1: ['b', 1, -2, true],
  i_top4: ['i', 4, -1, true], i_low4: ['i', 4, 1, false],
};

const forward = (_m: Module, x: Record<string, Tensor>) => {
  const out: Record<string, Tensor> = {};
  for (const [name, [input, k, dim, largest]] of Object.entries(CASES)) {
    // sorted = false for two cases: they come out sorted too.
    [out[`${name}_v`], out[`${name}_i`]] = name === 'b_d1' ? F.topk(x[input]!, k, dim, largest, false) : x[input]!.topk(k, dim, largest, name !== 'a_col2');
  }
  out.a_top4_only_v = x.a!.topk(4)[0];                  // indices read by nothing
  out.a_low4_only_i = x.a!.topk(4, -1, false)[1];       // values read only by the indices' node
  [out.s_top3_v, out.s_top3_i] = x.s!.topk(3);          // s [B, 37]: a's first B rows
  [out.t_low1_v, out.t_low1_i] = x.t!.topk(1, 1, false); // t [3, T]: a's first T columns
  return out;
};
const def = defineModel({
  name: 'topk', module: new nn.Identity(), forward,
  inputs: { a: [3, 37], b: [4, 6, 5], i: { shape: [3, 9], dtype: 'i32' }, s: { shape: ['B', 37], max: { B: 3 } }, t: { shape: [3, 'T'], max: { T: 37 } } },
});

/** Bit for bit (−0 as −0), NaN matching any NaN; the typed array's class is the dtype. */
function expectBits(got: ArrayLike<number> | undefined, wanted: ArrayLike<number>, name: string): void {
  expect(got?.constructor, name).toBe(wanted.constructor);
  const bits = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : v));
  expect(bits(got!), name).toEqual(bits(wanted));
}

/** The first `cols` of each row of a [rows, k] output. */
const cols = (d: Float32Array | Int32Array, rows: number, k: number, n: number) => {
  const out = new (d.constructor as Float32ArrayConstructor | Int32ArrayConstructor)(rows * n);
  for (let r = 0; r < rows; r++) out.set(d.subarray(r * k, r * k + n), r * n);
  return out;
};

test('topk matches PyTorch 1.13 bit for bit: every dim, largest/smallest, NaN, ±inf, ±0, ties in index order, int32, named sizes at and below the bound', async () => {
  const a = io.get('input.a')!.data as Float32Array;
  const feeds = { a, b: io.get('input.b')!.data as Float32Array, i: io.get('input.i')!.data as Int32Array };
  const fixed: Record<string, Float32Array | Int32Array> = Object.fromEntries(Object.keys(CASES).flatMap((c) => [`${c}_v`, `${c}_i`].map((n) => [n, want(n)])));
  fixed.a_top4_only_v = cols(want('a_top5_v'), 3, 5, 4);
  fixed.a_low4_only_i = cols(want('a_low5_i'), 3, 5, 4);
  // At the bounds (B = 3, T = 37) the named-size outputs are the first columns of a_top5 and a_low5;
  // below them (B = 2, T = 20) the script's s_top3 and t_low1.
  const runs = [
    { sizes: { B: 3, T: 37 }, s: a, t: a, sized: { s_top3_v: cols(want('a_top5_v'), 3, 5, 3), s_top3_i: cols(want('a_top5_i'), 3, 5, 3), t_low1_v: cols(want('a_low5_v'), 3, 5, 1), t_low1_i: cols(want('a_low5_i'), 3, 5, 1) } },
    { sizes: { B: 2, T: 20 }, s: a.slice(0, 74), t: cols(a, 3, 37, 20) as Float32Array, sized: Object.fromEntries(['s_top3_v', 's_top3_i', 't_low1_v', 't_low1_i'].map((n) => [n, want(n)])) },
  ];
  const graph = traceModel(def);
  for (const r of runs) {
    const ref = interpret(graph, { ...feeds, s: r.s, t: r.t }, undefined, r.sizes);
    for (const [name, w] of Object.entries({ ...fixed, ...r.sized })) expectBits(ref[name], w, `reference ${name} at ${JSON.stringify(r.sizes)}`);
  }
  const { bytes } = await compileModel(def, { isas: TEST_ISAS });
  for (const isa of TEST_ISAS) {
    const model = await loadModelBytes(bytes, { isa });
    for (const r of runs) {
      const out = model.run({ ...feeds, s: { data: r.s, shape: [r.sizes.B, 37] }, t: { data: r.t, shape: [3, r.sizes.T] } });
      for (const [name, w] of Object.entries({ ...fixed, ...r.sized })) expectBits(out[name], w, `${isa} ${name} at ${JSON.stringify(r.sizes)}`);
    }
    model.dispose();
  }
});

test('topk refuses k outside [1, n], a bad dim or flag, a bool or scalar input, and k > 1 along a named size, naming what it got', () => {
  const tr = (fwd: (x: Tensor) => Tensor | Tensor[], x: object = [2, 5]) => () =>
    traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x } as never, forward: (_m: Module, i: Record<string, Tensor>) => { const r = fwd(i.x!); return Array.isArray(r) ? r[0]! : r; } }));
  expect(tr((x) => x.topk(0))).toThrow(/topk: k must be an integer in \[1, 5\] \(the size of dim 1 of \[2, 5\]\), got 0/);
  expect(tr((x) => x.topk(6))).toThrow(/topk: k must be an integer in \[1, 5\] \(the size of dim 1 of \[2, 5\]\), got 6/);
  expect(tr((x) => x.topk(3, 0))).toThrow(/topk: k must be an integer in \[1, 2\] \(the size of dim 0 of \[2, 5\]\), got 3/);
  expect(tr((x) => x.topk(1.5))).toThrow(/topk: k must be an integer in \[1, 5\].*got 1\.5/);
  expect(tr((x) => x.topk(1, 2))).toThrow(/topk: dim 2 is out of range for \[2, 5\]/);
  expect(tr((x) => x.topk(1, 0.5))).toThrow(/topk: dim must be one integer, got 0\.5/);
  expect(tr((x) => x.topk(1, -1, 'yes' as never))).toThrow(/topk: largest must be true or false, got "yes"/);
  expect(tr((x) => x.topk(1, -1, true, 0 as never))).toThrow(/topk: sorted must be true or false, got 0/);
  expect(tr((x) => x.gt(0).topk(1))).toThrow(/topk: input must be f32 or i32, got bool\[2, 5\]/);
  expect(tr((x) => x.sum().topk(1))).toThrow(/topk: the input must have at least one dim, got a scalar/);
  expect(tr((x) => F.topk(1 as never, 1))).toThrow(/topk: input must be a tensor, got 1/);
  // k = 2 along T ≤ 8 would be more than T at T = 1: refused where the model is traced.
  expect(tr((x) => x.topk(2), { shape: [2, 'T'], max: { T: 8 } })).toThrow(/topk: k must be an integer in \[1, 1\].*T=1.*a symbolic size must work for every value from 1 to its bound/);
});
