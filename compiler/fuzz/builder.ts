// The pool a fuzz case is built from (generate.ts): the values traced so far, the transcript,
// the sizes a case draws from, and the helpers the moves share (shapes that broadcast, a value
// coerced to a shape, a named batch kept).

import type { Module } from '../dsl/module.ts';
import { constant, type Tensor } from '../dsl/tensor.ts';
import type { Dim } from '../ir/dims.ts';
import { numel, sameShape, type DType, type Shape } from '../ir/types.ts';
import type { Prng } from './prng.ts';

/** The sizes a case draws from: dims (weighted), the most elements of a value, attention's q/k/v. */
export interface Scale {
  dims: ReadonlyArray<readonly [number, number]>;
  /** A matmul's output columns (by weight). */
  cols: ReadonlyArray<readonly [number, number]>;
  maxNumel: number;
  attention: { B: number[]; H: number[]; L: number[]; d: number[]; dv: number[] };
}
/** Tiny and odd: every kernel's edge paths, and fast enough to simulate under every pass configuration. */
const SMALL_DIMS = [[3, 1], [2, 2], [3, 3], [2, 4], [3, 5], [1, 8], [1, 17]] as const;
export const SMALL: Scale = {
  dims: SMALL_DIMS, cols: SMALL_DIMS, maxNumel: 512,
  attention: { B: [1, 2], H: [1, 2, 3], L: [1, 3, 5, 8], d: [1, 3, 4, 5, 8], dv: [1, 3, 4] },
};
/**
 * Large enough that the nodes threads split cross their lowerings' thresholds (2^15 multiply-adds
 * and work for a second thread: ≥ 4 panels for a GEMV, ≥ 2 claimed tiles for a GEMM, ops/linalg.ts;
 * 2^14 elements for a layernorm, 2^15 for attention), still odd (17, 33, 130 leave partial panels
 * and tails): thread fuzzing (`generate(seed, { big: true })`).
 */
export const BIG: Scale = {
  dims: [[2, 1], [1, 3], [2, 8], [3, 17], [3, 33], [3, 64], [2, 130]], cols: [[1, 3], [1, 17], [3, 33], [3, 64], [2, 130]], maxNumel: 1 << 16,
  attention: { B: [1, 2], H: [1, 2, 3], L: [1, 8, 17, 33, 64], d: [8, 17, 32, 64], dv: [8, 17, 32] },
};
/** The most dims of an artifact's inputs, outputs and state (driver/compile.ts checkRanks). */
export const MAX_RANK = 8;
export const fmt = (s: readonly Dim[]) => `[${s.join(', ')}]`;

export interface Item { t: Tensor; name: string; exact: boolean }

/** A move: adds values computed from pool value `x` (and others) to the pool. */
export type Move = (b: Builder, x: Item) => void;

export class Builder {
  readonly pool: Item[] = [];
  readonly lines: string[] = [];
  readonly features = new Set<string>();
  private n = 0;
  private c = 0;
  /** Run-time indices (inputs valued 0 or 1): `idx` i32[] and `ids` i32[k]. */
  idx?: Tensor;
  ids?: Tensor;
  /** How many loop bodies are being traced now. */
  depth = 0;
  /** The PRNG of loops' reverse flag and run-time counts (generate.ts loopMove); none: neither. */
  loopKinds?: Prng;
  /** Sized cases: three picks in four are of values with a named size, when there are any. */
  sized = false;
  /** A gather reads a table whose rows are a named size (so ids stay 0). */
  namedTable = false;
  /** Cases drawn for index fuzzing (`indexed`): some gathers' indices are computed. */
  indexed = false;
  /** After each move (in loop bodies too): maybe a move of another kind, from a PRNG of its own (generate.ts). */
  after?: () => void;
  /** Values the entry returns besides those it draws (what the moves `after` runs made). */
  readonly watch: Item[] = [];
  /**
   * The PRNG: the case's, or its loops' own while one is traced. `moves`: the moves a case draws
   * from (by weight).
   */
  constructor(public r: Prng, readonly scale: Scale, public moves: ReadonlyArray<readonly [number, Move]>) {}

  add(t: Tensor, code: string, exact = false): Item {
    const it = this.temp(t, code, exact);
    this.pool.push(it);
    return it;
  }
  /** A value of the transcript that no move picks (not in the pool): an intermediate scaled far out of the usual range. */
  temp(t: Tensor, code: string, exact = false): Item {
    const it = { t, name: `t${this.n++}`, exact };
    this.line(`${it.name} = ${code}  // ${t.dtype}${fmt(t.dims)}`);
    return it;
  }
  /** A constant: f32 normal, bool even odds, or each element `draw()` (an i32 constant needs one). */
  const(shape: Shape, dtype: DType = 'f32', draw?: () => number): Item {
    const k = numel(shape);
    const data = dtype === 'bool' ? Uint8Array.from({ length: k }, () => (draw ? draw() : this.r.chance(0.5) ? 1 : 0))
      : dtype === 'i32' ? Int32Array.from({ length: k }, () => (draw ? draw() : this.r.int(-3, 3)))
      : Float32Array.from({ length: k }, () => Math.fround(draw ? draw() : this.r.normal()));
    const name = `c${this.c++}`;
    this.line(`${name} = const ${dtype}${fmt(shape)}  // [${Array.from(data.slice(0, 6), (v) => +v.toFixed(3)).join(', ')}${k > 6 ? ', …' : ''}]`);
    return { t: constant(data, shape, dtype, name), name, exact: true };
  }
  /** A line of the transcript, indented by the loop bodies it is in. */
  line(l: string): void { this.lines.push(`${'  '.repeat(this.depth)}${l}`); }
  /** A pool value, usually a recent one; `ok` filters. */
  pick(ok: (it: Item) => boolean = (it) => it.t.dtype === 'f32'): Item | undefined {
    let xs = this.pool.filter(ok);
    if (this.sized && this.r.chance(0.75) && xs.some((it) => hasNamed(it.t))) xs = xs.filter((it) => hasNamed(it.t));
    if (xs.length === 0) return undefined;
    if (this.r.chance(0.6)) return xs[Math.max(0, xs.length - 1 - Math.floor(Math.abs(this.r.normal()) * 2))];
    return this.r.pick(xs);
  }
}

export function randShape(r: Prng, scale: Scale, rank: number = r.weighted([[1, 0], [3, 1], [5, 2], [3, 3], [1, 4]] as const)): number[] {
  for (;;) {
    const s = Array.from({ length: rank }, () => r.weighted(scale.dims));
    if (numel(s) <= scale.maxNumel / 2) return s;
  }
}

/** A shape that broadcasts to `s`: some leading dims dropped, some dims set to 1, and so are the named sizes of `dims`. */
export function broadcastable(r: Prng, s: Shape, dims: readonly Dim[] = s): number[] {
  const drop = r.chance(0.3) ? r.int(0, s.length) : 0;
  return s.slice(drop).map((d, i) => (r.chance(0.4) || named(dims[drop + i]!) ? 1 : d));
}

/** A named size (sized cases): its extent is known only at run time. */
export const named = (d: Dim): d is string => typeof d === 'string';
export const hasNamed = (t: Tensor): boolean => t.dims.some(named);

/** Splits n into `rank` factors in random order. */
export function factorShape(r: Prng, n: number, rank: number): number[] {
  const primes: number[] = [];
  for (let m = n, p = 2; m > 1;) { if (m % p === 0) { primes.push(p); m /= p; } else p++; }
  const s = new Array<number>(Math.max(rank, 1)).fill(1);
  for (const p of primes) s[r.int(0, s.length - 1)]! *= p;
  return rank === 0 && n === 1 ? [] : s;
}

/** A value of shape `s` computed from `x`: x itself, a reshape, or its mean broadcast onto a constant. */
export function coerce(b: Builder, x: Item, s: Shape): Item {
  if (sameShape(x.t.dims, s)) return x;
  if (numel(x.t.maxShape) === numel(s) && !hasNamed(x.t)) return b.add(x.t.reshape(...s), `${x.name}.reshape(${s.join(', ')})`, x.exact);
  const c = b.const(s);
  const m = x.t.rank === 0 ? x.t : x.t.mean();
  return b.add(m.add(c.t), `${x.name}${x.t.rank === 0 ? '' : '.mean()'}.add(${c.name})`);
}

/**
 * Sized cases: x, when its leading axis is a named size that fits, as [that size, ...rest] — its
 * mean over the other axes, plus a constant — so the layers that take a batch (attention, conv2d,
 * the recurrent layers) run over it rather than over a constant size.
 */
export const leadFits = (b: Builder, x: Item, rest: number[]): boolean =>
  b.sized && x.t.rank > 0 && named(x.t.dim(0)) && x.t.maxShape[0]! * numel(rest) <= b.scale.maxNumel / 2;
export function keepLead(b: Builder, x: Item, rest: number[]): Item | undefined {
  if (!leadFits(b, x, rest)) return undefined;
  const others = [...Array(x.t.rank).keys()].slice(1);
  const m = others.length ? x.t.mean(others, true) : x.t, c = b.const([1, ...rest]);
  return b.add(m.reshape(x.t.dim(0), ...rest.map(() => 1)).add(c.t), `${x.name}${others.length ? `.mean([${others.join(', ')}], true)` : ''}.reshape('${x.t.dim(0)}', ${rest.map(() => 1).join(', ')}).add(${c.name})`);
}


/**
 * A layer's parameters from the case's PRNG, normal · gain / √H: never the default initialisation,
 * whose unnamed draws follow the order of creation in the process, which a replay would not repeat.
 */
export function seedParameters(m: Module, r: Prng, gain: number, H: number): void {
  for (const [, p] of m.namedParameters()) p.data = Float32Array.from({ length: numel(p.shape) }, () => Math.fround(r.normal() * gain / Math.sqrt(H)));
}
