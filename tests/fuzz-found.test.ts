// Minimal reproductions of the defects the differential fuzzer (compiler/fuzz) found beyond
// those issue 9 listed, kept as regression tests now that they are fixed. (A new one is added
// as `test.fails` while it is open; whoever fixes it drops the `.fails`.)
import { describe, expect, test } from 'vitest';
import { compileModel } from '../compiler/driver/compile.ts';
import { defineModel, F, nn } from '../compiler/dsl/index.ts';
import { constant, record } from '../compiler/dsl/tensor.ts';
import { trace, traceEntry } from '../compiler/dsl/trace.ts';
import { caseOf, checkSimulated, reference } from '../compiler/fuzz/run.ts';
import { loop } from '../compiler/dsl/control.ts';
import { compileEntries } from '../compiler/driver/compile.ts';
import { instantiate } from '../compiler/ir/symbolic.ts';
import { interpret } from '../compiler/reference/interpret.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { checkGraph } from './helpers/e2e.ts';

describe('found by the fuzzer', () => {
  // Sized seeds 1 and 21 once loops were fuzzed with named sizes: the loop's type rule read a
  // size only off a body input's dim that was a name alone, so a loop carrying 3*N values
  // compiled at no size but the bound ("loop: input 0 is f32[3] but the body expects f32[12]").
  test('a loop carrying a value of 3*N elements runs at every N', async () => {
    const g = trace(({ x }) => {
      const flat = x!.reshape(-1); // f32[3*N]
      return loop(2, { h: flat }, ({ h }, t) => ({ next: { h: h!.tanh().add(t.float()) }, emit: { e: h!.mul(2) } })).e!;
    }, { x: { shape: ['N', 3], max: { N: 4 } } });
    const { bytes } = await compileEntries([{ name: 'run', graph: g }], [], { name: 'loop3n', isas: ['wasmsimd'] });
    const m = await loadModelBytes(bytes, { isa: 'wasmsimd' });
    for (const N of [1, 2, 4]) {
      const x = Float32Array.from({ length: 3 * N }, (_, i) => i / 4 - 1);
      const want = interpret(instantiate(g, { N }), { x })[g.outputs[0]!.name]!;
      const got = m.run({ x: { data: x, shape: [N, 3] } })[g.outputs[0]!.name]!;
      expect(got.length).toBe(2 * 3 * N);
      expect(Array.from(got)).toEqual(Array.from(want, (v) => expect.closeTo(v, 5)));
    }
    m.dispose();
  });

  // Fuzzer category output-after-state-write (seed 371 before the fix): the runtime reads outputs after the
  // entry has stored its new state, so an output that is a state tensor returns the new value.
  test('an entry returning s.h while storing a new h returns the old h', async () => {
    const def = defineModel({
      name: 'keep', module: new nn.Identity(), inputs: { x: [3] }, state: { h: [3] },
      entries: { step: { inputs: { x: [3] }, forward: (_m, { x }, s) => ({ outputs: { old: s.h! }, state: { h: x!.relu() } }) } },
    });
    const m = await loadModelBytes((await compileModel(def, { isas: ['wasmsimd'] })).bytes, { isa: 'wasmsimd' });
    m.setState({ h: Float32Array.of(1, 2, 3) });
    const { old } = m.step({ x: Float32Array.of(4, -5, 6) });
    expect(Array.from(m.state().h!)).toEqual([4, 0, 6]);
    expect(Array.from(old!)).toEqual([1, 2, 3]);
  });

  // IR level (the DSL writes caches only through MHA, which stores them): an in-place
  // cache_write must not change a tensor the graph treats as unchanged.
  test('a cache_write into a state the entry does not store leaves that state unchanged (undeclared-state-update, seed 8)', () => {
    const g = traceEntry((ins, s) => ({ outputs: { k: record('cache_write', [s.k!, ins.r!, ins.pos!]) } }),
      { r: [1, 1, 2], pos: { shape: [], dtype: 'i32' } }, { k: [1, 3, 2] });
    const c = { ...caseOf(g, { r: Float32Array.of(7, 8), pos: Int32Array.of(1) }), state: [{ name: 'k', type: { dtype: 'f32' as const, shape: [1, 3, 2] } }],
      initialState: { k: Float32Array.of(1, 2, 3, 4, 5, 6) } };
    expect(checkSimulated(c).map((f) => `${f.config}: ${f.summary}`)).toEqual([]);
  });

  test('a cache_write into a constant leaves the weight unchanged for the next call (constant-overwritten, seed 88)', () => {
    const g = traceEntry((ins) => ({ outputs: { k: record('cache_write', [constant(Float32Array.of(1, 2, 3, 4, 5, 6), [1, 3, 2], 'f32', 'w'), ins.r!, ins.pos!]) } }),
      { r: [1, 1, 2], pos: { shape: [], dtype: 'i32' } }, {});
    const c = { ...caseOf(g, { r: Float32Array.of(7, 8), pos: Int32Array.of(0) }) };
    c.steps = [...c.steps, { r: Float32Array.of(9, 9), pos: Int32Array.of(2) }];
    expect(checkSimulated(c).map((f) => `${f.config}: ${f.summary}`)).toEqual([]);
  });
});

describe('found by the fuzzer, fixed', () => {
  // Seed 44 with attention: a boolean mask over a single key has key stride 0 after
  // broadcasting, and codegen refused it ("must not broadcast over keys") though it is valid.
  // (SDPA's boolean mask is torch's, true = may attend: all true here.)
  test('attention with a boolean mask over one key compiles and agrees with the reference', async () => {
    const mask = Uint8Array.of(1, 1, 1);
    const g = trace(({ q, k, v }) => F.scaledDotProductAttention(q!, k!, v!, { attnMask: constant(mask, [3, 1], 'bool', 'm') }),
      { q: [1, 2, 3, 4], k: [1, 2, 1, 4], v: [1, 2, 1, 5] });
    await checkGraph(g, { tol: 1e-4 });
  });

  // Seeds 1192 and 2253 (after issue 9's fixes): cache_write(k, k, pos) copies rows of the
  // cache over later rows of itself, so it read rows it had already overwritten. Effects now
  // copy an operand that lives in the buffer being written, and the verifier rejects one.
  test('a cache_write whose rows are the cache it writes: past the capacity an error, at 0 an identity', () => {
    // Since the cache ops check their positions, the fuzzer's case (all 3 rows at 1, the last one
    // dropped) is an error; rows that are the cache itself fit only at 0, an identity.
    const g = traceEntry((ins, s) => { const k = record('cache_write', [s.k!, s.k!, ins.pos!]); return { outputs: { k }, state: { k } }; },
      { pos: { shape: [], dtype: 'i32' } }, { k: [1, 3, 1] });
    const at = (pos: number) => ({ ...caseOf(g, { pos: Int32Array.of(pos) }), state: [{ name: 'k', type: { dtype: 'f32' as const, shape: [1, 3, 1] } }],
      initialState: { k: Float32Array.of(1, 2, 3) } });
    expect(() => reference(at(1))).toThrow('KV cache: position 1 + 3 new keys do not fit its 3 positions');
    const c = at(0);
    expect(Array.from(reference(c)[0]!.k!)).toEqual([1, 2, 3]);
    expect(checkSimulated(c).map((f) => `${f.config}: ${f.summary}`)).toEqual([]);
  });
});
