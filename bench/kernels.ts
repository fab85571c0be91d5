// Kernel throughput on this machine: GFLOP/s of gemm_f32 (512³ and other shapes), the M=1 GEMV
// path (GB/s of packed weights, against a plain read of the same bytes), and a register-only
// mul+add loop as the practical SIMD peak. Both ISAs when available.
// Run: npx tsx bench/kernels.ts     (times are medians of repeats after a warm-up, because V8
// first runs a wasm function in its baseline tier)
import v8 from 'node:v8';
import { assemble, type Isa } from '../compiler/codegen/assemble.ts';
import { hostIsas } from '../compiler/codegen/host-isas.ts';
import { packGemmWeights } from '../compiler/codegen/pack.ts';
import { PROBES_SRC } from './probes.ts';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const PEAK_SRC = `${PROBES_SRC}
export * from "./gemm";
export * from "./matmul";
export * from "./pool";
`;

type Fn = (...a: number[]) => number;

function median(xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; }

/** Median seconds per call of f over `reps` timed batches, after warm-up. */
function time(f: () => void, minBatchMs = 30, reps = 11): number {
  for (let i = 0; i < 5; i++) f();
  let n = 1;
  for (;;) { const t0 = performance.now(); for (let i = 0; i < n; i++) f(); if (performance.now() - t0 > minBatchMs) break; n *= 2; }
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) { const t0 = performance.now(); for (let i = 0; i < n; i++) f(); ts.push((performance.now() - t0) / n / 1e3); }
  return median(ts);
}

/** Median seconds per call of each of fs, timed in alternating batches (A B A B …) after warm-up. */
function timeInterleaved(fs: (() => void)[], minBatchMs = 10, rounds = 31): number[] {
  const per = fs.map((f) => {
    for (let i = 0; i < 5; i++) f();
    let n = 1;
    for (;;) { const t0 = performance.now(); for (let i = 0; i < n; i++) f(); if (performance.now() - t0 > minBatchMs) return n; n *= 2; }
  });
  const ts: number[][] = fs.map(() => []);
  for (let r = 0; r < rounds; r++) {
    fs.forEach((f, j) => { const t0 = performance.now(); for (let i = 0; i < per[j]!; i++) f(); ts[j]!.push((performance.now() - t0) / per[j]! / 1e3); });
  }
  return ts.map(median);
}

async function bench(isa: Isa): Promise<void> {
  const memoryBase = 64 << 20;
  const { wasm } = await assemble({ sources: { '__bench.ts': PEAK_SRC }, entry: '__bench.ts', isa, memoryBase,
    initialPages: (memoryBase >> 16) + 16 });
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>));
  const ex = instance.exports as Record<string, Fn> & { memory: WebAssembly.Memory };
  const f32 = new Float32Array(ex.memory.buffer);
  let top = 1024;
  const put = (a: Float32Array) => { const p = top; f32.set(a, p >> 2); top += (a.length * 4 + 63) & ~63; return p; };
  const rnd = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);

  const iters = 1 << 20;
  const tp = time(() => ex.peak_madd!(iters, 0.5));
  const peak = (iters * 12 * 8) / tp / 1e9;
  console.log(`${isa}: peak mul+add loop            ${peak.toFixed(1)} GFLOP/s`);

  // m n k; then transformer projections (128 tokens, d 256: QKV 256→768, MLP 256→1024 and 1024→256) and an
  // LSTM input projection (64 steps, 128→4·256).
  const shapes: [number, number, number][] = [[512, 512, 512], [256, 256, 256], [1024, 1024, 1024], [64, 512, 512],
    [4, 512, 512], [128, 768, 256], [128, 1024, 256], [128, 256, 1024], [64, 1024, 128]];
  for (const [m, n, k] of shapes) {
    top = 1024;
    const a = put(rnd(m * k)), w = put(packGemmWeights(rnd(k * n), k, n, 'kn', rnd(n))), c = put(new Float32Array(m * n));
    const t = time(() => ex.gemm_f32!(a, k, w, c, n, m, n, k, 0, 0));
    const gf = (2 * m * n * k) / t / 1e9;
    console.log(`${isa}: gemm_f32 m=${m} n=${n} k=${k}`.padEnd(44) + `${gf.toFixed(1).padStart(5)} GFLOP/s  ${(gf / peak * 100).toFixed(0)}% of peak` +
      `  ${(t * 1e6).toFixed(0)} µs`);
  }
  // GEMV (m = 1) reads every packed weight once: GB/s of weights is its measure, next to a plain
  // read of the same bytes timed interleaved with it. Sizes: MLP 784→512→512, the LSTM step
  // (h 256 · W_hhᵀ 256×1024), GPT-small decode projections, and one larger than L2 + L3 share.
  const gemvs: [number, number][] = [[512, 512], [784, 512], [256, 1024], [1024, 256], [256, 768], [1024, 4096]];
  for (const [k, n] of gemvs) {
    top = 1024;
    const x = put(rnd(k)), w = put(packGemmWeights(rnd(k * n), k, n, 'kn', rnd(n))), c = put(new Float32Array(n));
    const bytes = 4 * (k + 1) * Math.ceil(n / 8) * 8;
    const [t, tr] = timeInterleaved([() => ex.gemm_f32!(x, k, w, c, n, 1, n, k, 0, 0), () => ex.read_sum!(w, bytes & ~127, 1)]);
    const gbs = bytes / t! / 1e9, rbs = (bytes & ~127) / tr! / 1e9;
    console.log(`${isa}: gemv m=1 k=${k} n=${n} (${(bytes / 1e6).toFixed(2)} MB)`.padEnd(52) +
      `${gbs.toFixed(1).padStart(5)} GB/s  ${(2 * n * k / t! / 1e9).toFixed(1).padStart(5)} GFLOP/s  read ${rbs.toFixed(0)} GB/s (${(gbs / rbs * 100).toFixed(0)}%)` +
      `  ${(t! * 1e6).toFixed(1)} µs`);
  }
  const mm: [number, number, number, number][] = [[512, 512, 512, 0], [512, 512, 512, 1], [128, 128, 64, 1], [128, 64, 128, 0],
    [1, 512, 64, 1], [1, 64, 512, 0]];
  for (const [m, n, k, tb] of mm) {
    top = 1024;
    const a = put(rnd(m * k)), b = put(rnd(k * n)), c = put(new Float32Array(m * n));
    const t = time(() => ex.matmul_f32!(a, b, c, m, n, k, k, tb ? k : n, n, tb, 1));
    const gf = (2 * m * n * k) / t / 1e9;
    console.log(`${isa}: matmul_f32 m=${m} n=${n} k=${k}${tb ? ' Bᵀ' : ''}`.padEnd(44) + `${gf.toFixed(1).padStart(5)} GFLOP/s  ${(t * 1e6).toFixed(1)} µs`);
  }
  const pools: [string, number, number, number, number, number, number][] = [
    ['maxpool2d_f32', 64, 112, 112, 2, 2, 0], ['maxpool2d_f32', 64, 112, 112, 3, 2, 1], ['maxpool2d_f32', 64, 56, 56, 3, 1, 1],
    ['avgpool2d_f32', 64, 56, 56, 3, 1, 1], ['avgpool2d_f32', 64, 56, 56, 2, 2, 0]];
  for (const [fn, nc, h, w, kk, s, p] of pools) {
    top = 1024;
    const oh = Math.floor((h + 2 * p - kk) / s) + 1, ow = Math.floor((w + 2 * p - kk) / s) + 1;
    const x = put(rnd(nc * h * w)), y = put(new Float32Array(nc * oh * ow));
    const t = time(() => ex[fn]!(x, y, nc, h, w, kk, kk, s, s, p, p, oh, ow, 1));
    console.log(`${isa}: ${fn} ${nc}x${h}x${w} k=${kk} s=${s} p=${p}`.padEnd(44) + `${(nc * h * w * 4 / t / 1e9).toFixed(1).padStart(5)} GB/s in  ${(t * 1e6).toFixed(0)} µs`);
  }
}

for (const isa of hostIsas()) await bench(isa);
