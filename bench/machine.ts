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
import { PROBES_SRC } from './probes.ts';



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
  const { wasm } = await assemble({ sources: { '__bench_machine.ts': PROBES_SRC }, entry: '__bench_machine.ts', isa, memoryBase: 1024, initialPages: 2 });
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
