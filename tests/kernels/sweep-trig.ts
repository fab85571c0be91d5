// Exhaustive check of assembly/math.ts's trigonometric and hyperbolic kernels (not a test: minutes
// per function; run with
//   node --experimental-wasm-relaxed-simd --import tsx tests/kernels/sweep-trig.ts [fn …] [--max X] [--step K]
// ): every f32 in [0, max] (every K-th with --step; default max: 2^20, the vector path's bound, for
// sin, cos and tan, +inf for the others), on every host ISA, against Math.fround(Math.fn(x)) — V8's
// fdlibm in f64 (sin/cos/tan exactly reduced) rounded to f32; prints the largest distance in ulps
// (f32s between the two results; NaN must meet NaN) and how many inputs lie at each distance. The
// kernels compute odd and even functions on |x| (the test file samples negatives); acos and acosh,
// which do not, are swept over negative x too. Default: every function below.
import { ISAS, kernels } from './harness.ts';

const FNS: Record<string, { ref: (x: number) => number; max: number; negatives?: boolean }> = {
  sin: { ref: Math.sin, max: 2 ** 20 }, cos: { ref: Math.cos, max: 2 ** 20 }, tan: { ref: Math.tan, max: 2 ** 20 },
  asin: { ref: Math.asin, max: Infinity }, acos: { ref: Math.acos, max: Infinity, negatives: true }, atan: { ref: Math.atan, max: Infinity },
  sinh: { ref: Math.sinh, max: Infinity }, cosh: { ref: Math.cosh, max: Infinity },
  asinh: { ref: Math.asinh, max: Infinity }, acosh: { ref: Math.acosh, max: Infinity, negatives: true }, atanh: { ref: Math.atanh, max: Infinity },
};

const args = process.argv.slice(2), opt = (name: string) => { const i = args.indexOf(name); return i < 0 ? undefined : Number(args.splice(i, 2)[1]); };
const maxArg = opt('--max'), step = opt('--step') ?? 1;
const names = args.length ? args : Object.keys(FNS);
for (const n of names) if (!FNS[n]) throw new Error(`unknown function '${n}' (known: ${Object.keys(FNS).join(', ')})`);

const f = new Float32Array(1), u = new Uint32Array(f.buffer);
/** Ordered index of an f32: the distance between two finite floats in ulps is the difference. */
const ord = (v: number) => { f[0] = v; return u[0]! & 0x80000000 ? -(u[0]! & 0x7fffffff) : u[0]!; };

const CHUNK = 1 << 22;
const bits = new Uint32Array(CHUNK), xs = new Float32Array(bits.buffer);
for (const isa of ISAS) {
  const K = await kernels(isa);
  for (const name of names) {
    const { ref, max: fnMax, negatives } = FNS[name]!;
    const max = maxArg ?? fnMax;
    f[0] = max; const end = u[0]! + 1;                           // bit patterns [0, end): +0 … max
    const hist: number[] = [];
    let same = 0, worst = 0, at = NaN;
    for (const sign of negatives ? [0, 0x80000000] : [0]) {
      for (let b = 0; b < end; b += CHUNK * step) {
        const n = Math.min(CHUNK, Math.ceil((end - b) / step));
        for (let i = 0; i < n; i++) bits[i] = (sign | (b + i * step)) >>> 0;
        K.reset();
        const px = K.put(xs.subarray(0, n)), py = K.alloc(n);
        K.fn(`t_${name}`)(px, py, n);
        const y = K.f32.subarray(py >> 2, (py >> 2) + n);
        for (let i = 0; i < n; i++) {
          const w = Math.fround(ref(xs[i]!)), g = y[i]!;
          if (g === w) { same++; continue; }
          const d = w !== w || g !== g ? (w !== w && g !== g ? 0 : Infinity) : Math.abs(ord(g) - ord(w));
          if (d === 0) { same++; continue; }
          hist[Math.min(d, 1000)] = (hist[Math.min(d, 1000)] ?? 0) + 1;
          if (d > worst) { worst = d; at = xs[i]!; }
        }
      }
    }
    const counts = { 0: same, ...Object.fromEntries(hist.flatMap((c, d) => (c ? [[d === 1000 ? '1000+' : d, c]] : []))) };
    const range = `${negatives ? '±' : ''}[0, ${max}]${step > 1 ? ` every ${step}th` : ''}`;
    console.log(`${isa} ${name} on ${range}: max ${worst} ulp at ${at}; counts by ulp ${JSON.stringify(counts)}`);
  }
}
