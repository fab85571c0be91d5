// assembly/threads.ts on real threads (Node workers on one shared memory): the barrier lets no
// thread through before all arrive (each round every thread writes its slot, meets the others,
// then checks every slot), calls are posted and joined, an abort releases a waiting thread (which
// traps) instead of leaving it at the barrier, the protocol works again after a reset, the
// barrier holds in a fresh module's first call (V8's Liftoff code) as well as later, claim()
// hands out every unit of a node exactly once, and a recurrent layer's threads move their ranges
// of units when one runs slow and still give one thread's results bit for bit.
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { assemble } from '../../compiler/codegen/assemble.ts';
import { ATOMIC_WAIT_JS, atomicWait } from '../../runtime/threads.ts';

const SYNC = 256, SLOTS = 2048, NT = 3; // the sync region (SYNC_BYTES, 1536) ends below SLOTS
const MARKS = 32768, CLAIMS = 10000; // call id CLAIMS + n: n claiming nodes
// An LSTM layer (call id LSTM): H 256 (32 unit blocks), T steps, batch 1; thread ARGS[0] burns
// ARGS[1] iterations before each of its steps; each thread's range at the end goes to RANGES[tid].
const LSTM = 9999, H = 256, T = 24, ARGS = 3072, RANGES = 3136, PAGES = 40; // SLOTS' words end at 2124, AssemblyScript's data starts at 4096
const RNN = { xp: 65536, w: 196608, h0: 1376256, c0: 1377280, y: 1378304, hn: 1402880, cn: 1403904, scratch: 1404928, y1: 1474560, hn1: 1499136, cn1: 1500160 };
const SRC = `import { barrier, claim, threads_post, threads_join, threads_next, threads_count, threads_done, threads_abort, threads_reset, threads_may_wait } from "./threads";
import { lstm_seq_f32, lstm_step_f32, rnn_begin_f32, rnn_end_f32, rnn_thread_range } from "./rnn";
let sink: i32 = 0;
function lstm(tid: i32, nt: i32): void {
  const slow = load<i32>(${ARGS}), burn = load<i32>(${ARGS} + 4);
  rnn_begin_f32(1, ${RNN.h0}, ${RNN.c0}, ${RNN.scratch}, 1, ${H}, ${SYNC}, tid, nt);
  for (let s = 0; s < ${T}; s++) {
    barrier(${SYNC}, nt);
    if (tid == slow) for (let i = 0; i < burn; i++) sink = (sink ^ i) * 31;
    lstm_step_f32(${RNN.xp}, ${RNN.w}, ${RNN.y}, ${RNN.scratch}, 1, ${T}, ${H}, ${4 * H}, ${H}, 0, s, ${SYNC}, tid, nt);
  }
  rnn_end_f32(1, ${RNN.hn}, ${RNN.cn}, ${RNN.scratch}, 1, ${T}, ${H}, ${SYNC}, tid, nt);
  store<i32>(${RANGES} + (<usize>tid << 2), rnn_thread_range());
  store<i32>(${ARGS} + 8, sink); // so the burn is not optimized away
}
/** The same layer on this thread alone, into y1, hn1, cn1. */
export function lstm_one(): void {
  lstm_seq_f32(${RNN.xp}, ${RNN.w}, ${RNN.h0}, ${RNN.c0}, ${RNN.y1}, ${RNN.hn1}, ${RNN.cn1}, ${RNN.scratch}, 1, ${T}, ${H}, ${4 * H}, ${H}, 0);
}
/** n claiming nodes, a barrier after each: node k has 5 + 7·k units; a unit taken adds 1 to its mark (k·256 + unit), then works a little. */
function claims(nt: i32, n: i32): void {
  for (let k = 0; k < n; k++) {
    const count = 5 + 7 * k;
    for (let u = claim(${SYNC}, count, nt); u >= 0; u = claim(${SYNC}, count, nt)) {
      atomic.add<i32>(${MARKS} + (<usize>(k * 256 + u) << 2), 1);
      for (let s = 0; s < 500; s++) sink = (sink ^ s) * 31;
    }
    barrier(${SYNC}, nt);
  }
}
/** id > 0: id rounds of write slot, barrier, check all slots, barrier; id == 0 on thread 2: trap. Returns bad checks. */
function rounds(tid: i32, nt: i32, n: i32): i32 {
  let bad = 0;
  for (let r = 1; r <= n; r++) {
    store<i32>(${SLOTS} + (<usize>tid << 2), r);
    barrier(${SYNC}, nt);
    for (let t = 0; t < nt; t++) if (load<i32>(${SLOTS} + (<usize>t << 2)) != r) bad++;
    barrier(${SYNC}, nt);
  }
  return bad;
}
export function worker(tid: i32): void {
  for (;;) {
    const id = threads_next(${SYNC}, tid);
    if (id < 0) return;
    const nt = threads_count(${SYNC});
    if (id >= ${CLAIMS}) claims(nt, id - ${CLAIMS});
    else if (id == ${LSTM}) lstm(tid, nt);
    else if (id == 0) { if (tid == 2) unreachable(); barrier(${SYNC}, nt); }
    else store<i32>(${SLOTS} + 64 + (<usize>tid << 2), rounds(tid, nt, id));
    threads_done(${SYNC});
  }
}
export function call(id: i32, nt: i32): i32 {
  threads_post(${SYNC}, id, nt);
  if (id >= ${CLAIMS}) claims(nt, id - ${CLAIMS});
  else if (id == ${LSTM}) lstm(0, nt);
  else if (id == 0) barrier(${SYNC}, nt);
  else store<i32>(${SLOTS} + 64, rounds(0, nt, id));
  return threads_join(${SYNC});
}
export function abort(): void { threads_abort(${SYNC}); }
export function done(): void { threads_done(${SYNC}); }
export function join(): i32 { return threads_join(${SYNC}); }
export function reset(): void { threads_reset(${SYNC}); }
export function quit(nt: i32): void { threads_post(${SYNC}, -1, nt); }
export function may_wait(y: i32): void { threads_may_wait(y); }
`;

// A worker that traps reports it the way runtime/threads.ts does: abort (release the barrier), then
// done. After a quit it says so and takes the next module.
const WORKER = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', async ({ module, memory, tid }) => {
  ${ATOMIC_WAIT_JS}
  const x = (await WebAssembly.instantiate(module, { env: { memory, atomic_wait } })).exports;
  x.may_wait(1);
  parentPort.postMessage('ready');
  for (;;) { try { x.worker(tid); break; } catch (e) { x.abort(); x.done(); } }
  parentPort.postMessage('quit');
});`;

type Exports = Record<string, (...a: number[]) => number>;
let wasm: Uint8Array;
let x: Exports;
let i32: Int32Array;
const workers: Worker[] = [];

/** Instantiates `module` on a fresh memory, on this thread and on every worker. */
async function start(module: WebAssembly.Module): Promise<{ x: Exports; i32: Int32Array }> {
  const memory = new WebAssembly.Memory({ initial: PAGES, maximum: PAGES, shared: true });
  const x = (await WebAssembly.instantiate(module, { env: { memory, atomic_wait: atomicWait(memory) } })).exports as Exports;
  x.may_wait!(1);
  for (const [k, w] of workers.entries()) await new Promise((r) => { w.once('message', r); w.postMessage({ module, memory, tid: k + 1 }); });
  return { x, i32: new Int32Array(memory.buffer) };
}
async function quit(x: Exports): Promise<void> {
  const left = workers.map((w) => new Promise((r) => w.once('message', r)));
  x.quit!(NT);
  await Promise.all(left);
}

beforeAll(async () => {
  ({ wasm } = await assemble({ sources: { '__threads_test.ts': SRC }, entry: '__threads_test.ts', isa: 'wasmsimd', memoryBase: 4096, initialPages: PAGES, sharedMemory: true }));
  for (let tid = 1; tid < NT; tid++) workers.push(new Worker(WORKER, { eval: true }));
  ({ x, i32 } = await start(await WebAssembly.compile(wasm as BufferSource)));
});
afterAll(async () => {
  await quit(x);
  await Promise.all(workers.map((w) => w.terminate()));
});

describe('threads kernel', () => {
  test('the barrier holds every thread until all arrive, round after round, on 3 and 2 threads', () => {
    for (const nt of [3, 2, 3]) {
      i32.fill(0, SLOTS >> 2, (SLOTS >> 2) + 40);
      expect(x.call!(300, nt)).toBe(0);
      expect(Array.from(i32.subarray((SLOTS + 64) >> 2, ((SLOTS + 64) >> 2) + nt))).toEqual(new Array(nt).fill(0));
    }
  });

  test('a trapping worker releases the others from the barrier (they trap, none hangs); after a reset calls work again', () => {
    // Thread 2 traps; thread 0 waits at the barrier: it must trap too, not hang.
    expect(() => x.call!(0, 3)).toThrow(/unreachable/);
    x.abort!();
    expect(x.join!()).toBe(1);
    x.reset!();
    expect(x.call!(500, 3)).toBe(0);
    // On 2 threads the trapping thread takes no part: no abort.
    expect(x.call!(0, 2)).toBe(0);
  });

  test('claim() hands out every unit of a node exactly once; a barrier between nodes is all the accounting needs', () => {
    const nodes = 30, counts = Array.from({ length: nodes }, (_, k) => 5 + 7 * k);
    for (const nt of [3, 2, 1, 3]) {
      i32.fill(0, MARKS >> 2, (MARKS >> 2) + nodes * 256);
      expect(x.call!(CLAIMS + nodes, nt)).toBe(0);
      counts.forEach((count, k) => {
        const marks = Array.from(i32.subarray((MARKS >> 2) + k * 256, (MARKS >> 2) + (k + 1) * 256));
        expect(marks, `node ${k} on ${nt} threads`).toEqual(marks.map((_, u) => (u < count ? 1 : 0)));
      });
      // Each node used exactly count + nt of the counter (every thread's last claim returns -1).
      expect(i32[(SYNC + 128) >> 2]).toBe(counts.reduce((a, c) => a + c + nt, 0));
    }
  });

  test('a recurrent layer\'s threads move their ranges when one runs slow, and the results stay one thread\'s bit for bit', () => {
    const f32 = new Float32Array(i32.buffer);
    let seed = 7;
    const fill = (at: number, n: number, scale: number) => { for (let i = 0; i < n; i++) { seed = (seed * 1103515245 + 12345) >>> 0; f32[(at >> 2) + i] = (seed / 2 ** 32 - 0.5) * scale; } };
    fill(RNN.xp, T * 4 * H, 2);
    fill(RNN.w, 32 * 4 * (H + 1) * 8, 0.12); // 32 unit blocks × 4 gate panels of (H + 1) rows × 8 floats (bias row included)
    fill(RNN.h0, H, 1);
    fill(RNN.c0, H, 1);
    x.lstm_one!();
    const one = (at: number, n: number) => Array.from(f32.subarray(at >> 2, (at >> 2) + n));
    const want = [one(RNN.y1, T * H), one(RNN.hn1, H), one(RNN.cn1, H)];
    expect(want[0]!.every(Number.isFinite) && want[0]!.some((v) => v !== 0)).toBe(true);
    // nt and the thread that runs slow (-1: none). Which way the ranges move depends on the
    // machine's timing (a thread woken from a sleep runs late too), so this checks what must hold
    // however they move: results bit for bit, ranges that tile the blocks, and moves when a thread
    // is ~35 µs late at every step (the other thread's wait is then far over BALANCE_SPINS).
    for (const [nt, slow] of [[2, 1], [2, 0], [3, 1], [3, 2], [2, -1]] as const) {
      i32[ARGS >> 2] = slow;
      i32[(ARGS >> 2) + 1] = 40000;
      f32.fill(NaN, RNN.y >> 2, (RNN.cn + 4 * H) >> 2);
      f32.fill(NaN, RNN.scratch >> 2, (RNN.scratch >> 2) + 10000);
      expect(x.call!(LSTM, nt)).toBe(0);
      const label = `${nt} threads, slow thread ${slow}`;
      expect(one(RNN.y, T * H), label).toEqual(want[0]);
      expect(one(RNN.hn, H), label).toEqual(want[1]);
      expect(one(RNN.cn, H), label).toEqual(want[2]);
      const ranges = Array.from(i32.subarray(RANGES >> 2, (RANGES >> 2) + nt), (r) => ({ lo: r & 1023, hi: (r >> 10) & 1023, moves: r >> 20 }));
      expect(ranges.map((r) => r.lo), label).toEqual([0, ...ranges.slice(0, -1).map((r) => r.hi)]);
      expect(ranges[nt - 1]!.hi, label).toBe(32);
      for (const r of ranges) expect(r.hi - r.lo, label).toBeGreaterThanOrEqual(1);
      if (slow >= 0) expect(ranges[slow]!.moves, label).toBeGreaterThan(0);
    }
  });

  // V8 (Node 20) runs a fresh module's first calls as Liftoff code, where memory.atomic.wait32
  // let a barrier pass early in about one first call in six (more under load). A custom section
  // with a counter makes each module new to V8's cache, so each first call runs Liftoff code.
  test('the first call of a fresh module holds the barrier too (24 modules, 3 threads)', async () => {
    await quit(x);
    const bad: string[] = [];
    for (let m = 0; m < 24; m++) {
      const tag = new TextEncoder().encode(`fresh${m}`);
      const fresh = await WebAssembly.compile(new Uint8Array([...wasm, 0, tag.length + 1, tag.length, ...tag]));
      const f = await start(fresh);
      x = f.x; // afterAll quits the last one
      const r = x.call!(300, 3);
      const counts = Array.from(f.i32.subarray((SLOTS + 64) >> 2, ((SLOTS + 64) >> 2) + 3));
      if (r !== 0 || counts.some((c) => c !== 0)) bad.push(`module ${m}: abort ${r}, bad checks ${counts}`);
      if (m < 23) await quit(x);
    }
    expect(bad).toEqual([]);
  });
});
