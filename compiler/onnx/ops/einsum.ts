// ONNX Einsum (torch.einsum): the DSL's einsum (dsl/einsum.ts) under numpy's rule, ONNX's
// reference: an input '...' that the output leaves out is refused (torch sums it). Malformed
// equations and sizes that disagree are OnnxErrors naming the node; a symbolic size's diagonal or
// a symbolic size against another size is an UnsupportedError.

import type { Tensor } from '../../dsl/tensor.ts';
import { einsumWith } from '../../dsl/einsum.ts';
import { OnnxError } from '../proto.ts';
import { Ctx, UnsupportedError } from '../ctx.ts';
import { f32Input } from './common.ts';

export function einsum(c: Ctx): Tensor {
  c.only('equation');
  const equation = c.attr('equation') ? c.str('equation', '') : c.unsupported("Einsum without its 'equation' attribute");
  if (c.count === 0) throw new OnnxError(`${c.where}: Einsum needs at least one input`);
  const xs = Array.from({ length: c.count }, (_, i) => f32Input(c, i, `input ${i}`));
  return einsumWith(equation, xs, {
    ellipsisInOutput: true,
    malformed: (msg) => new OnnxError(`${c.where}: ${msg}`),
    unsupported: (msg) => new UnsupportedError(`${c.where}: ${msg}`),
  });
}
