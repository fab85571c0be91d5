// Recurrent kernels (assembly/rnn.ts) on one sequence: LSTM and GRU, input 128, hidden 256, T = 64,
// B = 1. Reports the median time of one kernel call (the whole sequence) after warm-up, the
// GFLOP/s of the recurrent part (2·T·H·G·H flops; the input projection is done once, untimed), the
// GB/s of streaming the packed W_hhᵀ once per step, and the same T GEMVs timed alone (gemm_f32,
// M = 1) so the fused gate pass's share is visible. Both ISAs when available.
// Run: npx tsx bench/rnn.ts
import v8 from 'node:v8';
import { assemble, type Isa } from '../compiler/codegen/assemble.ts';
import { hostIsas } from '../compiler/codegen/host-isas.ts';
import { packGemmWeights, packRecurrentWeights, packedGemmFloats } from '../compiler/codegen/pack.ts';
import { RNN_GATES, rnnScratchBytes } from '../compiler/codegen/rnn-abi.ts';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const SRC = `
export * from "./rnn";
import { gemm_f32 } from "./gemm";
/** The step GEMVs of a sequence alone: T calls of gemm_f32 (M = 1) on the same h. */
export function gemv_steps(h: usize, w: usize, out: usize, n: i32, k: i32, T: i32): void {
  for (let t = 0; t < T; t++) gemm_f32(h, k, w, out, n, 1, n, k, 0, 0);
}
`;

type Fn = (...a: number[]) => number;

function median(xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; }

/** Median seconds per call of f over `reps` timed batches, after warm-up (V8 tiers wasm up lazily). */
function time(f: () => void, minBatchMs = 30, reps = 15): number {
  for (let i = 0; i < 10; i++) f();
  let n = 1;
  for (;;) { const t0 = performance.now(); for (let i = 0; i < n; i++) f(); if (performance.now() - t0 > minBatchMs) break; n *= 2; }
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) { const t0 = performance.now(); for (let i = 0; i < n; i++) f(); ts.push((performance.now() - t0) / n / 1e3); }
  return median(ts);
}

const I = 128, H = 256, T = 64, B = 1;

async function bench(isa: Isa): Promise<void> {
  const memoryBase = 64 << 20;
  const { wasm } = await assemble({ sources: { '__bench_rnn.ts': SRC }, entry: '__bench_rnn.ts', isa, memoryBase,
    initialPages: (memoryBase >> 16) + 16 });
  const { instance } = await WebAssembly.instantiate(wasm as BufferSource);
  const ex = instance.exports as Record<string, Fn> & { memory: WebAssembly.Memory };
  const f32 = new Float32Array(ex.memory.buffer);
  const s = 1 / Math.sqrt(H);
  const rnd = (n: number, lo = -s, hi = s) => Float32Array.from({ length: n }, () => lo + (hi - lo) * Math.random());

  for (const kind of ['lstm', 'gru'] as const) {
    const G = RNN_GATES[kind], GH = G * H;
    let top = 1024;
    const alloc = (floats: number) => { const p = top; top += (floats * 4 + 63) & ~63; return p; };
    const put = (a: Float32Array) => { const p = alloc(a.length); f32.set(a, p >> 2); return p; };
    // Input projection, once, with a plain loop: xp = x·W_ihᵀ + b_ih.
    const x = rnd(B * T * I, -1, 1), wIh = rnd(GH * I), bIh = rnd(GH);
    const xp = new Float32Array(B * T * GH);
    for (let r = 0; r < B * T; r++) for (let j = 0; j < GH; j++) {
      let acc = bIh[j]!;
      for (let k = 0; k < I; k++) acc += x[r * I + k]! * wIh[j * I + k]!;
      xp[r * GH + j] = acc;
    }
    const pxp = put(xp);
    const pw = put(packRecurrentWeights(rnd(GH * H), rnd(GH), G, H));
    const ph0 = put(rnd(B * H, -1, 1)), pc0 = put(rnd(B * H, -1, 1));
    const py = alloc(B * T * H), phn = alloc(B * H), pcn = alloc(B * H);
    const pscr = alloc(rnnScratchBytes(kind, B, H) / 4);
    const call = kind === 'lstm'
      ? () => ex.lstm_seq_f32!(pxp, pw, ph0, pc0, py, phn, pcn, pscr, B, T, H, GH, H, 0)
      : () => ex.gru_seq_f32!(pxp, pw, ph0, py, phn, pscr, B, T, H, GH, H, 0);
    const t = time(call);
    const tg = time(() => ex.gemv_steps!(ph0, pw, pscr, GH, H, T));
    const flops = 2 * T * H * GH;
    const wBytes = packedGemmFloats(H, GH) * 4;
    console.log(`${isa}: ${kind} B=${B} T=${T} H=${H} (W_hh packed ${(wBytes / 1024).toFixed(0)} KiB)`.padEnd(58) +
      `${(t * 1e3).toFixed(3)} ms  ${(flops / t / 1e9).toFixed(1).padStart(5)} GFLOP/s  ${(T * wBytes / t / 1e9).toFixed(1).padStart(5)} GB/s` +
      `  | ${T} GEMVs alone ${(tg * 1e3).toFixed(3)} ms (${(tg / t * 100).toFixed(0)}%), ${(T * wBytes / tg / 1e9).toFixed(1)} GB/s`);
  }
  // What limits the step: the same GEMV (k = H) over packed weights from L1-sized to DRAM-sized.
  const row: string[] = [];
  for (const n of [16, 64, 256, 768, 1024, 2048, 8192, 32768]) {
    const top = 1024, pw = top, wFloats = packedGemmFloats(H, n);
    f32.set(packGemmWeights(rnd(n * H), H, n, 'nk', rnd(n)), pw >> 2);
    const ph = pw + wFloats * 4 + 64, pout = ph + H * 4 + 64;
    f32.set(rnd(H, -1, 1), ph >> 2);
    const tg = time(() => ex.gemv_steps!(ph, pw, pout, n, H, 4), 20, 9) / 4;
    row.push(`${(wFloats / 256).toFixed(0)} KiB ${(wFloats * 4 / tg / 1e9).toFixed(0)}`);
  }
  console.log(`${isa}: GEMV k=${H}, GB/s of packed weights by size: ${row.join(', ')}`);
}

for (const isa of hostIsas()) await bench(isa);
