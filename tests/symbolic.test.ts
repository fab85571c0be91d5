// Symbolic sizes end to end: one artifact compiled with bounds runs at any size within them,
// compared with the reference interpreter on the traced graph instantiated at that size; and
// every misuse (a size above its bound, two values for one size, a wrong rank, an ambiguous
// feed) is a clear error before any wasm runs.
import { evalDim as evalRuntimeDim } from '../runtime/dims.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { F, nn } from '../compiler/dsl/index.ts';
import { cat, constant, record } from '../compiler/dsl/tensor.ts';
import { trace, traceModel, defineModel, type InputSpecs } from '../compiler/dsl/trace.ts';
import type { Tensor } from '../compiler/dsl/tensor.ts';
import { compileEntries, type Compiled } from '../compiler/driver/compile.ts';
import { instantiate } from '../compiler/ir/symbolic.ts';
import { dimBroadcastStrides } from '../compiler/codegen/loops.ts';
import type { Graph } from '../compiler/ir/node.ts';
import { interpret } from '../compiler/reference/interpret.ts';
import { loadModelBytes, type Model } from '../runtime/model.ts';
import { validateManifest } from '../runtime/validate.ts';
import { maxRelErr, TEST_ISAS } from './helpers/e2e.ts';
import { checkSimulatedSizes } from '../compiler/fuzz/run.ts';

const seeded = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.731 + seed) * 1.5);

const mlp = new nn.Sequential(new nn.Linear(784, 16), new nn.ReLU(), new nn.Linear(16, 10));
const cnn = new nn.Sequential(new nn.Conv2d(1, 3, 3), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(3 * 5 * 5, 4));
const enc = new nn.TransformerEncoderLayer(16, 2, { dimFeedforward: 24, batchFirst: true });
const mha = new nn.MultiheadAttention(16, 4, { batchFirst: true });
const lstm = new nn.LSTM(8, 12, { batchFirst: true, numLayers: 2 });
const emb = new nn.Embedding(11, 5);
const gru = new nn.GRU(8, 6, { bidirectional: true });
const gn = new nn.GroupNorm(2, 6), gn4 = new nn.GroupNorm(2, 4, 1e-5, { affine: false });
const bag = new nn.EmbeddingBag(11, 5, { mode: 'sum', paddingIdx: 0 });

const ENTRIES: Record<string, { inputs: InputSpecs; fn: (x: Record<string, Tensor>) => Tensor | Record<string, Tensor> }> = {
  mlp: { inputs: { x: { shape: ['B', 784], max: { B: 8 } } }, fn: ({ x }) => mlp.call(x!) },
  cnn: { inputs: { x: { shape: ['N', 1, 12, 12], max: { N: 5 } } }, fn: ({ x }) => cnn.call(x!) },
  enc: { inputs: { x: { shape: ['B', 'T', 16], max: { B: 3, T: 20 } } }, fn: ({ x }) => enc.call(x!) },
  // Recurrent layers run the given number of steps, from zero or given states.
  lstm: { inputs: { x: { shape: ['B', 'T', 8], max: { B: 4, T: 24 } } }, fn: ({ x }) => { const [y, [h, c]] = lstm.forward(x!); return { y, h, c }; } },
  gru: {
    inputs: { x: { shape: ['T', 'B', 8], max: { B: 4, T: 24 } }, h0: { shape: [2, 'B', 6] } },
    fn: ({ x, h0 }) => { const [y, h] = gru.forward(x!, h0!); return { y, h }; },
  },
  // Key padding follows the actual length; causal attention over the actual length.
  masked: {
    inputs: { x: { shape: ['B', 'T', 16], max: { B: 3, T: 20 } }, pad: { shape: ['B', 'T'], dtype: 'bool' } },
    fn: ({ x, pad }) => ({ y: mha.forward(x!, x!, x!, { keyPaddingMask: pad!, needWeights: false })[0], c: mha.forward(x!, x!, x!, { isCausal: true, needWeights: false })[0] }),
  },
  // Every lowering that reads sizes: concat, transpose, reductions, softmax, gather, where, batched matmul, dynamic slices, expand.
  ops: {
    inputs: { x: { shape: ['B', 'T', 8], max: { B: 3, T: 12 } }, ids: { shape: ['B', 'T'], dtype: 'i32' }, at: { shape: [], dtype: 'i32' } },
    fn: ({ x, ids, at }) => {
      const xt = x!.permute(1, 0, 2);
      return {
        cat: cat([x!, x!.mul(2)], 1), catb: cat([x!, x!.neg()], 0), tr: xt, sum: x!.sum(1), mean: x!.mean([0, 1]), max: x!.max(-1, true),
        arg: x!.argmax(1), sm: x!.softmax(1), lsm: x!.logSoftmax(-1), emb: emb.call(ids!), sel: x!.select(1, -1).add(x!.select(1, 0)),
        w: F.whereOp(x!.sum(-1, true).relu().cast('bool' as never) as never, x!, x!.exp()) as never,
        mm: x!.matmul(x!.transpose(1, 2)), dyn: x!.dynamicSlice(1, at!, 1), ex: x!.slice(1, 0, 1).expand(x!.dim(0), x!.dim(1), 8),
        flat: x!.flatten(0, 1).matmul(x!.flatten(0, 1).mT).sum(-1), tail: x!.slice(1, -1).squeeze(1),
      };
    },
  },
  // GroupNorm's statistics over positions chosen at run time: the mean of the actual ones.
  gnorm: {
    inputs: { x: { shape: ['B', 6, 'L'], max: { B: 3, L: 10 } }, img: { shape: [2, 4, 'H', 'W'], max: { H: 5, W: 6 } } },
    fn: ({ x, img }) => ({ y: gn.call(x!), z: gn4.call(img!) }),
  },
  // The Tensor methods composed of other ops, over a length chosen at run time; EmbeddingBag's bags over it.
  methods: {
    inputs: { x: { shape: ['B', 'T', 8], max: { B: 3, T: 12 } }, ids: { shape: ['L'], dtype: 'i32', max: { L: 10 } }, off: { shape: [3], dtype: 'i32' } },
    fn: ({ x, ids, off }) => ({
      cumsum: x!.cumsum(1), lse: x!.logsumexp(1), var: x!.var(1, { unbiased: false }), norm: x!.norm(2, 1), min: x!.min(1), argmin: x!.argmin(1),
      tril: x!.matmul(x!.mT).tril(-1), masked: x!.maskedFill(x!.gt(0.5), -1), sign: x!.sign(), bags: bag.call(ids!, off!),
    }),
  },
  // Input dims spelled c*NAME+d: the runtime reads K off an even 2*K, L off an odd 2*L+1 (L ≥ 2), T off 2*T-1 (a plain array).
  expr: {
    inputs: { x: { shape: ['N', 2, 'K*2', '2*L+1'], max: { N: 2, K: 4, L: 3 }, min: { L: 2 } }, k: { shape: ['N', 'K+1'] }, t: { shape: ['2*T-1'], max: { T: 5 } } },
    fn: ({ x, k, t }) => ({ y: F.maxPool2d(x!, 2), s: x!.sum([1, 2, 3]).unsqueeze(1).add(k!), u: t!.mul(2).slice(0, 0, t!.dim(0)) }),
  },
  // The decomposed path (weights wanted): the causal mask is the corner of the mask at the bounds.
  weights: {
    inputs: { x: { shape: ['B', 'T', 16], max: { B: 3, T: 20 } } },
    fn: ({ x }) => { const [y, w] = mha.forward(x!, x!, x!, { isCausal: true, attnMask: undefined }); return { y, w: w! }; },
  },
};

let compiled: Compiled;
const graphs: Record<string, Graph> = {};
const models = new Map<string, Model>();
beforeAll(async () => {
  const entries = Object.entries(ENTRIES).map(([name, e]) => ({ name, graph: (graphs[name] = trace(e.fn as never, e.inputs)) }));
  compiled = await compileEntries(entries, [], { isas: TEST_ISAS });
  for (const isa of TEST_ISAS) models.set(isa, await loadModelBytes(compiled.bytes, { isa }));
}, 120_000);

/** Runs entry `name` at `sizes` on every ISA and compares with the reference at those sizes. */
function check(name: string, sizes: Record<string, number>, feeds: (s: Record<string, number>) => Record<string, { data: Float32Array | Uint8Array; shape: number[] }>) {
  const f = feeds(sizes);
  const ref = interpret(instantiate(graphs[name]!, sizes), Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v.data])));
  for (const [isa, m] of models) {
    const out = m.call(name, f);
    for (const [k, want] of Object.entries(ref)) {
      expect(maxRelErr(out[k]!, want), `${isa} ${name} ${JSON.stringify(sizes)} ${k}`).toBeLessThan(2e-5);
    }
    expect(m.sizes).toEqual(sizes);
  }
}

describe('symbolic sizes', () => {
  it('an MLP over [B, 784] runs every batch from 1 to the bound', () => {
    for (const B of [1, 2, 5, 8]) check('mlp', { B }, ({ B }) => ({ x: { data: seeded(B! * 784, B!), shape: [B!, 784] } }));
    const m = models.get(TEST_ISAS[0]!)!;
    // A plain array: the one named size is its length over the rest.
    const y = m.call('mlp', { x: seeded(3 * 784, 1) }).y!;
    expect(y.length).toBe(30);
    expect(m.outputShapes).toEqual({ y: [3, 10] });
  });

  it('a CNN over a symbolic batch', () => {
    for (const N of [1, 3, 5]) check('cnn', { N }, ({ N }) => ({ x: { data: seeded(N! * 144, N!), shape: [N!, 1, 12, 12] } }));
  });

  it('an encoder layer over [B, T, E] at many lengths, including 1 and the bounds', () => {
    for (const [B, T] of [[1, 1], [1, 20], [3, 20], [2, 7], [3, 1], [2, 13]] as const) {
      check('enc', { B, T }, ({ B, T }) => ({ x: { data: seeded(B! * T! * 16, T!), shape: [B!, T!, 16] } }));
    }
  });

  it('LSTM and GRU run the actual number of steps over the actual batch', () => {
    for (const [B, T] of [[1, 1], [4, 24], [2, 7], [3, 2]] as const) {
      check('lstm', { B, T }, ({ B, T }) => ({ x: { data: seeded(B! * T! * 8, T!), shape: [B!, T!, 8] } }));
      check('gru', { B, T }, ({ B, T }) => ({ x: { data: seeded(B! * T! * 8, B!), shape: [T!, B!, 8] }, h0: { data: seeded(2 * B! * 6, 5), shape: [2, B!, 6] } }));
    }
  });

  it('key-padding and causal masks follow the actual length', () => {
    for (const [B, T] of [[1, 1], [2, 5], [3, 20], [1, 9]] as const) {
      check('masked', { B, T }, ({ B, T }) => ({
        x: { data: seeded(B! * T! * 16, B! + T!), shape: [B!, T!, 16] },
        pad: { data: Uint8Array.from({ length: B! * T! }, (_, i) => (i % T! > 0 && (i * 7) % 3 === 0 ? 1 : 0)), shape: [B!, T!] },
      }));
    }
  });

  it('shape ops, reductions, gathers, batched matmuls and dynamic slices at every size', () => {
    for (const [B, T] of [[1, 1], [3, 12], [2, 5], [1, 7]] as const) {
      check('ops', { B, T }, ({ B, T }) => ({
        x: { data: seeded(B! * T! * 8, B! * T!), shape: [B!, T!, 8] }, ids: { data: Int32Array.from({ length: B! * T! }, (_, i) => (i * 7) % 11) as never, shape: [B!, T!] },
        at: { data: Int32Array.of(T! - 1) as never, shape: [] },
      }));
    }
  });

  it('GroupNorm over positions chosen at run time', () => {
    for (const [B, L, H, W] of [[1, 1, 1, 1], [3, 10, 5, 6], [2, 7, 2, 5]] as const) {
      check('gnorm', { B, L, H, W }, ({ B, L, H, W }) => ({
        x: { data: seeded(B! * 6 * L!, L!), shape: [B!, 6, L!] }, img: { data: seeded(2 * 4 * H! * W!, H! + W!), shape: [2, 4, H!, W!] },
      }));
    }
  });

  it('cumsum, logsumexp, var, norm, min/argmin, tril, maskedFill, sign and EmbeddingBag over a length chosen at run time', () => {
    for (const [B, T, L] of [[1, 1, 1], [3, 12, 10], [2, 5, 7]] as const) {
      check('methods', { B, T, L }, ({ B, T, L }) => ({
        x: { data: seeded(B! * T! * 8, T!), shape: [B!, T!, 8] }, ids: { data: Int32Array.from({ length: L! }, (_, i) => (i * 7) % 11) as never, shape: [L!] },
        off: { data: Int32Array.of(0, Math.min(2, L!), Math.min(2, L!)) as never, shape: [3] },
      }));
    }
    // An offset past this call's L (4), within the bound (10): an error, compiled and in the reference; one at L is an empty bag.
    const feeds = (last: number) => ({ x: { data: seeded(32, 1), shape: [1, 4, 8] }, ids: { data: Int32Array.of(1, 2, 3, 4) as never, shape: [4] }, off: { data: Int32Array.of(0, 2, last) as never, shape: [3] } });
    const error = /embedding_bag in .*: offsets\[2\] = 5 is past the end of the indices \(L of this call\)/;
    expect(() => interpret(instantiate(graphs.methods!, { B: 1, T: 4, L: 4 }), Object.fromEntries(Object.entries(feeds(5)).map(([k, v]) => [k, v.data])))).toThrow(error);
    for (const m of models.values()) expect(() => m.call('methods', feeds(5))).toThrow(error);
    check('methods', { B: 1, T: 4, L: 4 }, () => feeds(4));
  });

  it('attention weights with a causal mask over the actual length', () => {
    for (const [B, T] of [[1, 1], [2, 6], [3, 20]] as const) check('weights', { B, T }, ({ B, T }) => ({ x: { data: seeded(B! * T! * 16, 9), shape: [B!, T!, 16] } }));
  });

  it('input dims 2*K, 2*L+1, K+1 and 2*T-1: the sizes read off the feeds, compiled equal to the reference at each', () => {
    expect(graphs.expr!.outputs.map((o) => o.node.type.dims)).toEqual([['N', 2, 'K', 'L'], ['N', 'K+1'], ['2*T-1']]);
    for (const [N, K, L, T] of [[1, 1, 2, 1], [2, 4, 3, 5], [1, 3, 2, 2], [2, 2, 3, 4]] as const) {
      check('expr', { N, K, L, T }, () => ({
        x: { data: seeded(N * 2 * 2 * K * (2 * L + 1), K + L), shape: [N, 2, 2 * K, 2 * L + 1] }, k: { data: seeded(N * (K + 1), 3), shape: [N, K + 1] }, t: { data: seeded(2 * T - 1, T), shape: [2 * T - 1] },
      }));
    }
    const m = models.get(TEST_ISAS[0]!)!;
    m.call('expr', { x: { data: seeded(2 * 2 * 6 * 5, 0), shape: [2, 2, 6, 5] }, k: seeded(8, 1), t: seeded(7, 2) }); // a plain array: K and T from the lengths
    expect(m.sizes).toEqual({ N: 2, K: 3, L: 2, T: 4 });
    expect(m.outputShapes).toEqual({ y: [2, 2, 3, 2], s: [2, 4], u: [7] });
    const e = compiled.manifest.entries.expr!;
    expect(e.inputs.map((t) => [t.dims, t.shape])).toEqual([[['N', 2, '2*K', '2*L+1'], [2, 2, 8, 7]], [['N', 'K+1'], [2, 5]], [['2*T-1'], [9]]]);
    expect([e.sizes, e.min]).toEqual([{ N: 2, K: 4, L: 3, T: 5 }, { L: 2 }]);
  });

  it('a size that an input dim c*NAME+d cannot take is refused naming the input, the dim, the expression and the value, by run() and interpret() alike', () => {
    const m = models.get(TEST_ISAS[0]!)!;
    const feeds = (x: number[], k: number[], t: number) => ({
      x: { data: seeded(x.reduce((a, b) => a * b, 1), 0), shape: x }, k: { data: seeded(k[0]! * k[1]!, 1), shape: k }, t: seeded(t, 2),
    });
    const misuse: Array<[ReturnType<typeof feeds>, string]> = [
      [feeds([1, 2, 5, 5], [1, 3], 3), "input 'x': dim 2 is '2*K', which must be 2*K for an integer K in [1, 4]; the shape [1, 2, 5, 5] says it is 5"],
      [feeds([1, 2, 10, 5], [1, 3], 3), "input 'x': dim 2 is '2*K', which must be 2*K for an integer K in [1, 4]; the shape [1, 2, 10, 5] says it is 10"],
      [feeds([1, 2, 4, 3], [1, 3], 3), "input 'x': dim 3 is '2*L+1', which must be 2*L+1 for an integer L in [2, 3]; the shape [1, 2, 4, 3] says it is 3"],
      [feeds([1, 2, 4, 5], [1, 4], 3), "input 'k': dim 1 is 'K+1' = 4, but input 'x' gives K = 2 (the same name is the same size)"],
      [feeds([1, 2, 4, 5], [1, 6], 3), "input 'k': dim 1 is 'K+1', which must be K+1 for an integer K in [1, 4]; the shape [1, 6] says it is 6"],
      [feeds([1, 2, 4, 5], [1, 3], 4), "input 't': dim 0 is '2*T-1', which must be 2*T-1 for an integer T in [1, 5]; 4 values make it 4"],
    ];
    for (const [f, msg] of misuse) {
      expect(() => m.call('expr', f)).toThrow(`model 'model' expr() ${msg}`);
      expect(() => interpret(graphs.expr!, f)).toThrow(`interpret: ${msg}`);
    }
    check('expr', { N: 1, K: 2, L: 2, T: 2 }, () => ({ x: { data: seeded(40, 0), shape: [1, 2, 4, 5] }, k: { data: seeded(3, 1), shape: [1, 3] }, t: { data: seeded(3, 2), shape: [3] } }));
    // The loader takes an input dim it can read a size off and nothing else.
    validateManifest(JSON.parse(JSON.stringify(compiled.manifest)));
    for (const [d, shape] of [['K*N', 8], ['floor(K/2)', 2], ['K*K-8', 8], ['0*K+2', 2]] as const) {
      const man = JSON.parse(JSON.stringify(compiled.manifest)) as typeof compiled.manifest, x = man.entries.expr!.inputs[0]!;
      x.dims![2] = d; x.shape[2] = shape;
      expect(() => validateManifest(man), d).toThrow(`invalid simdflow manifest: entries['expr'] input 'x'.dims[2] must be a number, a size name or c*NAME+d, found "${d}"`);
    }
  });

  it('the manifest records the sizes and the symbolic dims', () => {
    expect(compiled.manifest.entries.enc!.sizes).toEqual({ B: 3, T: 20 });
    expect(compiled.manifest.entries.enc!.inputs[0]!.dims).toEqual(['B', 'T', 16]);
    expect(compiled.manifest.entries.enc!.inputs[0]!.shape).toEqual([3, 20, 16]);
    expect(compiled.manifest.entries.cnn!.outputs[0]!.dims).toEqual(['N', 4]);
  });

  it('refuses sizes outside the bounds, inconsistent sizes, wrong ranks and ambiguous feeds before running', () => {
    const m = models.get(TEST_ISAS[0]!)!;
    const x = (B: number, T: number) => ({ data: seeded(B * T * 16, 0), shape: [B, T, 16] });
    expect(() => m.call('enc', { x: x(4, 2) })).toThrow(/input 'x': dim 0 is size 'B', which must be an integer in \[1, 3\]; .* it is 4/);
    expect(() => m.call('enc', { x: x(2, 21) })).toThrow(/size 'T', which must be an integer in \[1, 20\]/);
    expect(() => m.call('enc', { x: { data: new Float32Array(0), shape: [0, 2, 16] } })).toThrow(/size 'B', which must be an integer in \[1, 3\]; .* it is 0/);
    expect(() => m.call('enc', { x: { data: seeded(32, 0), shape: [2, 16] } })).toThrow(/expected rank 3 \[B, T, 16\], got shape \[2, 16\]/);
    expect(() => m.call('enc', { x: { data: seeded(64, 0), shape: [2, 2, 16] }.data })).toThrow(/sizes B, T that no other input fixes; give \{ data, shape \}/);
    expect(() => m.call('enc', { x: { data: seeded(64, 0), shape: [2, 2, 17] } })).toThrow(/dim 2 must be 16/);
    expect(() => m.call('enc', { x: { data: seeded(60, 0), shape: [2, 2, 16] } })).toThrow(/expected 64 values/);
    expect(() => m.call('masked', { x: x(2, 5), pad: { data: new Uint8Array(12), shape: [2, 6] } })).toThrow(/size 'T' = 6, but input 'x' gives T = 5/);
    expect(() => m.call('mlp', { x: seeded(784 * 9, 0) })).toThrow(/size 'B', which must be an integer in \[1, 8\]; 7056 values make it 9/);
    expect(() => m.call('mlp', { x: seeded(700, 0) })).toThrow(/700 values do not fill \[B, 784\]/);
    expect(() => m.call('masked', { x: seeded(64, 0) })).toThrow(/missing input pad \(expects x: f32\[B, T, 16\], pad: bool\[B, T\]\)/);
    expect(() => m.call('enc', { x: { data: new Float64Array(32) as never, shape: [1, 2, 16] } })).toThrow(/expected Float32Array \(f32\[1, 2, 16\]\), got Float64Array/);
    expect(() => m.call('enc', { x: { data: seeded(32, 0), shape: [1, 2.5, 16] } })).toThrow(/shape a list of integers/);
    // Still usable after refusals.
    check('mlp', { B: 2 }, ({ B }) => ({ x: { data: seeded(B! * 784, 3), shape: [B!, 784] } }));
  });
});

describe('symbolic sizes in the DSL', () => {
  const def = (inputs: InputSpecs, module: nn.Module = mlp) => () => traceModel(defineModel({ name: 'm', module, inputs }));
  it('checks the spelling of named sizes and bounds', () => {
    expect(def({ x: { shape: ['B', 784] } })).toThrow(/size 'B' has no bound; give it in max/);
    expect(def({ x: { shape: ['B', 784], max: { B: 1 } } })).toThrow(/max.B must be an integer from 2/);
    expect(def({ x: { shape: ['B', 784], max: { T: 4, B: 2 } } })).toThrow(/max bounds size 'T', which its shape \[B, 784\] does not name/);
    // A dim c*NAME+d (c ≥ 1) is read as NAME by the runtime: 'B*2' is the even size 2*B; bounds and minimums are NAME's.
    const x = trace(({ x }) => x!, { x: { shape: ['B*2', 'T + T + 1', 'S-1'], max: { B: 4, T: 3, S: 5 }, min: { S: 2 } } }).inputs[0]!.type;
    expect([x.dims, x.shape, x.max, x.min]).toEqual([['2*B', '2*T+1', 'S-1'], [8, 7, 4], { B: 4, T: 3, S: 5 }, { S: 2 }]);
    const spelling = (d: string) => `input 'x': shape [${d}, 784] must be positive integers, size names (a letter or _ then letters, digits or _) or c*NAME+d with integers c ≥ 1 and d ('2*K' for an even size, '2*K+1' for an odd one), got "${d}"`;
    for (const d of ['B*T', 'B*B', 'floor(B/2)', '-2*B', '2*(B', 'B/2']) expect(def({ x: { shape: [d, 784], max: { B: 4, T: 4 } } }), d).toThrow(spelling(d));
    expect(def({ x: { shape: ['2*B-2', 784], max: { B: 4 } } })).toThrow("input 'x': dim 0 '2*B-2' is 0 at B = 1, its least value; a dim is at least 1 at every size: declare min: { B: 2 }");
    expect(def({ x: { shape: ['2*B', 784], max: { C: 4 } } })).toThrow("input 'x': max bounds size 'C', which its shape [2*B, 784] does not name");
    expect(def({ x: { shape: ['2*constructor', 784], max: { B: 4 } } })).toThrow("input 'x': size name 'constructor' is a property of every JavaScript object; choose another name");
    expect(def({ x: { shape: ['B', 784], max: { B: 4 } }, y: { shape: ['B', 3], max: { B: 5 } } })).toThrow(/max.B is 5 but input 'x' bounds it at 4/);
  });

  it('a rule that needs a value it cannot know is a ShapeError naming the op and the sizes', () => {
    // Numbers are read at the bounds (as modules compute them from `shape`); a split that depends on the sizes is refused.
    const fixed = () => trace(({ x }) => x!.reshape(2, 1568), { x: { shape: ['B', 784], max: { B: 4 } } });
    expect(fixed).toThrow(/reshape: cannot reshape \[B, 784\] to \[2, 1568\]: how \[B, 784\] splits into \[2, 1568\] depends on the sizes/);
    // A -1 beside numbers in a group that they divide exactly (matchDims' splitByFree): view(3, -1) of
    // [3*T-3] (the CRF's transitions per step, [3, T-1]) was refused as [3, 6] of 18.
    // But the numbers may be sizes read at their bounds: x.view(x.size(0), -1) of [B, 784] is [B, 784],
    // never [4, 196*B] (dividing the whole count by the numbers gave that, silently wrong at B ≠ 4).
    expect(trace(({ x }) => x!.view(x!.size(0), -1), { x: { shape: ['B', 784], max: { B: 4 } } }).outputs[0]!.node.type.dims).toEqual(['B', 784]);
    expect(trace(({ x }) => x!.view(x!.size(0), -1), { x: { shape: ['B', 3, 4], max: { B: 3 } } }).outputs[0]!.node.type.dims).toEqual(['B', 12]);
    const g = trace(({ x }) => x!.slice(1, 1).reshape(-1).view(3, -1), { x: { shape: [3, 'T'], max: { T: 7 }, min: { T: 2 } } });
    expect(g.outputs[0]!.node.type.dims).toEqual([3, 'T-1']);
    expect(Array.from(interpret(g, { x: Float32Array.from({ length: 9 }, (_, k) => k) }, undefined, { T: 3 }).y!)).toEqual([1, 2, 4, 5, 7, 8]);
    expect(() => trace(({ x }) => x!.reshape(-1).view(2, -1), { x: { shape: [3, 'T'], max: { T: 8 } } })).toThrow(/reshape: cannot reshape \[3\*T\] to \[2, -1\]: how \[3\*T\] splits into \[2, 12\] depends on the sizes/);
    const empty = () => trace(({ x }) => x!.slice(1, 0, -1), { x: { shape: ['B', 'T'], max: { B: 2, T: 8 } } });
    expect(empty).toThrow(/slice: range 0:0:1 is invalid .* with B=1, T=1/);
    const slice = () => trace(({ x }) => x!.slice(1, 0, 5), { x: { shape: ['B', 'T'], max: { B: 2, T: 8 } } });
    expect(slice).toThrow(/slice: range 0:5:1 is invalid .* with B=\d, T=1.*a symbolic size must work for every value from 1 to its bound/);
    const mix = () => trace(({ x, y }) => x!.add(y!), { x: { shape: ['B', 4], max: { B: 4 } }, y: { shape: ['T', 4], max: { T: 4 } } });
    expect(mix).toThrow(/add: shapes do not broadcast/);
  });

  it("a -1 beside fixed sizes splits a group by what divides exactly (Swin's view(-1, nW, …) of a run-time 4·N); a fixed size that may be a bound is refused", async () => {
    // [4·N, 3] as [-1, 4, 3] is [N, 4, 3]: the sum over the 4 is of rows 4n … 4n + 3.
    const g = trace(({ x }) => ({ y: x!.view(-1, 4, 3).sum(1) }), { x: { shape: ['4*N', 3], max: { N: 3 } } });
    expect(g.outputs[0]!.node.type.dims).toEqual(['N', 3]);
    const x = Float32Array.from({ length: 24 }, (_, i) => i);
    const y = interpret(instantiate(g, { N: 2 }), { x }).y as Float32Array;
    expect(Array.from(y)).toEqual([18, 22, 26, 66, 70, 74]); // rows 0–3 and 4–7 of x, summed
    // view(2, -1) of [4·N] at N ≤ 2: the 2 may be N read at its bound (then [N, 4]): refused, as before.
    expect(() => trace(({ x }) => x!.view(2, -1), { x: { shape: ['4*N'], max: { N: 2 } } })).toThrow(/how \[4\*N\] splits into \[2, 4\] depends on the sizes/);
    // A fixed 4 with N ≤ 4 is as ambiguous (4 may be N): refused too.
    expect(() => trace(({ x }) => x!.view(-1, 4, 3), { x: { shape: ['4*N', 3], max: { N: 4 } } })).toThrow(/depends on the sizes/);
    // 3 does not divide 4·N: refused.
    expect(() => trace(({ x }) => x!.view(-1, 3), { x: { shape: ['4*N'], max: { N: 5 } } })).toThrow(/cannot reshape/);
  });

  it('a named size meets only itself where tensors broadcast (against a fixed size it would broadcast only where it is 1)', () => {
    // With B ≤ 2, [B, 3] against [2, 3] holds at every size, broadcasting only at B = 1.
    const B2: InputSpecs = { x: { shape: ['B', 3], max: { B: 2 } } };
    const full = (shape: number[], dtype: 'f32' | 'bool' = 'f32') => constant(dtype === 'f32' ? new Float32Array(shape.reduce((a, b) => a * b)).fill(1) : new Uint8Array(shape.reduce((a, b) => a * b)).fill(1), shape, dtype);
    const cases: Array<[(x: Tensor) => Tensor, RegExp]> = [
      [(x) => x.add(full([2, 3])), /add: input 0 \[B, 3\] meets \[2, 3\]: its size 'B' would broadcast only where it is 1 \(a named size is supported only against the same size\)/],
      [(x) => F.whereOp(full([2, 3], 'bool'), x, 0), /where: input 1 \[B, 3\] meets \[2, 3\]: its size 'B'/],
      [(x) => x.expand(2, 3), /expand: input 0 \[B, 3\] meets \[2, 3\]: its size 'B'/],
      [(x) => x.unsqueeze(1).matmul(full([2, 3, 1])), /matmul: input 0 \[B\] meets \[2\]: its size 'B'/],
    ];
    for (const [f, want] of cases) expect(() => trace(({ x }) => f(x!), B2)).toThrow(want);
    // Against itself or a 1 it broadcasts at every size.
    const ok = trace(({ x }) => x!.add(full([1, 3])).mul(x!).add(full([3])), B2);
    expect(ok.outputs[0]!.node.type.dims).toEqual(['B', 3]);
    // The code's strides refuse it too (a graph built without the check).
    expect(dimBroadcastStrides(['B', 3], ['B', 3])).toEqual([3, 1]);
    expect(dimBroadcastStrides([1, 3], ['B', 3])).toEqual([0, 1]);
    expect(() => dimBroadcastStrides(['B', 3], [2, 3])).toThrow(/codegen: \[B, 3\] broadcast to \[2, 3\] would broadcast the named size 'B' only where it is 1/);
  });

  it('conv2d reads its weight and bias at their shapes: named sizes there are refused by the code generator', async () => {
    // Filters given as an input with a named count of output channels compiled wrong below the bound.
    const g = trace(({ x, w }) => F.conv2d(x!, w!), { x: { shape: ['B', 1, 5, 5], max: { B: 3 } }, w: { shape: ['B', 1, 3, 3] } });
    await expect(compileEntries([{ name: 'conv', graph: g }], [], { isas: TEST_ISAS })).rejects.toThrow(/codegen: conv2d.* with a weight of named sizes \[B, 1, 3, 3\] is not supported \(its sizes must be fixed\)/);
  });

  it('attention takes named sizes only for the batch and lengths: heads and head sizes are read as numbers', async () => {
    // One head of a named size D ran with the scale 1/√(bound) and rows of the bound.
    const qkv = (shape: Array<number | string>) => ({ q: { shape, max: { D: 4 } }, k: { shape }, v: { shape } });
    expect(() => trace(({ q, k, v }) => F.scaledDotProductAttention(q!, k!, v!), qkv([1, 1, 3, 'D'])))
      .toThrow(/scaled_dot_product_attention: q \[1, 1, 3, D\] has a size chosen at run time in its heads or head size \(dims 1 and 3\); only the batch and lengths may be/);
    const g = trace(({ q, k, v }) => record('attention', [q!, k!, v!], { heads: 1, scale: 0.5, causal: false, layout: 'separate', mask: false, cached: false }), { q: { shape: [1, 3, 'D'], max: { D: 4 } }, k: { shape: [1, 3, 'D'] }, v: { shape: [1, 3, 'D'] } });
    await expect(compileEntries([{ name: 'att', graph: g }], [], { isas: TEST_ISAS })).rejects.toThrow(/codegen: attention.* over the named embedding size 'D' \(1, 3, D\) is not supported: heads and head sizes must be fixed/);
  });

  it('carries sizes through reshape, flatten, select and negative slices', () => {
    const g = trace(({ x }) => ({
      flat: x!.flatten(0, 1), last: x!.select(1, -1), tail: x!.slice(1, -1), split: x!.reshape(x!.dim(0), x!.dim(1), 2, 4), merged: x!.reshape(-1, 8),
    }), { x: { shape: ['B', 'T', 8], max: { B: 3, T: 6 } } });
    const dims = Object.fromEntries(g.outputs.map((o) => [o.name, o.node.type.dims]));
    expect(dims).toEqual({ flat: ['B*T', 8], last: ['B', 8], tail: ['B', 1, 8], split: ['B', 'T', 2, 4], merged: ['B*T', 8] });
    const x = seeded(2 * 5 * 8, 0);
    const r = interpret(instantiate(g, { B: 2, T: 5 }), { x });
    expect(Array.from(r.last!)).toEqual([...Array.from(x.subarray(32, 40)), ...Array.from(x.subarray(72, 80))]);
    expect(Array.from(r.tail!)).toEqual(Array.from(r.last!));
  });

  it('the reference interpreter reads the sizes off its feeds as run() does: { data, shape }, or a plain array where one size is open', () => {
    const g = trace(({ x, m }) => ({ s: x!.sum(1), y: x!.mul(m!.unsqueeze(2)).flatten(0, 1) }),
      { x: { shape: ['B', 'T', 3], max: { B: 3, T: 6 }, min: { T: 2 } }, m: { shape: ['B', 'T'] } });
    const x = seeded(2 * 5 * 3, 1), m = seeded(2 * 5, 2);
    const want = interpret(instantiate(g, { B: 2, T: 5 }), { x, m });
    // By hand: s[b, c] = Σ_t x[b, t, c].
    expect(Array.from(want.s!)).toEqual([0, 1, 2, 3, 4, 5].map((i) => { const b = Math.floor(i / 3), c = i % 3; let v = 0; for (let t = 0; t < 5; t++) v += x[(b * 5 + t) * 3 + c]!; return Math.fround(v); }));
    for (const feeds of [{ x: { data: x, shape: [2, 5, 3] }, m: { data: m, shape: [2, 5] } }, { x: { data: x, shape: [2, 5, 3] }, m }]) {
      const got = interpret(g, feeds);
      expect(Array.from(got.s!)).toEqual(Array.from(want.s!));
      expect(Array.from(got.y!)).toEqual(Array.from(want.y!));
    }
    // Explicit sizes still win; sizes that disagree, or fall below a declared least, are refused by name.
    expect(() => interpret(g, { x: { data: x, shape: [2, 5, 3] }, m: { data: m.subarray(0, 6), shape: [3, 2] } })).toThrow(/interpret: input 'm': dim 0 is size 'B' = 3, but input 'x' gives B = 2/);
    expect(() => interpret(g, { x: { data: x.subarray(0, 6), shape: [2, 1, 3] }, m: m.subarray(0, 2) })).toThrow(/interpret: input 'x': dim 1 is size 'T', which must be an integer in \[2, 6\]; the shape \[2, 1, 3\] says it is 1/);
    expect(() => interpret(g, { x: { data: x, shape: [2, 5, 3] }, m: m.subarray(0, 7) })).toThrow(/interpret: input 'm' has 7 values, expected 10/);
    expect(() => interpret(g, { x, m: { data: m.subarray(0, 8), shape: [2, 4] } })).toThrow(/interpret: input 'x' has 30 values, expected 24/);
  });
});

describe('symbolic sizes in the memory-level simulator', () => {
  it('plans made at the bounds hold values dense at every actual size, under every pass configuration', () => {
    const sizes = [{ B: 1, T: 1 }, { B: 2, T: 5 }, { B: 3, T: 20 }, { B: 1, T: 13 }];
    const feeds = (name: string) => (s: Record<string, number>) => ({
      x: seeded(s.B! * s.T! * 16, s.T!),
      ...(name === 'masked' ? { pad: Uint8Array.from({ length: s.B! * s.T! }, (_, i) => (i % s.T! > 0 && i % 3 === 0 ? 1 : 0)) } : {}),
    });
    for (const name of ['enc', 'masked']) expect(checkSimulatedSizes(trace(ENTRIES[name]!.fn as never, ENTRIES[name]!.inputs), sizes, feeds(name)), name).toEqual([]);
    // Convolutions over T (tests/conv-runtime-length.test.ts): padded, causal (chomped), grouped, replicate-padded, up by 2 and down by stride 2, pooled.
    const [c1, causal, grouped, rep, up, down] = [new nn.Conv1d(16, 8, 3, { padding: 1 }), new nn.Conv1d(8, 8, 3, { padding: 4, dilation: 2 }), new nn.Conv1d(8, 8, 3, { padding: 1, groups: 4 }),
      new nn.Conv1d(8, 6, 3, { padding: 1, paddingMode: 'replicate' }), new nn.ConvTranspose1d(6, 6, 4, { stride: 2, padding: 1 }), new nn.Conv1d(6, 6, 3, { stride: 2, padding: 1 })];
    const conv = ({ x }: Record<string, Tensor>) => {
      const h = F.relu(c1.call(x!.permute(0, 2, 1)));
      const y = F.relu(down.call(up.call(rep.call(F.relu(grouped.call(F.relu(causal.call(h).slice(2, 0, -4)).add(h)))))));
      return { y: F.maxPool1d(y, 3, { stride: 1, padding: 1 }), m: y.amax(-1) };
    };
    expect(checkSimulatedSizes(trace(conv as never, { x: { shape: ['B', 'T', 16], max: { B: 3, T: 20 } } }), sizes, feeds('conv')), 'conv').toEqual([]);
    expect(checkSimulatedSizes(trace(ENTRIES.mlp!.fn as never, ENTRIES.mlp!.inputs), [{ B: 1 }, { B: 5 }, { B: 8 }], (s) => ({ x: seeded(s.B! * 784, 2) }))).toEqual([]);
  });
});

describe('symbolic sizes and forced attention decomposition', () => {
  it("attention: 'unfused' over run-time sizes is refused, not silently kept fused", async () => {
    const { runPasses } = await import('../compiler/passes/manager.ts');
    const { wasmTarget } = await import('../compiler/codegen/target.ts');
    const g = trace(ENTRIES.enc!.fn as never, ENTRIES.enc!.inputs);
    expect(() => runPasses(g, { target: wasmTarget, attention: 'unfused' })).toThrow(/'unfused' cannot decompose attention over run-time sizes/);
    expect(runPasses(g, { target: wasmTarget, attention: 'fused' }).nodes.some((n) => n.op === 'attention')).toBe(true);
  });
});

it("the runtime's evalDim: polynomials of sizes, parsed once and evaluated at each call's sizes", () => {
  for (const [d, s, want] of [['B', { B: 3 }, 3], ['B*T', { B: 3, T: 5 }, 15], ['2*T-1', { T: 5 }, 9], ['-3+T', { T: 5 }, 2], ['4*B*T+B-7', { B: 2, T: 3 }, 19], [12, {}, 12]] as const) {
    expect(evalRuntimeDim(d, s), String(d)).toBe(want);
    expect(evalRuntimeDim(d, Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v + 1]))), `${d} again`).toBe(
      typeof d === 'number' ? d : Function(...Object.keys(s), `return ${d}`)(...Object.values(s).map((v) => v + 1)));
  }
});
