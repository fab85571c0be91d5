// The reference interpreter: runs a graph by evaluating each node's definition (the
// `evaluate` of ir/ops/<family>.ts: PyTorch's semantics in plain loops, accumulating in f64).
// It is the oracle for every compiled path, so it shares no code with the kernels.

import { withEmptyEdges, type Graph, type Node } from '../ir/node.ts';
import { opDef } from '../ir/ops.ts';
import type { EvalContext, Value } from '../ir/ops/def.ts';
import { exprEvaluator } from '../ir/ops/elementwise.ts';
import { numel, type AnyTensorData } from '../ir/types.ts';
import { graphLeast, graphSizes, instantiate } from '../ir/symbolic.ts';
import { feedSizes } from '../../runtime/feed-sizes.ts';
import type { Sizes } from '../ir/dims.ts';
import { checkGraph, describeValue } from '../ir/print.ts';

export type { Value };
export { exprEvaluator };
export type Feeds = Record<string, AnyTensorData>;
/** An input of interpret(): a typed array, or `{ data, shape }` (as the runtime's run() takes them). */
export type Feed = AnyTensorData | { data: AnyTensorData; shape: readonly number[] };

const CONTEXT: EvalContext = { interpret: (g, feeds) => interpret(g, feeds) };

/** Evaluates one node on concrete input values (constant folding uses this too); every result, the primary first. */
export function evalNode(n: Node, ins: Value[]): AnyTensorData[] {
  const def = opDef(n.op);
  if (!def) throw new Error(`interpret: no reference implementation for op '${n.op}'`);
  const r = def.evaluate(n, ins, CONTEXT);
  return Array.isArray(r) ? r : [r];
}

/** The typed array that holds a dtype's values (an input fed as another would be read as garbage). */
const ARRAY_OF = { f32: Float32Array, i32: Int32Array, bool: Uint8Array } as const;

/**
 * interpret's sizes, checked (the error was instantiate's RangeError, which read '2' as missing and
 * named neither the argument nor a misspelt size).
 */
function checkSizes(g: Graph, sizes: unknown): Sizes {
  const max = graphSizes(g), min = graphLeast(g), names = Object.keys(max);
  const eg = `{ ${(names.length ? names : ['B']).map((k) => `${k}: …`).join(', ')} }`;
  if (typeof sizes !== 'object' || sizes === null || Array.isArray(sizes)) throw new Error(`interpret: the 4th argument, sizes, must be an object of named sizes such as ${eg}, got ${describeValue(sizes)}`);
  // Names the graph lacks are left alone (one set of sizes may serve several entries), unless one is missing.
  const extra = Object.keys(sizes).filter((k) => !Object.hasOwn(max, k)).map((k) => `'${k.slice(0, 60)}'`);
  for (const k of names) {
    const v = (sizes as Record<string, unknown>)[k], lo = min[k] ?? 1;
    if (!(Number.isInteger(v) && (v as number) >= lo && (v as number) <= max[k]!)) {
      throw new Error(`interpret: size '${k}' must be an integer in [${lo}, ${max[k]}], got ${v === undefined ? `none${extra.length ? ` (sizes names ${extra.slice(0, 4).join(', ')}, which the graph does not: its sizes are ${names.join(', ')})` : ''}` : describeValue(v)}`);
    }
  }
  return sizes as Sizes;
}

/**
 * Runs a graph on concrete inputs; returns every output by name. A graph with named sizes runs
 * at `sizes` (each in [least, bound]) when they are given; else at the sizes the feeds show, read
 * as the runtime reads them (`{ data, shape }`, or a plain array's length where one size is left
 * open), and any size no input fixes at its bound.
 */
export function interpret(g: Graph, feeds: Readonly<Record<string, Feed>>, state?: Record<string, AnyTensorData>, sizes?: Sizes): Record<string, AnyTensorData> {
  checkGraph('interpret', g);
  if (typeof feeds !== 'object' || feeds === null) throw new Error(`interpret: expected feeds, an object of typed arrays by input name, got ${describeValue(feeds)}`);
  const empty = g.empty;
  const names = [...g.nodes.filter((n) => n.op === 'input').map((n) => n.label!), ...(empty?.inputs ?? []).map((e) => e.name)];
  const unknown = Object.keys(feeds).find((k) => !names.includes(k));
  if (unknown !== undefined) throw new Error(`interpret: unknown input '${unknown.slice(0, 60)}' (the graph's inputs: ${names.join(', ') || 'none'})`);
  // A zero-size input (an EmptyEdge) is no node: it needs a zero-length array of its dtype, or none.
  for (const e of empty?.inputs ?? []) {
    const f = feeds[e.name], want = ARRAY_OF[e.dtype];
    if (f !== undefined && !(f instanceof want && f.length === 0)) throw new Error(`interpret: input '${e.name}' (${e.dtype}[${e.shape.join(', ')}]) has no elements: it must be an empty ${want.name}, got ${describeValue(f)}${f instanceof want ? ` of ${f.length}` : ''}`);
  }
  const inputs = g.nodes.filter((n) => n.op === 'input');
  const max = graphSizes(g), given = sizes !== undefined;
  if (given) sizes = checkSizes(g, sizes);
  if (!sizes && Object.keys(max).length) {
    const shown = feedSizes({ inputs: inputs.map((n) => ({ name: n.label!, dtype: n.type.dtype, dims: n.type.dims })), sizes: max, min: graphLeast(g) }, 'interpret:', feeds);
    sizes = { ...max, ...shown };
  }
  if (sizes) g = instantiate(g, sizes);
  const vals = new Map<Node, Value>();
  const results = new Map<Node, AnyTensorData[]>();
  for (const n of g.nodes) {
    let data: AnyTensorData;
    if (n.op === 'state') {
      const s = state?.[n.label!];
      if (!s) throw new Error(`interpret: no value for state '${n.label}'`);
      // Checked as inputs are: a short array read NaN past its end, another dtype its numbers as they came.
      const want = ARRAY_OF[n.type.dtype];
      if (!(s instanceof want)) throw new Error(`interpret: state '${n.label}' (${n.type.dtype}) must be ${/^[AEIOU]/.test(want.name) ? 'an' : 'a'} ${want.name}, got ${describeValue(s)}`);
      if (s.length !== numel(n.type.shape)) throw new Error(`interpret: state '${n.label}' has ${s.length} values, expected ${numel(n.type.shape)} (${n.type.dtype}[${n.type.shape.join(', ')}])`);
      data = s;
    } else if (n.op === 'proj') {
      data = results.get(n.inputs[0]!)![(n.attrs.index as number)]!;
    } else if (n.op === 'input') {
      const fed = feeds[n.label!];
      if (!fed) throw new Error(`interpret: no value for input '${n.label}'`);
      const shaped = typeof fed === 'object' && !ArrayBuffer.isView(fed) && 'shape' in fed;
      // A { data, shape } feed's shape is checked as run() checks it (one of the same count, [3, 2] for [2, 3], ran as the graph's).
      if (shaped) {
        const s: unknown = fed.shape, want = n.type.shape;
        if (!Array.isArray(s) || s.length !== want.length || s.some((d, i) => d !== want[i])) {
          throw new Error(`interpret: input '${n.label}': expected shape [${want.join(', ')}]${sizes ? ` (at ${Object.entries(sizes).map(([k, v]) => `${k} = ${v}`).join(', ')})` : ''}, got ${Array.isArray(s) ? `[${s.slice(0, 10).map(describeValue).join(', ')}]` : describeValue(s)}`);
        }
      }
      const f = shaped ? fed.data : fed;
      const want = ARRAY_OF[n.type.dtype];
      if (!(f instanceof want)) throw new Error(`interpret: input '${n.label}' (${n.type.dtype}) must be ${/^[AEIOU]/.test(want.name) ? 'an' : 'a'} ${want.name}, got ${describeValue(f)}`);
      if (f.length !== numel(n.type.shape)) {
        // Say at which sizes, and where they came from.
        const at = sizes ? ` (shape [${n.type.shape.join(', ')}] at ${Object.entries(sizes).map(([k, v]) => `${k} = ${v}`).join(', ')}${given ? '' : ', read off the feeds; give { data, shape } or the sizes as interpret\'s 4th argument'})` : '';
        throw new Error(`interpret: input '${n.label}' has ${f.length} values, expected ${numel(n.type.shape)}${at}`);
      }
      data = f;
    } else if (n.op === 'const') {
      data = n.attrs.data as AnyTensorData;
    } else {
      const all = evalNode(n, n.inputs.map((i) => vals.get(i)!));
      results.set(n, all);
      data = all[0]!;
    }
    vals.set(n, { type: n.type, data });
  }
  // New state values are returned beside the outputs, under `state.<name>`.
  const writes = (g.stateWrites ?? []).map((w) => [`state.${w.name}`, vals.get(w.node)!.data] as const);
  const outputs = withEmptyEdges(g.outputs.map((o) => [o.name, vals.get(o.node)!.data] as const), empty?.outputs, (e) => [e.name, new ARRAY_OF[e.dtype](0)] as const);
  return Object.fromEntries([...outputs, ...writes]);
}
