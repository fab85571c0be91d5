// assembly/threads.ts on real threads (Node workers on one shared memory): the barrier lets no
// thread through before all arrive (each round every thread writes its slot, meets the others,
// then checks every slot), calls are posted and joined, an abort releases a waiting thread (which
// traps) instead of leaving it at the barrier, and the protocol works again after a reset.
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { assemble } from '../../compiler/codegen/assemble.ts';

const SYNC = 256, SLOTS = 2048, NT = 3; // the sync region (SYNC_BYTES, 1536) ends below SLOTS
const SRC = `import { barrier, threads_post, threads_join, threads_next, threads_count, threads_done, threads_abort, threads_reset, threads_may_wait } from "./threads";
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
    if (id == 0) { if (tid == 2) unreachable(); barrier(${SYNC}, nt); }
    else store<i32>(${SLOTS} + 64 + (<usize>tid << 2), rounds(tid, nt, id));
    threads_done(${SYNC});
  }
}
export function call(id: i32, nt: i32): i32 {
  threads_post(${SYNC}, id, nt);
  if (id == 0) barrier(${SYNC}, nt);
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

// A worker that traps reports it the way runtime/threads.ts does: abort (release the barrier), then done.
const WORKER = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', async ({ module, memory, tid }) => {
  const x = (await WebAssembly.instantiate(module, { env: { memory } })).exports;
  x.may_wait(1);
  parentPort.postMessage('ready');
  for (;;) { try { x.worker(tid); return; } catch (e) { x.abort(); x.done(); } }
});`;

let x: Record<string, (...a: number[]) => number>;
let i32: Int32Array;
const workers: Worker[] = [];

beforeAll(async () => {
  const { wasm } = await assemble({ sources: { '__threads_test.ts': SRC }, entry: '__threads_test.ts', isa: 'wasmsimd', memoryBase: 4096, initialPages: 1, sharedMemory: true });
  const module = await WebAssembly.compile(wasm as BufferSource);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  x = (await WebAssembly.instantiate(module, { env: { memory } })).exports as typeof x;
  x.may_wait!(1);
  i32 = new Int32Array(memory.buffer);
  for (let tid = 1; tid < NT; tid++) {
    const w = new Worker(WORKER, { eval: true });
    workers.push(w);
    await new Promise((r) => { w.once('message', r); w.postMessage({ module, memory, tid }); });
  }
});
afterAll(async () => {
  x.quit!(NT);
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
});
