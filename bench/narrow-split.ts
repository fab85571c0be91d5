// Tall, narrow GEMMs and matmuls (few 8-column panels, many rows), and small ones of one claimed
// tile, on two threads against one: the split rule in compiler/codegen/ops/linalg.ts (gemmSplits,
// matmulSplits). gemm_f32_part claims tiles of row blocks (gemm_mc(k) rows) by panels;
// matmul_f32_part below MATMUL_ROW_SPLIT_BELOW panels cuts 4-row groups in two halves (each thread
// packs B's panels for itself). Each 2-thread
// call is a split + barrier, after an empty call so the worker is awake (as after an entry's first
// barrier). Interleaved rounds, the median of the rounds' ratios (1 thread / 2 threads).
//   npx tsx bench/narrow-split.ts
import v8 from 'node:v8';
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

import { loadavg } from 'node:os';
import { onTwoThreads } from './two-cores.ts';

const SYNC = 1024, ARGS = 3072, A = 65536, B = 8 << 20, C = 12 << 20, P = 16 << 20, W = 17 << 20;
const src = `import { barrier, threads_post, threads_join, threads_next, threads_count, threads_done, threads_may_wait } from "./threads";
import { gemm_f32, gemm_f32_part } from "./gemm";
import { matmul_f32, matmul_f32_part, MATMUL_PANEL_BYTES } from "./matmul";
function work(tid: i32, nt: i32): void {
  const reps = load<i32>(${ARGS}), m = load<i32>(${ARGS} + 4), n = load<i32>(${ARGS} + 8), k = load<i32>(${ARGS} + 12), mm = load<i32>(${ARGS} + 16);
  for (let i = 0; i < reps; i++) {
    if (mm) matmul_f32_part(${A}, ${B}, ${C}, m, n, k, k, n, n, 0, 1.0, ${P} + <usize>tid * MATMUL_PANEL_BYTES, tid, nt);
    else gemm_f32_part(${A}, k, ${W}, ${C}, n, m, n, k, 0, 0, ${SYNC}, tid, nt);
    barrier(${SYNC}, nt);
  }
}
export function worker(tid: i32): void { for (;;) { const id = threads_next(${SYNC}, tid); if (id < 0) return; if (id > 0) work(tid, threads_count(${SYNC})); threads_done(${SYNC}); } }
export function call(id: i32, nt: i32): i32 { threads_post(${SYNC}, id, nt); if (id > 0) work(0, nt); return threads_join(${SYNC}); }
export function serial(): void {
  const reps = load<i32>(${ARGS}), m = load<i32>(${ARGS} + 4), n = load<i32>(${ARGS} + 8), k = load<i32>(${ARGS} + 12), mm = load<i32>(${ARGS} + 16);
  for (let i = 0; i < reps; i++) {
    if (mm) matmul_f32(${A}, ${B}, ${C}, m, n, k, k, n, n, 0, 1.0);
    else gemm_f32(${A}, k, ${W}, ${C}, n, m, n, k, 0, 0);
  }
}
export function may_wait(y: i32): void { threads_may_wait(y); }
export function quit(nt: i32): void { threads_post(${SYNC}, -1, nt); }`;

const { x, memory, stop } = await onTwoThreads({ 'b.ts': src }, 'wasmrelaxedsimd', 320);
const f32 = new Float32Array(memory.buffer);
for (let i = A >> 2; i < f32.length; i++) f32[i] = Math.sin(i);
const args = new Int32Array(memory.buffer, ARGS, 5);
const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;
const time = (f: () => void, reps: number) => { const t0 = performance.now(); f(); return (performance.now() - t0) * 1000 / reps; };

console.log(`load ${loadavg()[0]!.toFixed(1)} (1 min) at start; 2 cores shared`);
console.log('| kernel | m × k × n (MACs) | 1 thread µs | 2 threads + barrier µs | × (median of rounds) |\n| --- | --- | --- | --- | --- |');
const shapes = [[4096, 256, 16], [4096, 256, 8], [1024, 256, 16], [512, 64, 16], [256, 256, 16], [128, 256, 16], [64, 256, 16], [32, 256, 16], [24, 256, 16], [16, 512, 16], [16, 256, 16], [8, 256, 16], [200, 64, 24], [8, 64, 64], [16, 128, 32]] as const;
for (const mm of [0, 1]) {
  for (const [m, k, n] of shapes) {
    const reps = Math.max(4, Math.round(2e6 / (m * k * n)));
    args.set([reps, m, n, k, mm]);
    const one: number[] = [], two: number[] = [], ratio: number[] = [];
    x.serial!(); x.call!(1, 2);
    for (let r = 0; r < 15; r++) {
      const a = time(() => x.serial!(), reps);
      x.call!(0, 2);
      const b = time(() => x.call!(1, 2), reps);
      one.push(a); two.push(b); ratio.push(a / b);
    }
    console.log(`| ${mm ? 'matmul' : 'gemm'} | ${m} × ${k} × ${n} (${m * k * n}) | ${med(one).toFixed(1)} | ${med(two).toFixed(1)} | ${med(ratio).toFixed(2)} |`);
  }
}
console.log(`load ${loadavg()[0]!.toFixed(1)} (1 min) at the end`);
await stop();
