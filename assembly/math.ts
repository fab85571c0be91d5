// Elementwise math for f32x4 lanes and f32 scalars: madd, exp, expm1, tanh, sigmoid, erf, gelu,
// sin, cos, and the activation dispatch act_f32x4 / act_f32 used by fused epilogues.
//
// Accuracy (tests/kernels/math.test.ts against f64 references; measured max, plain / relaxed):
//   exp      relative 8.5e-8 / 8.2e-8 on [-87, 88.72]; 0 below -87.3365 (the denormal range is
//            flushed); +inf above ln(FLT_MAX) = 88.7228.
//   tanh 1.5e-7, sigmoid 8.9e-8, gelu 1.4e-6 / 8.3e-7 absolute, everywhere (contract: 2e-6);
//            exact ±1 / 0 / x saturation, no NaN for finite input; NaN in → NaN out. gelu(−inf) is
//            NaN, as in PyTorch (−inf·0).
//   erf      absolute 4.3e-7 / 3.3e-7; gelu's error is ½|x|·erf's, largest near x ≈ 5.
//   sin, cos at most 2 ulps from Math.fround(Math.sin / Math.cos) for every f32 with |x| ≤ 2^20
//            (exhaustively, both ISAs, tests/kernels/sweep-trig.ts: 2 ulps for 54–145 of the 1.23e9
//            f32s in [0, 2^20], 1 ulp for 2.4%, where r's rounding to f32 meets the polynomial's);
//            negative x are the same bits with the sign of sin flipped. Beyond 2^20, and for NaN
//            and ±inf, the lane is musl's f64 sin / cos (Math.sin, exactly reduced) rounded to f32;
//            sin(−0) = −0.
// Scalar versions run the vector code on a splat and take lane 0, so a tail element gets the
// bit-identical result it would have had in the vector body.
//
// Methods (no code copied; ideas from Cephes and XNNPACK):
//   exp(x)   = 2^n · e^r, n = round(x·log2 e) via the 1.5·2^23 "magic bias" add (the biased
//            integer lands in the low mantissa bits, so one shift builds 2^n), r = x − n·ln2 in two
//            Cody–Waite pieces, e^r = 1 + r + r²·P(r) with P a degree-4 minimax fit on |r| ≤ ln2/2.
//   expm1(z) for z ≤ 0 (internal, used by tanh): 2^n·expm1(r) + (2^n − 1), same reduction,
//            expm1(r) = r + r²·P(r); keeps full relative accuracy near 0.
//   tanh(x)  = −sign(x)·em/(2 + em), em = expm1(−2|x|).
//   sigmoid  = e/(1+e) or 1/(1+e) with e = exp(−|x|): never exp of a large positive number.
//   erf(z)   = z·P(z²)/Q(z²) (degree 5/5 minimax for |z| < 4), exactly ±1 for |z| ≥ 3.92 where
//            erfc(|z|) < 2^-25, so gelu(−1e4) is exactly −0 and not −1e4·(rounding error).
//   sin, cos of |x| = j·π/2 + r: Cody–Waite reduction in f64 lanes, r = (|x| − j·P1) − j·P1t with
//            P1 the first 33 bits of π/2 (j·P1 exact for j < 2^20) and P1t the next 53: r's error is
//            below 2^-66 + 2^-53·|r|, while an f32 |x| ≤ 2^20 is never closer than 4.1e-9 to a
//            multiple of π/2 (at 252.898), so r is right to 2^-37 relative before it is rounded to
//            f32. (f32 parts would need seven 8-bit pieces at 1e5 and still round r up to 1.5 ulp
//            where |r| is large.) Then sin r = r + r³·S(r²), cos r = 1 − r²/2 + r⁴·C(r²) (degree 2
//            fits, relative 3.8e-9 / 1.2e-10), picked and signed by j mod 4 with bitwise selects;
//            sin x = sign(x)·sin|x|. Lanes past 2^20, NaN and ±inf (one v128.any_true test) are
//            recomputed by the f64 Math.sin / Math.cos, one lane at a time, outside the inlined
//            code. Not Mathf.sin: AssemblyScript 0.28's f32 large-argument reduction is wrong for
//            about 1 in 80 f32s above 2^20 (sinf(9.851095e26) = −0.99787; it is 0.99926).
// Polynomial coefficients come from a Lawson-iterated least-squares (near-minimax) fit in f64
// (tests/kernels/fit-math-coefficients.ts regenerates them),
// rounded to f32; the fits' own errors (exp 3e-9, expm1 1.3e-8, erf 2e-8) are far below f32
// rounding, which dominates the figures above.
import { ACT_NONE, ACT_RELU, ACT_SIGMOID, ACT_TANH, ACT_GELU } from "./act";

/** a*b + c per lane; fused (relaxed_madd) in the relaxed-SIMD build, mul then add otherwise. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

// 1.5·2^23 + 127: adding it rounds to an integer n and leaves n + 127 in the low mantissa bits.
const EXP_MAGIC: f32 = 12583039.0;
const LOG2E: f32 = 1.44269504;
const LN2_HI: f32 = 0.693359375;     // 355/512: n·LN2_HI is exact for |n| < 2^15
const LN2_LO: f32 = -2.12194440e-4;  // ln 2 − LN2_HI
const EXP_LO: f32 = -87.3365447;     // ln(2^-126): below it the result would be denormal → 0
const EXP_HI: f32 = 88.7228394;      // ln(FLT_MAX)

/** P(r) of e^r = 1 + r + r²·P(r). */
@inline function exp_poly(r: v128): v128 {
  // (e^r − 1 − r)/r² ≈ P(r), degree 4, |r| ≤ ln2/2, relative fit error 3e-9.
  let p = f32x4.splat(1.38146128e-3);
  p = madd(p, r, f32x4.splat(8.36871006e-3));
  p = madd(p, r, f32x4.splat(4.16683890e-2));
  p = madd(p, r, f32x4.splat(1.66665211e-1));
  p = madd(p, r, f32x4.splat(4.99999940e-1));
  return p;
}

/** e^x per lane. */
@inline export function exp_f32x4(x: v128): v128 { return exp_lanes(x, true); }

/**
 * e^x per lane for x ≤ 0 or NaN (softmax's x − max, sigmoid's −|x|): the same bits as exp_f32x4
 * there, without its care for the top of the range (four instructions fewer).
 */
@inline export function exp_nonpos_f32x4(x: v128): v128 { return exp_lanes(x, false); }

// @ts-ignore: decorator
@inline function exp_lanes(x: v128, top: bool): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI)); // NaN passes through
  const nb = madd(xc, f32x4.splat(LOG2E), f32x4.splat(EXP_MAGIC));
  // 2^n, but 2^127 where n = 128 (x in [88.38, 88.72], below ln FLT_MAX): 2^128 is +inf, and
  // inf·(1 + q) with q < 0 gave NaN. Those lanes are doubled at the end instead (exact).
  const n127 = i32x4.splat(0x4B400000 + 127 + 127);           // nb's bits at n = 127
  const s = i32x4.shl(top ? i32x4.min_s(nb, n127) : nb, 23);
  const n = f32x4.sub(nb, f32x4.splat(EXP_MAGIC));
  let r = madd(n, f32x4.splat(-LN2_HI), xc);
  r = madd(n, f32x4.splat(-LN2_LO), r);
  const q = madd(f32x4.mul(r, r), exp_poly(r), r);             // e^r − 1
  let y = madd(s, q, s);                                       // 2^n·(1 + q)
  if (top) y = f32x4.add(y, v128.and(y, i32x4.gt_s(nb, n127)));
  return v128.andnot(y, f32x4.lt(x, f32x4.splat(EXP_LO)));    // flush the denormal range to 0
}

/** e^z − 1 for z ≤ 0 (internal to tanh). Saturates to −1 below −17.33 (= −25·ln2). */
@inline function expm1_neg_f32x4(z: v128): v128 {
  const zc = f32x4.pmax(z, f32x4.splat(-17.3286800));
  let n = madd(zc, f32x4.splat(LOG2E), f32x4.splat(EXP_MAGIC));
  const s = i32x4.shl(n, 23);
  n = f32x4.sub(n, f32x4.splat(EXP_MAGIC));
  let r = madd(n, f32x4.splat(-LN2_HI), zc);
  r = madd(n, f32x4.splat(-LN2_LO), r);
  // (expm1(r) − r)/r² ≈ P(r), degree 4, relative fit error 1.3e-8.
  let p = f32x4.splat(1.38825225e-3);
  p = madd(p, r, f32x4.splat(8.36651400e-3));
  p = madd(p, r, f32x4.splat(4.16672006e-2));
  p = madd(p, r, f32x4.splat(1.66665435e-1));
  p = madd(p, r, f32x4.splat(4.99999970e-1));
  const q = madd(f32x4.mul(r, r), p, r);                       // expm1(r)
  return madd(s, q, f32x4.sub(s, f32x4.splat(1.0)));           // 2^n·expm1(r) + (2^n − 1)
}

const SIGN_MASK = i32x4.splat(0x80000000);

/** tanh(x) per lane. */
@inline export function tanh_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const em = expm1_neg_f32x4(f32x4.mul(ax, f32x4.splat(-2.0)));
  // tanh(|x|) ≥ 0, but −0 at x = ±0 (em is +0): its sign cleared, so tanh(+0) is +0.
  const t = f32x4.abs(f32x4.div(f32x4.neg(em), f32x4.add(em, f32x4.splat(2.0))));
  return v128.or(t, v128.and(x, SIGN_MASK));
}

/** 1/(1 + e^-x) per lane. */
@inline export function sigmoid_f32x4(x: v128): v128 {
  const e = exp_nonpos_f32x4(f32x4.neg(f32x4.abs(x)));        // e^-|x| ∈ [0, 1]
  const one = f32x4.splat(1.0);
  const num = v128.bitselect(e, one, f32x4.lt(x, f32x4.splat(0.0)));
  return f32x4.div(num, f32x4.add(e, one));
}

/** erf(z) per lane. */
@inline export function erf_f32x4(z: v128): v128 {
  const t = f32x4.mul(z, z);
  let p = f32x4.splat(1.97482973e-6);
  p = madd(p, t, f32x4.splat(2.88040988e-4));
  p = madd(p, t, f32x4.splat(4.00363328e-3));
  p = madd(p, t, f32x4.splat(5.34674339e-2));
  p = madd(p, t, f32x4.splat(1.96248710e-1));
  p = madd(p, t, f32x4.splat(1.12837899));
  let q = f32x4.splat(3.74808369e-5);
  q = madd(q, t, f32x4.splat(1.21635664e-3));
  q = madd(q, t, f32x4.splat(1.54443951e-2));
  q = madd(q, t, f32x4.splat(1.16476305e-1));
  q = madd(q, t, f32x4.splat(5.07252038e-1));
  q = madd(q, t, f32x4.splat(1.0));
  const r = f32x4.div(f32x4.mul(z, p), q);
  const sat = v128.or(f32x4.splat(1.0), v128.and(z, SIGN_MASK)); // ±1
  return v128.bitselect(sat, r, f32x4.ge(f32x4.abs(z), f32x4.splat(3.92)));
}

/** Exact GELU, ½x(1 + erf(x/√2)), per lane. */
@inline export function gelu_f32x4(x: v128): v128 {
  const e = erf_f32x4(f32x4.mul(x, f32x4.splat(0.707106781)));
  const hx = f32x4.mul(x, f32x4.splat(0.5));
  return madd(hx, e, hx);
}

// sin and cos: see the header.
const TRIG_MAX: f32 = 1048576.0;                       // 2^20: j < 2^20, where j·PIO2_1 is exact
const TWO_OVER_PI: f64 = 0.63661977236758134308;
const PIO2_1: f64 = 1.57079632673412561417;           // π/2's first 33 bits
const PIO2_1T: f64 = 6.07710050650619224932e-11;     // π/2 − PIO2_1
const MAGIC64: f64 = 6755399441055744.0;             // 1.5·2^52: adding it rounds to an integer, left in the low word

/** a*b + c per f64 lane; fused in the relaxed-SIMD build where the machine fuses. */
@inline function madd64(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f64x2.relaxed_madd(a, b, c);
  } else {
    return f64x2.add(f64x2.mul(a, b), c);
  }
}

/** |x| − j·π/2 for two f64 lanes and their j + 1.5·2^52 (both exact enough for either rounding of madd64). */
@inline function trig_reduce(ax: v128, jb: v128): v128 {
  const j = f64x2.sub(jb, f64x2.splat(MAGIC64));
  return madd64(j, f64x2.splat(-PIO2_1T), madd64(j, f64x2.splat(-PIO2_1), ax));
}

// @ts-ignore: decorator
@inline function trig_lanes(x: v128, cos: bool): v128 {
  const ax = f32x4.abs(x);
  const lo = f64x2.promote_low_f32x4(ax);
  const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(ax, ax, 2, 3, 2, 3));
  const jlo = madd64(lo, f64x2.splat(TWO_OVER_PI), f64x2.splat(MAGIC64));
  const jhi = madd64(hi, f64x2.splat(TWO_OVER_PI), f64x2.splat(MAGIC64));
  const r = v128.shuffle<i64>(f32x4.demote_f64x2_zero(trig_reduce(lo, jlo)), f32x4.demote_f64x2_zero(trig_reduce(hi, jhi)), 0, 2);
  let j = v128.shuffle<i32>(jlo, jhi, 0, 2, 4, 6);               // the low words: j
  if (cos) j = i32x4.add(j, i32x4.splat(1));                      // cos x = sin(x + π/2)
  const z = f32x4.mul(r, r);
  let s = madd(f32x4.splat(-1.95152825e-4), z, f32x4.splat(8.33216030e-3));
  s = madd(s, z, f32x4.splat(-1.66666552e-1));
  const sr = madd(f32x4.mul(r, z), s, r);                         // sin r (+0 at r = +0)
  let c = madd(f32x4.splat(2.44331568e-5), z, f32x4.splat(-1.38873165e-3));
  c = madd(c, z, f32x4.splat(4.16666456e-2));
  const cr = f32x4.add(madd(f32x4.mul(z, z), c, f32x4.mul(z, f32x4.splat(-0.5))), f32x4.splat(1.0)); // cos r
  // sin(r + j·π/2): j odd → cos r; j mod 4 ≥ 2 → negated.
  let y = v128.bitselect(cr, sr, i32x4.shr_s(i32x4.shl(j, 31), 31));
  let sign = i32x4.shl(v128.and(j, i32x4.splat(2)), 30);
  if (!cos) sign = v128.xor(sign, v128.and(x, SIGN_MASK));        // sin is odd: sin(−0) = −0
  y = v128.xor(y, sign);
  const far = v128.not(f32x4.le(ax, f32x4.splat(TRIG_MAX)));      // past the exact reduction, NaN, ±inf
  return v128.any_true(far) ? trig_exact(x, y, far, cos) : y;
}

/** Lanes of `far` recomputed in f64 (exact reduction): the rare path, kept out of the inlined loops. */
function trig_exact(x: v128, y: v128, far: v128, cos: bool): v128 {
  if (i32x4.extract_lane(far, 0)) y = f32x4.replace_lane(y, 0, trig_f32(f32x4.extract_lane(x, 0), cos));
  if (i32x4.extract_lane(far, 1)) y = f32x4.replace_lane(y, 1, trig_f32(f32x4.extract_lane(x, 1), cos));
  if (i32x4.extract_lane(far, 2)) y = f32x4.replace_lane(y, 2, trig_f32(f32x4.extract_lane(x, 2), cos));
  if (i32x4.extract_lane(far, 3)) y = f32x4.replace_lane(y, 3, trig_f32(f32x4.extract_lane(x, 3), cos));
  return y;
}
@inline function trig_f32(x: f32, cos: bool): f32 { return <f32>(cos ? Math.cos(<f64>x) : Math.sin(<f64>x)); }

/** sin(x) per lane. */
@inline export function sin_f32x4(x: v128): v128 { return trig_lanes(x, false); }
/** cos(x) per lane. */
@inline export function cos_f32x4(x: v128): v128 { return trig_lanes(x, true); }

/** max(x, 0) per lane; NaN stays NaN (pmax keeps its first operand unless it is < the second). */
@inline export function relu_f32x4(x: v128): v128 {
  return f32x4.pmax(x, f32x4.splat(0.0));
}

/** max(x, 0); NaN stays NaN (a select, where f32.max would add NaN and −0 handling). */
@inline export function relu_f32(x: f32): f32 {
  return select<f32>(0, x, x < 0);
}

/** Applies activation `act` (an ACT_* code from act.ts) to four lanes. */
@inline export function act_f32x4(v: v128, act: i32): v128 {
  switch (act) {
    case ACT_RELU: return relu_f32x4(v);
    case ACT_SIGMOID: return sigmoid_f32x4(v);
    case ACT_TANH: return tanh_f32x4(v);
    case ACT_GELU: return gelu_f32x4(v);
    default: return v;
  }
}

@inline export function exp_f32(x: f32): f32 { return f32x4.extract_lane(exp_f32x4(f32x4.splat(x)), 0); }
@inline export function exp_nonpos_f32(x: f32): f32 { return f32x4.extract_lane(exp_nonpos_f32x4(f32x4.splat(x)), 0); }
@inline export function tanh_f32(x: f32): f32 { return f32x4.extract_lane(tanh_f32x4(f32x4.splat(x)), 0); }
@inline export function sigmoid_f32(x: f32): f32 { return f32x4.extract_lane(sigmoid_f32x4(f32x4.splat(x)), 0); }
@inline export function erf_f32(x: f32): f32 { return f32x4.extract_lane(erf_f32x4(f32x4.splat(x)), 0); }
@inline export function sin_f32(x: f32): f32 { return f32x4.extract_lane(sin_f32x4(f32x4.splat(x)), 0); }
@inline export function cos_f32(x: f32): f32 { return f32x4.extract_lane(cos_f32x4(f32x4.splat(x)), 0); }
@inline export function gelu_f32(x: f32): f32 { return f32x4.extract_lane(gelu_f32x4(f32x4.splat(x)), 0); }
@inline export function act_f32(x: f32, act: i32): f32 {
  return act == ACT_NONE ? x : f32x4.extract_lane(act_f32x4(f32x4.splat(x), act), 0);
}
