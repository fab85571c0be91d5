// What two cores do together this run: the barrier's cost, and how far compute-bound and
// memory-bound work can speed up when split in two. bench/main.ts times the ceiling of each
// workload's kind in the same rounds as its thread columns, and the barrier before and after the
// workloads, as readings of the machine's state; bench/threads.ts prints them in full.
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
// The ceilings: a multiply-add loop on one core against the same loop split in halves over both
// cores, and a read of N MiB by one core against the same read split likewise. A 2-thread speedup
// of compute-bound work cannot pass the first, of memory-bound work (a GEMV, a decode step, the
// LSTM's recurrent weights) the second. Within one afternoon the split read of 1 MiB went from
// 1.5× (each core 0.74× its rate alone) to 2.5×: the host decides, not the code.
import { Worker } from 'node:worker_threads';
import { assemble } from '../compiler/codegen/assemble.ts';
import { ATOMIC_WAIT_JS, atomicWait } from '../runtime/threads.ts';
import type { Call } from './harness.ts';
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
  /** A multiply-add loop on one core over the same loop split in halves on both: compute-bound work's ceiling. */
  computeX: number;
  /** A read of `mib` MiB by one core over the same read in halves on both: memory-bound work's ceiling. */
  reads: { mib: number; oneGBs: number; twoGBs: number; x: number }[];
}

/** The probes on two threads, kept open between measurements (one worker; see onTwoThreads). */
export interface TwoCoresProbe {
  /** One core's multiply-add loop, then the same loop split in halves over both cores: calls for timeInterleaved. */
  compute(): [Call, Call];
  /** One core reading `bytes` (at most the `maxMib` opened), then both cores reading a half each. */
  read(bytes: number): [Call, Call];
  /** The barrier and the ceilings now, reads of each size in `mibs`; medians of 7–15 rounds. */
  measure(mibs: number[]): TwoCores;
  stop(): Promise<void>;
}

const SYNC = 1024, ARGS = 3072, A = 65536, BARRIERS = 2000, PEAK_ITERS = 1 << 16;
const SLEEPERS = SYNC + 320; // assembly/threads.ts's sync region: threads asleep
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

/** Opens the probes for reads of up to `maxMib` MiB (at most 64). */
export async function openTwoCores(maxMib: number): Promise<TwoCoresProbe> {
  if (!(maxMib > 0 && maxMib <= 64)) throw new Error(`openTwoCores: maxMib must be more than 0 and at most 64, got ${maxMib}`);
  const { x, memory, stop } = await onTwoThreads({ 'b.ts': SRC, 'probes.ts': PROBES_SRC }, 'wasmsimd', 2 + Math.ceil(maxMib * 16));
  const f32 = new Float32Array(memory.buffer), words = new Int32Array(memory.buffer);
  for (let i = A >> 2; i < f32.length; i++) f32[i] = Math.sin(i); // operands only: the sync words below A stay zero
  const args = new Int32Array(memory.buffer, ARGS, 2);
  const limit = Math.floor(maxMib * (1 << 20)) & ~255;
  const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;
  const time = (f: () => void) => { const t0 = performance.now(); f(); return performance.now() - t0; };
  // The worker spins ~100 µs after a call before it sleeps (assembly/threads.ts): a timed two-core
  // call starts with it awake (an empty call first), and the next engine starts with it asleep.
  const asleep = () => { const t0 = performance.now(); while (Atomics.load(words, SLEEPERS >> 2) === 0 && performance.now() - t0 < 5) { /* its spin */ } };
  const timed = (setup: () => void, run: () => void, both: boolean): Call => ({
    time: async (calls) => {
      setup();
      if (both) x.call!(0, 2);
      const ts = Array.from({ length: calls }, () => time(run));
      if (both) asleep();
      return ts;
    },
  });
  /** Sets up a read of `bytes`, repeated to at least `perCall` bytes a call. */
  const reading = (bytes: number, perCall: number) => {
    if (!(bytes >= 256 && bytes <= limit)) throw new Error(`TwoCoresProbe.read: 256 B to ${limit} B (opened for ${maxMib} MiB), got ${bytes}`);
    const b = bytes & ~255;
    return () => args.set([Math.max(1, Math.round(perCall / b)), b]);
  };
  const probe: TwoCoresProbe = {
    compute: () => [timed(() => args.set([PEAK_ITERS, 0]), () => x.peak_serial!(), false), timed(() => args.set([PEAK_ITERS >> 1, 0]), () => x.call!(2, 2), true)],
    read: (bytes) => { const setup = reading(bytes, 4 << 20); return [timed(setup, () => x.read_serial!(), false), timed(setup, () => x.call!(3, 2), true)]; },
    measure(mibs) {
      x.call!(1, 2);
      const barrierUs: number[] = [], callUs: number[] = [];
      for (let r = 0; r < 7; r++) {
        barrierUs.push(time(() => x.call!(1, 2)) * 1000 / BARRIERS);
        callUs.push(time(() => { for (let i = 0; i < 200; i++) x.call!(0, 2); }) * 1000 / 200);
      }
      // Each pair of timings starts with the worker awake (an empty call first), as after an entry's first barrier.
      const pair = (rounds: number, one: () => void, two: () => void) => {
        one(); x.call!(0, 2); two();
        const a: number[] = [], b: number[] = [];
        for (let r = 0; r < rounds; r++) { a.push(time(one)); x.call!(0, 2); b.push(time(two)); }
        return [med(a), med(b)] as const;
      };
      const [peakOne, peakTwo] = pair(15, () => { args.set([16 * PEAK_ITERS, 0]); x.peak_serial!(); }, () => { args.set([8 * PEAK_ITERS, 0]); x.call!(2, 2); });
      const reads = mibs.map((mib) => {
        const setup = reading(Math.round(mib * (1 << 20)), 64 << 20);
        setup();
        const [bytes, reps] = [args[1]!, args[0]!];
        const [one, two] = pair(9, () => x.read_serial!(), () => x.call!(3, 2));
        return { mib, oneGBs: bytes * reps / (one * 1e6), twoGBs: bytes * reps / (two * 1e6), x: one / two };
      });
      asleep();
      return { barrierUs: med(barrierUs), callUs: med(callUs), computeX: peakOne / peakTwo, reads };
    },
    stop,
  };
  return probe;
}

/** The barrier and the ceilings once (a probe opened and stopped). */
export async function measureTwoCores(mibs: number[]): Promise<TwoCores> {
  const p = await openTwoCores(Math.max(1, ...mibs));
  try { return p.measure(mibs); } finally { await p.stop(); }
}
