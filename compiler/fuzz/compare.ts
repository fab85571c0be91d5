// Agreement of two results: NaN exactly where the oracle has NaN (PyTorch semantics), ±Inf
// exactly, finite values within a tolerance relative to the value plus the tensor's magnitude,
// plus a small absolute floor: intermediates of order 1 are rounded to f32 in one result and
// not the other (log(1 + 4e-6) loses 3% of its value to the f32 rounding of the sum).

import type { AnyTensorData } from '../ir/types.ts';

export interface Difference { name: string; index: number; want: number; got: number; tol: number }

export function firstDifference(name: string, want: AnyTensorData, got: AnyTensorData | undefined, rtol: number): Difference | undefined {
  if (!got) return { name, index: -1, want: NaN, got: NaN, tol: 0 };
  if (got.length !== want.length) return { name, index: -1, want: want.length, got: got.length, tol: 0 };
  let scale = 0;
  for (let i = 0; i < want.length; i++) { const a = Math.abs(want[i]!); if (Number.isFinite(a) && a > scale) scale = a; }
  const exact = !(want instanceof Float32Array), atol = rtol / 100;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!, g = got[i]!;
    if (Number.isNaN(w) || Number.isNaN(g)) { if (Number.isNaN(w) && Number.isNaN(g)) continue; }
    else if (w === g) continue;
    else if (!exact && Number.isFinite(w) && Number.isFinite(g) && Math.abs(w - g) <= rtol * (Math.abs(w) + scale) + atol) continue;
    return { name, index: i, want: w, got: g, tol: exact ? 0 : rtol * (Math.abs(w) + scale) + atol };
  }
  return undefined;
}

/** The first difference over all named results of `want` (in order). */
export function compareResults(want: Record<string, AnyTensorData>, got: Record<string, AnyTensorData>, rtol: number): Difference | undefined {
  for (const [k, w] of Object.entries(want)) {
    const d = firstDifference(k, w, got[k], rtol);
    if (d) return d;
  }
  return undefined;
}
