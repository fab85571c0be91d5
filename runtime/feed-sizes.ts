// The named sizes of a call, read off what the caller fed: the runtime's run() and the compiler's
// reference interpreter both bind them here, so a feed means the same to both.

import { describe, numel, typedLength } from './format.ts';
import { evalDim, linearDim } from './dims.ts';

export const fmt = (s: readonly (number | string)[]) => `[${s.join(', ')}]`;
/** A shape the caller gave, which may hold anything. */
export const showShape = (v: unknown) => (Array.isArray(v) ? `[${v.slice(0, 10).map(describe).join(', ')}${v.length > 10 ? ', …' : ''}]` : describe(v));
/** A list for an error message: at most `max` items. */
export const list = (xs: readonly string[], max = 8) => (xs.length > max ? `${xs.slice(0, max).join(', ')}, … (${xs.length} in all)` : xs.join(', '));
export const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** What binding needs of an entry: its inputs' dims (a number, a size name or c*NAME+d each: linearDim) and each size's bound and least value. */
type Input = { name: string; dtype: string; dims?: readonly (number | string)[] };

export interface SizedInputs {
  inputs: readonly Input[];
  sizes?: Readonly<Record<string, number>>;
  min?: Readonly<Record<string, number>>;
}

/**
 * The entry's named sizes from the feeds: read off `{ data, shape }` feeds, then inferred
 * from the length of plain arrays where one size is left; each in [min, bound], one value per name.
 * A dim c*K+d gives K = (n − d)/c, which must be an integer in K's [min, bound] (an odd image for '2*K' is refused).
 */
export function feedSizes(e: SizedInputs, where: string, feeds: unknown): Record<string, number> {
  const sizes: Record<string, number> = {};
  // Missing or unknown inputs are reported by checkFeeds, by name, before any size is read.
  if (!e.sizes || typeof feeds !== 'object' || feeds === null || e.inputs.some((t) => !Object.hasOwn(feeds, t.name))) return sizes;
  const from: Record<string, string> = {};
  const bind = (t: Input, i: number, dim: string, v: number, how: string) => {
    const { c, name, d } = linearDim(dim)!, max = e.sizes![name]!, min = e.min?.[name] ?? 1, k = (v - d) / c, bare = dim === name;
    const at = `${where} input '${t.name}': dim ${i} is ${bare ? 'size ' : ''}'${dim}'`;
    if (!(Number.isInteger(k) && k >= min && k <= max)) throw new Error(`${at}, which must be ${bare ? 'an integer' : `${dim} for an integer ${name}`} in [${min}, ${max}]; ${how} ${v}`);
    if (sizes[name] !== undefined && sizes[name] !== k) throw new Error(`${at} = ${v}, but input '${from[name]}' gives ${name} = ${sizes[name]} (the same name is the same size)`);
    sizes[name] = k; from[name] = t.name;
  };
  const open = (t: Input) => [...new Set(t.dims!.map((d) => linearDim(d)?.name).filter((n): n is string => n !== undefined && sizes[n] === undefined))];
  const pending: Input[] = [];
  for (const t of e.inputs) {
    if (!t.dims || !Object.hasOwn(feeds, t.name)) continue;
    const f = (feeds as Record<string, unknown>)[t.name];
    const shape = typeof f === 'object' && f !== null && !ArrayBuffer.isView(f) && !Array.isArray(f) ? (f as { shape?: unknown }).shape : undefined;
    if (shape === undefined) { pending.push(t); continue; }
    if (!Array.isArray(shape) || !shape.every(isIndex)) throw new Error(`${where} input '${t.name}': expected { data, shape } with shape a list of integers, got shape ${showShape(shape)}`);
    if (shape.length !== t.dims.length) throw new Error(`${where} input '${t.name}': expected rank ${t.dims.length} ${fmt(t.dims)}, got shape ${fmt(shape.slice(0, 10))}`);
    t.dims.forEach((d, i) => {
      if (typeof d === 'string') bind(t, i, d, shape[i]!, `the shape ${fmt(shape)} says it is`);
      else if (shape[i] !== d) throw new Error(`${where} input '${t.name}': expected shape ${fmt(t.dims!)}, got ${fmt(shape)} (dim ${i} must be ${d})`);
    });
  }
  // Plain arrays: the one size left is the length over the rest.
  for (let progress = true; progress && pending.length;) {
    progress = false;
    for (const t of [...pending]) {
      const names = open(t);
      if (names.length > 1) continue;
      pending.splice(pending.indexOf(t), 1);
      progress = true;
      if (names.length === 0) continue;
      const f = (feeds as Record<string, unknown>)[t.name];
      const len = Array.isArray(f) ? f.length : ArrayBuffer.isView(f) && !(f instanceof DataView) ? typedLength.call(f) : undefined;
      if (len === undefined) throw new Error(`${where} input '${t.name}': expected a typed array of ${t.dtype}${fmt(t.dims!)} or { data, shape }, got ${describe(f)}`);
      const name = names[0]!, at = t.dims!.flatMap((d, j) => (linearDim(d)?.name === name ? [j] : [])), i = at[0]!;
      if (at.length > 1) throw new Error(`${where} input '${t.name}': size '${name}' appears twice in ${fmt(t.dims!)}; give { data, shape }`);
      const rest = numel(t.dims!.map((d, j) => (j === i ? 1 : evalDim(d, sizes))));
      if (len % rest !== 0) throw new Error(`${where} input '${t.name}': ${len} values do not fill ${fmt(t.dims!)} (${len} is not a multiple of ${rest})`);
      bind(t, i, t.dims![i] as string, len / rest, `${len} values make it`);
    }
  }
  if (pending.length) {
    const t = pending[0]!;
    throw new Error(`${where} input '${t.name}': its shape ${fmt(t.dims!)} has sizes ${list(open(t))} that no other input fixes; give { data, shape }`);
  }
  return sizes;
}
