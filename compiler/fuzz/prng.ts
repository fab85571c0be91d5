// A small seeded PRNG (mulberry32): the same seed gives the same graph on every machine.

export class Prng {
  private s: number;
  constructor(seed: number) { this.s = (seed >>> 0) ^ 0x9e3779b9; }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('fuzz: pick from an empty list');
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  /** Picks by weight: [[weight, value], …]. */
  weighted<T>(xs: ReadonlyArray<readonly [number, T]>): T {
    let r = this.next() * xs.reduce((s, [w]) => s + w, 0);
    for (const [w, v] of xs) { if ((r -= w) < 0) return v; }
    return xs[xs.length - 1]![1];
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) { const j = this.int(0, i); [a[i], a[j]] = [a[j]!, a[i]!]; }
    return a;
  }
  /** Approximately standard normal (sum of uniforms). */
  normal(): number { return this.next() + this.next() + this.next() + this.next() - 2; }
}
