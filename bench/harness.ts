// Shared by the benchmark: what an engine looks like to it, the output check, and interleaved
// timing (warm-up first, then rounds A B C A B C …, each call timed on its own; median, min, max).

export interface Peer {
  name: string;
  /** Session creation / weight upload, ms. */
  setupMs: number;
  /** One inference; returns the output compared against simdflow's. */
  run(): Float32Array | Promise<Float32Array>;
  /** Runs and times `calls` calls where the engine runs (an engine in a worker), ms each. */
  time?(calls: number): Promise<number[]>;
  dispose(): void | Promise<void>;
}

export interface Timing {
  medianMs: number; minMs: number; maxMs: number; calls: number;
  /** The median of each round's calls, round by round (a ratio of two engines' is taken per round). */
  roundMs: number[];
}

export interface Check { maxAbsErr: number; scale: number; ok: boolean }

/** Max abs difference, passing when ≤ tol · max(1, max |ours|). */
export function compare(ours: Float32Array, theirs: Float32Array, tol = 1e-3): Check {
  if (ours.length !== theirs.length) return { maxAbsErr: Infinity, scale: 0, ok: false };
  let err = 0, scale = 1;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i]! - theirs[i]!);
    err = Number.isNaN(d) ? Infinity : Math.max(err, d);
    scale = Math.max(scale, Math.abs(ours[i]!));
  }
  return { maxAbsErr: err, scale, ok: err <= tol * scale };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * How many times slower `num` ran than `den`: the median of the rounds' ratios. Each round times
 * both within a second or so, so a change of the host's speed between rounds (it moves timings
 * here by up to 1.4× from one minute to the next) cancels in each ratio, where a ratio of the
 * two overall medians can compare one engine's fast rounds with the other's slow ones.
 */
export const pairedRatio = (num: Timing, den: Timing): number => median(num.roundMs.map((x, i) => x / den.roundMs[i]!));

/** A call to time: a function, or an engine that times its own calls (see Peer.time). */
export type Call = (() => unknown) | { time(calls: number): Promise<number[]> };

async function timeCalls(f: Call, calls: number): Promise<number[]> {
  if (typeof f !== 'function') return f.time(calls);
  const ts: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    const r = f();
    if (r instanceof Promise) await r;
    ts.push(performance.now() - t0);
  }
  return ts;
}

/**
 * Times each call in `fs` interleaved: after a warm-up of ≥ warmupMs (and ≥ 5 calls) each, `rounds`
 * rounds run every engine in turn for about budgetMs / rounds / fs.length (at least one call).
 */
export async function timeInterleaved(fs: Call[], o: { warmupMs: number; budgetMs: number; rounds: number }): Promise<Timing[]> {
  const est: number[] = [];
  for (const f of fs) {
    const ts: number[] = [];
    const t0 = performance.now();
    while (ts.length < 5 || performance.now() - t0 < o.warmupMs) ts.push(...await timeCalls(f, ts.length < 5 ? 5 : 1));
    est.push(median(ts.slice(-5)));
  }
  const slice = o.budgetMs / o.rounds / fs.length;
  const per = est.map((e) => Math.max(1, Math.round(slice / Math.max(e, 1e-3))));
  const samples: number[][] = fs.map(() => []), rounds: number[][] = fs.map(() => []);
  for (let r = 0; r < o.rounds; r++) {
    for (let i = 0; i < fs.length; i++) {
      const ts = await timeCalls(fs[i]!, per[i]!);
      for (const t of ts) samples[i]!.push(t);
      rounds[i]!.push(median(ts));
    }
  }
  // No spread of the samples (push(...ts), Math.min(...s)): it overflows the stack past ~10^5 (a 20 µs call timed for 9 s).
  const least = (s: number[]) => s.reduce((a, b) => Math.min(a, b)), most = (s: number[]) => s.reduce((a, b) => Math.max(a, b));
  return samples.map((s, i) => ({ medianMs: median(s), minMs: least(s), maxMs: most(s), calls: s.length, roundMs: rounds[i]! }));
}
