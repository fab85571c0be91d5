// The verifier: every pass's output must satisfy these invariants.

import { byteSize, DTYPE_BYTES, fmtType, sameDims, sameShape } from './types.ts';
import { inferType, isKnownOp } from './ops.ts';
import type { Graph } from './node.ts';
import { checkEffects } from './effects.ts';

export class VerifyError extends Error {
  override name = 'VerifyError';
}

export function verify(g: Graph): void {
  const pos = new Map(g.nodes.map((n, i) => [n, i]));
  const where = (i: number) => `node %${i} (${g.nodes[i]!.op}${g.nodes[i]!.label ? ` at ${g.nodes[i]!.label}` : ''})`;
  g.nodes.forEach((n, i) => {
    if (!isKnownOp(n.op)) throw new VerifyError(`${where(i)}: unknown op`);
    for (const inp of n.inputs) {
      const p = pos.get(inp);
      if (p === undefined) throw new VerifyError(`${where(i)}: reads a node that is not in the graph`);
      if (p >= i) throw new VerifyError(`${where(i)}: reads %${p}, which comes later (not topologically sorted)`);
    }
    if (n.op === 'const') {
      const data = n.attrs.data as ArrayLike<number> & { BYTES_PER_ELEMENT: number } | undefined;
      if (!data || data.length * data.BYTES_PER_ELEMENT !== byteSize(n.type) || data.BYTES_PER_ELEMENT !== DTYPE_BYTES[n.type.dtype])
        throw new VerifyError(`${where(i)}: constant data does not match its type ${fmtType(n.type)}`);
    } else if (n.op !== 'input' && n.op !== 'state') {
      const t = inferType(n.op, n.inputs, n.attrs);
      if (t.dtype !== n.type.dtype || !sameShape(t.shape, n.type.shape) || !sameDims(t, n.type))
        throw new VerifyError(`${where(i)}: recorded type ${fmtType(n.type)} but its inputs give ${fmtType(t)}`);
    }
  });
  for (const inp of g.inputs) if (inp.op !== 'input' || !pos.has(inp)) throw new VerifyError(`graph input ${inp.label} is not an input node of the graph`);
  checkEffects(g.nodes, g.outputs, g.stateWrites ?? [], (msg) => { throw new VerifyError(msg); });
  const names = new Set<string>();
  for (const o of g.outputs) {
    if (!pos.has(o.node)) throw new VerifyError(`output ${o.name} is not in the graph`);
    if (names.has(o.name)) throw new VerifyError(`output name ${o.name} is used twice`);
    names.add(o.name);
  }
}
