// The reference interpreter: every IR op as plain TypeScript loops, accumulating in f64.
// It is the oracle for every compiled path, so it shares no code with the kernels and
// favours obviousness over speed. Shape legend: N batch, C channels, H/W height/width,
// M/K/N matrix dims, outer/n/inner the three blocks around a reduced axis.

import type { Graph, Node } from '../ir/node.ts';
import { opDef, secondaryTypes } from '../ir/ops.ts';
import type { EvalContext, Value } from '../ir/ops/def.ts';
import { evalExpr } from '../ir/ops/elementwise.ts';
import { allocData, numel, type AnyTensorData } from '../ir/types.ts';

export type { Value };
export { evalExpr };
/** An op's meaning; ops with several results return them all, the primary first. */
type Impl = (n: Node, ins: Value[]) => AnyTensorData | AnyTensorData[];

const IMPLS: Record<string, Impl> = {
  loop: (n, ins) => {
    const body = n.attrs.body as Graph, nc = n.attrs.carried as number, steps = n.attrs.steps as number;
    const names = body.inputs.map((i) => i.label!);
    let carried = ins.slice(0, nc).map((v) => v.data);
    const captured = ins.slice(nc).map((v) => v.data);
    const emits = body.outputs.slice(nc);
    const stacked = emits.map((_, j) => allocData(j === 0 ? n.type : secondaryTypes(n)[j - 1]!));
    for (let t = 0; t < steps; t++) {
      const feeds: Feeds = {};
      carried.forEach((d, i) => { feeds[names[i]!] = d; });
      feeds[names[nc]!] = Int32Array.of(t);
      captured.forEach((d, i) => { feeds[names[nc + 1 + i]!] = d; });
      const out = interpret(body, feeds);
      carried = body.outputs.slice(0, nc).map((o) => out[o.name]!);
      emits.forEach((o, j) => {
        const e = out[o.name]!, s = o.node.type.shape, ax = n.attrs.axis as number;
        const inner = numel(s.slice(ax)), outer = e.length / inner;
        for (let q = 0; q < outer; q++) for (let i = 0; i < inner; i++) stacked[j]![(q * steps + t) * inner + i] = e[q * inner + i]!;
      });
    }
    return stacked;
  },
};

export type Feeds = Record<string, AnyTensorData>;

const CONTEXT: EvalContext = { interpret: (g, feeds) => interpret(g, feeds) };

/** Evaluates one node on concrete input values (constant folding uses this too). */
export function evalNode(n: Node, ins: Value[]): AnyTensorData[] {
  const def = opDef(n.op), impl = IMPLS[n.op];
  if (!def && !impl) throw new Error(`interpret: no reference implementation for op '${n.op}'`);
  const r = def ? def.evaluate(n, ins, CONTEXT) : impl!(n, ins);
  return Array.isArray(r) ? r : [r];
}

/** Runs a graph on concrete inputs; returns every output by name. */
export function interpret(g: Graph, feeds: Feeds, state?: Record<string, AnyTensorData>): Record<string, AnyTensorData> {
  const vals = new Map<Node, Value>();
  const results = new Map<Node, AnyTensorData[]>();
  for (const n of g.nodes) {
    let data: AnyTensorData;
    if (n.op === 'state') {
      const s = state?.[n.label!];
      if (!s) throw new Error(`interpret: no value for state '${n.label}'`);
      data = s;
    } else if (n.op === 'proj') {
      data = results.get(n.inputs[0]!)![(n.attrs.index as number)]!;
    } else if (n.op === 'input') {
      const f = feeds[n.label!];
      if (!f) throw new Error(`interpret: no value for input '${n.label}'`);
      if (f.length !== numel(n.type.shape)) throw new Error(`interpret: input '${n.label}' has ${f.length} values, expected ${numel(n.type.shape)}`);
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
  return Object.fromEntries([...g.outputs.map((o) => [o.name, vals.get(o.node)!.data] as const), ...writes]);
}
