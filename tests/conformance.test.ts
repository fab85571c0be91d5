// Every vendored PyTorch case whose family is supported must pass within its tolerance.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { BUILDERS, symbolicInputs, VARIABLE_DIMS, type CaseSpec } from '../compiler/conformance/cases.ts';
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

  // The whole set runs at --max-scale 4 in CI (.ci/run); here the families whose builders use
  // run-time sizes themselves (zeros of the batch, greedy loops carrying [B, …], positions).
  test.each(['rnn_1_to_n', 'seq2seq_lstm', 'transformer_seq2seq', 'tiny_gpt'])('%s compiled at 3× its sizes passes at its sizes', async (name) => {
    const r = await runCase(join(ROOT, name), { isas: TEST_ISAS }, { maxScale: 3 });
    expect(r.status, r.detail).toBe('passed');
  });

  test('--max-scale: every family declares its variable dims, and they agree with its case', () => {
    for (const dir of caseDirs(ROOT)) {
      const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as CaseSpec;
      if (!(spec.name in BUILDERS)) continue;
      expect(Object.keys(VARIABLE_DIMS), spec.name).toContain(spec.name);
      const sym = symbolicInputs(spec, 3);
      for (const [k, v] of Object.entries(spec.inputs)) {
        const words = VARIABLE_DIMS[spec.name]![k]?.split(' ') ?? [];
        expect(sym[k]!.shape).toEqual(v.shape.map((d, i) => (words[i] && words[i] !== '_' ? words[i] : d)));
        for (const [w, m] of Object.entries(sym[k]!.max)) expect(m).toBe(3 * v.shape[sym[k]!.shape.indexOf(w)]!);
      }
    }
    const lstm = { name: 'lstm', module: 'LSTM', inputs: { x: { shape: [2, 9, 16], dtype: 'F32' }, h0: { shape: [2, 3, 32], dtype: 'F32' } }, outputs: {}, tolerance: { atol: 0, rtol: 0 } } as CaseSpec;
    expect(() => symbolicInputs(lstm, 2)).toThrow('case lstm: dim B is 2 in one input and 3 in h0');
    expect(symbolicInputs({ ...lstm, inputs: { x: lstm.inputs.x! } }, 2)).toEqual({ x: { shape: ['B', 'T', 16], max: { B: 4, T: 18 }, dtype: 'f32' } });
    expect(() => symbolicInputs({ ...lstm, name: 'nope' }, 2)).toThrow('case nope: no variable dims are declared for this family');
  });

  test('the comparison rule is |got - want| <= atol + rtol·|want|, exact for integers', () => {
    expect(compare([1.0002], [1], 1e-4, 1e-4).bad).toBe(-1);
    expect(compare([1.00021], [1], 1e-4, 1e-4).bad).toBe(0);
    expect(compare([NaN], [1], 1e-4, 1e-4).bad).toBe(0);
    expect(compare([3, 4], [3, 5], 0, 0, true).bad).toBe(1);
  });
});
