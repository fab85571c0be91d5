// The counted loop on wasm: the body graph becomes a function of its own (its arena is the
// loop's scratch), called once per step between copies of the carried and emitted values.

import type { LoopAttrs } from '../../ir/ops/control.ts';
import { mulDims, numelDims } from '../../ir/dims.ts';
import { dimsOf, DTYPE_BYTES } from '../../ir/types.ts';
import { bytesOf, code } from '../loops.ts';
import { defineLowering } from './lowering.ts';

/**
 * A counted loop: copy the initial carried values in, then per step store t, run the body,
 * append each emitted value at position t of its stacked result, and copy the next carried
 * values over the current ones (the body's carried inputs are never reused by its plan).
 */
const loop = defineLowering<LoopAttrs>({
  emit: (n, c, m) => {
    const prefix = m.prefix, body = n.attrs.body, nc = n.attrs.carried, steps = n.attrs.steps;
    const bc = c.body(n);
    m.add(`function ${prefix}_body(): void {\n${m.graph(`${prefix}b`, body, bc).join('\n')}\n}\n`);
    const carriedIn = body.inputs.slice(0, nc);
    const lines: string[] = [];
    carriedIn.forEach((b, k) => lines.push(`memory.copy(${bc.addr(b)}, ${c.addr(n.inputs[k]!)}, ${code(bytesOf(b.type))});`));
    lines.push(`for (let t = 0; t < ${steps}; t++) {`);
    lines.push(`  store<i32>(${bc.addr(body.inputs[nc]!)}, t);`);
    lines.push(`  ${prefix}_body();`);
    body.outputs.slice(nc).forEach((o, j) => {
      const to = j === 0 ? c.addr(n) : c.result(n, j);
      if (!to) return;
      const s = dimsOf(o.node.type), ax = n.attrs.axis, bytes = DTYPE_BYTES[o.node.type.dtype];
      const inner = code(mulDims(numelDims(s.slice(ax)), bytes)), outer = code(numelDims(s.slice(0, ax)));
      lines.push(`  for (let q = 0; q < ${outer}; q++) memory.copy(${to} + (<usize>q * ${steps} + <usize>t) * ${inner}, ${bc.addr(o.node)} + <usize>q * ${inner}, ${inner});`);
    });
    body.outputs.slice(0, nc).forEach((o, k) => {
      const from = bc.addr(o.node), to = bc.addr(carriedIn[k]!);
      if (from === to) return;
      if (carriedIn.some((b, j) => j !== k && bc.addr(b) === from)) throw new Error(`codegen: loop${n.label ? ` at ${n.label}` : ''} permutes its carried values, which is not supported`);
      lines.push(`  memory.copy(${to}, ${from}, ${code(bytesOf(o.node.type))});`);
    });
    lines.push('}');
    return lines;
  },
});

export const CONTROL_LOWERINGS = { loop };
