// Named sizes in the manifest (an artifact compiled with symbolic dims, see docs/guide.md):
// a dim is a number or a polynomial of size names with integer coefficients ('B', 'B*T',
// 'T+1', '2*T-1'). The runtime only evaluates them; the compiler (compiler/ir/dims.ts) writes them.

export type Dim = number | string;
export type Sizes = Readonly<Record<string, number>>;

export const SIZE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TERM = /^-?(?:\d+|[A-Za-z_][A-Za-z0-9_]*)(?:\*(?:\d+|[A-Za-z_][A-Za-z0-9_]*))*$/;

/** The terms of a dim's spelling, or undefined when it is not a polynomial of names. */
function terms(d: string): string[] | undefined {
  if (d.length === 0 || d.length > 200) return undefined;
  const ts = d.replace(/-/g, '+-').split('+').filter((t, i) => t !== '' || i === 0);
  if (ts[0] === '') ts.shift();
  return ts.length > 0 && ts.every((t) => TERM.test(t)) ? ts : undefined;
}

/** The size names a dim uses (undefined: not a valid dim). */
export function namesOf(d: unknown): string[] | undefined {
  if (typeof d === 'number') return Number.isSafeInteger(d) && d >= 0 ? [] : undefined;
  if (typeof d !== 'string') return undefined;
  const ts = terms(d);
  return ts && [...new Set(ts.flatMap((t) => t.replace(/^-/, '').split('*').filter((f) => SIZE_NAME.test(f))))];
}

/** A dim's terms as (coefficient, names multiplied), parsed once: evalDim runs on every call of a sized entry. */
const parsed = new Map<string, Array<[number, string[]]>>();
function polynomial(d: string): Array<[number, string[]]> {
  let p = parsed.get(d);
  if (!p) {
    p = terms(d)!.map((t) => {
      const fs = t.replace(/^-/, '').split('*');
      const coef = fs.filter((f) => !SIZE_NAME.test(f)).reduce((c, f) => c * Number(f), t.startsWith('-') ? -1 : 1);
      return [coef, fs.filter((f) => SIZE_NAME.test(f))];
    });
    if (parsed.size >= 4096) parsed.clear(); // dims come from manifests: a handful per model
    parsed.set(d, p);
  }
  return p;
}

/** The value of a valid dim at `sizes` (every name it uses must be given). */
export function evalDim(d: Dim, sizes: Sizes): number {
  if (typeof d === 'number') return d;
  let v = 0;
  for (const [coef, names] of polynomial(d)) {
    let x = coef;
    for (const n of names) x *= sizes[n]!;
    v += x;
  }
  return v;
}
