// ONNX BitwiseAnd / Or / Xor / Not (opset 18) through the DSL's bitwise and bitwiseNot
// (compiler/dsl/utilities.ts: the IR's bitand / bitor / bitxor of i32). int64 runs as i32, as
// everywhere in the importer: an int64 value that fits i32 is its sign extension, and and / or /
// xor / not of sign-extended values are the sign extensions of the i32 results, so int64's values
// are exact. ONNX takes no bools or floats here (And / Or / Xor / Not are the logical ops); the
// unsigned and 8/16-bit types have no dtype here and are refused where they enter (irDtype).
// BitShift is defined on unsigned types only: refused, naming why.
import { bitwise, bitwiseNot, type BitwiseOp } from '../../dsl/utilities.ts';
import type { Tensor } from '../../dsl/tensor.ts';
import type { Ctx } from '../ctx.ts';
import { same, type Translate } from './common.ts';

function intInput(c: Ctx, i: number, what: string): Tensor {
  const t = c.t(i, what);
  if (t.dtype !== 'i32') c.unsupported(`${what} of type ${t.dtype === 'f32' ? 'float' : 'bool'} (${c.node.opType} takes integers: int32, int64)`);
  return t;
}
export const bitwiseOp = (op: BitwiseOp): Translate => (c) => bitwise(op, ...same(c, intInput(c, 0, 'A'), intInput(c, 1, 'B')));
export const bitwiseNotOp: Translate = (c) => bitwiseNot(intInput(c, 0, 'X'));
export const bitShift: Translate = (c) => {
  c.only('direction');
  return c.unsupported(`BitShift (ONNX defines it on uint8, uint16, uint32 and uint64 only; this importer has no unsigned integer types: int64 and int32 run as i32)`);
};
