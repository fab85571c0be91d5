// The barrier's cost this run: two threads of one small module meeting 2,000 times, both
// spinning (assembly/threads.ts), and an empty call (post + join). A barrier moves a line
// between the two cores, so it costs what their distance costs, and on this VM that moves with
// where the host puts the vCPUs: 0.05–0.1 µs in some runs, 0.45–0.54 µs in others. bench/main.ts
// prints it beside the thread columns as a reading of the machine's state, not as a predictor of
// them: on 2026-12-02, with it at 0.45–0.54 µs all afternoon, GPT decode on two threads read 1.29×
// its one thread in one full run and 1.73–1.79× a quarter of an hour later (one thread 217 µs a
// step, then 282–294), and taking 9 of its 34 barriers a step out of an artifact by hand changed
// nothing measurable (0.98–1.01× against a copy of the same build).
import { Worker } from 'node:worker_threads';
import { assemble } from '../compiler/codegen/assemble.ts';
import { ATOMIC_WAIT_JS, atomicWait } from '../runtime/threads.ts';

type Exports = Record<string, (...a: number[]) => number>;

/**
 * One module on two threads of one shared memory: this thread's instance, and a worker running
 * the module's `worker(1)` (its source exports worker, call, may_wait and quit, as below).
 * `stop()` posts quit and ends the worker.
 */
export async function onTwoThreads(sources: Record<string, string>, isa: 'wasmsimd' | 'wasmrelaxedsimd', pages: number):
    Promise<{ x: Exports; memory: WebAssembly.Memory; stop(): Promise<void> }> {
  const { wasm } = await assemble({ sources, entry: 'b.ts', isa, memoryBase: 4096, initialPages: pages, sharedMemory: true });
  const module = await WebAssembly.compile(wasm as BufferSource);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const x = (await WebAssembly.instantiate(module, { env: { memory, atomic_wait: atomicWait(memory) } })).exports as Exports;
  x.may_wait!(1);
  const w = new Worker(`const { parentPort } = require('node:worker_threads');
parentPort.on('message', async ({ module, memory }) => { ${ATOMIC_WAIT_JS}
  const x = (await WebAssembly.instantiate(module, { env: { memory, atomic_wait } })).exports; x.may_wait(1); parentPort.postMessage(1); x.worker(1); });`, { eval: true });
  await new Promise((r) => { w.once('message', r); w.postMessage({ module, memory }); });
  return { x, memory, stop: async () => { x.quit!(2); await w.terminate(); } };
}

export async function measureBarrier(): Promise<{ barrierUs: number; callUs: number }> {
  const SYNC = 1024, REPS = 2000;
  const src = `import { barrier, threads_post, threads_join, threads_next, threads_count, threads_done, threads_may_wait } from "./threads";
function work(nt: i32): void { for (let i = 0; i < ${REPS}; i++) barrier(${SYNC}, nt); }
export function worker(tid: i32): void { for (;;) { const id = threads_next(${SYNC}, tid); if (id < 0) return; if (id > 0) work(threads_count(${SYNC})); threads_done(${SYNC}); } }
export function call(id: i32, nt: i32): i32 { threads_post(${SYNC}, id, nt); if (id > 0) work(nt); return threads_join(${SYNC}); }
export function may_wait(y: i32): void { threads_may_wait(y); }
export function quit(nt: i32): void { threads_post(${SYNC}, -1, nt); }`;
  const { x, stop } = await onTwoThreads({ 'b.ts': src }, 'wasmsimd', 1);
  try {
    const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;
    const time = (f: () => void, per: number) => { const t0 = performance.now(); f(); return (performance.now() - t0) * 1000 / per; };
    x.call!(1, 2);
    const barrierUs: number[] = [], callUs: number[] = [];
    for (let r = 0; r < 7; r++) {
      barrierUs.push(time(() => x.call!(1, 2), REPS));
      callUs.push(time(() => { for (let i = 0; i < 200; i++) x.call!(0, 2); }, 200));
    }
    return { barrierUs: med(barrierUs), callUs: med(callUs) };
  } finally {
    await stop();
  }
}
