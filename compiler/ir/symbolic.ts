// Type rules over symbolic sizes, without a symbolic version of each rule: an op's rule is
// run at the bounds (the shape memory is planned for) and at a small grid of actual sizes
// (the least three per named size: 1, 2, 3 unless a minimum is declared, within its bound); each
// output dim is fitted as a polynomial of the sizes and checked again at the bounds. A rule that
// refuses some size in [least, bound] (a slice longer than the sequence, a reshape to a fixed
// size) or an output that is not a polynomial is a ShapeError naming the op, the sizes and the
// dims. A strided window's length is a floor (ir/dims.ts floor(R/k)): the op proposes it
// (OpDef.dims) and it is checked against the rule at every probe; an input's floor atoms are
// probed as stand-in sizes of their own, on a grid that keeps what is known of floors
// (k·⌊R/k⌋ ≤ R: probeStarts), and at the actual floors of the least sizes. A size's least value is 1 unless its types carry a
// declared minimum (`min`, from the entry's inputs); within [least, bound] the fitted
// polynomial is exact wherever the probes cover every value (a bound at most least + 2).
//
// Attributes that depend on sizes (a reshape's target, a slice's end) hold their value at the
// bounds, as for a static graph, and their symbolic spelling in `attrs.sym`.

import type { AttrValue, Attrs, Graph, Node } from './node.ts';
import { evalDim, fitDim, floorAtoms, floorParts, growsWithSizes, sizeNames, substDim, type Dim, type Sizes } from './dims.ts';
import { ShapeError } from './ops/rules.ts';
import { fmtShape, fmtType, type TensorType } from './types.ts';

/** Symbolic attribute values (attribute name → dim or dims), the bounds of the sizes they name and their declared minimums. */
export interface SymAttrs { readonly values: Readonly<Record<string, Dim | readonly Dim[]>>; readonly max: Sizes; readonly min?: Sizes }

export const symAttrsOf = (attrs: Attrs): SymAttrs | undefined => attrs.sym as SymAttrs | undefined;

/** The attributes with their symbolic values taken at `sizes` (and no `sym`). */
export function attrsAt(attrs: Attrs, sizes: Sizes): Attrs {
  const sym = symAttrsOf(attrs);
  if (!sym) return attrs;
  const out: Record<string, AttrValue> = { ...attrs };
  delete out.sym;
  for (const [k, v] of Object.entries(sym.values)) out[k] = Array.isArray(v) ? v.map((d) => evalDim(d, sizes)) : evalDim(v as Dim, sizes);
  return out;
}

/** The static type at `sizes`. */
export const typeAt = (t: TensorType, sizes: Sizes): TensorType => (t.dims ? { dtype: t.dtype, shape: t.dims.map((d) => evalDim(d, sizes)) } : t);

/** The bounds of every size the types and attributes name; a size with two bounds is an error. */
export function boundsOf(op: string, ins: readonly TensorType[], attrs: Attrs): Record<string, number> {
  const max: Record<string, number> = {};
  const add = (m: Sizes | undefined) => {
    for (const [k, v] of Object.entries(m ?? {})) {
      if (max[k] !== undefined && max[k] !== v) throw new ShapeError(`${op}: size '${k}' has two bounds, ${max[k]} and ${v}`);
      max[k] = v;
    }
  };
  ins.forEach((t) => add(t.max));
  add(symAttrsOf(attrs)?.max);
  return max;
}

/** The declared least value of the sizes the types and attributes name (a size is one size: the largest declared wins). */
function leastOf(ins: readonly TensorType[], attrs: Attrs): Record<string, number> {
  const min: Record<string, number> = {};
  for (const m of [...ins.map((t) => t.min), symAttrsOf(attrs)?.min]) for (const [k, v] of Object.entries(m ?? {})) min[k] = Math.max(min[k] ?? 1, v);
  return min;
}

const isSymbolicCall = (ins: readonly TensorType[], attrs: Attrs) => ins.some((t) => t.dims) || attrs.sym !== undefined;

/**
 * The result types of a rule (`rule(ins, attrs)`: the primary type first) with their symbolic
 * dims; for inputs and attributes without symbols this is the rule itself.
 */
export function symbolicTypes(op: string, ins: readonly TensorType[], attrs: Attrs, rule: (ins: readonly TensorType[], a: Attrs) => TensorType[], propose?: ProposeDims): TensorType[] {
  if (!isSymbolicCall(ins, attrs)) return rule(ins, attrs);
  // Floor atoms ('floor(T/2)', a strided window's length) are probed as sizes of their own:
  // each becomes a stand-in size with the atom's bound and least value, so the rule's dims are
  // fitted as polynomials of them (an op after a strided pool), then the atoms are put back.
  const sym = symAttrsOf(attrs);
  const atoms = [...new Set([...ins.flatMap((t) => t.dims ?? []), ...Object.values(sym?.values ?? {}).flat()].flatMap(floorAtoms))];
  if (atoms.length === 0) return fitTypes(op, ins, attrs, rule, propose);
  const max = boundsOf(op, ins, attrs), min = leastOf(ins, attrs), lo = Object.fromEntries(Object.keys(max).map((n) => [n, min[n] ?? 1]));
  const stand = Object.fromEntries(atoms.map((a, i) => [a, `floor__${i}`])), back = Object.fromEntries(atoms.map((a, i) => [`floor__${i}`, a])); // (RESERVED_SIZE: no user size is so named)
  const atomMax = Object.fromEntries(atoms.map((a) => [stand[a]!, evalDim(a, max)])), atomMin = Object.fromEntries(atoms.map((a) => [stand[a]!, evalDim(a, lo)]));
  const subst = (t: TensorType): TensorType => (t.dims ? { ...t, dims: t.dims.map((d) => substDim(d, stand)), max: { ...t.max, ...atomMax }, min: { ...t.min, ...atomMin } } : t);
  const sAttrs: Attrs = sym ? { ...attrs, sym: { values: Object.fromEntries(Object.entries(sym.values).map(([k, v]) => [k, Array.isArray(v) ? v.map((d) => substDim(d, stand)) : substDim(v as Dim, stand)])), max: { ...sym.max, ...atomMax }, min: { ...sym.min, ...atomMin } } as unknown as AttrValue } : attrs;
  let fitted: TensorType[];
  try {
    fitted = fitTypes(op, ins.map(subst), sAttrs, rule, propose, back);
  } catch (e) {
    // A message names the atoms, not their stand-ins.
    if (e instanceof ShapeError) e.message = e.message.replace(/floor__\d+/g, (n) => back[n] ?? n);
    throw e;
  }
  return fitted.map((t) => {
    if (!t.dims) return t;
    const dims = t.dims.map((d) => substDim(d, back)), named = new Set(dims.flatMap(sizeNames));
    const floors = [...named].filter((n) => min[n] !== undefined).sort();
    return { dtype: t.dtype, shape: t.shape, dims, max: Object.fromEntries([...named].sort().map((n) => [n, max[n]!])), ...(floors.length ? { min: Object.fromEntries(floors.map((n) => [n, min[n]!])) } : {}) };
  });
}

/**
 * Symbolic dims an op gives for its result 0 where probing cannot find them (a strided window's
 * floor): undefined for a dim to fit. symbolicTypes checks each against the rule at every probe.
 */
export type ProposeDims = (ins: readonly TensorType[], a: Attrs) => ReadonlyArray<Dim | undefined>;

/**
 * Where one input has a fixed size equal to the bound of a named size (as inputs declare them)
 * another input has at the same place (aligned from the last dim, as broadcasting and concat
 * align them), the likely cause: a size read at its bound (x.maxShape), or a number the model
 * computed from sizes, where the op needed the size chosen at run time.
 */
function boundHint(ins: readonly TensorType[], max: Sizes): string {
  for (const a of ins) for (const b of ins) {
    if (a === b || !b.dims) continue;
    for (let j = 1; j <= Math.min(a.shape.length, b.dims.length); j++) {
      const da = (a.dims ?? a.shape)[a.shape.length - j]!, db = b.dims[b.dims.length - j]!;
      if (typeof da === 'number' && typeof db === 'string' && /^[A-Za-z_]\w*$/.test(db) && da > 1 && evalDim(db, max) === da) {
        return ` (dim ${a.shape.length - j} of ${fmtType(a)} is a fixed ${da}, the bound of '${db}': a size read from x.maxShape or x.maxSize(i), or computed in JavaScript, is its bound; x.size(i) and x.dim(i) give the size chosen at run time, for expand, reshape, zeros and the like, e.g. ones([x.size(1), x.size(1)]) or arange(x.size(1)))`;
      }
    }
  }
  return '';
}

/** Every combination of the names' values, row-major over `names`. */
function gridOf(names: readonly string[], values: readonly (readonly number[])[]): Array<Record<string, number>> {
  const grid: Array<Record<string, number>> = [];
  const walk = (i: number, cur: Record<string, number>) => {
    if (i === names.length) { grid.push({ ...cur }); return; }
    for (const v of values[i]!) { cur[names[i]!] = v; walk(i + 1, cur); }
  };
  walk(0, {});
  return grid;
}

/**
 * Where each name's probes start. A stand-in s for an atom ⌊R/k⌋ (`atoms`: stand-in → atom) is no
 * free size: k·s ≤ R (so s ≤ R as well, s being ≥ 0), and (k/m)·s ≤ s' for the stand-in s' of
 * ⌊R/m⌋ with m dividing k (⌊R/k⌋ = ⌊⌊R/m⌋/(k/m)⌋). A grid point breaking such a fact is no size the
 * code ever meets, where a rule may rightly refuse (a slice to 2·⌊H/2⌋ at H = 1 with ⌊H/2⌋ = 2), so
 * the probes of R's sizes (and of s') start high enough that every point of the grid keeps every
 * fact; the least sizes themselves are checked at their actual floors (fitTypes' real points).
 */
function probeStarts(names: readonly string[], counts: readonly number[], lo: (n: string) => number, atoms: Readonly<Record<string, Dim>>): Record<string, number> {
  const start: Record<string, number> = Object.fromEntries(names.map((n) => [n, lo(n)]));
  const top = (n: string) => start[n]! + counts[names.indexOf(n)]! - 1;
  const parts = Object.entries(atoms).flatMap(([s, a]) => { const p = floorParts(String(a)); return p && start[s] !== undefined ? [{ s, ...p }] : []; });
  const facts = parts.flatMap((p) => [{ s: p.s, k: p.k, num: p.num as Dim | undefined, over: undefined as string | undefined },
    ...parts.filter((q) => q.num === p.num && q.k < p.k && p.k % q.k === 0).map((q) => ({ s: p.s, k: p.k / q.k, num: undefined, over: q.s }))]);
  // Raising a stand-in may break its own fact: to a fixed point (a fact only raises what has the smaller divisor).
  for (let changed = true; changed;) {
    changed = false;
    for (const f of facts) {
      const need = f.k * top(f.s);
      if (f.over !== undefined) {
        if (start[f.over]! < need) { start[f.over] = need; changed = true; }
        continue;
      }
      const ns = sizeNames(f.num!);
      if (!ns.every((n) => start[n] !== undefined)) continue;
      // R's coefficients are positive: raising each of its sizes by 1 raises it by at least 1.
      while (evalDim(f.num!, start) < need) { for (const n of ns) start[n]!++; changed = true; }
    }
  }
  return start;
}

function fitTypes(op: string, ins: readonly TensorType[], attrs: Attrs, rule: (ins: readonly TensorType[], a: Attrs) => TensorType[], propose?: ProposeDims, atoms: Readonly<Record<string, Dim>> = {}): TensorType[] {
  const max = boundsOf(op, ins, attrs), min = leastOf(ins, attrs), lo = (n: string) => min[n] ?? 1;
  // Probed: the sizes the rule sees. A size named only inside floor atoms (T of floor((T+1)/2),
  // once the atom has its stand-in) changes nothing the rule reads, and probing it too multiplied
  // the grid by 3 for each (a ResNet's convs over N×H×W: 243 points a node instead of 27).
  const seen = new Set([...ins.flatMap((t) => t.dims ?? []), ...Object.values(symAttrsOf(attrs)?.values ?? {}).flat()].flatMap((d) => sizeNames(d as Dim)));
  const all = Object.keys(max).sort(), names = all.filter((n) => seen.has(n)), least = all.filter((n) => min[n] !== undefined);
  const count = (n: string) => Math.min(3, max[n]! - lo(n) + 1);
  const counts = names.map(count), start = probeStarts(names, counts, lo, atoms);
  const probes = names.map((n, i) => Array.from({ length: counts[i]! }, (_, k) => start[n]! + k));
  const grid = gridOf(names, probes);
  // The sizes with each stand-in at its atom's value: what the code meets.
  const real = (sizes: Sizes): Sizes => ({ ...sizes, ...Object.fromEntries(Object.entries(atoms).filter(([s]) => s in max).map(([s, a]) => [s, evalDim(a, sizes)])) });
  const sizesOnly = all.filter((n) => atoms[n] === undefined);
  const lows = Object.keys(atoms).length ? gridOf(sizesOnly, sizesOnly.map((n) => Array.from({ length: count(n) }, (_, k) => lo(n) + k))).map(real) : [];
  const fails = (sizes: Sizes): boolean => {
    try { rule(ins.map((t) => typeAt(t, sizes)), attrsAt(attrs, sizes)); return false; } catch (e) { if (e instanceof ShapeError) return true; throw e; }
  };
  const at = (sizes: Sizes, why: string): TensorType[] => {
    try {
      return rule(ins.map((t) => typeAt(t, sizes)), attrsAt(attrs, sizes));
    } catch (e) {
      if (!(e instanceof ShapeError)) throw e;
      const where = all.filter((n) => sizes[n] !== undefined).map((n) => `${n}=${sizes[n]}`).join(', ');
      // An error at every probe is not the sizes' doing (a dtype mismatch): the advice on symbolic
      // sizes only misled there; the values shown are still the bounds.
      if (sizes === max && grid.every(fails)) throw new ShapeError(`${e.message} — at the bounds ${where} (inputs ${ins.map(fmtType).join(', ')})`);
      throw new ShapeError(`${e.message} — with ${where}${why} (inputs ${ins.map(fmtType).join(', ')}); a symbolic size must work for every value from ${least.length ? `its declared minimum (${least.map((n) => `${n} ≥ ${min[n]}`).join(', ')})` : '1'} to its bound${boundHint(ins, max)}`);
    }
  };
  const bound = at(max, ' (the bounds)');
  // The least actual sizes first: a refusal there names the sizes a user thinks of.
  const lowChecks = lows.map((s): [Sizes, TensorType[]] => [s, at(s, '')]);
  const results = grid.map((s) => at(s, ''));
  const proposed = propose?.(ins, attrs);
  const extra = real(Object.fromEntries(all.map((n) => [n, Math.max(lo(n), max[n]! - 1)])));
  const checks: Array<[Sizes, TensorType[]]> = [[max, bound], ...lowChecks];
  if (all.some((n) => max[n]! - 1 > lo(n) + 2)) checks.push([extra, at(extra, '')]);
  return bound.map((b, r) => {
    const dims = b.shape.map((_, i) => {
      const values = results.map((res) => {
        const t = res[r]!;
        if (t.shape.length !== b.shape.length || t.dtype !== b.dtype) {
          throw new ShapeError(`${op}: result ${r} changes rank or dtype with the sizes (${fmtType(t)} vs ${fmtType(b)} at the bounds)`);
        }
        return t.shape[i]!;
      });
      const given = r === 0 ? proposed?.[i] : undefined;
      const d = given ?? fitDim(names, probes, values);
      const bad = (why: string) => new ShapeError(`${op}: dim ${i} of result ${fmtShape(b.shape)} ${why} of the sizes ${names.join(', ')} (inputs ${ins.map(fmtType).join(', ')})`);
      if (given !== undefined && grid.some((s, g) => evalDim(given, s) !== values[g])) throw bad(`(${given}) does not match the rule at every probe as a function`);
      if (d === undefined || checks.some(([s, ts]) => evalDim(d, s) !== ts[r]!.shape[i])) throw bad('is not a polynomial');
      if (!growsWithSizes(d)) throw bad(`(${d}) shrinks as some grow, so memory planned at the bounds may not hold it; it is not a supported function`);
      return d;
    });
    if (dims.every((d) => typeof d === 'number')) return b;
    const named = new Set(dims.flatMap(sizeNames)), used = all.filter((n) => named.has(n));
    const floors = used.filter((n) => min[n] !== undefined);
    return { dtype: b.dtype, shape: b.shape, dims, max: Object.fromEntries(used.map((n) => [n, max[n]!])), ...(floors.length ? { min: Object.fromEntries(floors.map((n) => [n, min[n]!])) } : {}) };
  });
}

/**
 * Broadcasting with named sizes (OpDef.broadcasts: an input's dims and the dims they meet,
 * right-aligned): a named dim must meet itself. One that meets a fixed size ([B] against [2] with
 * B ≤ 2 holds at every size) broadcasts only where it is 1, which the compiled code, reading a
 * named dim at its stride at every size (codegen/loops.ts dimBroadcastStrides), cannot do.
 */
export function checkBroadcasts(op: string, pairs: ReadonlyArray<readonly [number, readonly Dim[], readonly Dim[]]>): void {
  for (const [i, from, to] of pairs) {
    const off = to.length - from.length;
    from.forEach((d, j) => {
      if (typeof d === 'string' && to[j + off] !== d) {
        throw new ShapeError(`${op}: input ${i} ${fmtShape(from)} meets ${fmtShape(to)}: its size '${d}' would broadcast only where it is 1 (a named size is supported only against the same size)`);
      }
    });
  }
}

/** The sizes a graph's inputs name, with their bounds. */
export function graphSizes(g: Graph): Record<string, number> {
  const max: Record<string, number> = {};
  for (const n of g.inputs) Object.assign(max, n.type.max ?? {});
  return max;
}

/** The sizes a graph's inputs name whose least value is declared above 1, with it. */
export function graphLeast(g: Graph): Record<string, number> {
  const min: Record<string, number> = {};
  for (const n of g.inputs) Object.assign(min, n.type.min ?? {});
  return min;
}

/**
 * The static graph a symbolic one is at `sizes` (every named size of its inputs, each in
 * [least, bound]): types and size-dependent attributes evaluated, loop bodies too. Constants are
 * shared; a memory plan (made at the bounds) is kept, so the fuzz simulator can check that
 * values dense at their actual sizes fit and do not collide where the plan put them.
 */
export function instantiate(g: Graph, sizes: Sizes): Graph {
  const max = graphSizes(g), min = graphLeast(g);
  for (const [k, b] of Object.entries(max)) {
    const v = sizes[k], lo = min[k] ?? 1;
    if (v === undefined || !Number.isInteger(v) || v < lo || v > b) throw new RangeError(`instantiate: size '${k}' must be an integer in [${lo}, ${b}], got ${String(v)}`);
  }
  return instantiateNodes(g, sizes);
}

function instantiateNodes(g: Graph, sizes: Sizes): Graph {
  const map = new Map<Node, Node>();
  for (const n of g.nodes) {
    const attrs = attrsAt(n.attrs, sizes), body = (attrs as { body?: Graph }).body;
    map.set(n, { ...n, type: typeAt(n.type, sizes), attrs: body && 'nodes' in body ? { ...attrs, body: instantiateNodes(body, sizes) } : attrs, inputs: n.inputs.map((i) => map.get(i)!) });
  }
  const remap = <V>(m: Map<Node, V>, f: (v: V) => V = (v) => v) => new Map([...m].map(([k, v]) => [map.get(k) ?? k, f(v)]));
  const plan = g.plan && { arenaBytes: g.plan.arenaBytes, offsets: remap(g.plan.offsets), scratch: remap(g.plan.scratch), donated: remap(g.plan.donated, (v) => map.get(v) ?? v),
    ...(g.plan.copies ? { copies: { count: g.plan.copies.count, stride: remap(g.plan.copies.stride) } } : {}) };
  return {
    nodes: g.nodes.map((n) => map.get(n)!), inputs: g.inputs.map((n) => map.get(n)!),
    outputs: g.outputs.map((o) => ({ name: o.name, node: map.get(o.node)! })),
    ...(g.stateWrites ? { stateWrites: g.stateWrites.map((o) => ({ name: o.name, node: map.get(o.node)! })) } : {}),
    ...(g.loopBody ? { loopBody: g.loopBody } : {}),
    ...(plan ? { plan } : {}),
  };
}
