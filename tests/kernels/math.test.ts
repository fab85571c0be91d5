// assembly/math.ts against f64 references: dense sweeps plus saturation and special values.
// Bounds are the documented contract: exp relative ≤ 1e-6 on [-87, 88.72]; tanh, sigmoid, gelu
// absolute ≤ 2e-6 everywhere; erf absolute ≤ 1e-6. Inputs are rounded to f32 before the f64
// reference is evaluated, so only the kernel's own error is measured.
import { describe, it, expect, beforeAll } from 'vitest';
import { ISAS, kernels, type Kernels } from './harness.ts';
import * as oracle from './oracle.ts';
import { maxUlps, TRIG_EXTRA, TRIG_EXTRA_EDGES, trigExtraInputs, TRIG_MAX, trigInputs } from '../helpers/trig.ts';

function sweep(lo: number, hi: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => lo + (hi - lo) * i / (n - 1));
}
const SPECIAL = [0, -0, 1e-30, -1e-30, 1e-7, -1e-7, 0.5, -0.5, 3.92, -3.92, 10, -10, 100, -100, 1e4, -1e4,
  3e38, -3e38, Infinity, -Infinity];

function run(K: Kernels, fn: string, x: Float32Array, extra: number[] = []): Float32Array {
  K.reset();
  const px = K.put(x, 4), py = K.alloc(x.length, 8);
  K.fn(fn)(px, py, x.length, ...extra);
  return K.get(py, x.length);
}

/** Largest error and where: relative when rel, absolute otherwise. */
function worst(x: Float32Array, got: Float32Array, ref: (v: number) => number, rel: boolean) {
  let err = 0, at = NaN;
  for (let i = 0; i < x.length; i++) {
    const w = ref(x[i]!), g = got[i]!;
    const e = g === w || (Number.isNaN(g) && Number.isNaN(w)) ? 0
      : Number.isNaN(g) || Number.isNaN(w) ? Infinity
      : rel ? Math.abs(g - w) / Math.abs(w) : Math.abs(g - w);
    if (!(e <= err)) { err = e; at = x[i]!; }
  }
  return { err, at };
}

const BOUNDED = [
  { fn: 't_tanh', ref: Math.tanh, tol: 2e-6 },
  { fn: 't_sigmoid', ref: oracle.sigmoid, tol: 2e-6 },
  { fn: 't_gelu', ref: oracle.gelu, tol: 2e-6 },
  { fn: 't_erf', ref: oracle.erf, tol: 1e-6 },
];

describe.each(ISAS)('math %s', (isa) => {
  let K: Kernels;
  beforeAll(async () => { K = await kernels(isa); });

  // Up to ln(FLT_MAX): on [88.38, 88.72], where 2^n is 2^128, exp was NaN or +inf.
  it('exp: relative error ≤ 1e-6 on [-87, 88.72]', () => {
    const x = sweep(-87, 88.72, 400_003);
    const r = worst(x, run(K, 't_exp', x), Math.exp, true);
    if (process.env.SIMDFLOW_REPORT) console.log(`${isa} exp: max rel error ${r.err.toExponential(2)} at ${r.at}`);
    expect(r.err, `worst at x=${r.at}`).toBeLessThanOrEqual(1e-6);
  });
  it('exp: 0 for very negative and -inf, +inf above the range, NaN stays NaN', () => {
    const x = Float32Array.from([-87.5, -88, -100, -1e4, -3e38, -Infinity, 89, 1e4, Infinity, NaN, 0]);
    expect(Array.from(run(K, 't_exp', x))).toEqual([0, 0, 0, 0, 0, 0, Infinity, Infinity, Infinity, NaN, 1]);
  });
  it.each(BOUNDED)('$fn: absolute error ≤ $tol on a dense sweep and at the extremes', ({ fn, ref, tol }) => {
    const x = new Float32Array([...sweep(-12, 12, 240_007), ...sweep(-200, 200, 4001), ...SPECIAL]);
    const r = worst(x, run(K, fn, x), ref, false);
    if (process.env.SIMDFLOW_REPORT) console.log(`${isa} ${fn}: max abs error ${r.err.toExponential(2)} at ${r.at}`);
    expect(r.err, `worst at x=${r.at}`).toBeLessThanOrEqual(tol);
  });
  it.each(BOUNDED)('$fn: NaN in, NaN out; no NaN or Inf for finite inputs', ({ fn }) => {
    const x = Float32Array.from([NaN, ...SPECIAL.filter((v) => Number.isFinite(v))]);
    const y = run(K, fn, x);
    expect(Number.isNaN(y[0])).toBe(true);
    for (let i = 1; i < y.length; i++) expect(Number.isFinite(y[i]!), `${fn}(${x[i]}) = ${y[i]}`).toBe(true);
  });
  it('tanh and sigmoid keep relative accuracy near 0', () => {
    const x = Float32Array.from([1e-6, -1e-6, 1e-20, 3e-4, -0.01]);
    const t = run(K, 't_tanh', x);
    for (let i = 0; i < x.length; i++) expect(Math.abs(t[i]! / Math.tanh(x[i]!) - 1)).toBeLessThan(1e-6);
    const s = run(K, 't_sigmoid', Float32Array.from([-20, -50, -80]));
    [-20, -50, -80].forEach((v, i) => expect(Math.abs(s[i]! / oracle.sigmoid(v) - 1)).toBeLessThan(1e-5));
  });
  it('saturates exactly: tanh ±1, sigmoid 0/1, gelu x and 0', () => {
    expect(Array.from(run(K, 't_tanh', Float32Array.from([20, -20, 1e4])))).toEqual([1, -1, 1]);
    expect(Array.from(run(K, 't_sigmoid', Float32Array.from([-1e4, 1e4, 120])))).toEqual([0, 1, 1]);
    const g = run(K, 't_gelu', Float32Array.from([1e4, -1e4, 20, -20]));
    expect(Array.from(g).map((v) => v + 0)).toEqual([1e4, 0, 20, 0]);
  });
  it.each([[0, 'none'], [1, 'relu'], [2, 'sigmoid'], [3, 'tanh'], [4, 'gelu']])('act_f32x4 / act_f32 code %i (%s)', (code) => {
    const x = Float32Array.from([...sweep(-9, 9, 1003), NaN]);
    const y = run(K, 't_act', x, [code as number]);
    for (let i = 0; i < x.length; i++) {
      const w = oracle.act(x[i]!, code as number);
      if (Number.isNaN(w)) expect(y[i]).toBeNaN();
      else expect(Math.abs(y[i]! - w), `act ${code} at ${x[i]}`).toBeLessThanOrEqual(2e-6);
    }
  });

  // sin/cos: ≤ 2 ulps below 2^20 is the exhaustive sweep's finding on both ISAs (tests/kernels/sweep-trig.ts:
  // every f32 in [0, 2^20], 2 ulps for at most 145 of 1.23e9); beyond it f64 sin/cos rounded to f32.
  const trigX = trigInputs();
  it.each([['sin', Math.sin], ['cos', Math.cos]] as const)('%s: ≤ 2 ulps for |x| ≤ 2^20, ≤ 1 beyond, special values exact', (name, ref) => {
    const y = run(K, `t_${name}`, trigX);
    const fast = maxUlps(trigX, y, ref, 0, TRIG_MAX), far = maxUlps(trigX, y, ref, TRIG_MAX * (1 + 2 ** -23));
    if (process.env.SIMDFLOW_REPORT) console.log(`${isa} ${name}: ${fast.ulps} ulps at ${fast.at}, beyond 2^20 ${far.ulps} at ${far.at}`);
    expect(fast.ulps, `worst at x=${fast.at}`).toBeLessThanOrEqual(2);
    expect(far.ulps, `worst at x=${far.at}`).toBeLessThanOrEqual(1);
    // Specials, in every lane position of a vector and as a scalar tail (7 values).
    const sp = Float32Array.from([-0, 0, NaN, Infinity, -Infinity, 1e-45, -1e-45]);
    const want = name === 'sin' ? [-0, 0, NaN, NaN, NaN, 1e-45, -1e-45] : [1, 1, NaN, NaN, NaN, 1, 1];
    for (let k = 0; k < 4; k++) {
      const x = Float32Array.from([...sp.slice(k), ...sp.slice(0, k)]);
      expect(Array.from(run(K, `t_${name}`, x)), `rotated by ${k}`).toEqual([...want.slice(k), ...want.slice(0, k)].map(Math.fround));
    }
  });
  it('sin/cos: a far lane (or NaN) beside near ones leaves the near lanes on the vector path', () => {
    // Four lanes where only one is far: the near lanes must equal their all-near results bit for bit.
    const near = Float32Array.from([0.5, 252.89820861816406, -3.6442482471466064, 1e5]);
    for (const name of ['sin', 'cos']) {
      const alone = run(K, `t_${name}`, near);
      for (const far of [1e10, NaN, -Infinity]) for (let k = 0; k < 4; k++) {
        const x = near.slice(); x[k] = far;
        const y = run(K, `t_${name}`, x);
        for (let i = 0; i < 4; i++) if (i !== k) expect(y[i], `${name} lane ${i} beside ${far}`).toBe(alone[i]);
        expect(maxUlps(x.subarray(k, k + 1), y.subarray(k, k + 1), name === 'sin' ? Math.sin : Math.cos).ulps, `${name}(${far}) = ${y[k]}`).toBeLessThanOrEqual(1);
      }
    }
  });

  // tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh (f64 lanes): ≤ 1 ulp is the sweep's finding on both
  // ISAs (tests/kernels/sweep-trig.ts: every f32 ≥ 0, and every negative one for acos and acosh; tan every
  // f32 in [0, 2^20], f64 tan beyond). The edges by hand, in every lane position and as a scalar tail.
  const extraX = trigExtraInputs();
  it.each(Object.entries(TRIG_EXTRA))('%s: ≤ 1 ulp, its edges exact', (name, ref) => {
    const x = name === 'tan' ? trigX : extraX;
    const m = maxUlps(x, run(K, `t_${name}`, x), ref);
    if (process.env.SIMDFLOW_REPORT) console.log(`${isa} ${name}: ${m.ulps} ulps at ${m.at}`);
    expect(m.ulps, `worst at x=${m.at}`).toBeLessThanOrEqual(1);
    const edges = [...TRIG_EXTRA_EDGES[name as keyof typeof TRIG_EXTRA], [NaN, NaN]];
    const ex = edges.map(([v]) => v!), ew = edges.map(([, w]) => w!);
    for (let k = 0; k < ex.length; k++) {
      const rot = (a: number[]) => [...a.slice(k), ...a.slice(0, k)];
      const got = Array.from(run(K, `t_${name}`, Float32Array.from(rot(ex))), (v) => (Object.is(v, -0) ? '-0' : v));
      expect(got, `${name} rotated by ${k}`).toEqual(rot(ew).map((v) => (Object.is(v, -0) ? '-0' : v)));
    }
  });
});
