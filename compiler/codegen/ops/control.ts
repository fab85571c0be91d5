// The counted loop on wasm: the body graph becomes a function of its own (its arena is the
// loop's scratch), called once per step between copies of the carried and emitted values.
// When any node of the body splits across threads (codegen/threads.ts), every thread runs the
// loop: thread 0 does the copies and stores t, all threads meet before each step and after it
// (unless the body's own barriers already do: below), and the body function runs each thread's
// share with the body's own barriers. With `final`, thread 0 copies the last carried values out.

import { loopSteps, type CheckAttrs, type LoopAttrs } from '../../ir/ops/control.ts';
import type { Node } from '../../ir/node.ts';
import { mulDims, numelDims } from '../../ir/dims.ts';
import { dimsOf, DTYPE_BYTES } from '../../ir/types.ts';
import { kernelCall } from '../kernels.ts';
import { bytesOf, code } from '../loops.ts';
import { defineLowering, trapUnless } from './lowering.ts';

/**
 * A counted loop: copy the initial carried values in, then per step store t, run the body,
 * append each emitted value at position t of its stacked result, and copy the next carried
 * values over the current ones (the body's carried inputs are never reused by its plan). A count
 * chosen at run time is read from the size globals (each thread's own), and so is the stride of
 * the stacked dim: the results are dense at the run-time count, as every symbolic value is.
 */
const loop = defineLowering<LoopAttrs>({
  emit: (n, c, m, th) => {
    const prefix = m.prefix, body = n.attrs.body, nc = n.attrs.carried, steps = code(loopSteps(n.attrs));
    const bc = c.body(n);
    const { calls, splitFirst, splitLast } = m.graph(`${prefix}b`, body, bc, th);
    m.add(`function ${prefix}_body(${th ? 'tid: i32, nt: i32' : ''}): void {\n${calls.join('\n')}\n}\n`);
    const carriedIn = body.inputs.slice(0, nc);
    const copyIn = carriedIn.map((b, k) => `memory.copy(${bc.addr(b)}, ${c.addr(n.inputs[k]!)}, ${code(bytesOf(b.type))});`);
    const stepEnd: string[] = [];
    body.outputs.slice(nc).forEach((o, j) => {
      const to = j === 0 ? c.addr(n) : c.result(n, j);
      if (!to) return;
      const s = dimsOf(o.node.type), ax = n.attrs.axis, bytes = DTYPE_BYTES[o.node.type.dtype];
      const inner = code(mulDims(numelDims(s.slice(ax)), bytes)), outer = code(numelDims(s.slice(0, ax)));
      stepEnd.push(`for (let q = 0; q < ${outer}; q++) memory.copy(${to} + (<usize>q * ${steps} + <usize>t) * ${inner}, ${bc.addr(o.node)} + <usize>q * ${inner}, ${inner});`);
    });
    body.outputs.slice(0, nc).forEach((o, k) => {
      const from = bc.addr(o.node), to = bc.addr(carriedIn[k]!);
      if (from === to) return;
      if (carriedIn.some((b, j) => j !== k && bc.addr(b) === from)) throw new Error(`codegen: loop${n.label ? ` at ${n.label}` : ''} permutes its carried values, which is not supported`);
      stepEnd.push(`memory.copy(${to}, ${from}, ${code(bytesOf(o.node.type))});`);
    });
    // With `final`, the carried values after the last step (where the step's end left them) are
    // results after the emitted ones.
    const ne = body.outputs.length - nc;
    const copyOut = n.attrs.final ? carriedIn.flatMap((b, k) => {
      const to = ne + k === 0 ? c.addr(n) : c.result(n, ne + k);
      return to ? [`memory.copy(${to}, ${bc.addr(b)}, ${code(bytesOf(b.type))});`] : [];
    }) : [];
    const storeT = `store<i32>(${bc.addr(body.inputs[nc]!)}, t);`;
    const head = n.attrs.reverse ? `for (let t: i32 = ${steps} - 1; t >= 0; t--) {` : `for (let t: i32 = 0; t < ${steps}; t++) {`;
    if (!th) return [...copyIn, head, `  ${storeT}`, `  ${prefix}_body();`, ...stepEnd.map((l) => `  ${l}`), '}', ...copyOut];
    // On every thread: thread 0's copies and t, then a barrier, before a split node of the body
    // reads them; a barrier after the body, before thread 0 reads what its split nodes wrote (and
    // overwrites what they read). Where no split node comes before the body's first barrier, the
    // nodes from the last barrier of one step to the first of the next all run on thread 0, in
    // order, with no barrier needed; likewise after its last barrier.
    const barrier = `  ${kernelCall('barrier', { sync: th.sync, nt: th.nt })};`;
    const zero = (ls: string[]) => (ls.length ? [`if (${th.tid} == 0) {`, ...ls.map((l) => `  ${l}`), '}'] : []);
    return [...zero(copyIn), head, ...zero([storeT]).map((l) => `  ${l}`), ...(splitFirst ? [barrier] : []),
      `  ${prefix}_body(${th.tid}, ${th.nt});`, ...(splitLast ? [barrier] : []), ...zero(stepEnd).map((l) => `  ${l}`), '}', ...zero(copyOut)];
  },
});

/** A run-time check: a compare per element of the condition (the first false one traps), then x copied. */
const check = defineLowering<CheckAttrs>({
  emit: (n, c) => {
    const [x, ok, v] = n.inputs as [Node, Node, Node];
    return [
      `for (let i = 0; i < ${code(numelDims(dimsOf(ok.type)))}; i++) {`,
      `  ${trapUnless(`load<u8>(${c.addr(ok)} + <usize>i) != 0`, n.attrs.error, `load<i32>(${c.addr(v)} + (<usize>i << 2))`, 'i')}`,
      '}',
      `memory.copy(${c.addr(n)}, ${c.addr(x)}, ${code(bytesOf(n.type))});`,
    ];
  },
});

export const CONTROL_LOWERINGS = { loop, check };
