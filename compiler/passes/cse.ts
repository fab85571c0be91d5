// cse: common-subexpression elimination. Two nodes with the same op, inputs and attributes
// compute the same value; the later one is replaced by the earlier. Small constants (up to
// 64 values, such as scalars the DSL makes for `x.mul(2)`) are merged by content.

import { rewrite, type Node } from '../ir/node.ts';
import { opTraits } from '../ir/ops.ts';
import type { Pass } from './pass.ts';

const SMALL_CONST = 64;

/** A number as the key spells it: String's, but −0 apart from 0 (x + −0 keeps x = −0; 1 / −0 is −∞). */
const spell = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

function key(n: Node): string | undefined {
  if (opTraits(n.op).noCse) return undefined;
  if (n.op === 'const') {
    const d = n.attrs.data as Float32Array;
    return d.length <= SMALL_CONST ? `const:${n.type.dtype}:${n.type.shape}:${Array.from(d, spell).join(',')}` : undefined;
  }
  // JSON spells ±Infinity and NaN as null and −0 as 0: those numbers are spelled as strings, so
  // where(c, x, -Infinity) and where(c, x, NaN) (an elementwise literal, a fill value) stay apart.
  const attrs = JSON.stringify(n.attrs, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? spell(v) : v));
  return `${n.op}(${n.inputs.map((i) => i.id).join(',')})${attrs}`;
}

export const cse: Pass = {
  name: 'cse',
  description: 'merge nodes that compute the same value (same op, inputs and attributes)',
  run(g) {
    const seen = new Map<string, Node>();
    return rewrite(g, (n) => {
      const k = key(n);
      if (k === undefined) return undefined;
      const hit = seen.get(k);
      if (hit) return hit;
      seen.set(k, n);
      return undefined;
    });
  },
};
