// Whether a call runs on the threads or on the calling thread alone, decided by measuring the
// calls themselves. A split pays only when its work outweighs the barriers and the wake-ups, and
// that depends on the host: on an idle machine an LSTM step split two ways wins, on one whose cores
// are busy with other work every barrier may wait for a descheduled thread and the same split
// loses 3× (bench/main.ts's thread columns, issue 11). The compile-time split rules cannot know the
// host, so each entry (and size class) times both ways and keeps the faster. Both ways run the
// same code with the same summation order (thread count 1 or n), so results are bit-identical
// whichever is chosen, and a switch is invisible except in time.
//
// Per key: SAMPLES calls each way (threads first), then the way with the lower median. The other
// way is timed again after `gap` calls — 16, doubling while the choice holds, at most MAX_GAP — so a
// change in load or size is noticed, at a cost of at most one slower call in MAX_GAP.

const SAMPLES = 3;
const FIRST_GAP = 16;
const MAX_GAP = 1024;

interface Record_ {
  /** Last SAMPLES call times (ms) with threads [1] and without [0]. */
  readonly ms: [number[], number[]];
  /** The chosen way once both are measured: 1 threads, 0 one thread. */
  best?: 0 | 1;
  /** Calls until the other way is timed again, and the current gap. */
  countdown: number;
  gap: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};

export class ThreadChoice {
  private readonly byKey = new Map<string, Record_>();

  /** Whether the next call under `key` runs on the threads. */
  threaded(key: string): boolean {
    let r = this.byKey.get(key);
    if (!r) this.byKey.set(key, (r = { ms: [[], []], countdown: 0, gap: FIRST_GAP }));
    if (r.best === undefined) return r.ms[1].length <= r.ms[0].length;
    return --r.countdown <= 0 ? r.best === 0 : r.best === 1;
  }

  /** Records how long a call under `key` took, on the threads or not. */
  record(key: string, threaded: boolean, ms: number): void {
    const r = this.byKey.get(key)!, way = threaded ? 1 : 0, times = r.ms[way];
    times.push(ms);
    if (times.length > SAMPLES) times.shift();
    if (r.ms[0].length < SAMPLES || r.ms[1].length < SAMPLES) return;
    const best: 0 | 1 = median(r.ms[1]) < median(r.ms[0]) ? 1 : 0;
    if (best !== r.best) {
      r.gap = FIRST_GAP;
      r.countdown = r.gap;
    } else if (r.countdown <= 0) {
      // The way not chosen was timed again and is still slower: wait longer before the next time.
      r.gap = Math.min(r.gap * 2, MAX_GAP);
      r.countdown = r.gap;
    }
    r.best = best;
  }

  /** The current choice per key (for diagnostics): 'threads', 'one' or 'measuring'. */
  summary(): Record<string, 'threads' | 'one' | 'measuring'> {
    return Object.fromEntries([...this.byKey].map(([k, r]) => [k, r.best === undefined ? 'measuring' : r.best ? 'threads' : 'one']));
  }
}
