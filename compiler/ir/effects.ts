// Effects: which values share a buffer, which ops overwrite one, and the order that keeps
// every reader seeing the value the reference interpreter gives it.
//
// A *buffer* is the memory a value lives in: a reshape is a view of its input's buffer and an
// in-place op (cache_write) updates its input's buffer. A *version* is one value of a buffer:
// reshapes are views of the same version, an in-place op makes a new one. Two kinds of write
// overwrite a version:
//   - an in-place op: every other reader of the old version must run before it;
//   - the entry's state writes, all at the end, as one parallel assignment: an output or a
//     written value that still reads another written state's buffer must be copied first.
// `sequenceEffects` makes any graph valid (copies where no order works), `checkEffects` is
// the verifier's rule. Donated buffers (memory planning) follow from liveness and need no rule here.

import { node, type GraphOutput, type Node } from './node.ts';
import { inPlaceInput, isView } from './ops.ts';

/** The version a value reads: reshapes are views. */
export const versionOf = (n: Node): Node => (isView(n.op) ? versionOf(n.inputs[0]!) : n);

/** The buffer a value lives in: reshapes are views, in-place ops update their input's buffer. */
export function rootOf(n: Node): Node {
  if (isView(n.op)) return rootOf(n.inputs[0]!);
  const s = inPlaceInput(n.op);
  return s === undefined ? n : rootOf(n.inputs[s]!);
}

const copyOf = (n: Node): Node => node('copy', [n], n.type, {}, n.label);

/** Every node reachable from the given roots (inputs first). */
function reachable(roots: readonly Node[]): Node[] {
  const seen = new Set<Node>(), stack = [...roots];
  while (stack.length) { const n = stack.pop()!; if (!seen.has(n)) { seen.add(n); stack.push(...n.inputs); } }
  return [...seen];
}

function dependsOn(n: Node, target: Node): boolean {
  const seen = new Set<Node>(), stack = [n];
  while (stack.length) {
    const x = stack.pop()!;
    if (x === target) return true;
    if (!seen.has(x)) { seen.add(x); stack.push(...x.inputs); }
  }
  return false;
}

/** Nodes that read version `v` from memory (reshapes are views: their users read). */
const readersOf = (nodes: readonly Node[], v: Node, except: Node): Node[] =>
  nodes.filter((n) => n !== except && !isView(n.op) && n.inputs.some((i) => versionOf(i) === v));

/**
 * Makes the effects of a graph under construction valid, inserting copies where needed
 * (mutates in-place ops' inputs and the output lists). Returns, per in-place node, the
 * readers that must be scheduled before it.
 */
export function sequenceEffects(inputs: readonly Node[], outputs: GraphOutput[], writes: GraphOutput[]): Map<Node, Node[]> {
  const nodes = reachable([...inputs, ...outputs.map((o) => o.node), ...writes.map((w) => w.node)]);
  const written = new Map(writes.map((w) => [w.name, w.node]));
  const byVersion = new Map<Node, Node[]>();
  for (const n of nodes) {
    const s = inPlaceInput(n.op);
    if (s === undefined) continue;
    const b = rootOf(n.inputs[s]!);
    // Constants are shared weights, and a state the entry does not store must keep its value.
    if (b.op === 'const' || (b.op === 'state' && !written.has(b.label!))) { n.inputs[s] = copyOf(n.inputs[s]!); nodes.push(n.inputs[s]!); }
    // An operand in the buffer being written (cache_write(k, k, pos)) would be read while it is overwritten.
    n.inputs.forEach((x, j) => { if (j !== s && rootOf(x) === rootOf(n.inputs[s]!)) { n.inputs[j] = copyOf(x); nodes.push(n.inputs[j]!); } });
    const v = versionOf(n.inputs[s]!);
    byVersion.set(v, [...(byVersion.get(v) ?? []), n]);
  }
  const kept = new Map<Node, Node>(); // version → the writer that overwrites it in place
  for (const [v, ws] of byVersion) {
    // One writer per version keeps the buffer; the others write into copies of it, and so
    // does the one writer when a reader of the old version needs its result.
    const toCopy = (w: Node) => { const s = inPlaceInput(w.op)!; w.inputs[s] = copyOf(w.inputs[s]!); nodes.push(w.inputs[s]!); };
    ws.slice(1).forEach(toCopy);
    const w = ws[0]!;
    if (readersOf(nodes, v, w).some((r) => dependsOn(r, w))) toCopy(w);
    else kept.set(v, w);
  }
  // The end of the entry: outputs are read and states stored after every node ran.
  const stale = (n: Node, self?: string): boolean => {
    const v = versionOf(n), b = rootOf(n);
    if (kept.has(v)) return true;
    if (b.op !== 'state' || b.label === self) return false;
    const w = written.get(b.label!);
    return w !== undefined && versionOf(w) !== v;
  };
  const copyAtEnd = (o: GraphOutput, self?: string) => { if (stale(o.node, self)) { o.node = copyOf(o.node); nodes.push(o.node); } };
  outputs.forEach((o) => copyAtEnd(o));
  writes.forEach((w) => copyAtEnd(w, w.name));
  return new Map([...kept].map(([v, w]) => [w, readersOf(nodes, v, w)]));
}

/** Throws (with the reason) when the schedule `nodes` lets a read see an overwritten value. */
export function checkEffects(nodes: readonly Node[], outputs: readonly GraphOutput[], writes: readonly GraphOutput[], fail: (msg: string) => never): void {
  const pos = new Map(nodes.map((n, i) => [n, i]));
  const written = new Map(writes.map((w) => [w.name, w.node]));
  const overwritten = new Map<Node, Node>();
  for (const w of nodes) {
    const s = inPlaceInput(w.op);
    if (s === undefined) continue;
    const v = versionOf(w.inputs[s]!), b = rootOf(v);
    if (b.op === 'const') fail(`%${pos.get(w)} ${w.op} writes into constant %${pos.get(b)} in place`);
    if (b.op === 'state' && !written.has(b.label!)) fail(`%${pos.get(w)} ${w.op} updates state '${b.label}' in place, but the entry does not store '${b.label}'`);
    w.inputs.forEach((x, j) => { if (j !== s && rootOf(x) === b) fail(`%${pos.get(w)} ${w.op} reads operand ${j} from the buffer it overwrites in place`); });
    for (const r of readersOf(nodes, v, w)) {
      if (pos.get(r)! > pos.get(w)!) fail(`%${pos.get(r)} ${r.op} reads %${pos.get(v)} after the in-place write %${pos.get(w)} ${w.op} overwrote it`);
    }
    overwritten.set(v, w);
  }
  const check = (what: string, n: Node, self?: string) => {
    const v = versionOf(n), b = rootOf(n);
    const w = overwritten.get(v);
    if (w) fail(`${what} reads %${pos.get(v)}, which the in-place write %${pos.get(w)} ${w.op} overwrote`);
    if (b.op === 'state' && b.label !== self) {
      const x = written.get(b.label!);
      if (x && versionOf(x) !== v) fail(`${what} reads state '${b.label}', which the entry overwrites when it stores its states (copy it first)`);
    }
  };
  for (const o of outputs) check(`output ${o.name}`, o.node);
  for (const w of writes) check(`the new value of state '${w.name}'`, w.node, w.name);
}
