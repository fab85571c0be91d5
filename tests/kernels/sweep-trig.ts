// Exhaustive check of assembly/math.ts's sin_f32x4 / cos_f32x4 (not a test: minutes; run with
// `node --experimental-wasm-relaxed-simd --import tsx tests/kernels/sweep-trig.ts [maxAbs]`, default 2^20, the vector path's bound): every f32
// in [0, maxAbs] (sin is odd, cos even and the kernel works on |x|; the test file samples negatives),
// on every host ISA, against Math.fround(Math.sin(x)); prints the largest distance in ulps (f32s
// between the two results) and where. The oracle is V8's fdlibm in f64, exactly reduced.
import { ISAS, kernels } from './harness.ts';

const maxAbs = Number(process.argv[2] ?? 2 ** 20);
const f = new Float32Array(1), u = new Uint32Array(f.buffer);
/** Ordered index of an f32: the distance between two finite floats in ulps is the difference. */
const ord = (v: number) => { f[0] = v; return u[0]! & 0x80000000 ? -(u[0]! & 0x7fffffff) : u[0]!; };

const CHUNK = 1 << 22;
for (const isa of ISAS) {
  const K = await kernels(isa);
  for (const [name, ref] of [['sin', Math.sin], ['cos', Math.cos]] as const) {
    f[0] = maxAbs; const end = u[0]! + 1;
    const hist = new Map<number, number>();
    let worst = 0, at = NaN;
    for (let b = 0; b < end; b += CHUNK) {
      const n = Math.min(CHUNK, end - b);
      const x = new Float32Array(new Uint32Array(n).map((_, i) => b + i).buffer);
      K.reset();
      const px = K.put(x), py = K.alloc(n);
      K.fn(`t_${name}`)(px, py, n);
      const y = K.f32.subarray(py >> 2, (py >> 2) + n);
      for (let i = 0; i < n; i++) {
        const d = Math.abs(ord(y[i]!) - ord(Math.fround(ref(x[i]!))));
        hist.set(d, (hist.get(d) ?? 0) + 1);
        if (d > worst) { worst = d; at = x[i]!; }
      }
    }
    console.log(`${isa} ${name} on [0, ${maxAbs}]: max ${worst} ulp at ${at}; counts by ulp ${JSON.stringify(Object.fromEntries([...hist].sort((a, b) => a[0] - b[0])))}`);
  }
}
