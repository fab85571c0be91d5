// Loops inside the model: a counted loop whose body is traced once into a sub-graph and run
// `steps` times inside wasm (greedy decoding feeds each step's argmax to the next).

import { makeGraph, node, type Node } from '../ir/node.ts';
import { rootOf } from '../ir/effects.ts';
import { fmtShape, normAxis } from '../ir/types.ts';
import { describeValue } from '../ir/print.ts';
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
  // The step counter is an i32 in wasm; 1.5 steps ran as a loop of 1.5 (three rows of two).
  if (!Number.isInteger(steps) || steps < 1 || steps > 2 ** 31 - 1) throw new ModelDefinitionError(`loop: steps must be an integer in [1, 2^31), got ${describeValue(steps)}${where()}`);
  const isRecord = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const tensors = (what: string, v: unknown) => {
    if (!isRecord(v)) throw new ModelDefinitionError(`loop: ${what} must be an object of tensors by name, got ${describeValue(v)}${where()}`);
    const bad = Object.entries(v as object).find(([, x]) => !(x instanceof Tensor));
    if (bad) throw new ModelDefinitionError(`loop: ${what} '${bad[0]}' must be a tensor, got ${describeValue(bad[1])}${where()}`);
  };
  tensors('carried', carried);
  if (typeof body !== 'function') throw new ModelDefinitionError(`loop: body must be a function (carried, t) => ({ next, emit }), got ${describeValue(body)}${where()}`);
  const names = Object.keys(carried);
  const { result, nodes } = withSubTrace(() => {
    const ins = names.map((k) => node('input', [], carried[k]!.node.type, { name: `carried.${k}` }, `carried.${k}`));
    const t = node('input', [], { dtype: 'i32', shape: [] }, { name: 't' }, 't');
    const r = body(Object.fromEntries(names.map((k, i) => [k, new Tensor(ins[i]!)])), new Tensor(t));
    return { ins, t, r };
  });
  const { ins, t, r } = result;
  if (!isRecord(r)) throw new ModelDefinitionError(`loop: the body must return { next, emit }, got ${describeValue(r)}${where()}`);
  tensors('the body\'s next', r.next);
  tensors('the body\'s emit', r.emit);
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
  const ax = opts.axis ?? 0;
  if (!Number.isInteger(ax) || ax < -(first.rank + 1) || ax > first.rank) throw new ModelDefinitionError(`loop: axis must be an integer in [${-(first.rank + 1)}, ${first.rank}] (the emitted ${fmtShape(first.dims)} stacked over the steps), got ${describeValue(ax)}${where()}`);
  const axis = normAxis(ax, first.rank + 1);
  const results = recordMulti('loop', [...names.map((k) => carried[k]!), ...captured.map((n) => new Tensor(n))],
    { body: bodyGraph, steps, carried: names.length, axis });
  return Object.fromEntries(Object.keys(r.emit).map((k, i) => [k, results[i]!]));
}
