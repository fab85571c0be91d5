// Regenerates the polynomial coefficients in assembly/math.ts (not a test; run with
// `npx tsx tests/kernels/fit-math-coefficients.ts`). Near-minimax fits by Lawson's algorithm:
// weighted least squares whose weights are multiplied by the current error each round, in f64,
// printed rounded to f32 (the f64 kernels' in full). Rational fits linearise P − f·Q with the
// previous Q as a weight.
import { erf } from './oracle.ts';

/** Least squares min ‖A·x − b‖ by Householder QR. */
function lstsq(A: number[][], b: number[]): number[] {
  const m = A.length, n = A[0]!.length;
  A = A.map((r) => r.slice()); b = b.slice();
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += A[i]![k]! ** 2;
    norm = Math.sqrt(norm);
    const v = new Array<number>(m).fill(0);
    for (let i = k; i < m; i++) v[i] = A[i]![k]!;
    v[k]! -= A[k]![k]! > 0 ? -norm : norm;
    let vn = 0;
    for (let i = k; i < m; i++) vn += v[i]! ** 2;
    if (vn === 0) continue;
    const reflect = (get: (i: number) => number, set: (i: number, x: number) => void) => {
      let s = 0;
      for (let i = k; i < m; i++) s += v[i]! * get(i);
      s = 2 * s / vn;
      for (let i = k; i < m; i++) set(i, get(i) - s * v[i]!);
    };
    for (let j = k; j < n; j++) reflect((i) => A[i]![j]!, (i, x) => { A[i]![j] = x; });
    reflect((i) => b[i]!, (i, x) => { b[i] = x; });
  }
  const x = new Array<number>(n).fill(0);
  for (let k = n - 1; k >= 0; k--) {
    let s = b[k]!;
    for (let j = k + 1; j < n; j++) s -= A[k]![j]! * x[j]!;
    x[k] = s / A[k]![k]!;
  }
  return x;
}

const horner = (c: number[], u: number) => c.reduceRight((a, x) => a * u + x, 0);
const cheb = (a: number, b: number, n: number) =>
  Array.from({ length: n }, (_, i) => (a + b) / 2 + (b - a) / 2 * Math.cos(Math.PI * (i + 0.5) / n));

/** Minimise max |wt(u)·(g(u) − P(u)/Q(u))| over us; Q(0) = 1, degrees np/nq in the variable var(u). */
function lawson(us: number[], g: (u: number) => number, wt: (u: number) => number, v: (u: number) => number,
                np: number, nq: number, rounds = 400): { P: number[]; Q: number[]; err: number } {
  let w = us.map(() => 1), P: number[] = [], Q = [1];
  for (let it = 0; it < rounds; it++) {
    const Qprev = Q;
    const rows = us.map((u, i) => {
      const t = v(u), f = g(u), s = Math.sqrt(w[i]!) * wt(u) / horner(Qprev, t);
      const row: number[] = [];
      for (let j = 0, p = 1; j <= np; j++, p *= t) row.push(s * p);
      for (let j = 1, p = t; j <= nq; j++, p *= t) row.push(-s * f * p);
      return { row, rhs: s * f };
    });
    const x = lstsq(rows.map((r) => r.row), rows.map((r) => r.rhs));
    P = x.slice(0, np + 1); Q = [1, ...x.slice(np + 1)];
    const e = us.map((u) => Math.abs(wt(u) * (g(u) - horner(P, v(u)) / horner(Q, v(u)))));
    const sw = e.reduce((a, x, i) => a + w[i]! * x, 0);
    w = w.map((wi, i) => wi * e[i]! / sw);
  }
  const err = Math.max(...us.map((u) => Math.abs(wt(u) * (g(u) - horner(P, v(u)) / horner(Q, v(u))))));
  return { P, Q, err };
}

const show64 = (name: string, r: { P: number[]; err: number }) =>
  console.log(`${name}: fit error ${r.err.toExponential(2)}\n  P = ${r.P.map((c) => c.toExponential(16)).join(', ')}`);
const show = (name: string, r: { P: number[]; Q: number[]; err: number }) =>
  console.log(`${name}: fit error ${r.err.toExponential(2)}\n  P = ${r.P.map((c) => Math.fround(c).toPrecision(9)).join(', ')}` +
    (r.Q.length > 1 ? `\n  Q = ${r.Q.map((c) => Math.fround(c).toPrecision(9)).join(', ')}` : ''));

const h = Math.LN2 / 2, rs = cheb(-h, h, 400), id = (u: number) => u;
// e^r = 1 + r + r²·P(r): fit (e^r − 1 − r)/r², error weighted relative to e^r.
show('exp P (degree 4)', lawson(rs, (r) => (Math.exp(r) - 1 - r) / (r * r), (r) => r * r / Math.exp(r), id, 4, 0));
// expm1(r) = r + r²·P(r), relative to expm1(r).
show('expm1 P (degree 4)', lawson(rs, (r) => (Math.expm1(r) - r) / (r * r), (r) => r * r / Math.abs(Math.expm1(r)), id, 4, 0));
// erf(z) = z·P(z²)/Q(z²) on [0, 4], absolute error.
show('erf P/Q (degree 5/5 in z²)', lawson(cheb(0, 4, 600).map(Math.abs), (z) => erf(z) / z, (z) => z, (z) => z * z, 5, 5));
// sin(r) = r + r³·S(r²) and cos(r) = 1 − r²/2 + r⁴·C(r²) on the reduced range |r| ≤ π/4, relative error.
const q = Math.PI / 4, qs = cheb(-q, q, 600).map(Math.abs);
show('sin S (degree 2 in r²)', lawson(qs, (r) => (Math.sin(r) - r) / r ** 3, (r) => r ** 3 / Math.sin(r), (r) => r * r, 2, 0));
show('cos C (degree 2 in r²)', lawson(qs, (r) => (Math.cos(r) - 1 + r * r / 2) / r ** 4, (r) => r ** 4 / Math.cos(r), (r) => r * r, 2, 0));

// The f64 kernels (tan, atan/asin/acos, sinh/cosh, asinh/acosh/atanh), coefficients in full, 200 rounds.
// e^r = 1 + r + r²·P(r) on |r| ≤ ln2/2, relative.
show64('exp64 P (degree 6)', lawson(rs, (r) => (Math.exp(r) - 1 - r) / (r * r), (r) => r * r / Math.exp(r), id, 6, 0, 200));
// ln m = 2s + 2s·z·L(z), z = s², |s| ≤ (√2 − 1)/(√2 + 1), relative to atanh(s).
const sm = (Math.SQRT2 - 1) / (Math.SQRT2 + 1), ss = cheb(-sm, sm, 400).map(Math.abs);
show64('log1p64 L (degree 3 in s²)', lawson(ss, (s) => (Math.atanh(s) / s - 1) / (s * s), (s) => s * s / (Math.atanh(s) / s), (s) => s * s, 3, 0, 200));
// atan t = t + t·z·A(z), |t| ≤ tan π/8, relative.
const t8 = Math.tan(Math.PI / 8), ts = cheb(-t8, t8, 400).map(Math.abs);
show64('atan64 A (degree 6 in t²)', lawson(ts, (t) => (Math.atan(t) / t - 1) / (t * t), (t) => t * t / (Math.atan(t) / t), (t) => t * t, 6, 0, 200));
// tan's sin r = r + r³·S(r²) and cos r = 1 − r²/2 + r⁴·C(r²), |r| ≤ π/4, relative.
const q4 = cheb(-q, q, 400).map(Math.abs);
show64('tan64 S (degree 3 in r²)', lawson(q4, (r) => (Math.sin(r) - r) / r ** 3, (r) => r ** 3 / Math.sin(r), (r) => r * r, 3, 0, 200));
show64('tan64 C (degree 3 in r²)', lawson(q4, (r) => (Math.cos(r) - 1 + r * r / 2) / r ** 4, (r) => r ** 4 / Math.cos(r), (r) => r * r, 3, 0, 200));
