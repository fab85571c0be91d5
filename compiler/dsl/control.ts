// Loops inside the model: a counted loop whose body is traced once into a sub-graph and run
// `steps` times inside wasm (greedy decoding feeds each step's argmax to the next).

import { makeGraph, node, type Node } from '../ir/node.ts';
import { rootOf } from '../ir/effects.ts';
import { normAxis } from '../ir/types.ts';
import { verify } from '../ir/verify.ts';
import { ModelDefinitionError, recordMulti, Tensor, where, withSubTrace } from './tensor.ts';
import { checkOptions } from './options.ts';

export interface LoopBodyResult { next: Record<string, Tensor>; emit: Record<string, Tensor> }

/**
 * Runs `body` `steps` times. `carried` values feed the first step; each step returns the
 * next carried values and tensors to emit. Returns each emitted tensor stacked over the
 * steps along `axis` (default 0). The body may use any tensor of the enclosing model
 * (encoder outputs, weights): those are captured as loop inputs.
 */
export function loop(steps: number, carried: Record<string, Tensor>,
  body: (carried: Record<string, Tensor>, t: Tensor) => LoopBodyResult, opts: { axis?: number } = {}): Record<string, Tensor> {
  checkOptions('loop', opts, ['axis']);
  const names = Object.keys(carried);
  const { result, nodes } = withSubTrace(() => {
    const ins = names.map((k) => node('input', [], carried[k]!.node.type, { name: `carried.${k}` }, `carried.${k}`));
    const t = node('input', [], { dtype: 'i32', shape: [] }, { name: 't' }, 't');
    const r = body(Object.fromEntries(names.map((k, i) => [k, new Tensor(ins[i]!)])), new Tensor(t));
    return { ins, t, r };
  });
  const { ins, t, r } = result;
  const nextKeys = Object.keys(r.next);
  if (nextKeys.length !== names.length || names.some((k) => !(k in r.next))) {
    throw new ModelDefinitionError(`loop: the body must return next values for exactly the carried ${names.join(', ')}; got ${nextKeys.join(', ')}${where()}`);
  }
  if (Object.keys(r.emit).length === 0) throw new ModelDefinitionError(`loop: the body emits nothing${where()}`);
  // Values from the enclosing trace that the body reads become captured inputs.
  const inside = new Set<Node>([...nodes, ...ins, t]);
  const captured: Node[] = [], captureIn = new Map<Node, Node>();
  const capture = (n: Node): Node => {
    if (inside.has(n) || n.op === 'const') return n;
    let c = captureIn.get(n);
    if (!c) {
      c = node('input', [], n.type, { name: `capture.${captured.length}` }, `capture.${captured.length}`);
      captureIn.set(n, c); captured.push(n);
    }
    return c;
  };
  for (const n of nodes) n.inputs = n.inputs.map(capture);
  // The next carried values replace the current ones all at once: one that is another carried
  // value (a swap, a rotation) is copied first.
  const carriedAt = new Map<Node, number>(ins.map((n, i) => [n, i]));
  const nextValue = (k: string, i: number) => {
    const n = capture(r.next[k]!.node), j = carriedAt.get(rootOf(n));
    return j !== undefined && j !== i ? node('copy', [n], n.type, {}, `next.${k}`) : n;
  };
  const outputs = [
    ...names.map((k, i) => ({ name: `next.${k}`, node: nextValue(k, i) })),
    ...Object.entries(r.emit).map(([k, v]) => ({ name: `emit.${k}`, node: capture(v.node) })),
  ];
  const bodyGraph = makeGraph([...ins, t, ...captured.map((n) => captureIn.get(n)!)], outputs, [], { carried: names.length });
  verify(bodyGraph);
  const first = Object.values(r.emit)[0]!;
  const axis = normAxis(opts.axis ?? 0, first.rank + 1);
  const results = recordMulti('loop', [...names.map((k) => carried[k]!), ...captured.map((n) => new Tensor(n))],
    { body: bodyGraph, steps, carried: names.length, axis });
  return Object.fromEntries(Object.keys(r.emit).map((k, i) => [k, results[i]!]));
}
