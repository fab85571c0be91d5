// torch.div's rounding_mode (x.div(other, { roundingMode })), as ported detection decoders write
// it (CenterNet's and torchvision's `torch.div(inds, width, rounding_mode='floor')`): 'floor' is
// floor_divide's exact kernel, 'trunc' truncates (std::trunc(a / b) for floats, C's integer
// division for integers, which stay integers), null or absent is true division.
import { describeValue } from '../ir/print.ts';
import { checkOptions } from './options.ts';
import { asOperand, describeOperand, intScalar, ModelDefinitionError, record, Tensor, where } from './tensor.ts';
import { floorDivide } from './utilities.ts';

export interface DivOptions { roundingMode?: 'trunc' | 'floor' | null }

const desc = (t: unknown): string => describeOperand(t);

/** x / other rounded as torch.div's rounding_mode says (the options object already given). */
export function divRounded(x: Tensor, other: unknown, o: unknown): Tensor {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new ModelDefinitionError(`div: the second argument is the options { roundingMode: 'trunc' | 'floor' | null }, got ${describeValue(o)}${where()}`);
  checkOptions('div', o as DivOptions, ['roundingMode']);
  const mode = (o as DivOptions).roundingMode ?? null;
  if (mode !== null && mode !== 'trunc' && mode !== 'floor') throw new ModelDefinitionError(`div expected rounding_mode to be one of None, 'trunc', or 'floor' but found ${describeValue(mode)}${where()}`);
  other = asOperand(other);
  if (typeof other !== 'number' && !(other instanceof Tensor)) throw new ModelDefinitionError(`div: expected a tensor or a number to divide by, got ${describeValue(other)}${where()}`);
  if (mode === null) return x.div(other);
  if (mode === 'floor') return floorDivide(x, other);
  if (x.dtype === 'bool' && (typeof other !== 'number' ? other.dtype === 'bool' : false)) throw new ModelDefinitionError(`div: rounding_mode 'trunc' of two bool tensors is not supported (torch: '"div_trunc_cpu" not implemented for 'Bool''), got ${desc(x)}${where()}`);
  const isInt = (v: unknown) => (v instanceof Tensor ? v.dtype !== 'f32' : Number.isInteger(v) && v === ((v as number) | 0));
  if (!isInt(x) || !isInt(other)) return x.cast('f32').div(typeof other === 'number' ? other : other.cast('f32')).trunc();
  if (other === 0) throw new ModelDefinitionError(`div: integer division by zero (torch raises ZeroDivisionError), dividing ${desc(x)} with rounding_mode 'trunc'${where()}`);
  // The IR's i32 div truncates, and raises on a zero divisor when the code runs.
  const b = typeof other === 'number' ? intScalar(other) : other.cast('i32');
  return record('div', [x.cast('i32'), b]);
}
