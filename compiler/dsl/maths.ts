// Elementwise maths and scans of torch 1.13 that the IR has no op for, as composites of its ops,
// each following torch's own CPU formulation (its special values included): lerp, hypot, logit,
// xlogy, nan_to_num, exp2, logaddexp(2), sinc, heaviside, erfc, erfinv, copysign, frac, signbit,
// deg2rad/rad2deg, isclose; cumprod, cummax/cummin and logcumsumexp. Tensor's methods delegate here.
//
// The sign of a NaN cannot be read by any IR op (comparisons of a NaN are false, and wasm's
// arithmetic makes NaNs of either sign), so signbit and copysign take a NaN as positive.

import type { Dim } from '../ir/dims.ts';
import { fmtShape } from '../ir/types.ts';
import { describeValue } from '../ir/print.ts';
import { loop } from './control.ts';
import { asOperand, cat, intScalar, ModelDefinitionError, ones, onesLike, record, scalar, SymSize, Tensor, where, zerosLike } from './tensor.ts';

type Operand = Tensor | number;
const F32_MAX = 3.4028234663852886e38;
const f = Math.fround;
const sel = (c: Tensor, a: Tensor, b: Tensor): Tensor => record('where', [c, a, b]);
const num = (v: number): Tensor => scalar(v);

/** An operand as f32: a number as an f32 scalar, an i32 or bool tensor cast (torch promotes these ops' integer inputs to float). */
function asFloat(op: string, v: unknown, what = 'other'): Tensor {
  v = asOperand(v);
  if (typeof v === 'number') return scalar(v);
  if (!(v instanceof Tensor)) throw new ModelDefinitionError(`${op}: ${what} must be a tensor or a number, got ${describeValue(v)}${where()}`);
  return v.dtype === 'f32' ? v : v.cast('f32');
}
/** An operand that torch takes only as a float (its integer kernels are 'not implemented for Long'). */
function floatOnly(op: string, v: unknown, what = 'input'): Tensor {
  if (v instanceof SymSize) return asFloat(op, v, what); // a number, as a number is: an f32 scalar
  v = asOperand(v);
  if (typeof v === 'number') return scalar(v);
  if (!(v instanceof Tensor)) throw new ModelDefinitionError(`${op}: ${what} must be a tensor or a number, got ${describeValue(v)}${where()}`);
  if (v.dtype !== 'f32') throw new ModelDefinitionError(`${op}: ${what} must be f32, got ${v.dtype}${fmtShape(v.dims)} (torch: '${op}' not implemented for '${v.dtype === 'i32' ? 'Long' : 'Bool'}'); cast it with .float()${where()}`);
  return v;
}

/** torch.signbit: true where the sign bit is set, −0 included (x < 0, or x = 0 with 1/x = −inf); a NaN reads as positive (see the top). */
export function signbit(x: Tensor): Tensor {
  if (x.dtype === 'bool') return x.cast('i32').lt(0); // (all false)
  if (x.dtype === 'i32') return x.lt(0);
  return x.lt(0).logicalOr(x.eq(0).logicalAnd(x.reciprocal().lt(0)));
}

/** torch.copysign(a, b): |a| with b's sign (−0 counts as negative); integers are computed as f32. */
export function copysign(a: Tensor, b: Operand): Tensor {
  const x = asFloat('copysign', a, 'input'), y = asFloat('copysign', b), m = x.abs();
  return sel(signbit(y), m.neg(), m);
}

/**
 * torch.lerp(start, end, weight) as torch 1.13's vectorized CPU kernel computes it: where weight <
 * 0.5 (not |weight|: −0.75 takes this side too) fma(w, end − start, start), else fma(−(end − start),
 * 1 − w, end), so weight 1 gives end exactly. Its FMAs are taken exactly (fma). f32 only, as torch.
 */
export function lerp(start: Tensor, end: Operand, weight: Operand): Tensor {
  const a = floatOnly('lerp', start), b = floatOnly('lerp', end, 'end'), w = floatOnly('lerp', weight, 'weight');
  const d = b.sub(a), low = () => fma(w, d, a), high = () => fma(d.neg(), num(1).sub(w), b);
  if (typeof weight === 'number') return f(weight) < 0.5 ? low() : high();
  return sel(w.lt(0.5), low(), high());
}

/**
 * C's fma(c, d, base), c·d + base rounded once: Dekker's exact product p + e, then p + base by
 * TwoSum (s + t) and s + (t + e) (that last sum can differ from one rounding only in rare near-ties).
 * Where c or d is beyond 2^100, the product below 2^−110 or the result 0 or not finite, c·d + base.
 */
export function fma(c: Tensor, d: Tensor, base: Tensor): Tensor {
  const [p, e] = twoProduct(c, d), s = p.add(base), bp = s.sub(p), t = p.sub(s.sub(bp)).add(base.sub(bp)), r = s.add(t.add(e));
  const big = 2 ** 100, pa = p.abs();
  const ok = c.abs().lt(big).logicalAnd(d.abs().lt(big)).logicalAnd(pa.ge(2 ** -110).logicalOr(pa.eq(0))).logicalAnd(r.isfinite());
  // fma(c, d, ±0) is c·d rounded once, its sign too where it underflows to a zero; an exact zero otherwise takes IEEE's sum.
  return sel(base.eq(0).logicalAnd(c.ne(0)).logicalAnd(d.ne(0)), p, sel(ok.logicalAnd(r.ne(0)), r, c.mul(d).add(base)));
}

/**
 * torch.hypot: √(a² + b²) without overflow or underflow, as m·√(1 + (n/m)²) with m = max(|a|, |b|),
 * n the other; as C's hypot, an infinity gives +inf even beside a NaN, and 0 with 0 gives 0.
 */
export function hypot(a: Tensor, b: Operand): Tensor {
  const x = floatOnly('hypot', a).abs(), y = floatOnly('hypot', b, 'other').abs();
  const m = x.maximum(y), n = x.minimum(y), q = n.div(m), r = m.mul(q.mul(q).add(1).sqrt());
  return sel(x.eq(Infinity).logicalOr(y.eq(Infinity)), num(Infinity), sel(m.eq(0), num(0), r));
}

/**
 * torch.logit(x, eps): log(x / (1 − x)), x first clamped to [eps, 1 − eps] when eps is given (a NaN
 * stays NaN); eps absent or negative clamps nothing (torch's None is −1).
 */
export function logit(x: Tensor, eps?: number): Tensor {
  const v = asFloat('logit', x, 'input');
  if (eps !== undefined && (typeof eps !== 'number' || Number.isNaN(eps))) throw new ModelDefinitionError(`logit: eps must be a number, got ${describeValue(eps)}${where()}`);
  let c = v;
  if (eps !== undefined && eps >= 0) {
    // torch's vector path clamps by max then min, its scalar tail by comparisons: they differ once eps > 0.5.
    if (f(eps) > 0.5) throw new ModelDefinitionError(`logit: eps must be at most 0.5 (the clamp [eps, 1 − eps] is empty beyond, where torch's result depends on its vector path), got ${eps}${where()}`);
    c = v.maximum(f(eps)).minimum(f(1 - f(eps)));
  }
  return c.div(num(1).sub(c)).log();
}

/** torch.xlogy(x, y): x·log(y), 0 where x = 0 (even with y = 0 or inf), NaN where y is NaN. */
export function xlogy(x: Tensor, y: Operand): Tensor {
  const a = asFloat('xlogy', x, 'input'), b = asFloat('xlogy', y);
  return sel(b.ne(b), num(NaN), sel(a.eq(0), num(0), a.mul(b.log())));
}

export interface NanToNumOptions { nan?: number; posinf?: number; neginf?: number }
/** torch.nan_to_num: NaN → nan (0), +inf → posinf (f32's largest), −inf → neginf (f32's lowest); an integer tensor as it is. */
export function nanToNum(x: Tensor, o: NanToNumOptions = {}): Tensor {
  if (typeof o !== 'object' || o === null || Array.isArray(o) || o instanceof Tensor) throw new ModelDefinitionError(`nan_to_num: options must be { nan?, posinf?, neginf? }, got ${describeValue(o)}${where()}`);
  const extra = Object.keys(o).find((k) => !['nan', 'posinf', 'neginf'].includes(k));
  if (extra !== undefined) throw new ModelDefinitionError(`nan_to_num: unknown option '${extra.slice(0, 60)}' (allowed: nan, posinf, neginf)${where()}`);
  for (const [k, v] of Object.entries(o)) if (v !== undefined && typeof v !== 'number') throw new ModelDefinitionError(`nan_to_num: ${k} must be a number, got ${describeValue(v)}${where()}`);
  if (x.dtype !== 'f32') return x;
  const { nan = 0, posinf = F32_MAX, neginf = -F32_MAX } = o;
  return sel(x.ne(x), num(nan), sel(x.eq(Infinity), num(posinf), sel(x.eq(-Infinity), num(neginf), x)));
}

/** torch.exp2: 2^x, as C's pow(2, x) (accurate where exp(x·ln 2) loses |x|·ulp). */
export const exp2 = (x: Tensor): Tensor => num(2).pow(asFloat('exp2', x, 'input'));

/**
 * torch.logaddexp / logaddexp2 as torch 1.13 computes them: m + log(1 + exp(−|a − b|)) (exp2, log2
 * for logaddexp2), m the max; equal infinities give themselves (−inf with −inf is −inf, where the
 * formula is NaN). Not log1p: 1 + exp(−|a − b|) rounds, so beyond a difference of ~17 (~24 for
 * logaddexp2) the result is the max itself, as torch's.
 */
export function logaddexp(a: Tensor, b: Operand, base2 = false): Tensor {
  const op = base2 ? 'logaddexp2' : 'logaddexp';
  const x = floatOnly(op, a), y = floatOnly(op, b, 'other'), m = x.maximum(y), d = x.sub(y).abs().neg();
  const r = base2 ? m.add(exp2(d).add(1).log().mul(f(1 / Math.LN2))) : m.add(d.exp().add(1).log());
  return sel(x.isinf().logicalAnd(x.eq(y)), x, r);
}

/** torch.sinc: sin(πx)/(πx) with πx rounded to f32 as torch computes it; sinc(0) = 1, NaN at ±inf. */
export function sinc(x: Tensor): Tensor {
  const v = asFloat('sinc', x, 'input'), p = v.mul(f(Math.PI));
  return sel(v.eq(0), num(1), p.sin().div(p));
}

/** torch.heaviside(x, values): values where x = 0, else 1 where x > 0 and 0 (NaN too); the dtypes must match, as torch. */
export function heaviside(x: Tensor, values: Operand): Tensor {
  const v = typeof values === 'number' ? (x.dtype === 'i32' && Number.isInteger(values) ? intScalar(values) : x.dtype === 'bool' ? scalar(values).ne(0) : scalar(values)) : values;
  if (!(v instanceof Tensor)) throw new ModelDefinitionError(`heaviside: values must be a tensor, got ${describeValue(values)}${where()}`);
  if (v.dtype !== x.dtype) throw new ModelDefinitionError(`heaviside: the input and values must have one dtype, got ${x.dtype} and ${v.dtype} (torch: 'heaviside is not yet implemented for tensors with different dtypes')${where()}`);
  if (x.dtype === 'bool') return x.logicalOr(v);
  return sel(x.eq(0), v, x.gt(0).cast(x.dtype));
}

/**
 * torch.erfc: 1 − erf(x) with its relative precision in the tail (erfc(5) ≈ 1.5e−12, where 1 − erf
 * is 0). For z = |x|: t·exp(−z² + P(t)), t = 1/(1 + z/2) (Numerical Recipes' erfcc, relative error
 * 1.2e−7), with z² = zh² + (2zh + zl)·zl split so that exp(−zh²) takes zh² exactly (zh: z's upper 12
 * bits); erfc(−z) = 2 − erfc(z). Beyond z = 10.1 it is 0 (2 for −z); below 9.2 it is denormal.
 */
export function erfc(x: Tensor): Tensor {
  const v = asFloat('erfc', x, 'input'), z = v.abs().minimum(11);
  const t = num(1).div(z.mul(0.5).add(1));
  const C = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];
  let p = t.mul(C[9]!);
  for (let i = 8; i >= 1; i--) p = p.add(C[i]!).mul(t);
  p = p.add(C[0]!);
  const c = z.mul(4097), zh = c.sub(c.sub(z)), zl = z.sub(zh);
  // exp(−zh²) as exp(−zh²/2) twice, multiplied in last: the IR's exp flushes results below 2^−126 to 0.
  const half = zh.mul(zh).mul(-0.5).exp(), e = t.mul(p.sub(zh.mul(2).add(zl).mul(zl)).exp()).mul(half).mul(half);
  return sel(v.lt(0), num(2).sub(e), e);
}

/**
 * torch.erfinv as torch 1.13's calc_erfinv in f32: a rational first guess (|y| ≤ 0.7, else in
 * √(−log((1 − |y|)/2))), then two Newton steps x −= (erf(x) − y)/(2/√π · exp(−x²)). ±1 gives ±inf,
 * beyond NaN.
 */
export function erfinv(x: Tensor): Tensor {
  const y = asFloat('erfinv', x, 'input'), ya = y.abs();
  const a = [0.886226899, -1.645349621, 0.914624893, -0.140543331], b = [-2.118377725, 1.442710462, -0.329097515, 0.012229801];
  const c = [-1.970840454, -1.624906493, 3.429567803, 1.641345311], d = [3.5438892, 1.6370678];
  const z1 = y.mul(y);
  const num1 = z1.mul(a[3]!).add(a[2]!).mul(z1).add(a[1]!).mul(z1).add(a[0]!);
  const dem1 = z1.mul(b[3]!).add(b[2]!).mul(z1).add(b[1]!).mul(z1).add(b[0]!).mul(z1).add(1);
  const central = y.mul(num1).div(dem1);
  const z2 = num(1).sub(ya).div(2).log().neg().sqrt();
  const num2 = z2.mul(c[3]!).add(c[2]!).mul(z2).add(c[1]!).mul(z2).add(c[0]!);
  const dem2 = z2.mul(d[1]!).add(d[0]!).mul(z2).add(1);
  let r = sel(ya.le(0.7), central, copysign(num2, y).div(dem2));
  const k = f(2 / f(Math.sqrt(Math.PI)));
  for (let i = 0; i < 2; i++) r = r.sub(erfF32(r).sub(y).div(r.mul(r).neg().exp().mul(k)));
  return sel(ya.eq(1), copysign(num(Infinity), y), sel(ya.gt(1), num(NaN), r));
}

/**
 * erf to about an ulp (glibc's erff, which torch's erfinv calls, is; the IR's erf is 4e−7 absolute,
 * and erfinv's Newton steps divide that by erf′(x), 5e−4 at y = 0.9999): the series
 * x·(2/√π)·Σ (−x²)ⁿ/(n!(2n + 1)) below 1/2, 1 − erfc(|x|) with x's sign above.
 */
function erfF32(x: Tensor): Tensor {
  const z = x.mul(x);
  let s = num(0);
  for (let n = 7; n >= 0; n--) { let fact = 1; for (let j = 2; j <= n; j++) fact *= j; s = s.mul(z).add((n % 2 ? -1 : 1) / (fact * (2 * n + 1))); }
  const small = x.mul(s).mul(f(2 / Math.sqrt(Math.PI))), big = num(1).sub(erfc(x.abs()));
  return sel(x.abs().lt(0.5), small, copysign(big, x));
}

/** torch.frac: x − trunc(x) (NaN at ±inf); f32 only, as torch. */
export const frac = (x: Tensor): Tensor => { const v = floatOnly('frac', x); return v.sub(v.trunc()); };
/** torch.deg2rad / rad2deg: x times π/180 or 180/π rounded to f32, as torch's multiply by a scalar. */
export const deg2rad = (x: Tensor): Tensor => asFloat('deg2rad', x, 'input').mul(f(Math.PI / 180));
export const rad2deg = (x: Tensor): Tensor => asFloat('rad2deg', x, 'input').mul(f(180 / Math.PI));

export interface IsCloseOptions { rtol?: number; atol?: number; equalNan?: boolean }
/**
 * torch.isclose: a == b, or |a − b| ≤ atol + |rtol·b| with |a − b| finite (so inf is close only to
 * itself); NaN close to NaN with equalNan. Both of one dtype, as torch; integers are compared as f32.
 */
export function isclose(a: Tensor, b: Operand, o: IsCloseOptions = {}): Tensor {
  if (typeof o !== 'object' || o === null || Array.isArray(o) || o instanceof Tensor) throw new ModelDefinitionError(`isclose: options must be { rtol?, atol?, equalNan? }, got ${describeValue(o)}${where()}`);
  const extra = Object.keys(o).find((k) => !['rtol', 'atol', 'equalNan'].includes(k));
  if (extra !== undefined) throw new ModelDefinitionError(`isclose: unknown option '${extra.slice(0, 60)}' (allowed: rtol, atol, equalNan)${where()}`);
  const { rtol = 1e-5, atol = 1e-8, equalNan = false } = o;
  for (const [k, v] of [['rtol', rtol], ['atol', atol]] as const) if (typeof v !== 'number' || !(v >= 0)) throw new ModelDefinitionError(`isclose: ${k} must be a number ≥ 0, got ${describeValue(v)} (torch: '${k} must be greater than or equal to zero')${where()}`);
  if (typeof equalNan !== 'boolean') throw new ModelDefinitionError(`isclose: equalNan must be true or false, got ${describeValue(equalNan)}${where()}`);
  const other = typeof b === 'number' ? (a.dtype === 'i32' && Number.isInteger(b) ? intScalar(b) : scalar(b)) : b;
  if (!(other instanceof Tensor)) throw new ModelDefinitionError(`isclose: other must be a tensor, got ${describeValue(b)}${where()}`);
  if (other.dtype !== a.dtype) throw new ModelDefinitionError(`isclose: both tensors must have one dtype, got ${a.dtype} and ${other.dtype} (torch: '${a.dtype === 'f32' ? 'Float' : a.dtype === 'i32' ? 'Long' : 'Bool'} did not match ${other.dtype === 'f32' ? 'Float' : other.dtype === 'i32' ? 'Long' : 'Bool'}')${where()}`);
  const x = a.dtype === 'f32' ? a : a.cast('f32'), y = other.dtype === 'f32' ? other : other.cast('f32');
  let close = x.eq(y);
  if (equalNan) close = close.logicalOr(x.ne(x).logicalAnd(y.ne(y)));
  if (rtol === 0 && atol === 0) return close;
  const actual = x.sub(y).abs(), allowed = y.mul(f(rtol)).abs().add(f(atol));
  return close.logicalOr(actual.isfinite().logicalAnd(actual.le(allowed)));
}

// ---- scans ------------------------------------------------------------------------------------

/** The axis of `dim` in x (x.dim checks it: an integer in [−rank, rank)). */
function axisOf(op: string, x: Tensor, dim: number): number {
  if (!(x instanceof Tensor)) throw new ModelDefinitionError(`${op}: expected a tensor, got ${describeValue(x)}${where()}`);
  if (dim === undefined) throw new ModelDefinitionError(`${op}: dim is required (torch's ${op}(input, dim))${where()}`);
  if (x.rank === 0) throw new ModelDefinitionError(`${op}: the input must have at least one dim, got a scalar (reshape(1) it first)${where()}`);
  x.dim(dim);
  return dim < 0 ? dim + x.rank : dim;
}

/** y moved k along `axis` towards its end, `fill` (a scalar of y's dtype) shifted in: one step of a Hillis–Steele scan (sizes chosen at run time as in tensor.ts's scan). */
function shifted(y: Tensor, axis: number, k: number, fill: Tensor): Tensor {
  const z = fill.reshape(...y.dims.map(() => 1)).expand(...y.dims.map((e, i) => (i === axis ? k : e)), y.bounds);
  return cat([z, y], axis).slice(axis, 0, y.dim(axis));
}
const i32 = (v: number): Tensor => intScalar(v);

/**
 * A doubling scan along `axis` of the tuple `ys` (one tensor per component): each step combines
 * every element's running value with the one k before it (`fills` shifted in before the start).
 * `combine(earlier, later)` must be associative.
 */
function doublingScan(ys: Tensor[], axis: number, fills: Tensor[], combine: (a: Tensor[], b: Tensor[]) => Tensor[]): Tensor[] {
  const n = ys[0]!.maxShape[axis]!;
  for (let k = 1; k < n; k *= 2) ys = combine(ys.map((y, i) => shifted(y, axis, k, fills[i]!)), ys);
  return ys;
}

/** 0, 1, …, n − 1 along `axis` of x's dims (i32; n may be chosen at run time). */
function positions(x: Tensor, axis: number): Tensor {
  const d: Dim = x.dim(axis), i = ones([d], x.bounds).cumsum(0).cast('i32').sub(1);
  return i.reshape(...x.dims.map((e, j) => (j === axis ? e : 1))).expand(x.dims, x.bounds);
}

/**
 * torch.cummax / cummin along `dim`: [values, indices (i32)], as aten's cummax_helper: an element
 * takes over where it is NaN or, no NaN seen, ≥ (≤) the running one, so ties take the later index
 * and a NaN stays once seen (each later NaN taking the index). A doubling scan of (value, index)
 * pairs: that rule, between a run and the run just before it, is associative.
 */
export function cumExtreme(x: Tensor, dim: number, max: boolean): [Tensor, Tensor] {
  const op = max ? 'cummax' : 'cummin', ax = axisOf(op, x, dim);
  const v = x.dtype === 'bool' ? x.cast('i32') : x;
  const fill = v.dtype === 'i32' ? i32(max ? -(2 ** 31) : 2 ** 31 - 1) : num(max ? -Infinity : Infinity);
  const [val, idx] = doublingScan([v, positions(x, ax)], ax, [fill, i32(0)], ([a, ai], [b, bi]) => {
    const wins = max ? b!.ge(a!) : b!.le(a!);
    const take = v.dtype === 'f32' ? b!.ne(b!).logicalOr(a!.eq(a!).logicalAnd(wins)) : wins;
    return [sel(take, b!, a!), sel(take, bi!, ai!)];
  });
  return [x.dtype === 'bool' ? val!.cast('bool') : val!, idx!];
}

/**
 * torch.logcumsumexp along `dim`: log Σ exp of each prefix, by a doubling scan of torch's own
 * log_add_exp (max + log1p(exp(min − max)); two equal infinities give themselves, a NaN stays).
 * torch accumulates in double; each f32 step here rounds, a few ulps over a long run. f32 only.
 */
export function logcumsumexp(x: Tensor, dim: number): Tensor {
  const ax = axisOf('logcumsumexp', x, dim), v = floatOnly('logcumsumexp', x);
  return doublingScan([v], ax, [num(-Infinity)], ([a], [b]) => {
    const lo = a!.minimum(b!), hi = a!.maximum(b!);
    return [sel(lo.ne(hi).logicalOr(lo.isfinite()), lo.sub(hi).exp().log1p().add(hi), a!)];
  })[0]!;
}

/**
 * torch.cumprod along `dim`. i32 (and bool, as torch's int64) by a doubling scan of wrapping
 * multiplies. f32 as torch 1.13's CPU kernel: the product accumulated in double and each output
 * rounded to f32, so a run may pass beyond f32's range and come back ([1e30, 1e30, 1e−30] gives
 * 1e30, inf, 1e30). Here each |x| is split exactly into m·2^e (frexp) and a loop over the dim (one
 * step per element, over a run-time length too) multiplies the m into hi + lo by Dekker's exact
 * product and adds the e; each output is (hi + lo)·2^e rounded once. Zeros, infinities and NaNs
 * are carried as flags and the sign as the parity of the sign bits (−0 counts): NaN once a NaN or
 * both a 0 and an inf are seen, else ±0 once a 0, ±inf once an inf. Not followed: torch's double
 * itself overflowing (past 1e308) or underflowing (below 5e−324), where torch then stays at inf or 0.
 * (A doubling scan of the same pairs built a module of 400 KB for 300 elements.)
 */
export function cumprod(x: Tensor, dim: number): Tensor {
  const ax = axisOf('cumprod', x, dim);
  if (x.dtype !== 'f32') {
    const v = x.dtype === 'bool' ? x.cast('i32') : x;
    return doublingScan([v], ax, [i32(1)], ([a], [b]) => [a!.mul(b!)])[0]!;
  }
  const a = x.abs(), special = a.eq(0).logicalOr(a.eq(Infinity)).logicalOr(x.ne(x));
  const [m, e0] = frexp(sel(special, num(1), a));
  const flags = { nan: x.ne(x), zero: a.eq(0), inf: a.eq(Infinity), neg: signbit(x) };
  // One step per element, in order, as torch's loop: the product carried as hi + lo (Dekker's exact
  // product keeps ~44 bits, more than the one rounding to f32 needs) times 2^e, hi within [1/√2, √2].
  const x0 = x.select(ax, 0), at = (v: Tensor, t: Tensor) => v.dynamicSlice(ax, t, 1).squeeze(ax);
  const start = { hi: onesLike(x0), lo: zerosLike(x0), e: zerosLike(x0), nan: zerosLike(x0).ne(0), zero: zerosLike(x0).ne(0), inf: zerosLike(x0).ne(0), neg: zerosLike(x0).ne(0) };
  const out = loop(x.dim(ax), start, (c, t) => {
    const mt = at(m, t), [p, err] = twoProduct(c.hi!, mt);
    const l = err.add(c.lo!.mul(mt)), s = p.add(l), ls = l.sub(s.sub(p));
    const big = s.gt(Math.SQRT2), small = s.lt(Math.SQRT1_2), scale = sel(big, num(0.5), sel(small, num(2), num(1)));
    const e = c.e!.add(at(e0, t)).add(sel(big, num(1), sel(small, num(-1), num(0))));
    const next = {
      hi: s.mul(scale), lo: ls.mul(scale), e, nan: c.nan!.logicalOr(at(flags.nan, t)), zero: c.zero!.logicalOr(at(flags.zero, t)),
      inf: c.inf!.logicalOr(at(flags.inf, t)), neg: c.neg!.logicalXor(at(flags.neg, t)),
    };
    return { next, emit: { v: next.hi.add(next.lo), e: next.e, nan: next.nan, zero: next.zero, inf: next.inf, neg: next.neg } };
  }, { axis: ax });
  const mag = ldexp(out.v!, out.e!);
  const r = sel(out.nan!.logicalOr(out.zero!.logicalAnd(out.inf!)), num(NaN), sel(out.zero!, num(0), sel(out.inf!, num(Infinity), mag)));
  return sel(out.neg!, r.neg(), r);
}

/**
 * A positive finite f32 as m·2^e exactly: m in [1/√2, √2], e an integer (as f32; denormals too).
 * By powers of two chosen bit by bit of the exponent (no log or pow: exact, and pow's kernel, inlined
 * per lane, made the module slow to build).
 */
function frexp(a: Tensor): [Tensor, Tensor] {
  let m = a, e: Tensor = num(0).mul(a);
  for (let j = 64; j >= 1; j /= 2) { const big = m.ge(2 ** j); m = sel(big, m.mul(2 ** -j), m); e = sel(big, e.add(j), e); }
  // (2^128 is past f32: 64 twice; a denormal is at most 149 below.)
  for (const j of [64, 64, 32, 16, 8, 4, 2, 1]) { const small = m.lt(2 ** (1 - j)); m = sel(small, m.mul(2 ** j), m); e = sel(small, e.sub(j), e); }
  const big = m.gt(Math.SQRT2);
  return [sel(big, m.mul(0.5), m), sel(big, e.add(1), e)];
}

/** v·2^e for an integer e (f32) exactly rounded once: e's bits applied smallest first, so only the last factor can make a denormal; beyond ±160 as ±160 (inf or 0 by then, |v| in [1/2, 2]). */
function ldexp(v: Tensor, e: Tensor): Tensor {
  const c = e.maximum(-160).minimum(160), neg = c.lt(0);
  let rest = c.abs(), r = v;
  for (let j = 1; j <= 128; j *= 2) {
    const bit = rest.mul(1 / (2 * j)).floor().mul(2 * j).ne(rest); // rest holds multiples of j: is its j bit set?
    const f = Math.min(j, 64), times = j / f;
    let s = r;
    for (let t = 0; t < times; t++) s = s.mul(sel(neg, num(2 ** -f), num(2 ** f)));
    r = sel(bit, s, r);
    rest = sel(bit, rest.sub(j), rest);
  }
  return r;
}

/** Dekker's exact product without FMA (operands well inside f32's range): a·b = p + err. */
function twoProduct(a: Tensor, b: Tensor): [Tensor, Tensor] {
  const split = (v: Tensor) => { const c = v.mul(4097), hi = c.sub(c.sub(v)); return [hi, v.sub(hi)] as const; };
  const p = a.mul(b), [ah, al] = split(a), [bh, bl] = split(b);
  return [p, ah.mul(bh).sub(p).add(ah.mul(bl)).add(al.mul(bh)).add(al.mul(bl))];
}

