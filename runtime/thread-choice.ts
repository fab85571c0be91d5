// Whether a call runs on the threads or on the calling thread alone, decided by measuring the
// calls themselves. A split pays only when its work outweighs the barriers and the wake-ups, and
// that depends on the host: on an idle machine an LSTM step split two ways wins, on one whose cores
// are busy with other work every barrier may wait for a descheduled thread and the same split
// loses 3× (bench/main.ts's thread columns, issue 11). The compile-time split rules cannot know the
// host, so each entry (and size class) times both ways and keeps the faster. Both ways run the
// same code with the same summation order (thread count 1 or n), so results are bit-identical
// whichever is chosen, and a switch is invisible except in time.
//
// Per key: a burst of BURST calls each way (threads first), then the way with the lower median of
// its last SAMPLES timed calls. A call that runs the other way than the key's call before it is
// not timed: it pays for the switch itself (waking workers that slept while the other way ran,
// which back-to-back calls such as decode steps do not). The other way is timed again, by another
// burst, after `gap` calls: as many as keep that burst's extra time, BURST · (ratio − 1) calls'
// worth, within RETIME_SHARE of the time between bursts (at least MIN_GAP, at most MAX_GAP),
// doubling while the choice holds. So a clear win is re-timed rarely from the start (threads 1.7×
// faster: every 84 calls), a close one often, and a change in load is still noticed. Re-timing
// after 16, 32, … calls whatever the margin left the CI's quick bench (about 75 calls of GEMM
// 512³) 1.07× faster than one thread by default where always splitting was 1.59×. A choice that
// may rest on cold calls or a passing stall is provisional: a first choice of one thread (the
// threads' first calls run cold for longer) and a switch made by the chosen way's own calls
// turning slow. The way left is timed again once PROVISIONAL_MS have passed on the clock (and at
// least BURST calls), or after the usual gap if that comes first. That is time, not a count of
// calls, since what it waits out is a spell of the host's: here the host takes a vCPU away ~6
// times a second on two threads (~1 on one), sometimes for a few time slices in a row, 10–20 ms in
// which a 0.15-ms decode step takes 4–8 ms; six calls later the spell was often still on, the
// re-timing burst ended at its first call, and one thread held for the next 150 ms. In the quick
// bench that left GPT decode at 1.15× and the encoder layer at 1.02× by default where always
// splitting gave 1.64× and 1.85×; with 50 ms, in the next quick run, the default came within 0.07×
// of always splitting on six of the eight rows (GPT prefill 1.44× against 1.81×, the MLP at batch
// 1 0.97× against 1.12×).
// Counted in the key's own calls instead, a spell held one thread for a whole round of the quick
// bench (docs/architecture.md, Threads).
//
// Load from other processes is what the choice has to follow, and it comes and goes. With one of
// the two cores busy, every barrier may wait out a time slice for a descheduled thread: GPT decode
// took 3–5 ms a call on 2 threads against 0.2–0.3 ms on one. Two rules keep that cheap to watch:
// - A burst of the way not chosen ends at its first timed call ABORT× slower than the chosen way's
//   median. No cold start is that slow (decode's first timed call back on threads: 1.6×), so two
//   calls, not six, pay for learning that the load is still there.
// - While one thread is chosen, the gap doubles to at most MAX_WAIT_MS of its calls (unless `due`
//   is longer). Threads chosen see load come in their own calls (they turn slow, and the choice
//   switches at once), but one thread chosen sees the load go only by timing the threads again.
//   For a GRU step of 0.9 ms that is 278 calls where it was 1024 (for calls under 0.25 ms, such as
//   a decode step, MAX_GAP is the lesser bound and nothing changes).
// Load that changes faster than that still outruns the choice: in the quick bench, where a core
// was busy 0.4 s of every second, GPT decode's default stayed on one thread (1.0× where always
// splitting gave 1.3–1.8×). There a timing of the loaded threads (2 calls of ~3 ms) is 5% of
// 110 ms of one-thread calls, the gap then doubles to 1,024 calls (250 ms), and the quick bench
// gives decode ~1,700 calls in all: one timing that meets the load holds one thread for most of it.
//
// Two rules follow the host's clock rather than the key's calls, since what they wait out is
// wall-clock time (measured in the quick bench's rounds: runs of ~300 decode steps with ~500 ms of
// other engines between, the vCPUs far apart):
// - After a pause (PAUSE_MS with no call) that ended a run of LONG_RUN calls, the next COLD calls
//   are not timed. The workers slept through the pause and the host halted their idle vCPU: the
//   first threaded decode steps back took 8.6, 7.6, 1.3 ms (one thread's 0.25), the median of five
//   turned slow, and one thread held for most of the run. Calls that are each far apart form no
//   run and are all timed: if threads are that slow after every pause, one thread is right.
// - While one thread is held after a timing of the threads met a load, they are timed again after
//   MAX_WAIT_MS on the clock (doubling while they lose, to MAX_HOLD_MS) as well as after the gap of
//   calls: a stall that outlasted the provisional 50 ms was over by the next run, but counted in
//   calls (1,000 of 0.25 ms) the choice held one thread through three runs. A timing that meets the
//   load again costs its two slow calls once per wait, ≤ 2 s apart.
// Five runs each way, interleaved: GPT decode by default 0.92–0.97× the always-split speed (1.45–
// 1.69× one thread) where it was 0.66–1.03× (1.03–2.32×); mlp_b1 and lstm unchanged within noise.
//
// Five samples, not three: calls that follow other work run cold (GPT decode on 2 threads: 0.80,
// 0.33, 0.15, then 0.12 ms against one thread's 0.21), and with a median of three two such calls
// chose one thread for a while every few rounds of the bench (a quarter of its calls, 1.09× where
// always splitting gave 1.36×).

const SAMPLES = 5;
const BURST = SAMPLES + 1;
const ABORT = 3;
const RETIME_SHARE = 0.05;
const MIN_GAP = 16;
const MAX_GAP = 1024;
const MAX_WAIT_MS = 250;
/** How long a provisional choice holds before the way left is timed again (at least BURST calls). */
const PROVISIONAL_MS = 50;
/** A pause between calls longer than PAUSE_MS, after a run of at least LONG_RUN calls, leaves the next COLD calls untimed. */
const PAUSE_MS = 50;
const LONG_RUN = 16;
const COLD = 4;
/** While one thread is held, the threads are timed again after MAX_WAIT_MS on the clock, doubling while they lose, to at most MAX_HOLD_MS. */
const MAX_HOLD_MS = 2000;

interface Record_ {
  /** Last SAMPLES call times (ms) with threads [1] and without [0]. */
  readonly ms: [number[], number[]];
  /** The chosen way once both are measured: 1 threads, 0 one thread. */
  best?: 0 | 1;
  /** The way a burst is timing, and the calls left in it (0: no burst). */
  burstWay: 0 | 1;
  burstLeft: number;
  /** The way of the key's last call (undefined before the first), when it ended (on the clock), and the calls since the last pause. */
  lastWay?: 0 | 1;
  lastAt: number;
  run: number;
  /** Calls left that run cold after a pause: not timed. */
  cold: number;
  /** While one thread is held: how long (on the clock) until the threads are timed again (0: not held). */
  holdMs: number;
  /** Calls until the next burst of the other way, and the current gap. */
  countdown: number;
  gap: number;
  /** A provisional choice: when (on the clock) the other way is timed again, if BURST calls have passed. */
  retimeAt?: number;
}

// A typed array's sort, numeric and native: record() runs per call, and asc, loaded in the same
// process by a build or the bench, wraps Array.prototype.sort (in a profile of threaded decode
// calls with the entry stubbed out, that sort was a sixth of the runtime's JS).
const median = (xs: readonly number[]): number => {
  const s = Float64Array.from(xs).sort();
  return s[s.length >> 1]!;
};

/** Calls between bursts that keep a burst of `calls` calls `ratio`× slower within RETIME_SHARE of the time between. */
const dueAfter = (calls: number, ratio: number): number =>
  Math.min(MAX_GAP, Math.max(MIN_GAP, Math.ceil(calls * (ratio - 1) / RETIME_SHARE)));

export class ThreadChoice {
  private readonly byKey = new Map<string, Record_>();

  /** `now`: the clock (ms) a provisional choice waits on. */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Whether the next call under `key` runs on the threads. */
  threaded(key: string): boolean {
    let r = this.byKey.get(key);
    if (!r) this.byKey.set(key, (r = { ms: [[], []], burstWay: 1, burstLeft: BURST, countdown: 0, gap: MIN_GAP, lastAt: 0, run: 0, cold: 0, holdMs: 0 }));
    // The other way is timed again when its gap of calls is up, or once a provisional choice's
    // PROVISIONAL_MS have passed, BURST calls with them.
    if (r.burstLeft === 0 && r.best !== undefined
        && (--r.countdown <= 0 || (r.retimeAt !== undefined && r.gap - r.countdown >= BURST && this.now() >= r.retimeAt))) {
      r.burstWay = r.best === 1 ? 0 : 1;
      r.burstLeft = BURST;
      r.retimeAt = undefined;
    }
    return (r.burstLeft > 0 ? r.burstWay : r.best) === 1;
  }

  /** Records how long the call just made under `key` took, on the threads or not. */
  record(key: string, threaded: boolean, ms: number): void {
    const r = this.byKey.get(key);
    if (!r) return;
    const way = threaded ? 1 : 0, switched = way !== r.lastWay, inBurst = r.burstLeft > 0, now = this.now();
    if (now - ms - r.lastAt > PAUSE_MS) {
      if (r.run >= LONG_RUN) r.cold = COLD;
      r.run = 0;
    }
    r.run++;
    r.lastAt = now;
    r.lastWay = way;
    if (inBurst) r.burstLeft--;
    // The first calls after a pause that ended a run run cold: not timed, nor counted in a burst.
    if (r.cold > 0) {
      r.cold--;
      if (inBurst && !switched) r.burstLeft++;
      return;
    }
    // A call after a switch of way wakes the workers (or lets them fall asleep): not timed.
    if (switched) return;
    const times = r.ms[way];
    times.push(ms);
    if (times.length > SAMPLES) times.shift();
    if (inBurst && r.best !== undefined && way !== r.best) {
      // The way not chosen, ABORT× slower than the chosen one: the burst ends here (see the header).
      const mBest = median(r.ms[r.best]);
      if (ms > ABORT * mBest) {
        const spent = BURST - r.burstLeft;
        r.burstLeft = 0;
        this.hold(r, dueAfter(spent, ms / mBest), mBest);
        return;
      }
    }
    if (r.burstLeft > 0) return;
    if (r.best === undefined && r.ms[0].length < SAMPLES) {
      // Threads measured: now one thread.
      r.burstWay = 0;
      r.burstLeft = BURST;
      return;
    }
    const m1 = median(r.ms[1]), m0 = median(r.ms[0]);
    const best: 0 | 1 = m1 < m0 ? 1 : 0;
    // How much slower the other way is (a coarse browser clock can read 0 ms: then 1, or "much").
    const [mBest, mOther] = best ? [m1, m0] : [m0, m1];
    const ratio = mBest > 0 ? mOther / mBest : mOther > 0 ? Infinity : 1;
    const due = dueAfter(BURST, ratio);
    if (best !== r.best) {
      // Provisional, so the way left is timed again after PROVISIONAL_MS: a first choice of one
      // thread (the first calls each way ran cold, the threads' for longer: prefill 22, 17, then
      // 13 ms; one thread 23 from its second call), and a switch made by the chosen way's own
      // calls turning slow. Those are compared with the other way's samples from its last burst,
      // maybe long ago: calls that follow other work run cold for a few calls, and a switch held
      // for the full gap ran GPT decode on one thread for up to 1023 calls in the bench (1,940 of
      // its 3,989 calls: 0.241 ms a call by default, 0.214 always split).
      r.gap = r.countdown = due;
      r.holdMs = 0;
      const provisional = (r.best === undefined && best === 0) || (r.best !== undefined && !inBurst);
      r.retimeAt = provisional ? this.now() + PROVISIONAL_MS : undefined;
    } else if (r.countdown <= 0) {
      this.hold(r, due, mBest);
    }
    r.best = best;
  }

  /**
   * The way not chosen was timed again and is still slower: wait longer before the next time, twice
   * the gap but at least `due` calls, and at most MAX_GAP or, while one thread is chosen, MAX_WAIT_MS
   * of its calls (mBest ms each).
   */
  private hold(r: Record_, due: number, mBest: number): void {
    const most = r.best === 0 && mBest > 0 ? Math.min(MAX_GAP, Math.ceil(MAX_WAIT_MS / mBest)) : MAX_GAP;
    r.gap = Math.max(due, Math.min(r.gap * 2, most));
    r.countdown = r.gap;
    if (r.best === 0) {
      r.holdMs = Math.min(MAX_HOLD_MS, 2 * (r.holdMs || MAX_WAIT_MS / 2));
      r.retimeAt = this.now() + r.holdMs;
    }
  }

  /** The current choice per key (for diagnostics): 'threads', 'one' or 'measuring'. */
  summary(): Record<string, 'threads' | 'one' | 'measuring'> {
    return Object.fromEntries([...this.byKey].map(([k, r]) => [k, r.best === undefined ? 'measuring' : r.best ? 'threads' : 'one']));
  }
}
