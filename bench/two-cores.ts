// What two cores do together this run: the barrier's cost, and how far compute-bound and
// memory-bound work can speed up when split in two. bench/main.ts prints these beside the thread
// columns, before and after the workloads, as readings of the machine's state; bench/threads.ts
// prints them in full.
//
// The barrier: two threads of one small module meeting 2,000 times, both spinning
// (assembly/threads.ts), and an empty call (post + join). A barrier moves a line between the two
// cores, so it costs what their distance costs, and on this VM that moves with where the host puts
// the vCPUs: 0.05–0.1 µs in some runs, 0.45–0.54 µs in others. It is not a predictor of the
// thread rows: on 2026-12-02, with it at 0.45–0.54 µs all afternoon, GPT decode on two threads
// read 1.29× its one thread in one full run and 1.73–1.79× a quarter of an hour later, and taking
// 9 of its 34 barriers a step out of an artifact by hand changed nothing measurable (0.98–1.01×).
// Inside a decode step a barrier costs more than here: doubling all 34 made the step 8–10% slower
// (~0.4 µs each, 2026-12-02 evening).
//
// The ceilings: one core's multiply-add loop against the same loop on both cores at once, and a
// read of N MiB by one core against the same read split in halves over both. A 2-thread speedup
// of compute-bound work cannot pass the first, of memory-bound work (a GEMV, a decode step, the
// LSTM's recurrent weights) the second. Within one afternoon the split read of 1 MiB went from
// 1.5× (each core 0.74× its rate alone) to 2.5×: the host decides, not the code.
import { Worker } from 'node:worker_threads';
import { assemble } from '../compiler/codegen/assemble.ts';
import { ATOMIC_WAIT_JS, atomicWait } from '../runtime/threads.ts';
import { PROBES_SRC } from './probes.ts';

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

export interface TwoCores {
  /** One barrier of two spinning threads, and an empty call (post + join), µs. */
  barrierUs: number; callUs: number;
  /** Each core's multiply-add rate with both busy, over one core's alone, times two: compute-bound work's ceiling. */
  computeX: number;
  /** A read of `mib` MiB by one core over the same read in halves on both: memory-bound work's ceiling. */
  reads: { mib: number; oneGBs: number; twoGBs: number; x: number }[];
}

const SYNC = 1024, ARGS = 3072, A = 65536, BARRIERS = 2000;
const SRC = `import { barrier, threads_post, threads_join, threads_next, threads_count, threads_done, threads_may_wait } from "./threads";
import { read_sum, peak_madd } from "./probes";
let sink = 0;
let sinkf: f32 = 0;
function work(id: i32, tid: i32, nt: i32): void {
  const reps = load<i32>(${ARGS}), bytes = load<i32>(${ARGS} + 4);
  if (id == 1) { for (let i = 0; i < ${BARRIERS}; i++) barrier(${SYNC}, nt); return; }
  if (id == 2) sinkf += peak_madd(reps, 0.5);
  if (id == 3) { const share = (bytes / nt) & ~127; sink += read_sum(${A} + <usize>(tid * share), share, reps); }
  barrier(${SYNC}, nt);
}
export function worker(tid: i32): void { for (;;) { const id = threads_next(${SYNC}, tid); if (id < 0) return; if (id > 0) work(id, tid, threads_count(${SYNC})); threads_done(${SYNC}); } }
export function call(id: i32, nt: i32): i32 { threads_post(${SYNC}, id, nt); if (id > 0) work(id, 0, nt); return threads_join(${SYNC}); }
export function peak_serial(): void { sinkf += peak_madd(load<i32>(${ARGS}), 0.5); }
export function read_serial(): void { sink += read_sum(${A}, load<i32>(${ARGS} + 4), load<i32>(${ARGS})); }
export function may_wait(y: i32): void { threads_may_wait(y); }
export function quit(nt: i32): void { threads_post(${SYNC}, -1, nt); }`;

/** Measures the barrier and the two ceilings (reads of each size in `mibs`, at most 64 MiB); medians of 7–15 rounds. */
export async function measureTwoCores(mibs: number[]): Promise<TwoCores> {
  const most = Math.max(0, ...mibs);
  if (!(most <= 64)) throw new Error(`measureTwoCores: reads of at most 64 MiB, got ${most}`);
  const pages = 2 + Math.ceil(most * 16);
  const { x, memory, stop } = await onTwoThreads({ 'b.ts': SRC, 'probes.ts': PROBES_SRC }, 'wasmsimd', pages);
  try {
    const f32 = new Float32Array(memory.buffer);
    for (let i = A >> 2; i < f32.length; i++) f32[i] = Math.sin(i); // operands only: the sync words below A stay zero
    const args = new Int32Array(memory.buffer, ARGS, 2);
    const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;
    const time = (f: () => void, per: number) => { const t0 = performance.now(); f(); return (performance.now() - t0) * 1000 / per; };
    // Each pair of timings starts with the worker awake (an empty call first), as after an entry's first barrier.
    const pair = (rounds: number, one: () => void, two: () => void) => {
      one(); x.call!(0, 2); two();
      const a: number[] = [], b: number[] = [];
      for (let r = 0; r < rounds; r++) { a.push(time(one, 1)); x.call!(0, 2); b.push(time(two, 1)); }
      return [med(a), med(b)] as const;
    };

    x.call!(1, 2);
    const barrierUs: number[] = [], callUs: number[] = [];
    for (let r = 0; r < 7; r++) {
      barrierUs.push(time(() => x.call!(1, 2), BARRIERS));
      callUs.push(time(() => { for (let i = 0; i < 200; i++) x.call!(0, 2); }, 200));
    }
    args.set([1 << 20, 0]);
    const [peakOne, peakTwo] = pair(15, () => x.peak_serial!(), () => x.call!(2, 2));
    const reads = mibs.map((mib) => {
      const bytes = Math.round(mib * (1 << 20)) & ~255, reps = Math.max(1, Math.round((64 << 20) / bytes));
      args.set([reps, bytes]);
      const [one, two] = pair(9, () => x.read_serial!(), () => x.call!(3, 2));
      return { mib, oneGBs: bytes * reps / (one * 1e3), twoGBs: bytes * reps / (two * 1e3), x: one / two };
    });
    return { barrierUs: med(barrierUs), callUs: med(callUs), computeX: 2 * peakOne / peakTwo, reads };
  } finally {
    await stop();
  }
}
