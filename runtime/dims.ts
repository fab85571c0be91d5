// Named sizes in the manifest (an artifact compiled with symbolic dims, see docs/guide.md):
// a dim is a number or a polynomial of size names with integer coefficients ('B', 'B*T',
// 'T+1', '2*T-1'), whose factors may also be floors 'floor(R/k)' (a strided window's length,
// 'floor((T+1)/2)+1'). The runtime only evaluates them; the compiler (compiler/ir/dims.ts) writes them.

export type Dim = number | string;
export type Sizes = Readonly<Record<string, number>>;

export const SIZE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A dim's tokens, kept: evalDim runs on every call of a sized entry. */
const tokens = new Map<string, string[]>();

/**
 * A dim's value at `z` by recursive descent over its tokens, with the names it uses put in
 * `names`; throws on a spelling that is not a dim (namesOf catches it: the loader validates every
 * dim before evalDim sees it). A missing size reads as 1 (namesOf's walk).
 */
function walk(d: string, z: Sizes, names: Set<string>): number {
  let t = tokens.get(d);
  if (!t) {
    if (tokens.size > 4095) tokens.clear(); // dims come from manifests: a handful per model
    tokens.set(d, t = d.length > 400 ? [] : d.match(/\d+|\w+|./g) ?? []);
  }
  let i = 0;
  const eat = (s: string) => t[i] === s && ++i > 0;
  const need = (s: string) => { if (!eat(s)) throw 0; };
  const sum = (): number => {
    let v = 0;
    for (let g = eat('-') ? -1 : 1; ; g = eat('-') ? -1 : 1) {
      v += g * prod();
      if (t[i] !== '+' && t[i] !== '-') return v;
      eat('+');
    }
  };
  const prod = (): number => {
    let v = atom();
    while (eat('*')) v *= atom();
    return v;
  };
  const atom = (): number => {
    const x = t[i++] ?? '';
    if (/^\d/.test(x)) return +x;
    if (x === '(') { const v = sum(); need(')'); return v; }
    if (!SIZE_NAME.test(x)) throw 0;
    if (x === 'floor' && eat('(')) {
      const v = sum(); need('/');
      const k = +t[i++]!; need(')');
      if (!(k >= 1)) throw 0;
      return Math.floor(v / k);
    }
    names.add(x);
    return z[x] ?? 1;
  };
  const v = sum();
  if (i < t.length) throw 0;
  return v;
}

/** The size names a dim uses (undefined: not a valid dim). */
export function namesOf(d: unknown): string[] | undefined {
  if (typeof d === 'number') return Number.isSafeInteger(d) && d >= 0 ? [] : undefined;
  if (typeof d !== 'string') return undefined;
  const names = new Set<string>();
  try { walk(d, {}, names); } catch { return undefined; }
  return [...names];
}

/** The value of a valid dim at `sizes` (every name it uses must be given). */
export function evalDim(d: Dim, sizes: Sizes): number {
  return typeof d === 'number' ? d : walk(d, sizes, new Set());
}

/**
 * An input dim the runtime can read a size off: c·NAME + d (c ≥ 1, d any integer), spelled as the
 * compiler writes it ('K', '2*K', 'K+1', '2*K-1'); undefined for any other dim.
 */
export function linearDim(d: unknown): { c: number; name: string; d: number } | undefined {
  const m = /^(?:([1-9]\d*)\*)?([A-Za-z_]\w*)([+-]\d+)?$/.exec(typeof d === 'string' ? d : '');
  return m ? { c: +(m[1] ?? 1), name: m[2]!, d: +(m[3] ?? 0) } : undefined;
}
