// Nested arrays for ints() and floats(), as torch.tensor([[1., 0.], [0., 1.]]) takes them: a
// rectangular nest gives its values in row-major order and its shape; a ragged one is refused
// as torch refuses it ("expected sequence of length 2 at dim 1 (got 3)").
import { describeValue } from '../ir/print.ts';
import { ModelDefinitionError, where } from './tensor.ts';

/** values and shape as given, or a rectangular nest of arrays flattened with its shape (when no shape is given). */
export function unnest<T>(op: string, values: T, shape: readonly number[] | undefined): { values: T | number[]; shape: readonly number[] | undefined } {
  if (shape !== undefined || !Array.isArray(values) || !values.some(Array.isArray)) return { values, shape };
  const dims: number[] = [];
  for (let v: unknown = values; Array.isArray(v); v = v[0]) {
    if (v.length === 0) throw new ModelDefinitionError(`${op}: a nested array holds an empty array at dim ${dims.length} (a tensor here has no empty dims)${where()}`);
    dims.push(v.length);
  }
  const flat: number[] = [];
  const walk = (v: unknown, d: number): void => {
    if (d === dims.length) {
      if (Array.isArray(v)) throw new ModelDefinitionError(`${op}: a nested array must be rectangular: too many dimensions (got ${describeValue(v)} at dim ${d}; torch: "expected sequence of length ${dims[d - 1]} at dim ${d - 1}")${where()}`);
      flat.push(v as number);
      return;
    }
    if (!Array.isArray(v) || v.length !== dims[d]) throw new ModelDefinitionError(`${op}: a nested array must be rectangular: expected sequence of length ${dims[d]} at dim ${d} (got ${Array.isArray(v) ? v.length : describeValue(v)})${where()}`);
    for (const x of v) walk(x, d + 1);
  };
  walk(values, 0);
  return { values: flat, shape: dims };
}
