// Loops inside the model: a counted loop whose body is traced once into a sub-graph and run
// `steps` times inside wasm (greedy decoding feeds each step's argmax to the next); `steps` may
// be a size chosen at run time ('T', x.dim(1)).

import { canonDim, evalDim, growsWithSizes, sizeNames, type Dim } from '../ir/dims.ts';
import { makeGraph, node, type Node } from '../ir/node.ts';
import { rootOf } from '../ir/effects.ts';
import { fmtShape, normAxis } from '../ir/types.ts';
import { describeValue } from '../ir/print.ts';
import { verify } from '../ir/verify.ts';
import { asDim, leastSize, leastWhy, ModelDefinitionError, recordMulti, Tensor, traceBounds, where, withSubTrace } from './tensor.ts';
import { checkOptions } from './options.ts';

export interface LoopBodyResult { next: Record<string, Tensor>; emit: Record<string, Tensor> }

/** How deep the loop bodies being traced are (a count chosen at run time only outside them). */
let bodyDepth = 0;

/**
 * The count as a number, or as the canonical dim of sizes of the model's inputs that is at
 * least 1 at every size in [least, bound] and largest at the bounds (the results are planned there).
 */
function stepsOf(steps: unknown): Dim {
  const bad = (why: string) => new ModelDefinitionError(`loop: steps must be an integer in [1, 2^31) or a size of the model's inputs (a name such as 'T', a polynomial such as 'T+1', or x.dim(i)); ${why}${where()}`);
  // The step counter is an i32 in wasm; 1.5 steps ran as a loop of 1.5 (three rows of two).
  if (typeof steps !== 'string') {
    if (!Number.isInteger(steps) || (steps as number) < 1 || (steps as number) > 2 ** 31 - 1) throw bad(`got ${describeValue(steps)}`);
    return steps as number;
  }
  let d: Dim;
  try { d = canonDim(steps); } catch { throw bad(`got '${steps}', which is not a size name or a polynomial of size names`); }
  // A number in a string ('3') is likelier a slip than a count.
  if (typeof d === 'number') throw bad(`got ${describeValue(steps)}, which names no size`);
  const max = traceBounds(), known = Object.keys(max);
  const unknown = sizeNames(d).filter((k) => max[k] === undefined);
  if (unknown.length) throw bad(`got '${steps}': ${unknown.map((k) => `'${k}'`).join(', ')} is not a size of the model's inputs (${known.length ? known.join(', ') : 'it has none'})`);
  // At its least (each size at its declared minimum, else 1): a strided window's length
  // 'floor((T+1)/3)-1' is a count from T ≥ 4 on.
  const least = leastSize(d);
  if (!growsWithSizes(d) || least < 1) throw bad(`got '${d}', which is ${least < 1 ? `${least} at its least sizes (${leastWhy(d)})` : 'not largest at the bounds'}`);
  if (evalDim(d, max) > 2 ** 31 - 1) throw bad(`got '${d}', ${evalDim(d, max)} at the bounds`);
  if (bodyDepth > 0) throw new ModelDefinitionError(`loop: a count chosen at run time ('${d}') inside another loop's body is not supported (the enclosing loop's results are typed with its body's sizes, which do not include this count); loop over a fixed count there, or over '${d}' outside${where()}`);
  return d;
}

/**
 * Runs `body` `steps` times: a number, or a size chosen at run time (a size name of the model's
 * inputs such as 'T', a polynomial such as 'T+1', or `x.dim(1)`), stacked with that dim. `carried`
 * values feed the first step; each step returns the next carried values and tensors to emit.
 * Returns each emitted tensor stacked over the steps along `axis` (default 0). With `reverse`, t
 * runs from steps − 1 down to 0 and the value emitted at t still goes to position t. The body may
 * use any tensor of the enclosing model (encoder outputs, weights): those are captured as loop inputs.
 * With `final`, the carried values after the last step are returned too, by their own names (which
 * must then differ from the emitted ones), and the body may emit nothing: an encoder's last state.
 */
export function loop(steps: Dim, carried: Record<string, Tensor>,
  body: (carried: Record<string, Tensor>, t: Tensor) => LoopBodyResult, opts: { axis?: number; reverse?: boolean; final?: boolean } = {}): Record<string, Tensor> {
  checkOptions('loop', opts, ['axis', 'reverse', 'final']);
  const count = stepsOf(asDim(steps));
  for (const k of ['reverse', 'final'] as const) {
    if (opts[k] !== undefined && typeof opts[k] !== 'boolean') throw new ModelDefinitionError(`loop: ${k} must be a boolean, got ${describeValue(opts[k])}${where()}`);
  }
  const final = opts.final === true;
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
    bodyDepth++;
    try {
      const r = body(Object.fromEntries(names.map((k, i) => [k, new Tensor(ins[i]!)])), new Tensor(t));
      return { ins, t, r };
    } finally { bodyDepth--; }
  });
  const { ins, t, r } = result;
  if (!isRecord(r)) throw new ModelDefinitionError(`loop: the body must return { next, emit }, got ${describeValue(r)}${where()}`);
  tensors('the body\'s next', r.next);
  tensors('the body\'s emit', r.emit);
  const nextKeys = Object.keys(r.next);
  if (nextKeys.length !== names.length || names.some((k) => !(k in r.next))) {
    throw new ModelDefinitionError(`loop: the body must return next values for exactly the carried ${names.join(', ')}; got ${nextKeys.join(', ')}${where()}`);
  }
  const emitKeys = Object.keys(r.emit);
  if (emitKeys.length === 0 && !final) throw new ModelDefinitionError(`loop: the body emits nothing (with { final: true } a loop returns its last carried values instead)${where()}`);
  if (emitKeys.length === 0 && names.length === 0) throw new ModelDefinitionError(`loop: the loop carries and emits nothing, so it has no results${where()}`);
  const clash = final ? emitKeys.find((k) => names.includes(k)) : undefined;
  if (clash !== undefined) throw new ModelDefinitionError(`loop: with { final: true } the last carried values are returned by their names, and '${clash}' is also emitted; rename one${where()}`);
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
  const first = Object.values(r.emit)[0];
  const ax = opts.axis ?? 0;
  let axis = 0;
  if (first) {
    if (!Number.isInteger(ax) || ax < -(first.rank + 1) || ax > first.rank) throw new ModelDefinitionError(`loop: axis must be an integer in [${-(first.rank + 1)}, ${first.rank}] (the emitted ${fmtShape(first.dims)} stacked over the steps), got ${describeValue(ax)}${where()}`);
    axis = normAxis(ax, first.rank + 1);
  } else if (opts.axis !== undefined) throw new ModelDefinitionError(`loop: axis places the emitted values' steps dim, and the body emits nothing${where()}`);
  const max = traceBounds();
  const sym = typeof count === 'string' ? { sym: { values: { steps: count }, max: Object.fromEntries(sizeNames(count).map((k) => [k, max[k]!])) } } : {};
  const results = recordMulti('loop', [...names.map((k) => carried[k]!), ...captured.map((n) => new Tensor(n))],
    { body: bodyGraph, steps: evalDim(count, max), carried: names.length, axis, ...(opts.reverse ? { reverse: true } : {}), ...(final ? { final: true } : {}), ...sym } as never);
  return Object.fromEntries([...emitKeys, ...(final ? names : [])].map((k, i) => [k, results[i]!]));
}
