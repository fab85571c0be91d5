// Symbolic sizes. A dimension is a number, or a polynomial of named sizes (and floors of them,
// 'floor(T/2)': a strided window's length) with integer coefficients written in one canonical
// spelling ('B', 'B*T', 'T+1', '2*T', 'B*T-1', 'B*floor((T+1)/2)'), so two dims built the same
// way are equal exactly when their strings are. A tensor type keeps `shape` at the bounds
// (what memory is planned for) and, when some dim is symbolic, `dims` (its symbolic shape) and
// `max` (the bound of each size it names), and `min` for a size declared never to go below some
// least value above 1. Every size is an integer in [min, max] at run time (min 1 unless declared).

export type Dim = number | string;
export type Sizes = Readonly<Record<string, number>>;

/**
 * A polynomial: monomial (its factors joined by '*', sorted; '' for the constant) → coefficient.
 * A factor is a size name or a floor atom `floor(R/k)` (k ≥ 2; R a polynomial with coefficients in
 * [0, k) and no common factor with k, see floorDim), so R ≥ 0 at every size and the atom is a
 * non-decreasing function of the sizes: a dim is still largest at the bounds when no coefficient
 * but the constant is negative (growsWithSizes), and AssemblyScript's truncating `/` floors it.
 */
type Poly = Map<string, number>;

export const SIZE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names the shape checker gives floor atoms while it probes (ir/symbolic.ts): not for users' sizes. */
export const RESERVED_SIZE = /^floor__\d+$/;

/** A monomial's factors: split on '*' outside parentheses. */
function factorsOf(m: string): string[] {
  if (m === '') return [];
  const out: string[] = [];
  let depth = 0, from = 0;
  for (let i = 0; i < m.length; i++) {
    const ch = m[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '*' && depth === 0) { out.push(m.slice(from, i)); from = i + 1; }
  }
  out.push(m.slice(from));
  return out;
}
const monomial = (fs: readonly string[]): string => [...fs].sort().join('*');

/** A floor atom's numerator and divisor. */
const atoms = new Map<string, { r: Poly; k: number }>();
const FLOOR = /^floor\((.*)\/(\d+)\)$/;
function atomOf(f: string): { r: Poly; k: number } | undefined {
  if (!f.startsWith('floor(')) return undefined;
  let a = atoms.get(f);
  if (!a) {
    const m = FLOOR.exec(f);
    if (!m) throw new Error(`dims: '${f}' is not floor(R/k)`);
    a = { r: parse(m[1]!), k: Number(m[2]) };
    atoms.set(f, a);
  }
  return a;
}

const cache = new Map<string, Poly>();
function parse(d: Dim): Poly {
  if (typeof d === 'number') return new Map(d === 0 ? [] : [['', d]]);
  const hit = cache.get(d);
  if (hit) return hit;
  const s = d.replace(/\s+/g, '');
  let i = 0;
  const bad = (): never => { throw new Error(`dims: '${d}' is not a polynomial of named sizes (and floor(R/k) atoms)`); };
  // Recursive descent: poly := term (('+'|'-') term)*; term := factor ('*' factor)*;
  // factor := integer | name | floor '(' poly '/' integer ')' | '(' poly ')'.
  const poly = (): Poly => {
    let p: Poly = new Map();
    let sign = 1;
    if (s[i] === '-') { sign = -1; i++; } else if (s[i] === '+') i++;
    for (;;) {
      p = addPoly(p, scale(term(), sign));
      if (s[i] === '+') { sign = 1; i++; } else if (s[i] === '-') { sign = -1; i++; } else return p;
    }
  };
  const term = (): Poly => {
    let p = factor();
    while (s[i] === '*') { i++; p = mulPoly(p, factor()); }
    return p;
  };
  const integer = (): number => {
    const m = /^\d+/.exec(s.slice(i)) ?? bad();
    i += m[0].length;
    return Number(m[0]);
  };
  const factor = (): Poly => {
    if (s[i] === '(') { i++; const p = poly(); if (s[i++] !== ')') bad(); return p; }
    if (/\d/.test(s[i] ?? '')) { const n = integer(); return new Map(n === 0 ? [] : [['', n]]); }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i)) ?? bad();
    i += m[0].length;
    if (m[0] === 'floor' && s[i] === '(') {
      i++;
      const r = poly();
      if (s[i++] !== '/') bad();
      const k = integer();
      if (s[i++] !== ')' || k < 1) bad();
      return floorPoly(r, k);
    }
    return new Map([[m[0], 1]]);
  };
  const p = poly();
  if (i !== s.length) bad();
  cache.set(d, p);
  return p;
}

function addPoly(a: Poly, b: Poly): Poly {
  const p = new Map(a);
  for (const [m, c] of b) { const v = (p.get(m) ?? 0) + c; if (v === 0) p.delete(m); else p.set(m, v); }
  return p;
}
const scale = (a: Poly, k: number): Poly => new Map(k === 0 ? [] : [...a].map(([m, c]) => [m, c * k]));
function mulPoly(a: Poly, b: Poly): Poly {
  let p: Poly = new Map();
  for (const [ma, ca] of a) for (const [mb, cb] of b) p = addPoly(p, new Map([[monomial([...factorsOf(ma), ...factorsOf(mb)]), ca * cb]]));
  return p;
}
const gcd = (a: number, b: number): number => (b === 0 ? Math.abs(a) : gcd(b, a % b));

/**
 * ⌊P/k⌋ as a polynomial with floor atoms, canonically: P = k·Q + R with each coefficient of R in
 * [0, k), so ⌊P/k⌋ = Q + ⌊R/k⌋ (exact for integers); R and k divided by their common factor; a
 * constant R gives 0 (0 ≤ R < k); ⌊(⌊S/m⌋ + c)/k⌋ = ⌊(S + c·m)/(m·k)⌋ folds a nested atom.
 */
function floorPoly(p: Poly, k: number): Poly {
  if (k === 1) return p;
  const q: Poly = new Map(), r: Poly = new Map();
  for (const [m, c] of p) {
    const qq = Math.floor(c / k), rr = c - qq * k;
    if (qq) q.set(m, qq);
    if (rr) r.set(m, rr);
  }
  const vars = [...r.keys()].filter((m) => m !== '');
  if (vars.length === 0) return q;
  if (vars.length === 1 && r.get(vars[0]!) === 1 && factorsOf(vars[0]!).length === 1) {
    const inner = atomOf(vars[0]!);
    if (inner) return addPoly(q, floorPoly(addPoly(inner.r, new Map([['', (r.get('') ?? 0) * inner.k]])), inner.k * k));
  }
  const g = [...r.values()].reduce(gcd, k);
  const rg = scale(r, 1 / g), kg = k / g;
  const body = render(rg), spelled = typeof body === 'number' || r.size === 1 && !String(body).includes('*') ? String(body) : `(${body})`;
  return addPoly(q, new Map([[`floor(${spelled}/${kg})`, 1]]));
}

/** The dim ⌊d/k⌋ (k a positive integer). */
export const floorDim = (d: Dim, k: number): Dim => {
  if (!Number.isInteger(k) || k < 1) throw new Error(`dims: floor of ${d} by ${k}: the divisor must be a positive integer`);
  return typeof d === 'number' ? Math.floor(d / k) : render(floorPoly(parse(d), k));
};

/**
 * The number of windows of `extent` cells moved by `stride` over a length `n` padded by
 * [before, after] (the floor rule ⌊(n + before + after − extent)/stride⌋ + 1) as a dim.
 */
export const windowsOf = (n: Dim, before: number, after: number, extent: number, stride: number): Dim =>
  addDims(floorDim(addDims(n, before + after - extent), stride), 1);

function render(p: Poly): Dim {
  const terms = [...p].filter(([, c]) => c !== 0);
  if (terms.every(([m]) => m === '')) return terms[0]?.[1] ?? 0;
  const degree = (m: string) => factorsOf(m).length;
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
  return render(addPoly(parse(a), parse(b)));
}
export const subDims = (a: Dim, b: Dim): Dim => addDims(a, mulDims(b, -1));

export function mulDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  return render(mulPoly(parse(a), parse(b)));
}

/** a / b when it divides exactly (b a number or a single monomial: sizes and floor atoms), else undefined. */
export function divDims(a: Dim, b: Dim): Dim | undefined {
  if (typeof a === 'number' && typeof b === 'number') return b !== 0 && a % b === 0 ? a / b : undefined;
  const pb = [...parse(b)];
  if (pb.length !== 1) return undefined;
  const [mb, cb] = pb[0]!;
  const p: Poly = new Map();
  for (const [m, c] of parse(a)) {
    if (c % cb !== 0) return undefined;
    const fs = factorsOf(m);
    for (const n of factorsOf(mb)) { const i = fs.indexOf(n); if (i < 0) return undefined; fs.splice(i, 1); }
    p.set(monomial(fs), c / cb);
  }
  return render(p);
}

export const numelDims = (dims: readonly Dim[]): Dim => dims.reduce<Dim>((a, b) => mulDims(a, b), 1);

/** The sizes a dim names (inside its floor atoms too). */
export function sizeNames(d: Dim): string[] {
  const s = new Set<string>();
  const walk = (p: Poly) => {
    for (const m of p.keys()) for (const f of factorsOf(m)) {
      const a = atomOf(f);
      if (a) walk(a.r); else s.add(f);
    }
  };
  walk(parse(d));
  return [...s].sort();
}

/** The value of a dim at given sizes (a floor atom floors). */
export function evalDim(d: Dim, sizes: Sizes): number {
  return typeof d === 'number' ? d : evalPoly(parse(d), sizes, d);
}
function evalPoly(p: Poly, sizes: Sizes, d: string): number {
  let v = 0;
  for (const [m, c] of p) {
    let t = c;
    for (const f of factorsOf(m)) {
      const a = atomOf(f);
      const x = a ? Math.floor(evalPoly(a.r, sizes, d) / a.k) : sizes[f];
      if (x === undefined) throw new Error(`dims: no value for size '${f}' in ${d}`);
      t *= x;
    }
    v += t;
  }
  return v;
}

/** A floor atom's numerator and divisor ('floor((T+1)/2)' → { num: 'T+1', k: 2 }); undefined for any other factor. */
export function floorParts(f: string): { num: Dim; k: number } | undefined {
  const a = atomOf(f);
  return a && { num: render(a.r), k: a.k };
}

/** The floor atoms a dim names (outermost only), e.g. ['floor(T/2)'] for '3*floor(T/2)+1'. */
export const floorAtoms = (d: Dim): string[] => [...new Set([...parse(d).keys()].flatMap((m) => factorsOf(m).filter((f) => atomOf(f))))].sort();

/** d with each named factor (a size or a floor atom) replaced by its dim in `by`. */
export function substDim(d: Dim, by: Readonly<Record<string, Dim>>): Dim {
  if (typeof d === 'number') return d;
  let out: Dim = 0;
  for (const [m, c] of parse(d)) {
    out = addDims(out, factorsOf(m).reduce<Dim>((acc, f) => {
      const a = atomOf(f);
      return mulDims(acc, by[f] ?? (a ? floorDim(substDim(render(a.r), by), a.k) : f));
    }, c));
  }
  return out;
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
  // Most dims (channels, features) are the same at every probe: that constant is the polynomial.
  if (values.every((v) => v === values[0]) && Number.isInteger(values[0])) return values[0]!;
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
  // The same few probes come back at every node: their inverse matrix is kept.
  const key = xs.join(',');
  let inv = inverses.get(key);
  if (!inv) {
    const cols = xs.map((_, j) => solveVandermondeFor(xs, xs.map((_, i) => +(i === j))));
    inv = xs.map((_, r) => cols.map((c) => c[r]!));
    inverses.set(key, inv);
  }
  return inv.map((row) => row.reduce((s, w, i) => s + w * ys[i]!, 0));
}
const inverses = new Map<string, number[][]>();

function solveVandermondeFor(xs: readonly number[], ys: readonly number[]): number[] {
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
