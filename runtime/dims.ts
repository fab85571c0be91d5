// Named sizes in the manifest (an artifact compiled with symbolic dims, see docs/guide.md):
// a dim is a number or a polynomial of size names with integer coefficients ('B', 'B*T',
// 'T+1', '2*T-1'), whose factors may also be floors 'floor(R/k)' (a strided window's length,
// 'floor((T+1)/2)+1'). The runtime only evaluates them; the compiler (compiler/ir/dims.ts) writes them.

export type Dim = number | string;
export type Sizes = Readonly<Record<string, number>>;

export const SIZE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A parsed dim: evaluates at sizes; `names` are the sizes it uses. */
interface Parsed { names: string[]; at(sizes: Sizes): number }

/** Parses a dim's spelling (recursive descent), or undefined when it is not a valid dim. */
function parse(d: string): Parsed | undefined {
  if (d.length === 0 || d.length > 400) return undefined;
  const names = new Set<string>();
  let i = 0;
  const tok = (re: RegExp): string | undefined => { const m = re.exec(d.slice(i)); if (m) i += m[0].length; return m?.[0]; };
  type F = (s: Sizes) => number;
  const poly = (): F | undefined => {
    const ts: Array<[number, F]> = [];
    let sign = tok(/^-/) ? -1 : 1;
    for (;;) {
      const t = term();
      if (!t) return undefined;
      ts.push([sign, t]);
      const op = tok(/^[+-]/);
      if (!op) return (s) => ts.reduce((v, [g, f]) => v + g * f(s), 0);
      sign = op === '-' ? -1 : 1;
    }
  };
  const term = (): F | undefined => {
    const fs: F[] = [];
    do { const f = factor(); if (!f) return undefined; fs.push(f); } while (tok(/^\*/));
    return (s) => fs.reduce((v, f) => v * f(s), 1);
  };
  const factor = (): F | undefined => {
    const n = tok(/^\d+/);
    if (n) return () => Number(n);
    if (tok(/^\(/)) { const p = poly(); return p && tok(/^\)/) ? p : undefined; }
    const name = tok(/^[A-Za-z_][A-Za-z0-9_]*/);
    if (!name) return undefined;
    if (name === 'floor' && tok(/^\(/)) {
      const r = poly(), k = r && tok(/^\//) ? Number(tok(/^\d+/)) : 0;
      return r && k >= 1 && tok(/^\)/) ? (s) => Math.floor(r(s) / k) : undefined;
    }
    names.add(name);
    return (s) => s[name]!;
  };
  const p = poly();
  return p && i === d.length ? { names: [...names], at: p } : undefined;
}

/** Parsed dims, kept: evalDim runs on every call of a sized entry. */
const parsed = new Map<string, Parsed | undefined>();
function lookup(d: string): Parsed | undefined {
  if (!parsed.has(d)) {
    if (parsed.size >= 4096) parsed.clear(); // dims come from manifests: a handful per model
    parsed.set(d, parse(d));
  }
  return parsed.get(d);
}

/** The size names a dim uses (undefined: not a valid dim). */
export function namesOf(d: unknown): string[] | undefined {
  if (typeof d === 'number') return Number.isSafeInteger(d) && d >= 0 ? [] : undefined;
  return typeof d === 'string' ? lookup(d)?.names : undefined;
}

/** The value of a valid dim at `sizes` (every name it uses must be given). */
export function evalDim(d: Dim, sizes: Sizes): number {
  return typeof d === 'number' ? d : lookup(d)!.at(sizes);
}
