// The whole IR is one node type: an op, its inputs, its output type and attributes.
// A graph is its nodes in topological order plus its named inputs and outputs.

import type { AnyTensorData, DType, TensorType } from './types.ts';
import { sequenceEffects } from './effects.ts';
import type { SymAttrs } from './symbolic.ts';

export type AttrValue = number | string | boolean | readonly number[] | AnyTensorData | Expr | Graph | SymAttrs | undefined;
export type Attrs = Record<string, AttrValue>;

/** A fused elementwise program: leaves read the node's inputs (broadcast to the output shape). */
export type Expr =
  | { readonly op: 'in'; readonly index: number }
  | { readonly op: 'lit'; readonly value: number }
  | { readonly op: string; readonly args: readonly Expr[] };

export interface Node {
  readonly id: number;
  op: string;
  inputs: Node[];
  type: TensorType;
  attrs: Attrs;
  /** Provenance: a module path for ops, a parameter name for constants, the name of an input. */
  label?: string;
}

let nextId = 1;
export function node(op: string, inputs: Node[], type: TensorType, attrs: Attrs = {}, label?: string): Node {
  return { id: nextId++, op, inputs, type, attrs, ...(label !== undefined ? { label } : {}) };
}

export interface GraphOutput { readonly name: string; node: Node }

/**
 * A zero-size graph input or output (a 0 in its shape; an imported ONNX graph may have them). The
 * IR has no zero-size tensors, so it is no node: its value is known at compile time (it has no
 * elements), and only the edges show it. The artifact lists it at index `at` of the entry's inputs
 * or outputs (a zero-length array; compileEntries), and the reference interpreter takes and returns it.
 */
export interface EmptyEdge { readonly name: string; readonly dtype: DType; readonly shape: readonly number[]; readonly at: number }

/** `items` with each empty edge's item spliced in at its position (edges sorted by `at`). */
export function withEmptyEdges<T>(items: readonly T[], edges: readonly EmptyEdge[] | undefined, make: (e: EmptyEdge) => T): T[] {
  const out = [...items];
  for (const e of edges ?? []) out.splice(e.at, 0, make(e));
  return out;
}

export interface Graph {
  /** Live nodes, topologically sorted. */
  nodes: Node[];
  /** The graph's inputs in declaration order (kept even when unused). */
  inputs: Node[];
  outputs: GraphOutput[];
  /** New values of persistent state tensors, stored when the entry finishes. */
  stateWrites?: GraphOutput[];
  /**
   * A loop body, whose inputs are [carried values…, t, captured values…]: the carried values and t
   * must survive the whole iteration; the captured ones are the loop's operands, read in place.
   */
  loopBody?: { carried: number };
  /** Set by memory planning; codegen plans without reuse when it is absent. */
  plan?: MemoryPlan;
  /** Zero-size inputs and outputs beside the nodes' (EmptyEdge); passes need not keep them, compileEntries reads the entry's. */
  empty?: { inputs: EmptyEdge[]; outputs: EmptyEdge[] };
}

/** Where each value lives in the activation arena (offsets in bytes from the arena start); see docs/architecture.md, Memory. */
export interface MemoryPlan {
  arenaBytes: number;
  /** Every non-constant value; a reshape shares its input's offset. */
  offsets: Map<Node, number>;
  /** Temporary space a kernel needs while one node runs (e.g. conv2d's im2col panels). */
  scratch: Map<Node, number>;
  /** In-place writes the plan chose: an elementwise node → the dying input whose buffer it writes over. */
  donated: Map<Node, Node>;
  /**
   * Values kept in one copy per thread (Target.copies): `count` copies each (Target.copies'
   * count); `stride`, node → bytes from one copy to the next (a multiple of 64, so no two
   * threads' copies share a cache line). Copy 0 is at its offset; all span stride · count bytes.
   */
  copies?: { count: number; stride: Map<Node, number> };
}

/**
 * Live nodes reachable from the outputs (and all inputs), in a deterministic topological
 * order; `after.get(n)` lists nodes that must run before n although n does not read them
 * (the readers of a buffer n overwrites in place).
 */
export function topoSort(outputs: readonly GraphOutput[], inputs: readonly Node[], after: ReadonlyMap<Node, readonly Node[]> = new Map()): Node[] {
  const order: Node[] = [];
  const done = new Set<Node>(), open = new Set<Node>();
  const deps = (n: Node): readonly Node[] => { const a = after.get(n); return a ? [...n.inputs, ...a] : n.inputs; };
  const visit = (root: Node) => {
    // Iterative DFS: deep recurrent graphs would overflow a recursive walk.
    const stack: Array<[Node, number, readonly Node[]]> = [];
    const push = (n: Node) => { open.add(n); stack.push([n, 0, deps(n)]); };
    if (!done.has(root)) push(root);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [n, i, ds] = top;
      if (i < ds.length) {
        top[1]++;
        const d = ds[i]!;
        if (open.has(d)) throw new Error(`topoSort: %${d.id} ${d.op} must both precede and follow %${n.id} ${n.op} (a cycle through in-place writes)`);
        if (!done.has(d)) push(d);
      } else { stack.pop(); open.delete(n); done.add(n); order.push(n); }
    }
  };
  for (const inp of inputs) visit(inp);
  for (const o of outputs) visit(o.node);
  return order;
}

/** A graph from its inputs and outputs; copies and ordering make its in-place effects valid (ir/effects.ts). */
export function makeGraph(inputs: Node[], outputs: GraphOutput[], stateWrites: GraphOutput[] = [], loopBody?: Graph['loopBody']): Graph {
  outputs = outputs.map((o) => ({ ...o })); stateWrites = stateWrites.map((o) => ({ ...o }));
  const after = sequenceEffects(inputs, outputs, stateWrites);
  return { nodes: topoSort([...outputs, ...stateWrites], inputs, after), inputs, outputs, ...(stateWrites.length ? { stateWrites } : {}), ...(loopBody ? { loopBody } : {}) };
}

/** Users of each node, in topological order. */
export function users(g: Graph): Map<Node, Node[]> {
  const m = new Map<Node, Node[]>(g.nodes.map((n) => [n, []]));
  for (const n of g.nodes) for (const i of n.inputs) m.get(i)?.push(n);
  return m;
}

/**
 * Rewrites a graph in topological order. `rule` sees each node with its inputs already
 * rewritten and returns a replacement (or undefined to keep it). The result is re-sorted,
 * so nodes no longer reachable disappear.
 */
export function rewrite(g: Graph, rule: (n: Node) => Node | undefined): Graph {
  const map = new Map<Node, Node>();
  const get = (n: Node) => map.get(n) ?? n;
  for (const n of g.nodes) {
    n.inputs = n.inputs.map(get);
    const r = rule(n);
    if (r && r !== n) map.set(n, r);
  }
  const outputs = g.outputs.map((o) => ({ name: o.name, node: get(o.node) }));
  const writes = (g.stateWrites ?? []).map((o) => ({ name: o.name, node: get(o.node) }));
  return makeGraph(g.inputs, outputs, writes, g.loopBody);
}


/** Deep copy of the node structure (tensor data is shared: constants are immutable). */
export function cloneGraph(g: Graph): Graph {
  const map = new Map<Node, Node>();
  for (const n of g.nodes) {
    map.set(n, { ...n, attrs: { ...n.attrs }, inputs: n.inputs.map((i) => map.get(i)!) });
  }
  return {
    nodes: g.nodes.map((n) => map.get(n)!),
    inputs: g.inputs.map((n) => map.get(n)!),
    outputs: g.outputs.map((o) => ({ name: o.name, node: map.get(o.node)! })),
    ...(g.stateWrites ? { stateWrites: g.stateWrites.map((o) => ({ name: o.name, node: map.get(o.node)! })) } : {}),
    ...(g.loopBody ? { loopBody: g.loopBody } : {}),
    ...(g.empty ? { empty: g.empty } : {}),
  };
}
