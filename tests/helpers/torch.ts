// Comparing an output with PyTorch's: NaN and ±Inf exactly where PyTorch has them (compare() fails
// on them), the rest within 1e-5 absolute or relative; with `zeroSign`, −0 exactly where PyTorch has it.
import { expect } from 'vitest';
import { compare } from '../../compiler/conformance/run.ts';

export function expectTorch(got: Float32Array, want: Float32Array, name: string, opts: { zeroSign?: boolean } = {}): void {
  expect(got.length, name).toBe(want.length);
  const special = Array.from(want, (v) => !Number.isFinite(v) || (opts.zeroSign === true && Object.is(v, -0)));
  expect(Array.from(got).filter((_, j) => special[j]), name).toEqual(Array.from(want).filter((_, j) => special[j]));
  const { bad, maxErr } = compare(got.filter((_, j) => !special[j]), want.filter((_, j) => !special[j]), 1e-5, 1e-5);
  expect(bad, `${name}: max err ${maxErr}`).toBe(-1);
}
