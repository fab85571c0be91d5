// A readable text form of the IR. Nodes are numbered by position, so the text is stable.

import { withEmptyEdges, type AttrValue, type EmptyEdge, type Expr, type Graph, type Node } from './node.ts';
import { byteSize, fmtType } from './types.ts';
import { rootOf } from './effects.ts';

export function printExpr(e: Expr): string {
  if (e.op === 'in') return `$${(e as { index: number }).index}`;
  if (e.op === 'lit') { const v = (e as { value: number }).value; return Object.is(v, -0) ? '-0' : String(v); }
  return `${e.op}(${(e as { args: readonly Expr[] }).args.map(printExpr).join(', ')})`;
}

function fmtAttr(v: AttrValue, indent: string): string {
  if (v === undefined) return '';
  if (typeof v === 'object' && 'nodes' in v) return printGraph(v as Graph, `${indent}  `);
  if (ArrayBuffer.isView(v)) return `<${(v as ArrayLike<number>).length} values>`;
  if (Array.isArray(v)) return `[${v.join(',')}]`;
  if (typeof v === 'object' && 'values' in v) return Object.entries(v.values).map(([k, d]) => `${k}:${Array.isArray(d) ? `[${d.join(',')}]` : String(d)}`).join(' ');
  if (typeof v === 'object') return printExpr(v as Expr);
  return String(v);
}

/**
 * A value in an error message, in a few words: a string quoted (40 characters at most), a number or
 * null as itself, an object by its class (a DSL Parameter with the hint that its tensor is `.t`: a
 * port of `x @ w.t()` passes the Parameter itself).
 */
/**
 * An object, or a callable one: a DSL module is a function (m(x) calls it) whose prototype chain
 * is its class's, without Function.prototype; it is described as the object it is, by class.
 */
export const objectLike = (v: unknown): v is object => (typeof v === 'object' && v !== null) || (typeof v === 'function' && !(v instanceof Function));

export const describeValue = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeof v === 'bigint' ? `${v}n` : !objectLike(v) ? String(v)
  : Array.isArray(v) ? `an array of ${v.length}` : v.constructor?.name === 'Parameter' ? 'a Parameter (its tensor is .t)' : v.constructor?.name === 'SymSize' ? `the size '${String(v)}' chosen at run time` : (v.constructor?.name ?? 'an object'));

/** Throws unless `g` is an IR graph, naming the caller and what it got instead. */
export function checkGraph(where: string, g: unknown, from = 'traceModel(def) or importOnnx(bytes).graph'): asserts g is Graph {
  if (typeof g !== 'object' || g === null || !Array.isArray((g as Graph).nodes)) throw new Error(`${where}: expected an IR graph (${from}), got ${describeValue(g)}`);
}

export function printGraph(g: Graph, indent = ''): string {
  checkGraph('printGraph', g);
  const id = new Map(g.nodes.map((n, i) => [n, `%${i}`]));
  const lines = g.nodes.map((n) => {
    const attrs = Object.entries(n.attrs)
      .filter(([k, v]) => v !== undefined && k !== 'data' && k !== 'name')
      .map(([k, v]) => `${k}=${fmtAttr(v, indent)}`);
    const args = n.inputs.map((i) => id.get(i) ?? '?').join(', ');
    const lbl = n.op === 'input' || n.op === 'const' || n.op === 'state' ? ` "${n.label ?? ''}"` : '';
    return `${indent}  ${id.get(n)} = ${n.op}${lbl}(${args})${attrs.length ? ` {${attrs.join(', ')}}` : ''} : ${fmtType(n.type)}`;
  });
  const empty = (e: EmptyEdge) => `${e.name}=empty ${e.dtype}[${e.shape.join(', ')}]`;
  const outs = withEmptyEdges(g.outputs.map((o) => `${o.name}=${id.get(o.node)}`), g.empty?.outputs, empty).join(', ');
  const emptyIns = g.empty?.inputs.length ? `${indent}  inputs ${g.empty.inputs.map(empty).join(', ')}\n` : '';
  const writes = (g.stateWrites ?? []).map((o) => `\n${indent}  state ${o.name} ← ${id.get(o.node)}`).join('');
  return `graph {\n${emptyIns}${lines.join('\n')}\n${indent}  return ${outs}${writes}\n${indent}}`;
}

/**
 * The memory plan of a planned graph: one line per buffer (offset in the arena, bytes, the
 * positions of the node that makes it and of its last reader, `end` for outputs and states
 * written back), kernel scratch, and the views and in-place results that share a buffer.
 */
export function printPlan(g: Graph): string {
  const plan = g.plan;
  if (!plan) return 'memory plan: none (memory-planning did not run)';
  const pos = new Map(g.nodes.map((n, i) => [n, i]));
  const id = (n: Node) => (n.op === 'input' ? `"${n.label}"` : `%${pos.get(n)}`);
  const last = new Map<Node, number>();
  g.nodes.forEach((n, i) => n.inputs.forEach((x) => last.set(rootOf(x), i)));
  for (const o of [...g.outputs, ...(g.stateWrites ?? [])]) last.set(rootOf(o.node), Infinity);
  const born = (n: Node) => (n.op === 'input' ? 'in' : `%${pos.get(n.op === 'proj' ? n.inputs[0]! : n)}`);
  const rows = [...plan.offsets].filter(([n]) => rootOf(n) === n).sort(([a, oa], [b, ob]) => oa - ob || (pos.get(a) ?? -1) - (pos.get(b) ?? -1)).map(([n, off]) => {
    const l = last.get(n) ?? pos.get(n)!;
    const shared = g.nodes.filter((m) => m !== n && rootOf(m) === n).map((m) => `${id(m)} ${m.op}`);
    const donor = plan.donated?.get(n), stride = plan.copies?.stride.get(n);
    return `  @${String(off).padEnd(7)} ${String(byteSize(n.type)).padStart(8)} B  ${born(n).padStart(4)}..${(l === Infinity ? 'end' : `%${l}`).padEnd(5)} ${id(n)} ${n.op} ${fmtType(n.type)}` +
      `${donor ? `  in place of ${id(donor)}` : ''}${shared.length ? `  (also ${shared.join(', ')})` : ''}${stride ? `  a copy per thread, ${stride} B apart` : ''}`;
  });
  const scratch = [...plan.scratch].map(([n, off]) => `  @${String(off).padEnd(7)} scratch of %${pos.get(n)} ${n.op}`);
  return [`memory plan: arena ${plan.arenaBytes} bytes (offset, bytes, made..last read, value)`, ...rows, ...scratch].join('\n');
}
