// Inputs and the ulp measure for sin/cos tests (tests/kernels/math.test.ts on the kernels,
// tests/trig.test.ts through a compiled model). The oracle is Math.fround(Math.sin(x)): V8's
// fdlibm in f64, exactly reduced, rounded to f32.
import { randomF32 } from '../kernels/harness.ts';

/** Where the kernels' vector path ends (assembly/math.ts TRIG_MAX); larger |x| takes the f64 Math.sin / Math.cos (exactly reduced). */
export const TRIG_MAX = 2 ** 20;

const f = new Float32Array(1), u = new Uint32Array(f.buffer);
/** An f32's position on the number line in ulps (−0 and +0 both 0): the distance of two floats is the difference. */
export const ulpIndex = (v: number): number => { f[0] = v; return u[0]! & 0x80000000 ? -(u[0]! & 0x7fffffff) : u[0]!; };
/** The f32 `k` ulps from `v` (k may be negative). */
const step = (v: number, k: number): number => { const i = ulpIndex(v) + k; u[0] = i < 0 ? (0x80000000 | -i) >>> 0 : i; return f[0]!; };

/**
 * About 300k f32 inputs of both signs over every magnitude: denormals and tiny values, each f32
 * within 6 ulps of k·π/2 for k up to 6000 and for 2000 k near 2^20·2/π (the bound), the
 * hardest-to-reduce f32 below the bound (252.898…, 4.2e-9 from 161·π/2), both sides of the bound,
 * log-uniform magnitudes up to FLT_MAX, and ±0, ±inf, NaN.
 */
export function trigInputs(): Float32Array {
  const xs: number[] = [0, -0, Infinity, -Infinity, NaN, 3.4028234663852886e38, -3.4028234663852886e38, 1.4e-45, -1.4e-45,
    1.1754943508222875e-38, 1e-40, 1e-30, 2 ** -12, 1e-3, 1e3, 1e5, -1e5, 1e10, -1e10, 3.4e38, 252.89820861816406];
  for (let k = -8; k <= 8; k++) xs.push(step(TRIG_MAX, k), -step(TRIG_MAX, k));
  // Odd m negated: sin is odd and cos even, and the kernels reduce |x|, so either sign checks both.
  const near = (m: number) => { const c = Math.fround(m * Math.PI / 2); for (let d = -6; d <= 6; d++) xs.push((m % 2 ? -1 : 1) * step(c, d)); };
  for (let m = 1; m <= 6000; m++) near(m);
  for (let m = 667_000; m < 669_000; m++) near(m);              // around 2^20 = 667544.2·π/2
  const e = randomF32(120_000, 17, -45, 38.53), s = randomF32(120_000, 23);
  for (let i = 0; i < e.length; i++) xs.push(Math.fround(Math.sign(s[i]!) * 10 ** e[i]!));
  const linear = randomF32(60_000, 29, -20, 20);                // the range RoPE uses most
  for (const v of linear) xs.push(v);
  return Float32Array.from(xs);
}

/** Largest distance in ulps from Math.fround(ref(x)) over lanes with |x| in [lo, hi]; NaN must meet NaN (else Infinity). */
export function maxUlps(x: Float32Array, got: Float32Array, ref: (v: number) => number, lo = 0, hi = Infinity): { ulps: number; at: number } {
  let ulps = 0, at = NaN;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]!);
    if (!(a >= lo && a <= hi) && !(Number.isNaN(a) && hi === Infinity)) continue;
    const w = Math.fround(ref(x[i]!)), g = got[i]!;
    const d = Number.isNaN(w) || Number.isNaN(g) ? (Number.isNaN(w) && Number.isNaN(g) ? 0 : Infinity) : Math.abs(ulpIndex(g) - ulpIndex(w));
    if (d > ulps) { ulps = d; at = x[i]!; }
  }
  return { ulps, at };
}

/** tan and the inverse and hyperbolic functions, by name, with their oracle: V8's fdlibm in f64 (rounded to f32 by the caller). */
export const TRIG_EXTRA = {
  tan: Math.tan, asin: Math.asin, acos: Math.acos, atan: Math.atan,
  sinh: Math.sinh, cosh: Math.cosh, asinh: Math.asinh, acosh: Math.acosh, atanh: Math.atanh,
} as const;

/**
 * Their values at the edges, by hand (what torch 1.13 gives; π/2, π/4, π as f32): x → f(x) for
 * ±0, ±1, ±2, ±inf; NaN gives NaN everywhere.
 */
const P2 = Math.fround(Math.PI / 2), P4 = Math.fround(Math.PI / 4), PI = Math.fround(Math.PI);
export const TRIG_EXTRA_EDGES: Record<keyof typeof TRIG_EXTRA, Array<[number, number]>> = {
  tan: [[0, 0], [-0, -0], [Infinity, NaN], [-Infinity, NaN]],
  asin: [[0, 0], [-0, -0], [1, P2], [-1, -P2], [2, NaN], [-2, NaN], [Infinity, NaN], [-Infinity, NaN]],
  acos: [[0, P2], [-0, P2], [1, 0], [-1, PI], [2, NaN], [-2, NaN], [Infinity, NaN], [-Infinity, NaN]],
  atan: [[0, 0], [-0, -0], [1, P4], [-1, -P4], [Infinity, P2], [-Infinity, -P2]],
  sinh: [[0, 0], [-0, -0], [Infinity, Infinity], [-Infinity, -Infinity], [89.5, Infinity], [-89.5, -Infinity]],
  cosh: [[0, 1], [-0, 1], [Infinity, Infinity], [-Infinity, Infinity], [89.5, Infinity], [-89.5, Infinity]],
  asinh: [[0, 0], [-0, -0], [Infinity, Infinity], [-Infinity, -Infinity]],
  acosh: [[1, 0], [Infinity, Infinity], [0, NaN], [-0, NaN], [0.5, NaN], [-1, NaN], [-Infinity, NaN]],
  atanh: [[0, 0], [-0, -0], [1, Infinity], [-1, -Infinity], [2, NaN], [-2, NaN], [Infinity, NaN], [-Infinity, NaN]],
};

/**
 * About 250k f32 inputs of both signs for those functions (tan takes trigInputs, built around its
 * poles): log-uniform magnitudes up to FLT_MAX, [−4, 4] uniformly, the 4000 f32s beside each of
 * ±1 (the edges of asin, acos, atanh and acosh), every 16th f32 in [88.5, 89.6] (sinh and cosh
 * overflow at 89.416), 1/16's neighbours (where sinh leaves its series), denormals, ±0, ±inf, NaN.
 */
export function trigExtraInputs(): Float32Array {
  const xs: number[] = [0, -0, Infinity, -Infinity, NaN, 1.4e-45, -1.4e-45, 1e-40, 1.1754943508222875e-38, 3.4028234663852886e38, -3.4028234663852886e38];
  for (let d = -2000; d <= 2000; d++) xs.push(step(1, d), -step(1, d));
  for (let d = -64; d <= 64; d++) xs.push(step(0.0625, d), -step(0.0625, d));
  for (let v = 88.5; v <= 89.6; v = step(v, 16)) xs.push(v, -v);
  const e = randomF32(120_000, 31, -45, 38.53), s = randomF32(120_000, 37);
  for (let i = 0; i < e.length; i++) xs.push(Math.fround(Math.sign(s[i]!) * 10 ** e[i]!));
  for (const v of randomF32(100_000, 41, -4, 4)) xs.push(v);
  return Float32Array.from(xs);
}
