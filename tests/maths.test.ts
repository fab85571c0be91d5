// The elementwise maths and scans of compiler/dsl/maths.ts against PyTorch 1.13
// (tests/fixtures/torch-extra/maths, made by make_maths.py): every pair of 13 special values and
// random pairs across magnitudes, the edges of logit, erfinv and erfc's tail, rows for the scans
// (a product leaving f32's range and coming back, zeros with infinities, −0, NaN, ties) along both
// dims, and random rows over a length chosen at run time. One model, compiled once, and the
// reference interpreter: NaN, ±inf and the sign of zero exactly, finite values within each
// function's tolerance (ULPS, in units of f32's 2^−23 relative; 0 = bit for bit). Then misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { compileModel, defineModel, interpret, nn, readSafetensors, trace, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'maths');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'maths/io.safetensors');
const input = (k: string) => io.get(`input.${k}`)!;
const want = (k: string) => io.get(`output.${k}`)!.data as ArrayLike<number>;

/** Relative error allowed, in f32 ulps (2^−23 of the value); 0: bit for bit. */
const ULPS: Record<string, number> = {
  lerp: 0, lerp_s: 0, lerp_s2: 0, hypot: 2, logit: 1, logit_eps: 1, logit_a: 1, xlogy: 1, nan_to_num: 0, nan_to_num_o: 0,
  exp2: 1, exp2_t: 1, logaddexp: 2, logaddexp2: 3, sinc: 3, sinc_u: 3, heaviside: 0, erfc: 4, erfc_t: 4, erfinv: 3, erfinv_a: 3,
  copysign: 0, frac: 0, signbit: 0, deg2rad: 0, rad2deg: 0, isclose: 0, isclose_o: 0, isclose_near: 0, sgn: 0,
};
const SCANS = { cumprod: 0, cummax: 0, cummax_i: 0, cummin: 0, cummin_i: 0, logcumsumexp: 2 };
for (const p of ['r1_', 'r0_', 'long_']) for (const [k, v] of Object.entries(SCANS)) ULPS[p + k] = v;
// The integer forms: exact (copysign, xlogy, exp2, logit, erfc, deg2rad and sinc are f32 of the ints, as torch's).
for (const k of ['heaviside', 'signbit', 'nan_to_num', 'isclose', 'sgn', 'copysign', 'xlogy', 'exp2', 'logit', 'deg2rad', 'cumprod', 'cummax', 'cummax_i', 'cummin', 'cummin_i']) ULPS[`i_${k}`] = 0;
Object.assign(ULPS, { i_erfc: 4, i_sinc: 3, b_cumprod: 0, b_cummax: 0, b_cummax_i: 0 });

const scans = (p: string, x: Tensor, dim: number): Record<string, Tensor> => {
  const [v, i] = x.cummax(dim), [n, j] = x.cummin(dim);
  return { [`${p}cumprod`]: x.cumprod(dim), [`${p}cummax`]: v, [`${p}cummax_i`]: i, [`${p}cummin`]: n, [`${p}cummin_i`]: j, [`${p}logcumsumexp`]: x.logcumsumexp(dim) };
};

function ints(i: Tensor, j: Tensor): Record<string, Tensor> {
  const m = i.reshape(8, -1), bools = i.gt(0).reshape(8, -1), [v, k] = m.cummax(1), [n, l] = m.cummin(0), [bv, bk] = bools.cummax(1);
  return {
    i_heaviside: i.heaviside(j), i_signbit: i.signbit(), i_nan_to_num: i.nanToNum(), i_isclose: i.isclose(j, { rtol: 0.1, atol: 2 }),
    i_sgn: i.sgn(), i_copysign: i.copysign(j), i_xlogy: i.xlogy(j), i_exp2: i.exp2(), i_logit: i.logit(), i_erfc: i.erfc(),
    i_deg2rad: i.deg2rad(), i_sinc: i.sinc(), i_cumprod: m.cumprod(1), i_cummax: v, i_cummax_i: k, i_cummin: n, i_cummin_i: l,
    b_cumprod: bools.cumprod(1), b_cummax: bv, b_cummax_i: bk,
  };
}

const N = input('a').shape[0]!, M = input('u').shape[0]!;
const f32s = (...ks: string[]) => Object.fromEntries(ks.map((k) => [k, [...input(k).shape]]));
/** Three models (one of everything made a module binaryen took minutes over): the elementwise functions, the scans, the long rows and integers. */
const defs = [
  defineModel({
    name: 'maths', module: new nn.Identity(), inputs: f32s('a', 'b', 'w', 'u', 'p', 't'),
    forward: (_m, { a, b, w, u, p, t }: Record<string, Tensor>) => ({
      lerp: a!.lerp(b!, w!), lerp_s: a!.lerp(b!, 0.25), lerp_s2: a!.lerp(b!, 0.75), hypot: a!.hypot(b!), logit: p!.logit(),
      logit_eps: p!.logit(0.01), logit_a: a!.logit(), xlogy: a!.xlogy(b!), nan_to_num: a!.nanToNum(),
      nan_to_num_o: a!.nanToNum({ nan: 1.5, posinf: 7, neginf: -8 }), exp2: a!.exp2(), exp2_t: t!.mul(10).exp2(),
      logaddexp: a!.logaddexp(b!), logaddexp2: a!.logaddexp2(b!), sinc: a!.sinc(), sinc_u: u!.mul(4).sinc(), heaviside: a!.heaviside(b!),
      erfc: a!.erfc(), erfc_t: t!.erfc(), erfinv: u!.erfinv(), erfinv_a: a!.erfinv(), copysign: a!.copysign(b!), frac: a!.frac(),
      signbit: a!.signbit(), deg2rad: a!.deg2rad(), rad2deg: a!.rad2deg(), isclose: a!.isclose(b!),
      isclose_o: a!.isclose(b!, { rtol: 0.5, atol: 1e-3, equalNan: true }), isclose_near: a!.isclose(a!.mul(1 + 1e-6)), sgn: a!.sgn(),
    }),
  }),
  defineModel({
    name: 'scans', module: new nn.Identity(), inputs: { ...f32s('r'), s: { shape: ['B', 'T'], max: { B: 3, T: 16 } } },
    forward: (_m, { r, s }: Record<string, Tensor>) => ({ ...scans('r1_', r!, 1), ...scans('r0_', r!, -2), ...scans('s_', s!, 1) }),
  }),
  defineModel({
    name: 'long', module: new nn.Identity(), inputs: { ...f32s('long'), i: { shape: [N], dtype: 'i32' }, j: { shape: [N], dtype: 'i32' } },
    forward: (_m, { long, i, j }: Record<string, Tensor>) => ({ ...scans('long_', long!, -1), ...ints(i!, j!) }),
  }),
];
let runs: Array<[string, (s: string) => Record<string, ArrayLike<number>>]>;
beforeAll(async () => {
  const models: Array<{ bytes: Uint8Array; traced: ReturnType<typeof traceModel>; names: string[] }> = [];
  for (const d of defs) models.push({ bytes: (await compileModel(d, { isas: TEST_ISAS })).bytes, traced: traceModel(d), names: Object.keys(d.inputs) });
  const pick = (names: string[], s: string, run: boolean) => Object.fromEntries(names.map((k) => {
    const x = input(k === 's' ? s : k);
    return [k, k === 's' && run ? { data: x.data as Float32Array, shape: x.shape } : x.data];
  }));
  const sizes = (s: string) => ({ B: input(s).shape[0]!, T: input(s).shape[1]! });
  runs = [];
  for (const isa of TEST_ISAS) {
    const loaded = await Promise.all(models.map((m) => loadModelBytes(m.bytes, { isa })));
    runs.push([isa, (s) => Object.assign({}, ...loaded.map((l, k) => l.run(pick(models[k]!.names, s, true) as never)))]);
  }
  runs.push(['reference', (s) => Object.assign({}, ...models.map((m) => interpret(m.traced, pick(m.names, s, false) as never, undefined, m.names.includes('s') ? sizes(s) : undefined)))]);
}, 600_000);

/** Where got and w differ beyond `ulps` (specials exactly), or -1; and the largest error seen, in ulps. */
function check(got: ArrayLike<number>, w: ArrayLike<number>, ulps: number): { bad: number; worst: number } {
  let worst = 0;
  for (let i = 0; i < w.length; i++) {
    const g = Number(got[i]), v = Number(w[i]);
    if (!Number.isFinite(v) || v === 0) { if (!Object.is(g, v)) return { bad: i, worst }; continue; }
    // (A denormal may be one step of 2^−149 off: torch's erfc(10) is 2.8e−45, where 2.09e−45 rounds to 1.4e−45.)
    const e = Math.abs(g - v) <= 2 ** -149 ? 0 : Math.abs(g - v) / Math.abs(v) / 2 ** -23;
    if (!(e <= ulps + 1e-9)) return { bad: i, worst: e };
    worst = Math.max(worst, e);
  }
  return { bad: -1, worst };
}
const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

test('elementwise maths and the scans along fixed dims equal torch 1.13 (specials exactly, finite values within each function\'s ulps)', () => {
  const a = input('a').data as Float32Array, b = input('b').data as Float32Array;
  for (const [how, run] of runs) {
    const out = run('s2');
    for (const [k, ulps] of Object.entries(ULPS)) {
      const { bad, worst } = check(out[k]!, want(k), ulps);
      if (process.env.MATHS_VERBOSE) console.log(how, k, bad, worst.toFixed(2));
      expect(bad, `${how} ${k}[${bad}] of (${show(a[bad]!)}, ${show(b[bad]!)}) = ${show(Number(out[k]![bad]))}, torch ${show(Number(want(k)[bad]))}; worst ${worst} ulps`).toBe(-1);
    }
  }
});

test('cumprod, cummax, cummin and logcumsumexp over a length chosen at run time (2 × 11 and 1 × 3 of at most 3 × 16)', () => {
  for (const [how, run] of runs) for (const s of ['s2', 's1']) {
    const out = run(s);
    for (const [k, ulps] of Object.entries(SCANS)) {
      const { bad, worst } = check(out[`s_${k}`]!, want(`${s}_${k}`), ulps);
      expect(bad, `${how} ${s} ${k}[${bad}] = ${out[`s_${k}`]![bad]}, torch ${want(`${s}_${k}`)[bad]}; worst ${worst} ulps`).toBe(-1);
    }
  }
});

test('misuse is refused by name: integer inputs where torch has no integer kernel, mixed dtypes, bad options, dims', () => {
  const tr = (f: (x: Tensor, i: Tensor) => Tensor | [Tensor, Tensor]) => () => traceModel(defineModel({
    name: 't', module: new nn.Identity(), inputs: { x: [2, 3], i: { shape: [2, 3], dtype: 'i32' } },
    forward: (_m, v: Record<string, Tensor>) => { const r = f(v.x!, v.i!); return Array.isArray(r) ? { y: r[0] } : { y: r }; },
  }));
  expect(tr((x, i) => i.lerp(x, 0.5))).toThrow("lerp: input must be f32, got i32[2, 3] (torch: 'lerp' not implemented for 'Long'); cast it with .float()");
  expect(tr((x, i) => x.hypot(i))).toThrow("hypot: other must be f32, got i32[2, 3]");
  expect(tr((x, i) => x.logaddexp(i))).toThrow("logaddexp: other must be f32, got i32[2, 3]");
  expect(tr((_x, i) => i.frac())).toThrow("frac: input must be f32, got i32[2, 3]");
  expect(tr((_x, i) => i.logcumsumexp(1))).toThrow("logcumsumexp: input must be f32, got i32[2, 3]");
  expect(tr((x, i) => x.heaviside(i))).toThrow("heaviside: the input and values must have one dtype, got f32 and i32");
  expect(tr((x, i) => x.isclose(i))).toThrow("isclose: both tensors must have one dtype, got f32 and i32 (torch: 'Float did not match Long')");
  expect(tr((x) => x.isclose(x, { rtol: -1 }))).toThrow('isclose: rtol must be a number ≥ 0, got -1');
  expect(tr((x) => x.isclose(x, { rtl: 1 } as never))).toThrow("isclose: unknown option 'rtl' (allowed: rtol, atol, equalNan)");
  expect(tr((x) => x.nanToNum({ nan: 0, inf: 1 } as never))).toThrow("nan_to_num: unknown option 'inf' (allowed: nan, posinf, neginf)");
  expect(tr((x) => x.nanToNum({ nan: '0' } as never))).toThrow('nan_to_num: nan must be a number, got');
  expect(tr((x) => x.logit(0.6))).toThrow('logit: eps must be at most 0.5');
  expect(tr((x) => x.hypot('2' as never))).toThrow('hypot: other must be a tensor or a number');
  expect(tr((x) => x.cumprod(2))).toThrow('dim 2 is out of range for a tensor of rank 2');
  expect(tr((x) => x.cummax(undefined as never))).toThrow('cummax: dim is required');
  expect(tr((x) => x.sum().cummin(0))).toThrow('cummin: the input must have at least one dim, got a scalar');
  expect(tr((x) => (x.exp2 as (a: number) => Tensor)(1))).toThrow(/exp2.*takes no arguments|exp2: takes/);
});
