// Elementwise math for f32x4 lanes and f32 scalars: madd, exp, expm1, tanh, sigmoid, erf, gelu,
// sin, cos, tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, and the activation dispatch
// act_f32x4 / act_f32 used by fused epilogues.
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
//   tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh: at most 1 ulp from Math.fround(Math.fn)
//            for every f32 (exhaustively, both ISAs, tests/kernels/sweep-trig.ts: every x ≥ 0, the
//            negatives too for acos and acosh, tan up to 2^20 and musl's f64 tan beyond; 1 ulp for
//            57 (acos) to 1,982 (sinh) of the 2.1e9 f32s ≥ 0, 7,686 of tan's 1.23e9, the rest exact;
//            the relaxed build one input more for asinh and acosh). They are computed in f64 lanes
//            to ~1e-11 relative, so the one rounding to f32 is the error, and NaN, ±inf, ±0 and the
//            domain edges are torch's: asin/acos NaN beyond ±1, acosh NaN below 1, atanh ±inf at
//            ±1 and NaN beyond, atan(±inf) = ±π/2, sinh/cosh ±inf exactly where the value passes
//            FLT_MAX (|x| > 89.4159; torch 1.13's vectorized kernels overflow from 88.72, its scalar
//            path does not).
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
//   tan, the inverse and the hyperbolic functions: each f32x4 as two f64x2 halves, on four f64
//            kernels whose polynomials are fitted to ~1e-12 (so no f32 error budget is shared between
//            steps; the price is twice the lanes' work, 1.5–3× sin's time). Where a textbook formula
//            loses digits, and what is computed instead:
//            tan|x| = sin r / cos r, or −cos r / sin r for odd j, on sin/cos's reduction kept in f64
//            (near a pole tan is as exact as r; its f32 rounding would cost up to 1.5 ulp there).
//            atan a: π/2 + atan(−1/a) above tan 3π/8, π/4 + atan((a − 1)/(a + 1)) above tan π/8
//            (a − 1 exact; the sum cancels at most by half), t + t³·A(t²) on |t| ≤ tan π/8.
//            asin a = atan(a/√((1 − a)(1 + a))): 1 − a² would cancel near ±1; (1 − a)(1 + a) has
//            both factors exact. acos x = atan(√((1 − x)(1 + x))/|x|), from π for x < 0: not
//            π/2 − asin x, which cancels near x = 1 where acos is small.
//            sinh a = (e^a − e^−a)/2 cancels near 0 (e^a's 1e-12 error over a result ≈ a), so below
//            1/16 the series a + a³/6 + a⁵/120 + a⁷/5040 (sinh(1e-5) is exact to the last bit);
//            cosh a = (e^a + e^−a)/2 never cancels. e^a is 2^n·e^r (r = a − n·ln2 in two pieces,
//            degree 6 in r); in f64, e^89.5 does not overflow, so ±inf comes from the rounding to f32.
//            asinh a = ln(a + √(a² + 1)) loses small a in the 1 + … it takes the log of: instead
//            log1p(a + a²/(1 + √(1 + a²))), all terms positive. acosh x = ln(x + √(x² − 1)) cancels
//            in x² − 1 near 1: log1p(t + √(t(t + 2))), t = x − 1 exact. atanh a = ½·ln((1 + a)/(1 − a))
//            loses small a likewise: ½·log1p(2a/(1 − a)). log1p(u): w = 1 + u = 2^k·m, m in [√½, √2),
//            ln m = 2·atanh(s) with s = (m − 1)/(m + 1) (degree 3 in s²), plus (1 + u − w)/w, the
//            part of u that rounding w dropped (exact for u ≤ 1): tiny u keep their digits.
//            asinh, acosh and atanh take the edges (±inf, below 1, ±1 and beyond) by selects.
// Polynomial coefficients come from a Lawson-iterated least-squares (near-minimax) fit in f64
// (tests/kernels/fit-math-coefficients.ts regenerates them),
// rounded to f32 (the f64 kernels' to f64); the fits' own errors (exp 3e-9, expm1 1.3e-8, erf 2e-8;
// the f64 ones below 5.2e-12) are far below f32 rounding, which dominates the figures above.
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

/** Lanes 0–1 of x as f64, and lanes 2–3. */
@inline function f64_lo(x: v128): v128 { return f64x2.promote_low_f32x4(x); }
@inline function f64_hi(x: v128): v128 { return f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 2, 3)); }
/** Two f64x2 halves rounded to f32, `lo` in lanes 0–1. */
@inline function f32_of(lo: v128, hi: v128): v128 {
  return v128.shuffle<i64>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 2);
}

// @ts-ignore: decorator
@inline function trig_lanes(x: v128, cos: bool): v128 {
  const ax = f32x4.abs(x);
  const lo = f64_lo(ax), hi = f64_hi(ax);
  const jlo = madd64(lo, f64x2.splat(TWO_OVER_PI), f64x2.splat(MAGIC64));
  const jhi = madd64(hi, f64x2.splat(TWO_OVER_PI), f64x2.splat(MAGIC64));
  const r = f32_of(trig_reduce(lo, jlo), trig_reduce(hi, jhi));
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
  return v128.any_true(far) ? trig_exact(x, y, far, cos ? TRIG_COS : TRIG_SIN) : y;
}

const TRIG_SIN = 0, TRIG_COS = 1, TRIG_TAN = 2;
/** Lanes of `far` recomputed in f64 (exact reduction): the rare path, kept out of the inlined loops. */
function trig_exact(x: v128, y: v128, far: v128, fn: i32): v128 {
  if (i32x4.extract_lane(far, 0)) y = f32x4.replace_lane(y, 0, trig_f32(f32x4.extract_lane(x, 0), fn));
  if (i32x4.extract_lane(far, 1)) y = f32x4.replace_lane(y, 1, trig_f32(f32x4.extract_lane(x, 1), fn));
  if (i32x4.extract_lane(far, 2)) y = f32x4.replace_lane(y, 2, trig_f32(f32x4.extract_lane(x, 2), fn));
  if (i32x4.extract_lane(far, 3)) y = f32x4.replace_lane(y, 3, trig_f32(f32x4.extract_lane(x, 3), fn));
  return y;
}
@inline function trig_f32(x: f32, fn: i32): f32 {
  const d = <f64>x;
  return <f32>(fn == TRIG_SIN ? Math.sin(d) : fn == TRIG_COS ? Math.cos(d) : Math.tan(d));
}

/** sin(x) per lane. */
@inline export function sin_f32x4(x: v128): v128 { return trig_lanes(x, false); }
/** cos(x) per lane. */
@inline export function cos_f32x4(x: v128): v128 { return trig_lanes(x, true); }

// ---- tan, atan, asin, acos, sinh, cosh, asinh, acosh, atanh: in f64 lanes (see the header). Their
// f32x4 forms are calls, not inlined: a fused loop then holds each one's code once instead of at its
// four uses (two vectors, the four-lane loop, the scalar tail): all nine in one model compile to
// 14 KB instead of 40 (one ISA), in a third of the time, and run as fast (within the noise of a
// 1M-element loop: 3–6 ns an element on plain SIMD, 2–5 relaxed, where sin takes 2.3 / 1.7).

/** Horner's rule over f64 lanes, highest coefficient first. */
@inline function poly4_64(z: v128, c0: f64, c1: f64, c2: f64, c3: f64): v128 {
  return madd64(madd64(madd64(f64x2.splat(c0), z, f64x2.splat(c1)), z, f64x2.splat(c2)), z, f64x2.splat(c3));
}

/** tan|x| for two f64 lanes |x| ≤ 2^20: sin r / cos r, or −cos r / sin r where j is odd. */
@inline function tan64(ax: v128): v128 {
  const jb = madd64(ax, f64x2.splat(TWO_OVER_PI), f64x2.splat(MAGIC64));
  const r = trig_reduce(ax, jb);
  const z = f64x2.mul(r, r);
  // sin r = r + r·z·S(z), cos r = 1 − z/2 + z²·C(z): degree-3 fits on |r| ≤ π/4, relative 5.2e-12 / 1.2e-13.
  const s = madd64(f64x2.mul(r, z), poly4_64(z, 2.7181216670486847e-6, -1.9839312273330786e-4, 8.3333293048528136e-3, -1.6666666640797084e-1), r);
  const c = madd64(f64x2.mul(z, z), poly4_64(z, -2.7205762661898979e-7, 2.4799460264591018e-5, -1.3888883500528034e-3, 4.1666666619497097e-2),
    madd64(z, f64x2.splat(-0.5), f64x2.splat(1.0)));
  const odd = i64x2.shr_s(i64x2.shl(jb, 63), 63);
  return f64x2.div(v128.bitselect(f64x2.neg(c), s, odd), v128.bitselect(s, c, odd));
}

/** tan(x) per lane. */
export function tan_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const y = v128.xor(f32_of(tan64(f64_lo(ax)), tan64(f64_hi(ax))), v128.and(x, SIGN_MASK));  // odd: tan(−0) = −0
  const far = v128.not(f32x4.le(ax, f32x4.splat(TRIG_MAX)));
  return v128.any_true(far) ? trig_exact(x, y, far, TRIG_TAN) : y;
}

const PIO2: f64 = 1.5707963267948966;
const PIO4: f64 = 0.7853981633974483;
const PI64: f64 = 3.141592653589793;
const TAN_PI_8: f64 = 0.41421356237309503;    // √2 − 1
const TAN_3PI_8: f64 = 2.414213562373095;     // √2 + 1

/**
 * atan(a) for two f64 lanes, a ≥ 0 (+inf, NaN too): π/2 + atan(−1/a) above tan 3π/8,
 * π/4 + atan((a − 1)/(a + 1)) above tan π/8, so the polynomial sees |t| ≤ tan π/8. One division.
 */
@inline function atan64(a: v128): v128 {
  const one = f64x2.splat(1.0);
  const big = f64x2.gt(a, f64x2.splat(TAN_3PI_8)), mid = f64x2.gt(a, f64x2.splat(TAN_PI_8));
  const num = v128.bitselect(f64x2.splat(-1.0), v128.bitselect(f64x2.sub(a, one), a, mid), big);
  const den = v128.bitselect(a, v128.bitselect(f64x2.add(a, one), one, mid), big);
  const base = v128.bitselect(f64x2.splat(PIO2), v128.and(mid, f64x2.splat(PIO4)), big);
  const t = f64x2.div(num, den), z = f64x2.mul(t, t);
  // atan t = t + t·z·A(z): degree 6 on |t| ≤ tan π/8, relative 7.9e-13.
  let p = madd64(f64x2.splat(-3.7924717409869295e-2), z, f64x2.splat(6.9912386449123051e-2));
  p = madd64(p, z, f64x2.splat(-8.9968444270258019e-2));
  p = madd64(p, z, f64x2.splat(1.1104004289727681e-1));
  p = madd64(p, z, f64x2.splat(-1.4285423641906528e-1));
  p = madd64(p, z, f64x2.splat(1.9999994326757081e-1));
  p = madd64(p, z, f64x2.splat(-3.3333333295728629e-1));
  return f64x2.add(base, madd64(f64x2.mul(t, z), p, t));
}

/** √((1 − a)(1 + a)) for f64 lanes holding f32 values: 1 − a and 1 + a are exact, NaN for a > 1. */
@inline function cos_of_asin64(a: v128): v128 {
  const one = f64x2.splat(1.0);
  return f64x2.sqrt(f64x2.mul(f64x2.sub(one, a), f64x2.add(one, a)));
}
/** asin a = atan(a/√((1 − a)(1 + a))), a ≥ 0: atan(+inf) = π/2 at a = 1, NaN beyond. */
@inline function asin64(a: v128): v128 { return atan64(f64x2.div(a, cos_of_asin64(a))); }
/** acos x = atan(√((1 − x)(1 + x))/|x|), from π where x < 0 (−0 gives π/2 either way). */
@inline function acos64(x: v128): v128 {
  const a = f64x2.abs(x), y = atan64(f64x2.div(cos_of_asin64(a), a));
  return v128.bitselect(f64x2.sub(f64x2.splat(PI64), y), y, f64x2.lt(x, f64x2.splat(0.0)));
}

/** atan(x) per lane. */
export function atan_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  return v128.xor(f32_of(atan64(f64_lo(ax)), atan64(f64_hi(ax))), v128.and(x, SIGN_MASK));
}
/** asin(x) per lane: NaN for |x| > 1. */
export function asin_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  return v128.xor(f32_of(asin64(f64_lo(ax)), asin64(f64_hi(ax))), v128.and(x, SIGN_MASK));
}
/** acos(x) per lane: NaN for |x| > 1. */
export function acos_f32x4(x: v128): v128 { return f32_of(acos64(f64_lo(x)), acos64(f64_hi(x))); }

const LOG2E64: f64 = 1.4426950408889634;
const LN2_HI64: f64 = 6.93147180369123816490e-01;   // ln 2's first 32 bits: n·LN2_HI64 is exact
const LN2_LO64: f64 = 1.90821492927058770002e-10;   // ln 2 − LN2_HI64
const LN2_64: f64 = 0.6931471805599453;
const HYP_MAX: f64 = 89.5;                          // sinh, cosh ≥ e^89.5/2 > FLT_MAX: +inf once rounded

/** e^t for two f64 lanes, t in [0, HYP_MAX] or NaN: 2^n·e^r, |r| ≤ ln2/2, e^r = 1 + r + r²·P(r). */
@inline function exp64(t: v128): v128 {
  const nb = madd64(t, f64x2.splat(LOG2E64), f64x2.splat(MAGIC64));   // n in the low bits
  const n = f64x2.sub(nb, f64x2.splat(MAGIC64));
  let r = madd64(n, f64x2.splat(-LN2_HI64), t);
  r = madd64(n, f64x2.splat(-LN2_LO64), r);
  // Degree 6, relative 1.1e-12.
  let p = madd64(f64x2.splat(2.4708278393888910e-5), r, f64x2.splat(1.9908939061933368e-4));
  p = madd64(p, r, f64x2.splat(1.3889197157431123e-3));
  p = madd64(p, r, f64x2.splat(8.3332818078861257e-3));
  p = madd64(p, r, f64x2.splat(4.1666664404861276e-2));
  p = madd64(p, r, f64x2.splat(1.6666666784442585e-1));
  p = madd64(p, r, f64x2.splat(5.0000000004268597e-1));
  const q = madd64(f64x2.mul(r, r), p, r);                             // e^r − 1
  const s = i64x2.add(i64x2.shl(nb, 52), i64x2.splat(<i64>1023 << 52));   // 2^n (0 ≤ n ≤ 130)
  return madd64(s, q, s);
}

/** sinh a, a ≥ 0: (e^a − e^−a)/2, or its series below 1/16 where the difference would cancel. */
@inline function sinh64(a: v128): v128 {
  const e = exp64(f64x2.pmin(a, f64x2.splat(HYP_MAX)));
  const big = madd64(e, f64x2.splat(0.5), f64x2.div(f64x2.splat(-0.5), e));
  const z = f64x2.mul(a, a);
  const small = madd64(f64x2.mul(a, z), madd64(madd64(z, f64x2.splat(1.0 / 5040.0), f64x2.splat(1.0 / 120.0)), z, f64x2.splat(1.0 / 6.0)), a);
  return v128.bitselect(small, big, f64x2.lt(a, f64x2.splat(0.0625)));
}
/** cosh a = (e^a + e^−a)/2, a ≥ 0. */
@inline function cosh64(a: v128): v128 {
  const e = exp64(f64x2.pmin(a, f64x2.splat(HYP_MAX)));
  return madd64(e, f64x2.splat(0.5), f64x2.div(f64x2.splat(0.5), e));
}

/** sinh(x) per lane. */
export function sinh_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  return v128.xor(f32_of(sinh64(f64_lo(ax)), sinh64(f64_hi(ax))), v128.and(x, SIGN_MASK));
}
/** cosh(x) per lane. */
export function cosh_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  return f32_of(cosh64(f64_lo(ax)), cosh64(f64_hi(ax)));
}

const SQRT_HALF_BITS: i64 = 0x3FE6A09E667F3BCD;
/**
 * ln(1 + u) for two f64 lanes, u ≥ 0 finite: w = 1 + u = 2^k·m with m in [√½, √2), and
 * ln m = 2·atanh(s), s = (m − 1)/(m + 1); c = 1 + u − w (exact for u ≤ 1; for larger u its error
 * is below 2^-52 of a result ≥ ln 2) restores what rounding w lost, so tiny u keep their digits.
 */
@inline function log1p64(u: v128): v128 {
  const one = f64x2.splat(1.0);
  const w = f64x2.add(u, one);
  const c = f64x2.sub(u, f64x2.sub(w, one));
  const ix = i64x2.sub(w, i64x2.splat(SQRT_HALF_BITS));
  const k = i64x2.shr_s(ix, 52);
  const m = i64x2.add(v128.and(ix, i64x2.splat(0x000FFFFFFFFFFFFF)), i64x2.splat(SQRT_HALF_BITS));
  const f = f64x2.sub(m, one);
  const s = f64x2.div(f, f64x2.add(f, f64x2.splat(2.0)));
  const z = f64x2.mul(s, s), s2 = f64x2.add(s, s);
  // ln m = 2s + 2s·z·L(z): degree 3 on |s| ≤ (√2 − 1)/(√2 + 1), relative 4.8e-12.
  const lm = madd64(f64x2.mul(s2, z), poly4_64(z, 1.1790736509638598e-1, 1.4268673458788125e-1, 2.0000167267757007e-1, 3.3333332824320022e-1), s2);
  const kf = f64x2.convert_low_i32x4_s(v128.shuffle<i32>(k, k, 0, 2, 0, 2));
  return madd64(kf, f64x2.splat(LN2_64), f64x2.add(lm, f64x2.div(c, w)));
}

/** asinh a = ln(1 + a + a²/(1 + √(1 + a²))), a ≥ 0 finite: log1p of a sum of positive terms. */
@inline function asinh64(a: v128): v128 {
  const z = f64x2.mul(a, a);
  return log1p64(f64x2.add(a, f64x2.div(z, f64x2.add(f64x2.splat(1.0), f64x2.sqrt(f64x2.add(z, f64x2.splat(1.0)))))));
}
/** acosh x = ln(1 + t + √(t(t + 2))), t = x − 1 exact: no cancellation near x = 1. */
@inline function acosh64(x: v128): v128 {
  const t = f64x2.sub(x, f64x2.splat(1.0));
  return log1p64(f64x2.add(t, f64x2.sqrt(f64x2.mul(t, f64x2.add(t, f64x2.splat(2.0))))));
}
/** atanh a = ½·ln(1 + 2a/(1 − a)), 0 ≤ a < 1 (1 − a exact). */
@inline function atanh64(a: v128): v128 {
  return f64x2.mul(f64x2.splat(0.5), log1p64(f64x2.div(f64x2.add(a, a), f64x2.sub(f64x2.splat(1.0), a))));
}

const INF = f32x4.splat(Infinity);
const NAN = f32x4.splat(NaN);

/** asinh(x) per lane. */
export function asinh_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const y = v128.bitselect(ax, f32_of(asinh64(f64_lo(ax)), asinh64(f64_hi(ax))), f32x4.eq(ax, INF));
  return v128.xor(y, v128.and(x, SIGN_MASK));
}
/** acosh(x) per lane: NaN below 1. */
export function acosh_f32x4(x: v128): v128 {
  const y = v128.bitselect(x, f32_of(acosh64(f64_lo(x)), acosh64(f64_hi(x))), f32x4.eq(x, INF));
  return v128.bitselect(y, NAN, f32x4.ge(x, f32x4.splat(1.0)));
}
/** atanh(x) per lane: ±inf at ±1, NaN beyond. */
export function atanh_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  let y = f32_of(atanh64(f64_lo(ax)), atanh64(f64_hi(ax)));
  y = v128.bitselect(y, v128.bitselect(INF, NAN, f32x4.eq(ax, f32x4.splat(1.0))), f32x4.lt(ax, f32x4.splat(1.0)));
  return v128.xor(y, v128.and(x, SIGN_MASK));
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
@inline export function sin_f32(x: f32): f32 { return f32x4.extract_lane(sin_f32x4(f32x4.splat(x)), 0); }
@inline export function cos_f32(x: f32): f32 { return f32x4.extract_lane(cos_f32x4(f32x4.splat(x)), 0); }
@inline export function tan_f32(x: f32): f32 { return f32x4.extract_lane(tan_f32x4(f32x4.splat(x)), 0); }
@inline export function atan_f32(x: f32): f32 { return f32x4.extract_lane(atan_f32x4(f32x4.splat(x)), 0); }
@inline export function asin_f32(x: f32): f32 { return f32x4.extract_lane(asin_f32x4(f32x4.splat(x)), 0); }
@inline export function acos_f32(x: f32): f32 { return f32x4.extract_lane(acos_f32x4(f32x4.splat(x)), 0); }
@inline export function sinh_f32(x: f32): f32 { return f32x4.extract_lane(sinh_f32x4(f32x4.splat(x)), 0); }
@inline export function cosh_f32(x: f32): f32 { return f32x4.extract_lane(cosh_f32x4(f32x4.splat(x)), 0); }
@inline export function asinh_f32(x: f32): f32 { return f32x4.extract_lane(asinh_f32x4(f32x4.splat(x)), 0); }
@inline export function acosh_f32(x: f32): f32 { return f32x4.extract_lane(acosh_f32x4(f32x4.splat(x)), 0); }
@inline export function atanh_f32(x: f32): f32 { return f32x4.extract_lane(atanh_f32x4(f32x4.splat(x)), 0); }
@inline export function gelu_f32(x: f32): f32 { return f32x4.extract_lane(gelu_f32x4(f32x4.splat(x)), 0); }
@inline export function act_f32(x: f32, act: i32): f32 {
  return act == ACT_NONE ? x : f32x4.extract_lane(act_f32x4(f32x4.splat(x), act), 0);
}
