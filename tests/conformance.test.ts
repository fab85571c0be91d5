// Every vendored PyTorch case whose family is supported must pass within its tolerance.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUILDERS } from '../compiler/conformance/cases.ts';
import { caseDirs, compare, runCase } from '../compiler/conformance/run.ts';
import { TEST_ISAS } from './helpers/isa.ts';

const ROOT = join(import.meta.dirname, 'fixtures', 'torch');

describe('PyTorch conformance', () => {
  for (const dir of caseDirs(ROOT)) {
    const name = dir.split('/').pop()!;
    const supported = name in BUILDERS;
    test(`${name}${supported ? '' : ' (family not supported yet: skipped by the runner)'}`, async () => {
      const r = await runCase(dir, { isas: TEST_ISAS });
      expect(r.status, r.detail).toBe(supported ? 'passed' : 'skipped');
    });
  }

  test('the comparison rule is |got - want| <= atol + rtol·|want|, exact for integers', () => {
    expect(compare([1.0002], [1], 1e-4, 1e-4).bad).toBe(-1);
    expect(compare([1.00021], [1], 1e-4, 1e-4).bad).toBe(0);
    expect(compare([NaN], [1], 1e-4, 1e-4).bad).toBe(0);
    expect(compare([3, 4], [3, 5], 0, 0, true).bad).toBe(1);
  });
});
