// The loss functions (F.crossEntropy, …) and modules (nn.CrossEntropyLoss, …) against PyTorch 1.13
// (tests/fixtures/torch-extra/losses, made by make_losses.py): every loss under 'none', 'sum' and
// 'mean' with its options, special inputs (ignored targets, all ignored, logits of ±80 and ±1e4,
// probabilities of 0 and 1, zero targets and variances), over a batch chosen at run time (6 samples
// and the first 4), compiled and in the reference interpreter. One model. A class index out of
// range raises when the code runs, as torch's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { compileModel, defineModel, F, floats, fullLike, interpret, ints, Module, nn, readSafetensors, traceModel, type Tensor } from '../compiler/index.ts';
import type { Graph } from '../compiler/ir/node.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'losses');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'losses/io.safetensors');
const io4 = readSafetensors(readFileSync(join(FIX, 'io_n4.safetensors')), 'losses/io_n4.safetensors');
const CW = [1.0, 2.0, 0.5, 3.0, 1.5];
const R3 = ['none', 'sum', 'mean'] as const;

class Losses extends Module {
  ce = R3.map((reduction) => new nn.CrossEntropyLoss({ weight: CW, reduction }));
  mse = R3.map((reduction) => new nn.MSELoss({ reduction }));
  trip = R3.map((reduction) => new nn.TripletMarginLoss({ margin: 2, p: 1, swap: true, reduction }));
  gau = R3.map((reduction) => new nn.GaussianNLLLoss({ full: true, eps: 1e-3, reduction }));
  kl = new nn.KLDivLoss({ reduction: 'batchmean' });
  forward(d: Record<string, Tensor>): Record<string, Tensor> {
    const o: Record<string, Tensor> = {}, { lg, tg, tp, lg3, tg3 } = d as Record<string, Tensor>;
    const cw = floats(CW);
    R3.forEach((reduction, k) => {
      const r = { reduction };
      o[`ce_${reduction}`] = F.crossEntropy(lg!, tg!, r);
      o[`cew_${reduction}`] = this.ce[k]!.call(lg!, tg!);
      o[`ce0_${reduction}`] = F.crossEntropy(lg!, tg!.clamp(0), { ignoreIndex: 0, reduction });
      o[`cels_${reduction}`] = F.crossEntropy(lg!, tg!, { labelSmoothing: 0.2, reduction });
      o[`celsw_${reduction}`] = F.crossEntropy(lg!, tg!, { weight: cw, labelSmoothing: 0.1, reduction });
      o[`ce3_${reduction}`] = F.crossEntropy(lg3!, tg3!, { weight: cw, labelSmoothing: 0.3, reduction });
      o[`cep_${reduction}`] = F.crossEntropy(lg!, tp!, r);
      o[`cepw_${reduction}`] = F.crossEntropy(lg3!, d.tp3!, { weight: cw, labelSmoothing: 0.25, reduction });
      o[`ceu_${reduction}`] = F.crossEntropy(d.u!, d.tu!, { weight: cw, reduction });
      o[`nll_${reduction}`] = F.nllLoss(lg!.logSoftmax(1), tg!, r);
      o[`nllw3_${reduction}`] = F.nllLoss(lg3!, tg3!.clamp(0), { weight: cw, ignoreIndex: 2, reduction });
      o[`nllall_${reduction}`] = F.nllLoss(lg!, fullLike(tg!, -100), r);
      const { x, y } = d as Record<string, Tensor>;
      o[`mse_${reduction}`] = this.mse[k]!.call(x!, y!);
      o[`l1_${reduction}`] = F.l1Loss(x!, y!, r);
      o[`sl1_${reduction}`] = F.smoothL1Loss(x!, y!, r);
      o[`sl1b_${reduction}`] = F.smoothL1Loss(x!, y!, { beta: 0.5, reduction });
      o[`sl10_${reduction}`] = F.smoothL1Loss(x!, y!, { beta: 0, reduction });
      o[`hub_${reduction}`] = F.huberLoss(x!, y!, { delta: 0.7, reduction });
      o[`bce_${reduction}`] = F.binaryCrossEntropy(d.p!, d.yb!, r);
      o[`bcew_${reduction}`] = F.binaryCrossEntropy(d.p!, d.yb!, { weight: d.bw!, reduction });
      o[`bcel_${reduction}`] = F.binaryCrossEntropyWithLogits(d.zl!, d.yb!, r);
      o[`bcelw_${reduction}`] = F.binaryCrossEntropyWithLogits(d.zl!, d.yb!, { weight: d.bw!, posWeight: d.pw!, reduction });
      o[`kl_${reduction}`] = F.klDiv(d.lp!, d.kt!, r);
      o[`kllog_${reduction}`] = F.klDiv(d.lp!, d.kt!.clamp(1e-3).log(), { logTarget: true, reduction });
      o[`mrl_${reduction}`] = F.marginRankingLoss(d.x1!, d.x2!, d.ym!, { margin: 0.3, reduction });
      o[`hinge_${reduction}`] = F.hingeEmbeddingLoss(d.hx!, d.hy!, { margin: 0.8, reduction });
      o[`soft_${reduction}`] = F.softMarginLoss(d.hx!, d.hy!, r);
      o[`cos_${reduction}`] = F.cosineEmbeddingLoss(d.c1!, d.c2!, d.cy!, { margin: 0.2, reduction });
      o[`trip_${reduction}`] = F.tripletMarginLoss(d.c1!, d.c2!, d.c3!, { margin: 0.5, reduction });
      o[`tripsw_${reduction}`] = this.trip[k]!.call(d.c1!, d.c2!, d.c3!);
      o[`pois_${reduction}`] = F.poissonNllLoss(d.px!, d.pt!, r);
      o[`poisf_${reduction}`] = F.poissonNllLoss(d.px!.exp(), d.pt!, { logInput: false, full: true, reduction });
      o[`gau_${reduction}`] = F.gaussianNllLoss(x!, y!, d.gv!, r);
      o[`gauh_${reduction}`] = this.gau[k]!.call(x!, y!, d.gv1!);
    });
    o.kl_batchmean = this.kl.call(d.lp!, d.kt!);
    const { sv, st, sg } = d as Record<string, Tensor>, none = { reduction: 'none' } as const;
    o.sp_mse = F.mseLoss(sv!, st!, none); o.sp_l1 = F.l1Loss(sv!, st!, none); o.sp_sl1 = F.smoothL1Loss(sv!, st!, none);
    o.sp_hub = F.huberLoss(sv!, st!, none); o.sp_bcel = F.binaryCrossEntropyWithLogits(sv!, st!.clamp(0, 1), none);
    o.sp_soft = F.softMarginLoss(sv!, sg!, none); o.sp_hinge = F.hingeEmbeddingLoss(sv!, sg!, none); o.sp_mrl = F.marginRankingLoss(sv!, st!, sg!, none);
    o.sp_pois = F.poissonNllLoss(sv!, st!.abs(), none); o.sp_poisf = F.poissonNllLoss(sv!.abs(), st!.abs(), { logInput: false, full: true, reduction: 'none' });
    o.sp_kl = F.klDiv(sv!, st!, none); o.sp_gau = F.gaussianNllLoss(sv!, st!, st!.abs(), none);
    o.sp_ce = F.crossEntropy(d.lgs!, d.tgs!, none); o.sp_cep = F.crossEntropy(d.lgs!, d.tps!, none);
    return o;
  }
}

const N = { max: { N: 6 } };
const b = (...rest: number[]) => ({ shape: ['N', ...rest], ...N });
const bi = (...rest: number[]) => ({ shape: ['N', ...rest], dtype: 'i32' as const, ...N });
const def = defineModel({
  name: 'losses', module: new Losses(),
  inputs: {
    // [N, C, T] with T chosen at run time too (the fixture's 4)
    lg: b(5), tg: bi(), tp: b(5), lg3: { shape: ['N', 5, 'T'], max: { N: 6, T: 4 } }, tg3: { shape: ['N', 'T'], dtype: 'i32', max: { N: 6, T: 4 } }, tp3: { shape: ['N', 5, 'T'], max: { N: 6, T: 4 } }, u: [5], tu: { shape: [], dtype: 'i32' },
    x: b(7), y: b(7), p: b(7), yb: b(7), bw: [7], zl: b(7), pw: [7], lp: b(5), kt: b(5), x1: b(), x2: b(), ym: b(),
    hx: b(7), hy: b(7), c1: b(8), c2: b(8), c3: b(8), cy: b(), px: b(7), pt: b(7), gv: b(7), gv1: b(),
    sv: [10], st: [10], sg: [10], lgs: [3, 3], tgs: { shape: [3], dtype: 'i32' }, tps: [3, 3],
  },
  forward: (m: Losses, d: Record<string, Tensor>) => m.forward(d),
});

type File = typeof io;
function feedsOf(file: File) {
  const names = [...file.keys()].filter((k) => k.startsWith('input.')).map((k) => k.slice(6));
  const compiled = Object.fromEntries(names.map((k) => { const t = file.get(`input.${k}`)!; return [k, { data: t.data as Float32Array | Int32Array, shape: t.shape as number[] }]; }));
  const plain = Object.fromEntries(names.map((k) => [k, file.get(`input.${k}`)!.data as Float32Array | Int32Array]));
  return { compiled, plain, sizes: { N: file.get('input.lg')!.shape[0]!, T: 4 } };
}
function checkAgainst(file: File, got: Record<string, ArrayLike<number>>, where: string): number {
  let n = 0;
  for (const key of file.keys()) {
    if (!key.startsWith('output.')) continue;
    const name = key.slice(7);
    expectTorch(Float32Array.from(got[name]!), file.get(key)!.data as Float32Array, `${where} ${name}`);
    n++;
  }
  return n;
}

let graph: Graph, bytes: Uint8Array;
beforeAll(async () => {
  graph = traceModel(def);
  bytes = (await compileModel(def, { isas: TEST_ISAS })).bytes;
}, 120_000);

describe('losses against torch 1.13', () => {
  test('every loss and reduction, compiled and in the reference, over 6 samples and the first 4', async () => {
    for (const file of [io, io4]) {
      const { compiled, plain, sizes } = feedsOf(file);
      const ref = interpret(graph, plain, undefined, sizes) as Record<string, ArrayLike<number>>;
      expect(checkAgainst(file, ref, `reference N=${sizes.N}`)).toBe(117);
      for (const isa of TEST_ISAS) {
        const m = await loadModelBytes(bytes, { isa });
        checkAgainst(file, m.run(compiled) as Record<string, ArrayLike<number>>, `${isa} N=${sizes.N}`);
        m.dispose();
      }
    }
  });

  test('torch\'s values where they surprise: all targets ignored gives NaN for mean and 0 for sum', () => {
    expect((io.get('output.nllall_mean')!.data as Float32Array)[0]).toBeNaN();
    expect((io.get('output.nllall_sum')!.data as Float32Array)[0]).toBe(0);
    // the weight buffers carry torch's names
    expect(new Losses().stateDict().has('ce.0.weight')).toBe(true);
  });

  test('the other nn modules give the functions\' values (the reference), their weights under torch\'s buffer names', () => {
    const arr = (k: string) => Array.from(io.get(`input.${k}`)!.data as Float32Array);
    const bce = new nn.BCEWithLogitsLoss({ weight: arr('bw'), posWeight: arr('pw') });
    expect([...bce.stateDict().keys()]).toEqual(['weight', 'pos_weight']);
    const mods = {
      nllw3_mean: [new nn.NLLLoss({ weight: CW, ignoreIndex: 2 }), (d: Record<string, Tensor>) => [d.lg3!, d.tg3!.clamp(0)]],
      bce_sum: [new nn.BCELoss({ reduction: 'sum' }), (d: Record<string, Tensor>) => [d.p!, d.yb!]],
      bcelw_mean: [bce, (d: Record<string, Tensor>) => [d.zl!, d.yb!]],
      l1_mean: [new nn.L1Loss(), (d: Record<string, Tensor>) => [d.x!, d.y!]],
      sl1b_none: [new nn.SmoothL1Loss({ beta: 0.5, reduction: 'none' }), (d: Record<string, Tensor>) => [d.x!, d.y!]],
      hub_mean: [new nn.HuberLoss({ delta: 0.7 }), (d: Record<string, Tensor>) => [d.x!, d.y!]],
      mrl_mean: [new nn.MarginRankingLoss({ margin: 0.3 }), (d: Record<string, Tensor>) => [d.x1!, d.x2!, d.ym!]],
      hinge_mean: [new nn.HingeEmbeddingLoss({ margin: 0.8 }), (d: Record<string, Tensor>) => [d.hx!, d.hy!]],
      soft_sum: [new nn.SoftMarginLoss({ reduction: 'sum' }), (d: Record<string, Tensor>) => [d.hx!, d.hy!]],
      cos_mean: [new nn.CosineEmbeddingLoss({ margin: 0.2 }), (d: Record<string, Tensor>) => [d.c1!, d.c2!, d.cy!]],
      pois_mean: [new nn.PoissonNLLLoss(), (d: Record<string, Tensor>) => [d.px!, d.pt!]],
      poisf_none: [new nn.PoissonNLLLoss({ logInput: false, full: true, reduction: 'none' }), (d: Record<string, Tensor>) => [d.px!.exp(), d.pt!]],
      kllog_sum: [new nn.KLDivLoss({ logTarget: true, reduction: 'sum' }), (d: Record<string, Tensor>) => [d.lp!, d.kt!.clamp(1e-3).log()]],
    } as const;
    class Holder extends Module {
      ms = Object.values(mods).map(([m]) => m);
      forward(d: Record<string, Tensor>) {
        return Object.fromEntries(Object.entries(mods).map(([k, [m, args]]) => [k, (m as unknown as { call(...a: Tensor[]): Tensor }).call(...args(d))]));
      }
    }
    const small = defineModel({ ...def, name: 'loss-modules', module: new Holder(), forward: (m: Holder, d: Record<string, Tensor>) => m.forward(d) });
    const { plain, sizes } = feedsOf(io);
    const got = interpret(traceModel(small), plain, undefined, sizes) as Record<string, Float32Array>;
    for (const k of Object.keys(mods)) expectTorch(got[k]!, io.get(`output.${k}`)!.data as Float32Array, `nn module for ${k}`);
  });

  test('a class index out of range, or a probability outside [0, 1], raises when the code runs, as torch', async () => {
    const { compiled, plain, sizes } = feedsOf(io);
    const m = await loadModelBytes(bytes);
    const badTarget = Int32Array.of(1, -100, 5, 0, 3, 2);
    expect(() => interpret(graph, { ...plain, tg: badTarget }, undefined, sizes)).toThrow('cross_entropy: Target 5 is out of bounds (the classes are 0 to 4).');
    expect(() => m.run({ ...compiled, tg: { data: badTarget, shape: [6] } })).toThrow(/Target 5 is out of bounds/);
    expect(() => m.run({ ...compiled, tg: { data: Int32Array.of(1, -1, 0, 0, 3, 2), shape: [6] } })).toThrow(/Target -1 is out of bounds/);
    const p = Float32Array.from(plain.p as Float32Array); p[3] = 1.5;
    expect(() => m.run({ ...compiled, p: { data: p, shape: [6, 7] } })).toThrow(/all elements of input should be between 0 and 1/);
    const gv = Float32Array.from(plain.gv as Float32Array); gv[2] = -1;
    expect(() => m.run({ ...compiled, gv: { data: gv, shape: [6, 7] } })).toThrow(/var has negative entry/);
    m.dispose();
  });

  test('misuse is refused by name', () => {
    const tr = (f: (x: Tensor, t: Tensor) => Tensor) => () => traceModel(defineModel({
      name: 't', module: new nn.Identity(), inputs: { x: [3, 4], t: { shape: [3], dtype: 'i32' } },
      forward: (_m, { x, t }: Record<string, Tensor>) => ({ y: f(x!, t!) }),
    }));
    expect(tr((x) => F.crossEntropy(x, ints([0, 4, 1])))).toThrow('cross_entropy: Target 4 is out of bounds (the classes are 0 to 3; ignore_index is -100)');
    expect(tr((x, t) => F.crossEntropy(x, t, { reduction: 'avg' as never }))).toThrow("cross_entropy: reduction must be 'mean', 'sum', 'none', got \"avg\"");
    expect(tr((x, t) => F.crossEntropy(x, t, { labelSmoothing: 1.5 }))).toThrow('cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: 1.5');
    expect(tr((x, t) => F.crossEntropy(x, t, { weight: floats([1, 2, 3]) }))).toThrow('cross_entropy: weight tensor should be defined either for all 4 classes or no classes but got weight tensor of shape: [3]');
    expect(tr((x, t) => F.crossEntropy(x, t.float()))).toThrow('cross_entropy: class-index targets must be i32 (torch\'s int64), got f32[3]');
    expect(tr((x) => F.crossEntropy(x, x.softmax(1), { ignoreIndex: 1 }))).toThrow('cross_entropy: ignore_index is not supported for floating point target');
    expect(tr((x, t) => F.crossEntropy(x, t.slice(0, 0, 2)))).toThrow('cross_entropy: target [2] must be the input [3, 4] without its class dim: [3]');
    expect(tr((x, t) => F.nllLoss(x, t, { sizeAverage: true } as never))).toThrow("nll_loss: unknown option 'sizeAverage'");
    expect(tr((x) => F.smoothL1Loss(x, x, { beta: -1 }))).toThrow('smooth_l1_loss: beta must be a finite number ≥ 0');
    expect(tr((x) => F.huberLoss(x, x, { delta: 0 }))).toThrow('huber_loss: delta must be a finite number > 0');
    expect(tr((x) => F.binaryCrossEntropy(x.sigmoid(), x.slice(0, 0, 2)))).toThrow('binary_cross_entropy: target [2, 4] must have the input\'s size [3, 4]');
    expect(tr((x, t) => F.mseLoss(x, t))).toThrow('mse_loss: target must be f32, got i32[3]');
    expect(tr((x) => F.klDiv(x, x, { reduction: 'batchmean', logTarget: 1 as never }))).toThrow('kl_div: logTarget must be true or false, got 1');
    expect(tr((x) => F.marginRankingLoss(x, x, x.select(0, 0)))).toThrow('margin_ranking_loss: All input tensors should have same dimension');
    expect(tr((x) => F.cosineEmbeddingLoss(x, x, x))).toThrow('cosine_embedding_loss: 0D or 1D target tensor expected, multi-target not supported, got [3, 4]');
    expect(tr((x) => F.tripletMarginLoss(x, x, x.select(0, 0)))).toThrow('triplet_margin_loss: The anchor, positive, and negative tensors are expected to have the same number of dimensions');
    expect(tr((x) => F.gaussianNllLoss(x, x, x.slice(1, 0, 2)))).toThrow('gaussian_nll_loss: var is of incorrect size: [3, 2] for input [3, 4]');
    expect(() => new nn.CrossEntropyLoss({ weight: 'heavy' as never })).toThrow('CrossEntropyLoss: weight must be an array of numbers');
    expect(() => new nn.MSELoss({ reduction: 'batchmean' as never })).toThrow("MSELoss: reduction must be 'mean', 'sum', 'none', got \"batchmean\"");
    expect(() => new nn.L1Loss({ size_average: false } as never)).toThrow("L1Loss: unknown option 'size_average'");
  });
});

test('cross_entropy and nll_loss over a class count chosen at run time (CLIP\'s [B, B] logits against arange(B)) match torch 1.13; a target past it raises when the code runs', async () => {
  const def = defineModel({
    name: 'ce_rt', module: new nn.Identity(), inputs: { x: { shape: ['B', 'B'], max: { B: 3 } }, t: { shape: ['B'], dtype: 'i32' } },
    forward: (_m: Module, { x, t }: Record<string, Tensor>) => ({
      ce: F.crossEntropy(x!, t!), cet: F.crossEntropy(x!.t(), t!, { reduction: 'none' }), nll: F.nllLoss(x!.logSoftmax(1), t!.flip(0), { reduction: 'sum' }),
    }),
  });
  const g = traceModel(def), m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const x3 = [1.5, -0.5, 0.25, 0, 2, -1, 3, 0.5, -2];
  // torch: F.cross_entropy(x[:n, :n], arange(n)), F.cross_entropy(x[:n, :n].t(), arange(n), reduction='none'), F.nll_loss(x.log_softmax(1), arange(n).flip(0), reduction='sum')
  const want = {
    3: { ce: [1.8689651489257812], cet: [1.7413113117218018, 0.2663678824901581, 2.5806725025177], nll: [1.8568952083587646] },
    2: { ce: [0.12692804634571075], cet: [0.2014133334159851, 0.07888974994421005], nll: [4.253856182098389] },
  };
  for (const B of [3, 2] as const) {
    const x = Float32Array.from(x3.filter((_, k) => Math.floor(k / 3) < B && k % 3 < B)), t = Int32Array.from({ length: B }, (_, k) => k);
    const feeds = { x: { data: x, shape: [B, B] }, t: { data: t, shape: [B] } };
    for (const [where, out] of [['compiled', m.run(feeds)], ['reference', interpret(g, { x, t }, undefined, { B })]] as const) {
      for (const k of ['ce', 'cet', 'nll'] as const) expectTorch(Float32Array.from(out[k] as Float32Array), Float32Array.from(want[B][k]), `${where} ${k} at B = ${B}`);
    }
  }
  const bad = { x: Float32Array.of(1, 2, 3, 4), t: Int32Array.of(0, 2) };
  const msg = 'Target 2 is out of bounds (the classes are 0 to B − 1, with B chosen at run time)';
  expect(() => m.run({ x: { data: bad.x, shape: [2, 2] }, t: { data: bad.t, shape: [2] } })).toThrow(msg);
  expect(() => interpret(g, bad, undefined, { B: 2 })).toThrow(msg);
  m.dispose();
  const tr = (f: (x: Tensor, t: Tensor) => Tensor) => () => traceModel(defineModel({ name: 'r', module: new nn.Identity(), inputs: { x: { shape: ['B', 'B'], max: { B: 3 } }, t: { shape: ['B'], dtype: 'i32' } }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!, i.t!) }));
  expect(tr((x, t) => F.crossEntropy(x, t, { labelSmoothing: 0.1 }))).toThrow('cross_entropy: the class dim of [B, B] is a size chosen at run time; label smoothing needs a fixed number of classes');
  expect(tr((x, t) => F.nllLoss(x, t, { weight: floats([1, 2, 3]) }))).toThrow('nll_loss: the class dim of [B, B] is a size chosen at run time; a class weight needs a fixed number of classes');
});
