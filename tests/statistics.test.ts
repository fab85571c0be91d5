// median, nanmedian, kthvalue, quantile, nanquantile (all five interpolations), searchsorted and
// bucketize against PyTorch 1.13 (tests/fixtures/torch-extra/statistics, made by make_statistics.py):
// ties, NaN, ±inf and ±0, a batched sequence, run-time q's, and a batch chosen at run time (the
// first 3 of 6 rows), compiled on every test ISA and in the reference interpreter. One model.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { bucketize, compileModel, defineModel, floats, interpret, ints, nn, readSafetensors, searchsorted, traceModel, type Tensor } from '../compiler/index.ts';
import type { Graph } from '../compiler/ir/node.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'statistics');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'statistics/io.safetensors');
const io3 = readSafetensors(readFileSync(join(FIX, 'io_b3.safetensors')), 'statistics/io_b3.safetensors');
const INTERP = ['linear', 'lower', 'higher', 'midpoint', 'nearest'] as const;

/** make_statistics.py's outputs; `af` is `a` at its fixed size, for what reduces its rows or every element. */
function outputs({ a, af, b, i, s, v, sb, vb, qr, us, c }: Record<string, Tensor>): Record<string, Tensor> {
  const q = floats([0, 0.25, 0.5, 0.8, 1]), out: Record<string, Tensor> = {};
  out.med_a = af!.median(); out.med_b = b!.median(); out.med_i = i!.median();
  out.nanmed_a = af!.nanmedian(); out.nanmed_b = b!.nanmedian();
  for (const [name, x, dim, keep] of [['a1', a!, 1, false], ['a0', af!, 0, true], ['b1', b!, -2, false], ['i1', i!, 1, false]] as const) {
    [out[`med_${name}_v`], out[`med_${name}_i`]] = x.median(dim, keep);
    if (x.dtype === 'f32') [out[`nanmed_${name}_v`], out[`nanmed_${name}_i`]] = x.nanmedian(dim, keep);
  }
  for (const [name, x, k, dim] of [['a', a!, 3, 1], ['b', b!, 2, 0], ['i', i!, 4, -1], ['a9', a!, 9, 1]] as const) [out[`kth_${name}_v`], out[`kth_${name}_i`]] = x.kthvalue(k, dim);
  for (const m of INTERP) {
    out[`q_${m}`] = a!.quantile(q, { dim: 1, interpolation: m });
    out[`q0_${m}`] = b!.quantile(0.4, { dim: 0, keepdim: true, interpolation: m });
    out[`qall_${m}`] = b!.quantile(q, { interpolation: m });
    out[`nq_${m}`] = a!.nanquantile(q, { dim: 1, interpolation: m });
  }
  out.qs_keep = b!.quantile(0.25, { keepdim: true });
  for (const m of ['linear', 'midpoint'] as const) out[`qc_${m}`] = c!.quantile(floats([0.1, 0.33, 0.5, 0.77, 0.95, 0.6]), { dim: 1, interpolation: m });
  out.nqall = af!.nanquantile(q);
  out.qrun = b!.quantile(qr!, { dim: -1 });
  out.q_half = b!.quantile(floats([0.1, 0.5, 0.3, 0.7, 0.9]), { dim: -1, interpolation: 'nearest' });
  out.qrun_near = b!.quantile(qr!, { dim: -1, interpolation: 'nearest' });
  out.ss_l = searchsorted(s!, v!); out.ss_r = searchsorted(s!, v!, { right: true }); out.ss_side = searchsorted(s!, v!, { side: 'right' });
  out.bk_l = bucketize(v!, s!); out.bk_r = bucketize(v!, s!, { right: true });
  out.ss_b = searchsorted(sb!, vb!); out.ss_br = searchsorted(sb!, vb!, { right: true });
  out.ss_i = searchsorted(i!.select(0, 0).sort()[0], i!);
  out.ss_sorter = searchsorted(us!, v!, { sorter: us!.argsort() });
  out.ss_scalar = searchsorted(s!, 0.5); out.bk_scalar = bucketize(1, s!, { right: true });
  return out;
}
const def = defineModel({
  name: 'statistics', module: new nn.Identity(),
  inputs: {
    a: { shape: ['B', 9], max: { B: 6 } }, af: [6, 9], b: [4, 5, 6], i: { shape: [5, 7], dtype: 'i32' }, s: [8],
    v: { shape: ['B', 10], max: { B: 6 } }, sb: [3, 8], vb: [3, 5], qr: [4], us: [8], c: [4, 11],
  },
  forward: (_m, x: Record<string, Tensor>) => outputs(x),
});
/** What reads `af` (every row of a) is left out of the run-time batch of 3. */
const FIXED_A = /^(med_a|nanmed_a|nqall|(nan)?med_a0_)/;

const feedsOf = (file: Map<string, { data: unknown; shape: readonly number[] }>) => {
  const get = (k: string) => file.get(`input.${k}`)!;
  const a = get('a'), v = get('v');
  return {
    compiled: { a: { data: a.data as Float32Array, shape: a.shape as number[] }, v: { data: v.data as Float32Array, shape: v.shape as number[] }, af: io.get('input.a')!.data as Float32Array, b: get('b').data as Float32Array, i: get('i').data as Int32Array, s: get('s').data as Float32Array, sb: get('sb').data as Float32Array, vb: get('vb').data as Float32Array, qr: get('qr').data as Float32Array, us: get('us').data as Float32Array, c: get('c').data as Float32Array },
    sizes: { B: a.shape[0]! },
  };
};
const plain = (f: ReturnType<typeof feedsOf>['compiled']) => Object.fromEntries(Object.entries(f).map(([k, x]) => [k, 'shape' in x ? x.data : x]));

let graph: Graph, bytes: Uint8Array;
beforeAll(async () => {
  graph = traceModel(def);
  bytes = (await compileModel(def, { isas: TEST_ISAS })).bytes;
}, 120_000);

function checkAgainst(file: typeof io, got: Record<string, ArrayLike<number>>, where: string, skip?: RegExp): number {
  let n = 0;
  for (const key of file.keys()) {
    if (!key.startsWith('output.')) continue;
    const name = key.slice(7);
    if (skip?.test(name)) continue;
    const want = file.get(key)!.data as Float32Array | Int32Array;
    // (qc_*, of continuous values, within expectTorch's 1e-5: torch 1.13's AVX2 build fuses its lerp
    // into an FMA, one rounding where the DSL's a + w·(b − a) has two, so the last bit may differ)
    if (want instanceof Int32Array) expect(Array.from(got[name]!), `${where} ${name}`).toEqual(Array.from(want));
    else expectTorch(Float32Array.from(got[name]!), want, `${where} ${name}`, { zeroSign: true });
    n++;
  }
  return n;
}

describe('order statistics and searching against torch 1.13', () => {
  test('every output, compiled on each ISA and in the reference; a batch of 6 and of 3 rows', async () => {
    for (const [file, skip] of [[io, undefined], [io3, FIXED_A]] as const) {
      const { compiled, sizes } = feedsOf(file);
      const ref = interpret(graph, plain(compiled), undefined, sizes) as Record<string, ArrayLike<number>>;
      expect(checkAgainst(file, ref, `reference B=${sizes.B}`, skip)).toBeGreaterThan(40);
      for (const isa of TEST_ISAS) {
        const m = await loadModelBytes(bytes, { isa });
        checkAgainst(file, m.run(compiled) as Record<string, ArrayLike<number>>, `${isa} B=${sizes.B}`, skip);
        m.dispose();
      }
    }
  });

  test('torch 1.13\'s surprises kept: two infinite neighbours blend to NaN; median\'s index of a NaN row is its first NaN', () => {
    const want = (k: string) => Array.from(io.get(`output.${k}`)!.data as Float32Array);
    // a[4] = [inf, −inf, 1, inf, 2, inf, −inf, 0, inf]: sorted [−inf, −inf, 0, 1, 2, inf, inf, inf, inf]; q = 0.8 ranks 6.4.
    expect(want('q_linear')[3 * 6 + 4]).toBeNaN();
    expect(want('q_lower')[3 * 6 + 4]).toBe(Infinity);
    expect(Array.from(io.get('output.med_a1_i')!.data as Int32Array).slice(2, 4)).toEqual([0, 0]);
  });

  test('a q outside [0, 1] given at run time raises when the code runs, as torch', async () => {
    const { compiled, sizes } = feedsOf(io);
    const bad = { ...compiled, qr: Float32Array.of(0.1, 1.5, 0.2, NaN) };
    expect(() => interpret(graph, plain(bad), undefined, sizes)).toThrow('quantile: q values must be in the range [0, 1], got a q outside it at position 1');
    const m = await loadModelBytes(bytes);
    expect(() => m.run(bad)).toThrow(/q values must be in the range \[0, 1\]/);
    m.dispose();
  });

  test('misuse is refused by name', () => {
    const tr = (f: (x: Tensor, i: Tensor) => Tensor | Tensor[]) => () => traceModel(defineModel({
      name: 't', module: new nn.Identity(), inputs: { x: { shape: ['B', 4], max: { B: 3 } }, i: { shape: [2, 4], dtype: 'i32' } },
      forward: (_m, { x, i }: Record<string, Tensor>) => { const r = f(x!, i!); return Array.isArray(r) ? { y: r[0]! } : { y: r }; },
    }));
    expect(tr((x) => x.median(0))).toThrow('median: dim 0 of [B, 4] is a size chosen at run time; the dim an order statistic reduces must be a fixed size');
    expect(tr((x) => x.median())).toThrow('median: without a dim the whole tensor is reduced, and [B, 4] has sizes chosen at run time');
    expect(tr((x) => x.kthvalue(5, 1))).toThrow('kthvalue: k must be an integer in [1, 4] (the size of dim 1 of [B, 4]), got 5');
    expect(tr((x) => x.kthvalue(1, 2))).toThrow('kthvalue: dim must be an integer in [-2, 1]');
    expect(tr((x) => x.quantile(1.5, { dim: 1 }))).toThrow('quantile: q must be in the range [0, 1] (torch: "q values must be in the range [0, 1]"), got 1.5');
    expect(tr((x) => x.quantile(floats([0.5, -0.1]), { dim: 1 }))).toThrow('got -0.1');
    expect(tr((x) => x.quantile(0.5, { dim: 1, interpolation: 'cubic' as never }))).toThrow("quantile: interpolation must be 'linear', 'lower', 'higher', 'midpoint', 'nearest', got \"cubic\"");
    expect(tr((_x, i) => i.quantile(0.5, { dim: 1 }))).toThrow('quantile: input must be f32 (torch: "input tensor must be either float or double dtype"), got i32[2, 4]');
    expect(tr((x) => x.quantile(ints([0]), { dim: 1 }))).toThrow('quantile: q must be a number or an f32 tensor of 0 or 1 dims, got i32[1]');
    expect(tr((x) => x.nanquantile(0.5, { dim: 1, keepDim: true } as never))).toThrow("nanquantile: unknown option 'keepDim'");
    expect(tr((x) => searchsorted(floats([1, 2]), x, { right: true, side: 'left' }))).toThrow("searchsorted: side and right can't be set to opposites");
    expect(tr((x) => searchsorted(floats([1, 2, 3, 4], [2, 2]), x))).toThrow('searchsorted: with a sequence of more than one dim [2, 2] the values must have its leading dims, [2, m], got [B, 4]');
    expect(tr((x) => searchsorted(x, 1))).toThrow('searchsorted: a number as the value needs a 1-D sorted sequence, got [B, 4]');
    expect(tr((x) => bucketize(x, floats([1, 2, 3, 4], [2, 2])))).toThrow('bucketize: boundaries must be a 1-D tensor, got f32[2, 2]');
    expect(tr((x) => searchsorted(floats([1, 2]), x, { outInt32: 1 as never }))).toThrow('searchsorted: outInt32 must be true or false, got 1');
  });
});
