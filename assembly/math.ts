// Elementwise math for f32x4 lanes and f32 scalars: madd, exp, expm1, tanh, sigmoid, erf, gelu,
// and the activation dispatch act_f32x4 / act_f32 used by fused epilogues.
//
// Accuracy (tests/kernels/math.test.ts against f64 references; measured max, plain / relaxed):
//   exp      relative 8.5e-8 / 8.2e-8 on [-87, 88.72]; 0 below -87.3365 (the denormal range is
//            flushed); +inf above ln(FLT_MAX) = 88.7228.
//   tanh 1.5e-7, sigmoid 8.9e-8, gelu 1.4e-6 / 8.3e-7 absolute, everywhere (contract: 2e-6);
//            exact ±1 / 0 / x saturation, no NaN for finite input; NaN in → NaN out. gelu(−inf) is
//            NaN, as in PyTorch (−inf·0).
//   erf      absolute 4.3e-7 / 3.3e-7; gelu's error is ½|x|·erf's, largest near x ≈ 5.
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
@inline export function gelu_f32(x: f32): f32 { return f32x4.extract_lane(gelu_f32x4(f32x4.splat(x)), 0); }
@inline export function act_f32(x: f32, act: i32): f32 {
  return act == ACT_NONE ? x : f32x4.extract_lane(act_f32x4(f32x4.splat(x), act), 0);
}
