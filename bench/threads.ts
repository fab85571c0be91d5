// Threads, measured: (1) the barrier's cost (two threads meeting N times, both spinning) and a
// whole empty call (post + join); (2) one thread on shared memory against today's unshared
// memory (same code); (3) gemm512 and mlp_b64 with 1, 2 (and --threads N) threads, interleaved,
// medians, outputs checked bit for bit against 1 thread.
//   npx tsx bench/threads.ts [--threads N] [--only gemm512,mlp_b64]
import { Worker } from 'node:worker_threads';
import { assemble } from '../compiler/codegen/assemble.ts';
import { compileModel } from '../compiler/driver/compile.ts';
import { readContainer } from '../runtime/format.ts';
import { loadModelBytes, Model } from '../runtime/model.ts';
import { withSharedMemory } from '../runtime/threads.ts';
import '../runtime/node.ts';
import { timeInterleaved } from './harness.ts';
import { buildWorkload } from './workloads.ts';

const arg = (k: string) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : undefined; };
const maxThreads = Number(arg('--threads') ?? 2);
const only = arg('--only')?.split(',') ?? ['gemm512', 'mlp_b64'];
const opts = { warmupMs: 300, budgetMs: 4000, rounds: 8 };

async function barrierCost(): Promise<void> {
  const SYNC = 1024;
  const src = `import { barrier, threads_post, threads_join, threads_next, threads_count, threads_done, threads_may_wait } from "./threads";
export function bars(n: i32, nt: i32): void { for (let i = 0; i < n; i++) barrier(${SYNC}, nt); }
export function worker(tid: i32): void { for (;;) { const id = threads_next(${SYNC}, tid); if (id < 0) return; if (id > 0) bars(id, threads_count(${SYNC})); threads_done(${SYNC}); } }
export function call(n: i32, nt: i32): i32 { threads_post(${SYNC}, n, nt); if (n > 0) bars(n, nt); return threads_join(${SYNC}); }
export function may_wait(y: i32): void { threads_may_wait(y); }
export function quit(nt: i32): void { threads_post(${SYNC}, -1, nt); }`;
  const { wasm } = await assemble({ sources: { 'b.ts': src }, entry: 'b.ts', isa: 'wasmsimd', memoryBase: 4096, initialPages: 1, sharedMemory: true });
  const module = await WebAssembly.compile(wasm as BufferSource);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const x = (await WebAssembly.instantiate(module, { env: { memory } })).exports as Record<string, (...a: number[]) => number>;
  x.may_wait!(1);
  const w = new Worker(`const { parentPort } = require('node:worker_threads');
parentPort.on('message', async ({ module, memory }) => { const x = (await WebAssembly.instantiate(module, { env: { memory } })).exports; x.may_wait(1); parentPort.postMessage(1); x.worker(1); });`, { eval: true });
  await new Promise((r) => { w.once('message', r); w.postMessage({ module, memory }); });
  const N = 20000;
  x.call!(N, 2); // warm-up
  const per: number[] = [], empty: number[] = [];
  for (let r = 0; r < 7; r++) {
    let t0 = performance.now();
    x.call!(N, 2);
    per.push((performance.now() - t0) * 1000 / N);
    t0 = performance.now();
    for (let i = 0; i < 1000; i++) x.call!(0, 2);
    empty.push((performance.now() - t0));
  }
  const med = (a: number[]) => a.sort((p, q) => p - q)[a.length >> 1]!;
  console.log(`barrier, 2 threads spinning: ${med(per).toFixed(3)} µs each (median of 7 × ${N}); an empty call (post + join): ${med(empty).toFixed(2)} µs`);
  x.quit!(2);
  await w.terminate();
}

async function workloads(): Promise<void> {
  const rows: string[] = ['| workload | 1 thread ms | 1 thread, shared memory ms | ' + Array.from({ length: maxThreads - 1 }, (_, i) => `${i + 2} threads ms (×)`).join(' | ') + ' |', '| --- | --- | --- |' + ' --- |'.repeat(maxThreads - 1)];
  for (const name of only) {
    const w = buildWorkload(name);
    const c = await compileModel(w.def, { isas: ['wasmrelaxedsimd'] });
    const feeds = { [c.manifest.entries.run!.inputs[0]!.name]: w.x };
    const models: Model[] = [];
    for (let t = 1; t <= maxThreads; t++) models.push(await loadModelBytes(c.bytes, { threads: t }));
    // One thread on a shared memory: the same code as threads run, without the workers.
    const { manifest, blob } = readContainer(c.bytes);
    const pages = manifest.memory.pages;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const inst = await WebAssembly.instantiate(await WebAssembly.compile(withSharedMemory(blob(manifest.code.wasmrelaxedsimd!), true) as BufferSource), { env: { memory } });
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

const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
console.log(`threads bench (load average ${load} on ${(await import('node:os')).availableParallelism()} cores)`);
await barrierCost();
await workloads();
