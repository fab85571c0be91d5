// Symbolic sizes. A dimension is a number, or a polynomial of named sizes with integer
// coefficients written in one canonical spelling ('B', 'B*T', 'T+1', '2*T', 'B*T-1'), so two
// dims are equal exactly when their strings are. A tensor type keeps `shape` at the bounds
// (what memory is planned for) and, when some dim is symbolic, `dims` (its symbolic shape) and
// `max` (the bound of each size it names), and `min` for a size declared never to go below some
// least value above 1. Every size is an integer in [min, max] at run time (min 1 unless declared).

export type Dim = number | string;
export type Sizes = Readonly<Record<string, number>>;

/** A polynomial: monomial (its sizes joined by '*', sorted; '' for the constant) → coefficient. */
type Poly = Map<string, number>;

export const SIZE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const cache = new Map<string, Poly>();
function parse(d: Dim): Poly {
  if (typeof d === 'number') return new Map(d === 0 ? [] : [['', d]]);
  const hit = cache.get(d);
  if (hit) return hit;
  const p: Poly = new Map();
  for (const term of d.replace(/\s+/g, '').replace(/-/g, '+-').split('+').filter(Boolean)) {
    let coef = 1;
    const names: string[] = [];
    for (let f of term.split('*')) {
      if (f.startsWith('-')) { coef = -coef; f = f.slice(1); }
      if (/^\d+$/.test(f)) coef *= Number(f);
      else if (SIZE_NAME.test(f)) names.push(f);
      else throw new Error(`dims: '${d}' is not a polynomial of named sizes`);
    }
    const m = names.sort().join('*');
    p.set(m, (p.get(m) ?? 0) + coef);
  }
  for (const [m, c] of p) if (c === 0) p.delete(m);
  cache.set(d, p);
  return p;
}

function render(p: Poly): Dim {
  const terms = [...p].filter(([, c]) => c !== 0);
  if (terms.every(([m]) => m === '')) return terms[0]?.[1] ?? 0;
  const degree = (m: string) => (m === '' ? 0 : m.split('*').length);
  terms.sort(([a], [b]) => degree(b) - degree(a) || (a < b ? -1 : a > b ? 1 : 0));
  let s = '';
  for (const [m, c] of terms) {
    const mag = Math.abs(c), body = m === '' ? String(mag) : mag === 1 ? m : `${mag}*${m}`;
    s += s === '' ? (c < 0 ? `-${body}` : body) : c < 0 ? `-${body}` : `+${body}`;
  }
  return s;
}

/** The canonical spelling of a dim ('T + 1' → 'T+1', '1*B' → 'B', '3' → 3). */
export const canonDim = (d: Dim): Dim => (typeof d === 'number' ? d : render(parse(d)));
export const isSymbolic = (d: Dim): d is string => typeof d === 'string';

export function addDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  const p = new Map(parse(a));
  for (const [m, c] of parse(b)) p.set(m, (p.get(m) ?? 0) + c);
  return render(p);
}
export const subDims = (a: Dim, b: Dim): Dim => addDims(a, mulDims(b, -1));

export function mulDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  const p: Poly = new Map();
  for (const [ma, ca] of parse(a)) for (const [mb, cb] of parse(b)) {
    const m = [...(ma ? ma.split('*') : []), ...(mb ? mb.split('*') : [])].sort().join('*');
    p.set(m, (p.get(m) ?? 0) + ca * cb);
  }
  return render(p);
}

/** a / b when it divides exactly (b a number or a single size), else undefined. */
export function divDims(a: Dim, b: Dim): Dim | undefined {
  if (typeof a === 'number' && typeof b === 'number') return b !== 0 && a % b === 0 ? a / b : undefined;
  const pb = [...parse(b)];
  if (pb.length !== 1) return undefined;
  const [mb, cb] = pb[0]!;
  const p: Poly = new Map();
  for (const [m, c] of parse(a)) {
    if (c % cb !== 0) return undefined;
    const names = m ? m.split('*') : [];
    for (const n of mb ? mb.split('*') : []) { const i = names.indexOf(n); if (i < 0) return undefined; names.splice(i, 1); }
    p.set(names.join('*'), c / cb);
  }
  return render(p);
}

export const numelDims = (dims: readonly Dim[]): Dim => dims.reduce<Dim>((a, b) => mulDims(a, b), 1);

/** The sizes a dim names. */
export function sizeNames(d: Dim): string[] {
  const s = new Set<string>();
  for (const m of parse(d).keys()) for (const n of m ? m.split('*') : []) s.add(n);
  return [...s].sort();
}

/** The value of a dim at given sizes. */
export function evalDim(d: Dim, sizes: Sizes): number {
  if (typeof d === 'number') return d;
  let v = 0;
  for (const [m, c] of parse(d)) {
    let t = c;
    for (const n of m ? m.split('*') : []) {
      const x = sizes[n];
      if (x === undefined) throw new Error(`dims: no value for size '${n}' in ${d}`);
      t *= x;
    }
    v += t;
  }
  return v;
}

/**
 * The value of a dim with each size it names at its least (`min`, else 1): the dim's least value
 * when it grows with the sizes (growsWithSizes), as every dim of a type does.
 */
export const leastDim = (d: Dim, min: Sizes = {}): number =>
  typeof d === 'number' ? d : evalDim(d, Object.fromEntries(sizeNames(d).map((k) => [k, min[k] ?? 1])));

/** True when no coefficient but the constant is negative: the dim is largest at the bounds. */
export const growsWithSizes = (d: Dim): boolean => [...parse(d)].every(([m, c]) => m === '' || c > 0);

/**
 * The dim that takes `values[i]` at `points[i]` (one value per combination of the sizes'
 * probe values, row-major over `names`), if it is a polynomial with integer coefficients
 * (each size to at most the power its probe count allows); undefined when it is not.
 */
export function fitDim(names: readonly string[], probes: readonly (readonly number[])[], values: readonly number[]): Dim | undefined {
  // Tensor-product interpolation: turn values into monomial coefficients one size at a time.
  let coef = [...values];
  const counts = probes.map((p) => p.length);
  const total = counts.reduce((a, b) => a * b, 1);
  for (let s = 0; s < names.length; s++) {
    const xs = probes[s]!, k = xs.length;
    const inner = counts.slice(s + 1).reduce((a, b) => a * b, 1);
    const next = new Array<number>(total).fill(0);
    for (let o = 0; o < total / (k * inner); o++) for (let i = 0; i < inner; i++) {
      const ys = xs.map((_, j) => coef[(o * k + j) * inner + i]!);
      const cs = solveVandermonde(xs, ys);
      cs.forEach((c, j) => { next[(o * k + j) * inner + i] = c; });
    }
    coef = next;
  }
  const p: Poly = new Map();
  for (let f = 0; f < total; f++) {
    const c = coef[f]!, r = Math.round(c);
    if (Math.abs(c - r) > 1e-6) return undefined;
    if (r === 0) continue;
    const names2: string[] = [];
    let rest = f;
    for (let s = names.length - 1; s >= 0; s--) {
      const pow = rest % counts[s]!; rest = Math.floor(rest / counts[s]!);
      for (let q = 0; q < pow; q++) names2.push(names[s]!);
    }
    const m = names2.sort().join('*');
    p.set(m, (p.get(m) ?? 0) + r);
  }
  return render(p);
}

/** Coefficients c (c[j] of x^j) of the polynomial through (xs[i], ys[i]). */
function solveVandermonde(xs: readonly number[], ys: readonly number[]): number[] {
  const n = xs.length;
  const a = xs.map((x, i) => [...Array.from({ length: n }, (_, j) => x ** j), ys[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = 0; r < n; r++) if (r !== c) {
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return a.map((row, i) => row[n]! / row[i]!);
}
