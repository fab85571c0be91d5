// constant-folding: a node whose inputs are all constants becomes a constant, evaluated by
// the reference interpreter (so folding can never disagree with the oracle). The typical
// win is `transpose(weight)` from Linear layers, folded so codegen packs weights directly.
// It can make things worse by materialising a broadcast: folding stops when the result is
// larger than its inputs together plus 64 KiB. A node the reference refuses (a constant index out
// of range, an integer division by zero) is left as it is: the reference refuses every call at run
// time, and so does the compiled code, trapping with the same message (and DCE may yet drop it).

import { node, rewrite } from '../ir/node.ts';
import { evalNode } from '../reference/interpret.ts';
import { byteSize } from '../ir/types.ts';
import { opTraits } from '../ir/ops.ts';
import { RunTimeError } from '../ir/ops/rules.ts';
import type { Pass } from './pass.ts';

const GROWTH_LIMIT = 64 * 1024;

export const constantFolding: Pass = {
  name: 'constant-folding',
  description: 'evaluate nodes whose inputs are all constants at compile time',
  run(g) {
    return rewrite(g, (n) => {
      if (n.inputs.length === 0 || opTraits(n.op).noFold) return undefined;
      if (!n.inputs.every((i) => i.op === 'const')) return undefined;
      // A value whose size is chosen at run time (pos_emb[:T], zeros expanded to [B, H]) is not a constant.
      if (n.type.dims) return undefined;
      const inBytes = n.inputs.reduce((s, i) => s + byteSize(i.type), 0);
      if (byteSize(n.type) > inBytes + GROWTH_LIMIT) return undefined;
      let data;
      try {
        [data] = evalNode(n, n.inputs.map((i) => ({ type: i.type, data: i.attrs.data as Float32Array })));
      } catch (e) {
        if (e instanceof RunTimeError) return undefined;
        throw e;
      }
      const label = n.inputs.length === 1 && n.inputs[0]!.label ? `${n.op}(${n.inputs[0]!.label})` : n.label;
      return node('const', [], n.type, { data: data! }, label);
    });
  },
};
