// This machine's WebAssembly SIMD limits, for the bound of each workload:
//   peak       GFLOP/s of a register-only multiply-add loop (12 independent f32x4 chains; fused
//              relaxed_madd in the relaxed build, mul then add in the plain one; 2 flops a lane).
//              12 is the most chains V8 keeps in registers (14 spill and run at half speed).
//   bandwidth  GB/s of reading a buffer of a given size again and again (v128 loads summed as
//              i32x4 into 4 accumulators, 128 bytes an iteration, so the adds never limit it):
//              cache bandwidth for buffers that fit, DRAM for larger ones. The buffer is written
//              first (untouched pages would all map to one zero page).
// These are capabilities, so each is the best of repeated timed batches (the fastest batch),
// not the median: on a loaded machine a median understates the hardware, and a bound built from
// it would be too easy to meet. Workload times, in contrast, are medians.
import { assemble, type Isa } from '../compiler/codegen/assemble.ts';

const SRC = `
import { madd } from "./math";
export function peak_madd(iters: i32, s: f32): f32 {
  const x = f32x4.splat(s), y = f32x4.splat(0.999);
  let c0 = x, c1 = y, c2 = x, c3 = y, c4 = x, c5 = y, c6 = x, c7 = y, c8 = x, c9 = y, c10 = x, c11 = y;
  for (let i = 0; i < iters; i++) {
    c0 = madd(c0, y, x); c1 = madd(c1, y, x); c2 = madd(c2, y, x); c3 = madd(c3, y, x);
    c4 = madd(c4, y, x); c5 = madd(c5, y, x); c6 = madd(c6, y, x); c7 = madd(c7, y, x);
    c8 = madd(c8, y, x); c9 = madd(c9, y, x); c10 = madd(c10, y, x); c11 = madd(c11, y, x);
  }
  const s0 = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  return f32x4.extract_lane(f32x4.add(s0, f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11))), 0);
}
/** Reads bytes (a multiple of 128) at p, reps times; returns a sum so nothing is dead. */
export function read_sum(p: usize, bytes: i32, reps: i32): i32 {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  for (let r = 0; r < reps; r++) {
    for (let q = p, e = p + <usize>bytes; q < e; q += 128) {
      a0 = i32x4.add(a0, i32x4.add(v128.load(q, 0), v128.load(q, 16)));
      a1 = i32x4.add(a1, i32x4.add(v128.load(q, 32), v128.load(q, 48)));
      a2 = i32x4.add(a2, i32x4.add(v128.load(q, 64), v128.load(q, 80)));
      a3 = i32x4.add(a3, i32x4.add(v128.load(q, 96), v128.load(q, 112)));
    }
  }
  return i32x4.extract_lane(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), 0);
}
`;

/** Seconds per call of f in its fastest of `reps` batches, each batch repeating f for ≥ minMs. */
function bestSecondsPer(f: () => void, reps: number, minMs = 5): number {
  for (let i = 0; i < 3; i++) f();
  let n = 1;
  for (;;) { const t0 = performance.now(); for (let i = 0; i < n; i++) f(); if (performance.now() - t0 >= minMs) break; n *= 2; }
  let best = Infinity;
  for (let r = 0; r < reps; r++) { const t0 = performance.now(); for (let i = 0; i < n; i++) f(); best = Math.min(best, (performance.now() - t0) / n / 1e3); }
  return best;
}

export interface Machine {
  isa: Isa;
  peakGflops: number;
  /** GB/s reading a buffer of `bytes` (rounded up to 128), cached by size. */
  bandwidth(bytes: number): number;
}

const BASE = 1 << 16;

export async function measureMachine(isa: Isa, quick = false): Promise<Machine> {
  const { wasm } = await assemble({ sources: { '__bench_machine.ts': SRC }, entry: '__bench_machine.ts', isa, memoryBase: 1024, initialPages: 2 });
  const { instance } = await WebAssembly.instantiate(wasm as BufferSource);
  const ex = instance.exports as { memory: WebAssembly.Memory; peak_madd(n: number, s: number): number; read_sum(p: number, b: number, r: number): number };
  const reps = quick ? 20 : 60;
  const iters = 1 << 16;
  const peakGflops = (iters * 12 * 4 * 2) / bestSecondsPer(() => ex.peak_madd(iters, 0.5), reps) / 1e9;
  const cache = new Map<number, number>();
  const bandwidth = (bytes: number): number => {
    const b = Math.max(128, Math.ceil(bytes / 128) * 128);
    const hit = cache.get(b);
    if (hit !== undefined) return hit;
    const need = Math.ceil((BASE + b) / 65536) - ex.memory.buffer.byteLength / 65536;
    if (need > 0) ex.memory.grow(need);
    const f32 = new Float32Array(ex.memory.buffer, BASE, b / 4);
    for (let i = 0; i < f32.length; i++) f32[i] = (i % 7) * 0.25;
    const passes = Math.max(1, Math.floor((1 << 20) / b));
    const gbs = (b * passes) / bestSecondsPer(() => ex.read_sum(BASE, b, passes), reps) / 1e9;
    cache.set(b, gbs);
    return gbs;
  };
  return { isa, peakGflops, bandwidth };
}
