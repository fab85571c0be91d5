// Wrong answers that once came out without an error (issue 9), each through the public API:
// DSL → compileModel → loadModel → run/step, against the reference interpreter and hand-computed values.
import { beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../compiler/driver/compile.ts';
import { defineGPT, defineModel, F, GPT, ints, loop, nn, traceModel, type ModelDefinition } from '../compiler/dsl/index.ts';
import { rng } from '../compiler/dsl/module.ts';
import { interpret } from '../compiler/reference/interpret.ts';
import { loadModelBytes, type Model } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/e2e.ts';

const mha = new nn.MultiheadAttention(4, 2, { batchFirst: true });

/** One model, one compile: each entry exercises one defect. */
const def: ModelDefinition = defineModel({
  name: 'soundness', module: mha,
  inputs: { x: [1, 3], z: [2, 2] },
  forward: (_m, { x, z }) => {
    const r = x!.relu(), q = z!.relu();
    return { centred: r.mean(-1, true).mul(-1).add(r), rest: q.sum(-1, true).sub(q) };
  },
  state: { cur: [3], prev: [3], a: [3], b: [3], k: [1, 4, 4], v: [1, 4, 4], pos: { shape: [], dtype: 'i32' } },
  entries: {
    shift: { inputs: { x: [3] }, forward: (_m, { x }, s) => ({ outputs: { y: x!.mul(1) }, state: { cur: x!.relu(), prev: s.cur! } }) },
    swap: { inputs: { x: [3] }, forward: (_m, { x }, s) => ({ outputs: { y: x!.mul(1) }, state: { a: s.b!, b: s.a! } }) },
    cached: {
      inputs: { x: [1, 1, 4] },
      forward: (m, { x }, s) => {
        const cache = { k: s.k!, v: s.v!, pos: s.pos! };
        const [y] = (m as nn.MultiheadAttention).call(x!, x!, x!, { cache, needWeights: false });
        // Reads of the cache after its in-place write must see the old rows, as the reference does.
        return { outputs: { y, ksum: s.k!.sum(-1), kold: s.k! }, state: { k: cache.k, v: cache.v, pos: s.pos!.add(ints([1], [])) } };
      },
    },
    loopswap: {
      inputs: { a: [3], b: [3] },
      forward: (_m, { a, b }) => ({ outputs: loop(3, { a: a!, b: b! }, ({ a: x, b: y }) => ({ next: { a: y!, b: x! }, emit: { s: x!.mul(1) } })) }),
    },
    nan: {
      inputs: { x: [2, 6] },
      forward: (_m, { x }) => ({
        outputs: {
          relu: x!.relu(), maximum: x!.maximum(0.5), minimum: x!.minimum(0.5), max: x!.max(-1), argmax: x!.argmax(-1),
          softmax: x!.softmax(-1), pool: F.maxPool2d(x!.reshape(1, 1, 2, 6), 2), sum: x!.sum(-1), sigmoid: x!.sigmoid(), tanh: x!.tanh(), relu11: x!.reshape(12).slice(0, 0, 11).relu(),
        },
      }),
    },
  },
});

/** Equal as PyTorch prints them: NaN matches NaN, infinities match exactly, finite values within tol. */
function same(got: ArrayLike<number>, want: ArrayLike<number>, tol = 2e-5): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    const ok = Number.isNaN(w) ? Number.isNaN(g) : Number.isFinite(w) ? Math.abs(g - w) <= tol * (1 + Math.abs(w)) : g === w;
    if (!ok) throw new Error(`element ${i}: got ${g}, want ${w} (got [${Array.from(got)}], want [${Array.from(want)}])`);
  }
}

let models: Model[] = [];
let compiled: Awaited<ReturnType<typeof compileModel>>;
beforeAll(async () => {
  compiled = await compileModel(def, { isas: TEST_ISAS });
  models = await Promise.all(TEST_ISAS.map((isa) => loadModelBytes(compiled.bytes, { isa })));
}, 300_000);

describe('defect 1: in-place reuse never overwrites a broadcast operand', () => {
  test('r.mean(-1, true).mul(-1).add(r) and r.sum(-1, true).sub(r)', () => {
    const feeds = { x: Float32Array.of(1, 2, 3), z: Float32Array.of(1, 2, 3, 4) };
    const ref = interpret(compiled.traced, feeds);
    same(ref.centred!, [-1, 0, 1]);
    same(ref.rest!, [2, 1, 4, 3]);
    for (const m of models) {
      const out = m.run(feeds);
      same(out.centred!, [-1, 0, 1]);
      same(out.rest!, [2, 1, 4, 3]);
    }
  });
});

describe('defect 2: state writes are one parallel assignment', () => {
  test('{ cur: x.relu(), prev: s.cur } keeps the previous cur', () => {
    for (const m of models) {
      m.reset();
      m.call('shift', { x: Float32Array.of(1, 1, 1) });
      m.call('shift', { x: Float32Array.of(2, -2, 2) });
      const st = m.state();
      same(st.cur!, [2, 0, 2]);
      same(st.prev!, [1, 1, 1]);
    }
  });
  test('{ a: s.b, b: s.a } swaps', () => {
    for (const m of models) {
      m.reset();
      m.setState({ a: Float32Array.of(1, 2, 3), b: Float32Array.of(4, 5, 6) });
      m.call('swap', { x: new Float32Array(3) });
      same(m.state().a!, [4, 5, 6]);
      same(m.state().b!, [1, 2, 3]);
      const ref = interpret(compiled.tracedEntries.swap!, { x: new Float32Array(3) }, { a: Float32Array.of(1, 2, 3), b: Float32Array.of(4, 5, 6) });
      same(ref['state.a']!, [4, 5, 6]);
    }
  });
});

describe('carried values of a loop are one parallel assignment too', () => {
  test('a loop that swaps its carried values', () => {
    const feeds = { a: Float32Array.of(1, 2, 3), b: Float32Array.of(4, 5, 6) };
    const want = [1, 2, 3, 4, 5, 6, 1, 2, 3];
    same(interpret(compiled.tracedEntries.loopswap!, feeds).s!, want);
    for (const m of models) same(m.call('loopswap', feeds).s!, want);
  });
});

describe('defect 3: reads after an in-place cache write see the old rows', () => {
  test('outputs reading s.k after cache_write agree with the reference', () => {
    const r = rng(9);
    const k = Float32Array.from({ length: 16 }, () => r() * 2 - 1), v = Float32Array.from({ length: 16 }, () => r() * 2 - 1);
    const x = Float32Array.from({ length: 4 }, () => r() * 2 - 1);
    const state = { k, v, pos: Int32Array.of(1) };
    const ref = interpret(compiled.tracedEntries.cached!, { x }, state);
    for (const m of models) {
      m.reset();
      m.setState(state);
      const out = m.call('cached', { x });
      same(out.kold!, k);
      same(out.ksum!, ref.ksum!);
      same(out.y!, ref.y!);
      same(m.state().k!, ref['state.k']!);
      same(m.state().k!.subarray(4, 8), x.map((_, i) => ref['state.k']![4 + i]!));
    }
  });
});

describe('defect 4: NaN and Inf follow PyTorch', () => {
  const N = NaN, I = Infinity;
  const x = Float32Array.of(1, N, 3, -2, N, 0.25, -I, I, 2, -1, 0.75, -0.5);
  test('reference by hand: relu, maximum/minimum, max, argmax (first NaN), maxpool', () => {
    const ref = interpret(compiled.tracedEntries.nan!, { x });
    same(ref.relu!, [1, N, 3, 0, N, 0.25, 0, I, 2, 0, 0.75, 0]);
    same(ref.maximum!, [1, N, 3, 0.5, N, 0.5, 0.5, I, 2, 0.5, 0.75, 0.5]);
    same(ref.minimum!, [0.5, N, 0.5, -2, N, 0.25, -I, 0.5, 0.5, -1, 0.5, -0.5]);
    same(ref.max!, [N, I]);
    same(ref.argmax!, [1, 1]);
    same(ref.sum!, [N, N]);
    same(ref.softmax!.subarray(0, 6), [N, N, N, N, N, N]);
    same(ref.softmax!.subarray(6), [N, N, N, N, N, N]); // exp(inf − max) is NaN, so is the sum, as in torch.softmax
    same(ref.pool!, [N, 3, N]);
    same(ref.sigmoid!.subarray(6, 8), [0, 1]);
    same(ref.tanh!.subarray(6, 8), [-1, 1]);
  });
  test('compiled code agrees with the reference', () => {
    const ref = interpret(compiled.tracedEntries.nan!, { x });
    for (const m of models) {
      const out = m.call('nan', { x });
      for (const k of Object.keys(ref)) same(out[k]!, ref[k]!);
    }
  });
  test('a gemm with a relu epilogue keeps NaN', async () => {
    const lin = new nn.Sequential(new nn.Linear(3, 5), new nn.ReLU());
    const c = await compileModel(defineModel({ name: 'lin', module: lin, inputs: { x: [2, 3] } }), { isas: TEST_ISAS });
    const xin = Float32Array.of(NaN, 1, 2, 0.5, -1, 2);
    const ref = interpret(c.traced, { x: xin });
    expect(Array.from(ref.y!.subarray(0, 5)).every(Number.isNaN)).toBe(true);
    for (const isa of TEST_ISAS) same((await loadModelBytes(c.bytes, { isa })).run({ x: xin }).y!, ref.y!);
  }, 120_000);
});

describe('defect 5: options are honoured or rejected, never ignored', () => {
  const trace1 = (module: nn.Module, forward: ModelDefinition['forward'], inputs = { x: [1, 3, 4] }) =>
    traceModel(defineModel({ name: 't', module, inputs, forward }));
  test('MHA with a KV cache rejects masks and isCausal: false', () => {
    const m = new nn.MultiheadAttention(4, 2, { batchFirst: true });
    const def2 = (opts: Record<string, unknown>) => defineModel({
      name: 'c', module: m, inputs: { x: [1, 1, 4] }, forward: (mm, { x }) => (mm as nn.MultiheadAttention).call(x!, x!, x!, { needWeights: false })[0], state: { k: [1, 4, 4], v: [1, 4, 4], pos: { shape: [], dtype: 'i32' } },
      entries: { step: { inputs: { x: [1, 1, 4] }, forward: (mm, { x }, s) => ({ outputs: { y: (mm as nn.MultiheadAttention).call(x!, x!, x!, { cache: { k: s.k!, v: s.v!, pos: s.pos! }, needWeights: false, ...opts })[0] } }) } },
    });
    expect(() => compiledEntries(def2({ isCausal: false }))).toThrow(/isCausal: false.*KV cache/);
    expect(() => compiledEntries(def2({ keyPaddingMask: 'm' }))).toThrow(/keyPaddingMask.*KV cache/);
    expect(() => compiledEntries(def2({ attnMask: 'm' }))).toThrow(/attnMask.*KV cache/);
    expect(() => compiledEntries(def2({ needWeights: true }))).toThrow(/needWeights is not supported with a KV cache/);
  });
  test('squeeze() drops every size-1 dimension, squeeze(d) only d', () => {
    const g = trace1(new nn.Identity(), (_m, { x }) => ({ a: x!.reshape(1, 3, 1, 4).squeeze(), b: x!.reshape(1, 3, 1, 4).squeeze(2), c: x!.reshape(1, 3, 1, 4).squeeze([0, 2]) }));
    expect(g.outputs.map((o) => o.node.type.shape)).toEqual([[3, 4], [1, 3, 4], [3, 4]]);
  });
  test('misspelt or unknown option keys throw, naming the key and the allowed ones', () => {
    expect(() => new nn.TransformerEncoderLayer(8, 2, { dim_feedforward: 16 } as never)).toThrow(/TransformerEncoderLayer: unknown option 'dim_feedforward'.*dimFeedforward/);
    expect(() => new nn.Linear(2, 3, { bias: false, bais: true } as never)).toThrow(/Linear: unknown option 'bais'.*bias/);
    expect(() => new nn.Conv2d(1, 2, 3, { stride: 1, padding_mode: 'zeros' } as never)).toThrow(/Conv2d: unknown option 'padding_mode'/);
    expect(() => new nn.MaxPool2d(2, { ceil_mode: true } as never)).toThrow(/MaxPool2d: unknown option 'ceil_mode'.*ceilMode/);
    expect(() => new nn.LSTM(2, 3, { batch_first: true } as never)).toThrow(/LSTM: unknown option 'batch_first'.*batchFirst/);
    expect(() => new nn.GRU(2, 3, { nonlinearity: 'relu' } as never)).toThrow(/GRU: unknown option 'nonlinearity'/);
    expect(() => new nn.MultiheadAttention(4, 2, { batch_first: true } as never)).toThrow(/MultiheadAttention: unknown option 'batch_first'/);
    expect(() => new nn.Transformer(8, 2, { num_encoder_layers: 1 } as never)).toThrow(/Transformer: unknown option 'num_encoder_layers'/);
    expect(() => new nn.TransformerEncoderLayer(8, 2, { activation: 'swish' } as never)).toThrow(/activation must be 'relu', 'gelu' or a function of a tensor, got "swish"/);
    const m = new nn.MultiheadAttention(4, 2, { batchFirst: true });
    expect(() => trace1(m, (mm, { x }) => (mm as nn.MultiheadAttention).call(x!, x!, x!, { need_weights: false } as never)[0])).toThrow(/MultiheadAttention.forward: unknown option 'need_weights'.*needWeights/);
    expect(() => trace1(new nn.Identity(), (_m, { x }) => F.scaledDotProductAttention(x!.reshape(1, 1, 3, 4), x!.reshape(1, 1, 3, 4), x!.reshape(1, 1, 3, 4), { is_causal: true } as never))).toThrow(/unknown option 'is_causal'/);
    expect(() => traceModel(defineModel({ name: 'd', module: new nn.Identity(), inputs: { x: [2] }, weigths: 'w.safetensors' } as never))).toThrow(/unknown option 'weigths'.*weights/);
  });
  test('defineModel({ weights }) is loaded or rejected by compileModel, never compiled with random weights', async () => {
    const d = defineModel({ name: 'w', module: new nn.Linear(2, 2), inputs: { x: [1, 2] }, weights: 'missing.safetensors' });
    // It names what a user can call: loadDefinition is the CLI's, not exported from 'simdflow'.
    await expect(compileModel(d)).rejects.toThrow(/weights 'missing.safetensors'.*`simdflow build` or the Vite plugin.*loadStateDict/);
    await expect(compileModel(d)).rejects.not.toThrow(/loadDefinition/);
  });
  test('GPT positions are never clamped: past the context the reference throws, and the runtime refuses the decode', async () => {
    const gpt = new GPT({ vocab: 11, context: 4, dModel: 8, nhead: 2, layers: 1, dimFeedforward: 16 });
    const g = defineGPT({ name: 'g', module: gpt, tokens: [1, 4] });
    const decode = compiledEntries(g).decode!;
    const state: Record<string, Int32Array | Float32Array> = { pos: Int32Array.of(4), k0: new Float32Array(16), v0: new Float32Array(16) };
    let err = '';
    try { interpret(decode, { tokens: Int32Array.of(3) }, state); } catch (e) { err = (e as Error).message; }
    expect(err).toMatch(/^gather in .*pos_emb.*: index 4 is outside \[0, 4\)$/);
    // The runtime refuses a decode at a full cache before any wasm runs (were it let through, the
    // compiled code would trap with the reference's message: run-time-checks.test.ts).
    const m = await loadModelBytes((await compileModel(g, { isas: [TEST_ISAS[0]!] })).bytes);
    const ok = m.decode(3);
    m.setState({ pos: Int32Array.of(4) });
    expect(() => m.decode(3)).toThrow("model 'g' decode(): the KV cache holds 4 tokens; at position 4 it cannot take 1 more (reset() to start over)");
    m.reset();
    expect(Array.from(m.decode(3))).toEqual(Array.from(ok));
    m.dispose();
  }, 60_000);
});

import { traceEntries } from '../compiler/dsl/trace.ts';
function compiledEntries(d: ModelDefinition) { return Object.fromEntries(traceEntries(d).map((e) => [e.name, e.graph])); }
