// Threads, measured: (1) the barrier's cost (two threads meeting N times, both spinning), a
// whole empty call (post + join), how long an idle worker spins before it sleeps and what waking
// it costs, split GEMM/GEMV sizes around the split rule against one thread, a multiply-add loop
// and reads of 0.5–64 MiB split over both cores against one (two-cores.ts), and 2-thread GPT
// decode steps after the caller was away a while;
// (2) one thread on shared memory against today's unshared memory (same code); (3) workloads
// (default gemm512 and mlp_b64; any bench workload, or cnn) with 1, 2 (and --threads N) threads,
// interleaved, medians, outputs checked bit for bit against 1 thread.
//   npx tsx bench/threads.ts [--threads N] [--only gemm512,mlp_b64,cnn]   (relaxed SIMD: this script turns the flag on)
import v8 from 'node:v8';
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

import { compileModel } from '../compiler/driver/compile.ts';
import { readContainer } from '../runtime/format.ts';
import { loadModelBytes, Model } from '../runtime/model.ts';
import { atomicWait, withSharedMemory } from '../runtime/threads.ts';
import '../runtime/node.ts';
import { timeInterleaved } from './harness.ts';
import { buildWorkload } from './workloads.ts';
import { defineModel, manualSeed, nn } from '../compiler/dsl/index.ts';
import { measureTwoCores, onTwoThreads } from './two-cores.ts';

const arg = (k: string) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : undefined; };
const maxThreads = Number(arg('--threads') ?? 2);
const only = arg('--only')?.split(',') ?? ['gemm512', 'mlp_b64'];
const opts = { warmupMs: 300, budgetMs: 4000, rounds: 8 };

/**
 * Kernel level, on two threads of one module: the barrier, an empty call (post + join) and the
 * compute and read ceilings (two-cores.ts), then one GEMM/GEMV split in two (gemm_f32_part + a
 * barrier) against gemm_f32 on one thread, for the sizes around the split rule
 * (compiler/codegen/ops/linalg.ts).
 */
async function kernelLevel(): Promise<void> {
  const SYNC = 1024, ARGS = 3072, A = 65536, C = 1 << 20, W = 2 << 20;
  const src = `import { barrier, threads_post, threads_join, threads_next, threads_count, threads_done, threads_may_wait } from "./threads";
import { gemm_f32, gemm_f32_part } from "./gemm";
function work(tid: i32, nt: i32): void {
  const reps = load<i32>(${ARGS}), m = load<i32>(${ARGS} + 4), n = load<i32>(${ARGS} + 8), k = load<i32>(${ARGS} + 12);
  for (let i = 0; i < reps; i++) {
    gemm_f32_part(${A}, k, ${W}, ${C}, n, m, n, k, 0, 0, ${SYNC}, tid, nt);
    barrier(${SYNC}, nt);
  }
}
export function worker(tid: i32): void { for (;;) { const id = threads_next(${SYNC}, tid); if (id < 0) return; if (id > 0) work(tid, threads_count(${SYNC})); threads_done(${SYNC}); } }
export function call(id: i32, nt: i32): i32 { threads_post(${SYNC}, id, nt); if (id > 0) work(0, nt); return threads_join(${SYNC}); }
export function serial(): void {
  const reps = load<i32>(${ARGS}), m = load<i32>(${ARGS} + 4), n = load<i32>(${ARGS} + 8), k = load<i32>(${ARGS} + 12);
  for (let i = 0; i < reps; i++) gemm_f32(${A}, k, ${W}, ${C}, n, m, n, k, 0, 0);
}
export function may_wait(y: i32): void { threads_may_wait(y); }
export function quit(nt: i32): void { threads_post(${SYNC}, -1, nt); }`;
  const pages = 320; // 20 MiB: the largest packed W (1792 × 2048 floats) above W
  const { x, memory, stop } = await onTwoThreads({ 'b.ts': src }, 'wasmrelaxedsimd', pages);
  const f32 = new Float32Array(memory.buffer);
  for (let i = A >> 2; i < f32.length; i++) f32[i] = Math.sin(i); // operands only: the sync words below A stay zero
  const args = new Int32Array(memory.buffer, ARGS, 4);
  const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;
  const time = (f: () => void, reps: number) => { const t0 = performance.now(); f(); return (performance.now() - t0) * 1000 / reps; };

  const b = await measureTwoCores([0.5, 1, 2, 4, 8, 14, 32, 64]);
  console.log(`barrier, 2 threads spinning: ${b.barrierUs.toFixed(3)} µs each (median of 7 × 2000); an empty call (post + join): ${b.callUs.toFixed(2)} µs`);
  // A multiply-add loop and reads split over both cores against one core (two-cores.ts): what a
  // 2-thread speedup of compute-bound and of memory-bound work can reach now.
  console.log(`compute-bound work on 2 threads can reach ${b.computeX.toFixed(2)}× one (a multiply-add loop split over both cores)`);
  console.log('| read, 1 thread vs 2 (each half) | 1 thread GB/s | 2 threads GB/s | × |\n| --- | --- | --- | --- |');
  for (const r of b.reads) console.log(`| ${r.mib} MiB | ${r.oneGBs.toFixed(1)} | ${r.twoGBs.toFixed(1)} | ${r.x.toFixed(2)} |`);
  // How long an idle worker spins before it sleeps (SPIN in assembly/threads.ts), and what waking it costs:
  // an empty call after the caller was busy elsewhere for `gap` µs.
  const spinRow: string[] = [];
  for (const gap of [50, 100, 200, 400, 800, 1600, 3200]) {
    const ts: number[] = [];
    for (let r = 0; r < 15; r++) {
      x.call!(0, 2);
      const until = performance.now() + gap / 1000;
      while (performance.now() < until) { /* the caller's other work */ }
      ts.push(time(() => x.call!(0, 2), 1));
    }
    spinRow.push(`${gap} µs → ${med(ts).toFixed(1)} µs`);
  }
  console.log(`an empty call after the caller was away (worker spinning, then asleep): ${spinRow.join(', ')}`);
  console.log('| m × k × n (MACs) | 1 thread µs | 2 threads + barrier µs | × |\n| --- | --- | --- | --- |');
  for (const [m, k, n] of [[1, 128, 256], [1, 256, 256], [1, 256, 512], [1, 512, 512], [1, 1024, 1024], [1, 1792, 2048], [8, 128, 128], [8, 256, 256], [64, 512, 512]] as const) {
    const reps = Math.max(10, Math.round(3e6 / (m * k * n)));
    args.set([reps, m, n, k]);
    const one: number[] = [], two: number[] = [];
    x.serial!(); x.call!(1, 2);
    // An empty call first: the worker, asleep after the serial run, is awake (spinning) when the timed call starts,
    // as it is for every split after an entry's first barrier.
    for (let r = 0; r < 9; r++) { one.push(time(() => x.serial!(), reps)); x.call!(0, 2); two.push(time(() => x.call!(1, 2), reps)); }
    console.log(`| ${m} × ${k} × ${n} (${m * k * n}) | ${med(one).toFixed(2)} | ${med(two).toFixed(2)} | ${(med(one) / med(two)).toFixed(2)} |`);
  }
  await stop();
}

/** A small CNN for the conv2d split rule (no peer has it, so it is not a bench workload): 1.8M and 4.7M multiply-add convolutions. */
function cnn() {
  manualSeed(7);
  const module = new nn.Sequential(
    new nn.Conv2d(3, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(32 * 16 * 16, 10),
  );
  return { def: defineModel({ name: 'cnn', module, inputs: { x: [1, 3, 64, 64] } }), x: Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i * 0.37)), tokens: undefined };
}

async function workloads(): Promise<void> {
  const rows: string[] = ['| workload | 1 thread ms | 1 thread, shared memory ms | ' + Array.from({ length: maxThreads - 1 }, (_, i) => `${i + 2} threads ms (×)`).join(' | ') + ' |', '| --- | --- | --- |' + ' --- |'.repeat(maxThreads - 1)];
  for (const name of only) {
    const w = name === 'cnn' ? cnn() : buildWorkload(name);
    const c = await compileModel(w.def, { isas: ['wasmrelaxedsimd'] });
    const feeds = { [c.manifest.entries.run!.inputs[0]!.name]: w.tokens ?? w.x };
    const models: Model[] = [];
    for (let t = 1; t <= maxThreads; t++) models.push(await loadModelBytes(c.bytes, { threads: t, threadPolicy: 'always' }));
    // One thread on a shared memory: the same code as threads run, without the workers.
    const { manifest, blob } = readContainer(c.bytes);
    const pages = manifest.memory.pages;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const inst = await WebAssembly.instantiate(await WebAssembly.compile(withSharedMemory(blob(manifest.code.wasmrelaxedsimd!), true) as BufferSource), { env: { memory, atomic_wait: atomicWait(memory) } });
    const shared1 = new Model(manifest, 'wasmrelaxedsimd', inst, blob(manifest.weights));
    const all = [models[0]!, shared1, ...models.slice(1)];
    const want = Object.values(all[0]!.run(feeds))[0]!;
    for (const m of all) {
      const got = Object.values(m.run(feeds))[0]!;
      if (!got.every((v, i) => Object.is(v, want[i]))) throw new Error(`${name}: ${m.threads} threads differ from 1 thread`);
    }
    const t = await timeInterleaved(all.map((m) => () => m.run(feeds)), opts);
    const base = t[0]!.medianMs;
    rows.push(`| ${name} | ${base.toFixed(3)} | ${t[1]!.medianMs.toFixed(3)} | ${t.slice(2).map((x) => `${x.medianMs.toFixed(3)} (${(base / x.medianMs).toFixed(2)}×)`).join(' | ')} |`);
    for (const m of all) m.dispose();
  }
  console.log(rows.join('\n'));
}

/**
 * A 2-thread GPT decode step when the caller was away `gap` µs before it (an app's sampling and
 * callbacks between steps): the worker is still spinning or asleep at the start, and a thread
 * woken at one barrier can make the other sleep at the next (see SPIN in assembly/threads.ts).
 */
async function afterAway(): Promise<void> {
  const w = buildWorkload('gpt_decode'), T = (w.spec as { T: number }).T;
  const c = await compileModel(w.def, { isas: ['wasmrelaxedsimd'] });
  const m = await loadModelBytes(c.bytes, { threads: 2, threadPolicy: 'always' });
  m.reset();
  m.prefill(w.tokens!.subarray(0, T - 1));
  const step = () => { m.setState({ pos: Int32Array.of(T - 1) }); m.decode(w.tokens![T - 1]!); };
  for (let i = 0; i < 200; i++) step();
  const rows = ['| away µs | p10 µs | median µs | p99 µs | steps over 1 ms |', '| --- | --- | --- | --- | --- |'];
  for (const gap of [0, 60, 120, 300]) {
    const ts: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const until = performance.now() + gap / 1000;
      while (performance.now() < until) { /* the app's work between steps */ }
      const t0 = performance.now();
      step();
      ts.push((performance.now() - t0) * 1000);
    }
    ts.sort((a, b) => a - b);
    const q = (p: number) => ts[Math.floor(p * (ts.length - 1))]!.toFixed(0);
    rows.push(`| ${gap} | ${q(0.1)} | ${q(0.5)} | ${q(0.99)} | ${ts.filter((t) => t > 1000).length} of ${ts.length} |`);
  }
  m.dispose();
  console.log('GPT decode steps on 2 threads after the caller was away:\n' + rows.join('\n'));
}

const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
console.log(`threads bench (load average ${load} on ${(await import('node:os')).availableParallelism()} cores)`);
await kernelLevel();
await afterAway();
await workloads();
