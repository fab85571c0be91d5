// Threads on one shared memory: the call protocol and the barrier. Every thread (the caller's
// "thread 0" and the workers 1..nt-1) runs its own instance of the same module on the same memory;
// only this file's words, in the sync region the layout reserves (codegen/layout.ts), are shared
// state. Globals are per instance (MAY_WAIT below), never shared.
//
// Sync region (`sync`, SYNC_BYTES long), each hot word on its own 64-byte line:
//   +0    SEQ      call counter: thread 0 bumps it to post a call; idle workers wait for it to move
//   +8    CALL     the posted call, one i64: seq << 32 | entry id (16 bits, -1: quit) << 16 | thread count
//   +16   BASE     thread 0's barrier count when it posted the call: every thread of the call counts from it
//   +64   PENDING  workers still inside the posted call (thread 0 joins on it reaching 0)
//   +128  CLAIM    work units handed out by claim() in this call (thread 0 zeroes it when it posts)
//   +256  ABORT    set when any thread trapped: threads at a barrier trap too, so none hangs
//   +320  SLEEPERS threads asleep in host_wait (notify is skipped when none sleeps)
//   +384  SEEN[t]  the SEQ of the last call worker t took (so a worker that trapped resumes right)
//   +448  SIZES    the posted call's named sizes (up to 16 i32, written by the runtime before the call)
//   +512  ARRIVE[t] thread t's barrier count, one 64-byte line per thread (MAX_THREADS lines);
//         in the same line, +4 and +8, what t waited at its last barriers (barrier_waited)
//
// Waiting spins first, then sleeps: a call that must wake a worker through a wait and notify costs
// ~100–120 µs on this machine, a barrier of two spinning threads 0.05–0.5 µs (bench/threads.ts; it
// moves a line between the vCPUs, so it costs what their distance costs),
// and a sleep-only barrier made an LSTM 0.56× slower (issue 11).
// A thread that may not block (a browser's main thread: Atomics.wait throws there) only spins.

export const MAX_THREADS: i32 = 16;
export const SYNC_BYTES: i32 = 1536; // ARRIVE + 64·MAX_THREADS
/** Where the posted call's named sizes are, and how many fit (an entry with more runs on thread 0 alone). */
export const SYNC_SIZES: i32 = 448;
export const SYNC_MAX_SIZES: i32 = 16;

const SEQ: usize = 0, CALL: usize = 8, BASE: usize = 16, PENDING: usize = 64, CLAIM: usize = 128,
  ABORT: usize = 256, SLEEPERS: usize = 320, SEEN: usize = 384, ARRIVE: usize = 512;

/**
 * Spins before sleeping: 2^18 atomic loads, ~100 µs here (~0.4 ns a load), about what a wake
 * costs (80 µs median, 115 µs p90 here): spinning as long as a wake costs is never worse than
 * twice the better choice made in hindsight. 2^17 (~50 µs here) was shorter than most wakes,
 * and a thread woken at one barrier is late at the next by its wake, so short spins let one
 * sleep beget another. 2-thread GPT decode steps, two builds interleaved in one process: 60 µs
 * apart, median 168–176 → 144–152 µs (the worker still spins) and p99 7–27% lower; over gaps of
 * 0–120 µs, 30 → 17 of 8,450 steps over 1 ms. bench/threads.ts times such steps.
 */
const SPIN: i32 = 1 << 18;

let MAY_WAIT: bool = false;
let CALL_NT: i32 = 1;
/** Per instance, so per thread: this thread's id in the call (0 on the caller's thread) and its barrier count. */
let TID: i32 = 0;
let BARRIERS: i32 = 0;
/** Per thread: spins it waited at its last barrier (i32.MAX_VALUE past SPIN: it slept, or spun on uncounted); see barrier_waited. */
let WAITED: i32 = 0;
let SLEPT: bool = false;
/** Per thread: CLAIM's value when the current claiming node began (see claim). */
let CLAIM_BASE: i32 = 0;

/**
 * Sleeps while the i32 at p holds v: the host's Atomics.wait, not the wasm instruction.
 * Node 20's V8 (11.3) let a barrier pass early after memory.atomic.wait32 in Liftoff code: in
 * fresh modules on 3 threads under load, 22 of 120 first calls broke the barrier, 0 of 120 with
 * this import, 0 of 120 with TurboFan only (tests/kernels/threads.test.ts keeps the fresh-module
 * test). Threads that may not block (MAY_WAIT false) never call it.
 */
@external("env", "atomic_wait")
declare function host_wait(p: usize, v: i32): void;

/** Per instance: may this thread block (false on a browser's main thread, where waiting throws)? */
export function threads_may_wait(yes: i32): void { MAY_WAIT = yes != 0; }

/** Returns once *p != v: spins, then sleeps when allowed. */
function wait_while(sync: usize, p: usize, v: i32): void {
  for (let i = 0; i < SPIN; i++) if (atomic.load<i32>(p) != v) return;
  if (!MAY_WAIT) {
    while (atomic.load<i32>(p) == v) {}
    return;
  }
  atomic.add<i32>(sync + SLEEPERS, 1);
  while (atomic.load<i32>(p) == v) host_wait(p, v);
  atomic.sub<i32>(sync + SLEEPERS, 1);
}

@inline function wake(sync: usize, p: usize): void {
  if (atomic.load<i32>(sync + SLEEPERS)) atomic.notify(p, -1);
}

/**
 * Returns once the barrier count at p has reached e (wrap-safe) or a thread trapped (ABORT; the
 * caller checks): spins up to `spins` loads, then sleeps when allowed. Returns the spins left (all
 * of SPIN again after a sleep), so a barrier spins at most SPIN loads between sleeps however many
 * threads it waits for. threads_abort moves every count after setting ABORT, so a sleep can
 * never start on a count that no longer moves.
 */
function wait_reached(sync: usize, p: usize, e: i32, spins: i32): i32 {
  for (; spins > 0; spins--) if (atomic.load<i32>(p) - e >= 0 || atomic.load<i32>(sync + ABORT)) return spins;
  SLEPT = true;
  if (!MAY_WAIT) {
    while (atomic.load<i32>(p) - e < 0 && !atomic.load<i32>(sync + ABORT)) {}
    return SPIN;
  }
  atomic.add<i32>(sync + SLEEPERS, 1);
  for (;;) {
    const v = atomic.load<i32>(p);
    if (v - e >= 0 || atomic.load<i32>(sync + ABORT)) break;
    host_wait(p, v);
  }
  atomic.sub<i32>(sync + SLEEPERS, 1);
  return SPIN;
}

/**
 * All `nt` threads meet here: none returns before every one has arrived, so what any thread
 * wrote before is visible to all after. Traps when another thread trapped (ABORT).
 *
 * Each thread counts its barriers in a line of its own (ARRIVE[tid]) and waits until every other
 * thread's count has reached its own: one line moves from each writer to each reader, all at
 * once. A shared counter plus a generation word (the first design) moved three lines one after
 * another and cost ~0.5–0.7 µs a barrier here on two threads. A thread is never more than one
 * barrier ahead of another, and all of a call's threads start from BASE, so a count left from
 * an earlier call (a worker that sat out a call with fewer threads) always reads as not arrived.
 */
export function barrier(sync: usize, nt: i32): void {
  if (nt <= 1) return;
  const e = ++BARRIERS;
  const mine = sync + ARRIVE + (<usize>TID << 6);
  // Beside the count, in the same line (so no other line moves): what this thread waited at barrier e − 1.
  atomic.store<i32>(mine + waited_slot(e - 1), WAITED);
  atomic.store<i32>(mine, e);
  wake(sync, mine);
  let spins = SPIN;
  SLEPT = false;
  for (let t = 0; t < nt; t++) if (t != TID) spins = wait_reached(sync, sync + ARRIVE + (<usize>t << 6), e, spins);
  WAITED = SLEPT ? i32.MAX_VALUE : SPIN - spins;
  if (atomic.load<i32>(sync + ABORT)) unreachable();
}

/** Where a thread's line keeps its wait at barrier number e: two slots by parity, after the count. */
@inline function waited_slot(e: i32): usize { return 4 + ((<usize>e & 1) << 2); }

/**
 * After a barrier: how long thread t had waited at the barrier before it, in spins (~0.4 ns each
 * here; i32.MAX_VALUE past SPIN). Every thread reads the same values: t wrote them before
 * arriving at the barrier just passed, and its next write goes to the other slot, which no
 * thread reads before the next barrier. So threads that must agree on a split (the recurrent
 * step's, assembly/rnn.ts) can each derive it from these without another barrier.
 */
export function barrier_waited(sync: usize, t: i32): i32 {
  return atomic.load<i32>(sync + ARRIVE + (<usize>t << 6) + waited_slot(BARRIERS - 1));
}

/** Thread 0: posts entry `id` to workers 1..nt-1 (they run it with this `nt`). */
export function threads_post(sync: usize, id: i32, nt: i32): void {
  atomic.store<i32>(sync + PENDING, nt - 1);
  atomic.store<i32>(sync + BASE, BARRIERS);
  atomic.store<i32>(sync + CLAIM, 0);
  CLAIM_BASE = 0;
  const seq = atomic.load<i32>(sync + SEQ) + 1;
  atomic.store<i64>(sync + CALL, (<i64>seq << 32) | (<i64>(id & 0xffff) << 16) | <i64>(nt & 0xffff));
  atomic.store<i32>(sync + SEQ, seq);
  wake(sync, sync + SEQ);
}

/** Thread 0: waits until every worker has left the posted call; returns ABORT (non-zero: a thread trapped). */
export function threads_join(sync: usize): i32 {
  for (;;) {
    const p = atomic.load<i32>(sync + PENDING);
    if (p <= 0) break;
    wait_while(sync, sync + PENDING, p);
  }
  return atomic.load<i32>(sync + ABORT);
}

/**
 * Worker `tid`: waits for the next call it takes part in (tid < its thread count) and returns
 * its entry id (-1: quit, for every worker); its thread count is then threads_count().
 */
export function threads_next(sync: usize, tid: i32): i32 {
  const seen = sync + SEEN + (<usize>tid << 2);
  let id = 0, nt = 0;
  do {
    const last = atomic.load<i32>(seen);
    wait_while(sync, sync + SEQ, last);
    // One 64-bit load: a call this worker takes no part in does not wait for it, so the next
    // may already be posted; CALL always holds one post's (seq, id, nt) whole.
    const call = atomic.load<i64>(sync + CALL);
    const seq = <i32>(call >> 32);
    if (seq == last) { nt = 0; continue; } // nothing newer than the call already taken (SEQ lagged CALL): wait again
    atomic.store<i32>(seen, seq);
    id = <i32>(<i16>(call >> 16));
    nt = <i32>(call & 0xffff);
  } while (id >= 0 && tid >= nt);
  CALL_NT = nt;
  TID = tid;
  BARRIERS = atomic.load<i32>(sync + BASE);
  CLAIM_BASE = 0;
  return id;
}

/** The thread count of the call threads_next last returned (per instance, so per thread). */
export function threads_count(sync: usize): i32 { return CALL_NT; }

/** Worker: done with the posted call. */
export function threads_done(sync: usize): void {
  if (atomic.sub<i32>(sync + PENDING, 1) == 1) wake(sync, sync + PENDING);
}

/** Any thread, after a trap (called from JS): releases every thread waiting at a barrier, which then traps. */
export function threads_abort(sync: usize): void {
  atomic.store<i32>(sync + ABORT, 1);
  for (let t = 0; t < MAX_THREADS; t++) {
    const p = sync + ARRIVE + (<usize>t << 6);
    atomic.add<i32>(p, 1 << 30);
    atomic.notify(p, -1);
  }
}

/** Thread 0, once joined after an abort: the barrier counts and the flag as new. */
export function threads_reset(sync: usize): void {
  for (let t = 0; t < MAX_THREADS; t++) atomic.store<i32>(sync + ARRIVE + (<usize>t << 6), 0);
  BARRIERS = 0;
  atomic.store<i32>(sync + ABORT, 0);
}

/**
 * The next of a node's `count` work units for this thread, in [0, count), or -1 once all are
 * taken: threads take units as they get to them, so a thread on a slower core (a vCPU the host
 * gives less time, a neighbour's cache traffic) takes fewer, where fixed shares wait for it.
 * Every one of the call's `nt` threads must call it until it returns -1: the node then used
 * exactly count + nt of CLAIM, which is how each thread knows where the next node's units start
 * without a word of its own. So two claiming nodes need a barrier between them (the scheduler
 * puts one there: codegen/threads.ts), or a thread still taking its -1 of the first would take a
 * unit of the second.
 */
export function claim(sync: usize, count: i32, nt: i32): i32 {
  const u = atomic.add<i32>(sync + CLAIM, 1) - CLAIM_BASE;
  if (u < count) return u;
  CLAIM_BASE += count + nt;
  return -1;
}

/** The range [lo, hi) of `count` work units that thread `tid` of `nt` takes: contiguous, sizes differ by at most 1. */
@inline export function part_lo(count: i32, tid: i32, nt: i32): i32 { return <i32>(<i64>count * tid / nt); }
