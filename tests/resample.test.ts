// GroupNorm, Upsample / F.interpolate (nearest, linear, bilinear), MaxPool1d / AvgPool1d and
// Unflatten against PyTorch 1.13 (tests/fixtures/torch-extra/resample, made by make_resample.py),
// compiled (every test ISA) over a batch chosen at run time and in the reference interpreter;
// then hand-computed values and misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { cat, compileModel, defineModel, F, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'resample');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `resample/${f}`);

class Net extends Module {
  gn = new nn.GroupNorm(2, 6);
  gn_plain = new nn.GroupNorm(3, 6, 1e-3, { affine: false });
  gn_one = new nn.GroupNorm(1, 6);
  up2 = new nn.Upsample({ scaleFactor: 2 });
  up_bil = new nn.Upsample({ size: [7, 3], mode: 'bilinear', alignCorners: true });
  mp = new nn.MaxPool1d(3, { stride: 2, padding: 1 });
  ap = new nn.AvgPool1d(4, { stride: 3, padding: 2, countIncludePad: false });
  ap_inc = new nn.AvgPool1d(3, { stride: 1, padding: 1 });
  unflat = new nn.Unflatten(1, [2, -1]);
  forward(): never { throw new Error('unused'); }
}

test('GroupNorm, Upsample/interpolate (every mode, size and scale factor, alignCorners), 1-D pools and Unflatten match PyTorch over a run-time batch', async () => {
  const net = new Net();
  net.loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const B = { B: 3 };
  const def = defineModel({
    name: 'resample', module: net,
    inputs: { s: { shape: ['B', 3, 11], max: B }, img: { shape: ['B', 3, 4, 5], max: B }, sp: { shape: ['B', 2, 6], max: B }, u: [3, 9], a: { shape: ['B', 12], max: B } },
    forward: (m: Net, i: Record<string, Tensor>) => {
      const { s, img, sp, u, a } = i as Record<string, Tensor>;
      const ni = (o: F.InterpolateOptions) => F.interpolate(img!, o), ns = (o: F.InterpolateOptions) => F.interpolate(s!, o);
      const s2 = cat([s!, s!], 1), img2 = cat([img!, img!], 1);
      return {
        gn_seq: m.gn.call(s2), gn_img: m.gn.call(img2), gn_plain: m.gn_plain.call(img2),
        gn_one: m.gn_one.call(a!.reshape(a!.dim(0), 6, 2)), gn_2d: m.gn.call(a!.slice(1, 0, 6)),
        gn_f_weight: F.groupNorm(s2, 3, m.gn.weight!.t),
        up2: m.up2.call(img!), near_size: ni({ size: [7, 3] }), near_sf: ni({ scaleFactor: [2.1, 0.6] }), near_1d: ns({ scaleFactor: 1.7 }),
        near_1d_size: ns({ size: 4 }), near_sp: F.interpolate(sp!, { scaleFactor: 1.5 }),
        lin_sf: ns({ scaleFactor: 1.7, mode: 'linear' }), lin_size_ac: ns({ size: 9, mode: 'linear', alignCorners: true }),
        lin_down: ns({ size: 3, mode: 'linear' }), lin_same: ns({ scaleFactor: 1.05, mode: 'linear' }), lin_sp: F.interpolate(sp!, { size: 9, mode: 'linear' }),
        lin_sf_ac: ns({ scaleFactor: 2.5, mode: 'linear', alignCorners: true }),
        bil_sf: ni({ scaleFactor: 2, mode: 'bilinear' }), bil_size_ac: m.up_bil.call(img!), bil_mixed: ni({ scaleFactor: [1.5, 0.5], mode: 'bilinear' }),
        bil_size: ni({ size: [3, 8], mode: 'bilinear' }), bil_sf_ac: ni({ scaleFactor: [1.7, 2.2], mode: 'bilinear', alignCorners: true }),
        mp: m.mp.call(s!), ap: m.ap.call(s!), ap_inc: m.ap_inc.call(s!), mp_sp: F.maxPool1d(sp!, 2), mp_u: F.maxPool1d(u!, 4, { stride: 2, padding: 2 }),
        ap_u: F.avgPool1d(u!, 2), unflat: m.unflat.call(a!), unflat_t: a!.unflatten(-1, [3, 4]),
      };
    },
  });
  const names = ['s', 'img', 'sp', 'u', 'a'];
  const shapes = Object.fromEntries(names.map((n) => [n, io.get(`input.${n}`)!.shape]));
  const data = (n: string) => io.get(`input.${n}`)!.data as Float32Array;
  const g = traceModel(def);
  const ref = interpret(g, Object.fromEntries(names.map((n) => [n, data(n)])), undefined, { B: 2 });
  const model = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const out = model.run(Object.fromEntries(names.map((n) => [n, { data: data(n), shape: shapes[n]! }])));
  // Batch 1 (the first sample): every output here is per sample, so it is the first half of PyTorch's.
  const first = (n: string) => (n === 'u' ? data(n) : data(n).slice(0, data(n).length / 2));
  const one = model.run(Object.fromEntries(names.map((n) => [n, { data: first(n), shape: n === 'u' ? shapes[n]! : [1, ...shapes[n]!.slice(1)] }])));
  const outs = [...io.keys()].filter((k) => k.startsWith('output.')).map((k) => k.slice(7));
  expect(outs.length).toBe(31);
  for (const name of outs) {
    const want = io.get(`output.${name}`)!.data as Float32Array;
    expectTorch(out[name] as Float32Array, want, `compiled ${name}`);
    expectTorch(ref[name] as Float32Array, want, `reference ${name}`);
    const batched = !['mp_u', 'ap_u'].includes(name);
    expectTorch(one[name] as Float32Array, batched ? want.slice(0, want.length / 2) : want, `compiled, batch 1, ${name}`);
  }
  model.dispose();
});

const BFIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'bicubic');

test('interpolate bicubic and area, and recomputeScaleFactor, match PyTorch over a run-time batch (one model)', async () => {
  const io = readSafetensors(readFileSync(join(BFIX, 'io.safetensors')), 'bicubic/io.safetensors');
  const up = { bc: new nn.Upsample({ size: [9, 13], mode: 'bicubic', alignCorners: true }), area: new nn.Upsample({ size: [3, 4], mode: 'area' }) };
  const B = { B: 3 };
  const def = defineModel({
    name: 'bicubic', module: new nn.Identity(),
    inputs: { img: { shape: ['B', 3, 5, 7], max: B }, sp: { shape: ['B', 1, 3, 4], max: B }, s: { shape: ['B', 3, 11], max: B } },
    forward: (_m: Module, i: Record<string, Tensor>) => {
      const { img, sp, s } = i as Record<string, Tensor>;
      const bc = (o: F.InterpolateOptions, x = img!) => F.interpolate(x, { mode: 'bicubic', ...o }), area = (o: F.InterpolateOptions, x = img!) => F.interpolate(x, { mode: 'area', ...o });
      return {
        bc_size: bc({ size: [9, 13] }), bc_size_ac: up.bc.call(img!), bc_sf2: bc({ scaleFactor: 2 }),
        bc_sf2_ac: bc({ scaleFactor: 2, alignCorners: true }), bc_mixed: bc({ scaleFactor: [1.7, 0.6] }),
        bc_sf_ac: bc({ scaleFactor: [2.3, 1.5], alignCorners: true }), bc_down: bc({ size: [3, 4] }),
        bc_down_ac: bc({ size: [2, 3], alignCorners: true }), bc_half: bc({ scaleFactor: 0.5 }),
        bc_one: bc({ size: [1, 1] }), bc_one_ac: bc({ size: [1, 1], alignCorners: true }), bc_same: bc({ size: [5, 7] }),
        bc_recompute: bc({ scaleFactor: 1.7, recomputeScaleFactor: true }),
        bc_sp: bc({ size: [5, 6] }, sp), bc_sp_same: bc({ size: [3, 4] }, sp),
        bil_recompute: F.interpolate(img!, { scaleFactor: [1.7, 2.3], mode: 'bilinear', recomputeScaleFactor: true }),
        near_recompute: F.interpolate(img!, { scaleFactor: 2.1, recomputeScaleFactor: true }),
        area_size: up.area.call(img!), area_sf: area({ scaleFactor: 0.5 }), area_up: area({ size: [8, 9] }),
        area_div: area({ size: [5, 1] }), area_1d: area({ size: 4 }, s), area_1d_sf: area({ scaleFactor: 0.6 }, s),
      };
    },
  });
  const names = ['img', 'sp', 's'];
  const input = (n: string, batch: number) => {
    const t = io.get(`input.${n}`)!, data = t.data as Float32Array;
    return { data: data.slice(0, (data.length / t.shape[0]!) * batch), shape: [batch, ...t.shape.slice(1)] };
  };
  const ref = interpret(traceModel(def), Object.fromEntries(names.map((n) => [n, input(n, 2).data])), undefined, { B: 2 });
  const model = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const out = model.run(Object.fromEntries(names.map((n) => [n, input(n, 2)])));
  const one = model.run(Object.fromEntries(names.map((n) => [n, input(n, 1)])));
  const outs = [...io.keys()].filter((k) => k.startsWith('output.')).map((k) => k.slice(7));
  expect(outs.length).toBe(23);
  for (const name of outs) {
    const want = io.get(`output.${name}`)!.data as Float32Array;
    expectTorch(out[name] as Float32Array, want, `compiled ${name}`);
    expectTorch(ref[name] as Float32Array, want, `reference ${name}`);
    expectTorch(one[name] as Float32Array, want.slice(0, want.length / 2), `compiled, batch 1, ${name}`);
  }
  // The ±Inf/NaN case must carry them: PyTorch's bicubic has no shortcut at an unchanged size (0·∞ is NaN).
  expect(Array.from(io.get('output.bc_sp_same')!.data as Float32Array).some(Number.isNaN)).toBe(true);
  model.dispose();
});

test('the new layers by hand, and their misuse refused clearly', () => {
  const run = (inputs: Record<string, number[]>, fwd: (i: Record<string, Tensor>) => Tensor, data: Record<string, number[]>) => {
    const g = traceModel(defineModel({ name: 'h', module: new nn.Identity(), inputs, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i) }));
    return Array.from(interpret(g, Object.fromEntries(Object.entries(data).map(([k, v]) => [k, new Float32Array(v)]))).y as Float32Array);
  };
  // GroupNorm: groups [0, 2] and [4, 8] have means 1, 6 and variances 1, 4; weight [2, 3], bias [1, 0].
  const gn = new nn.GroupNorm(2, 2, 0);
  gn.loadStateDict({ weight: { shape: [2], data: [2, 3] }, bias: { shape: [2], data: [1, 0] } });
  expect(run({ x: [1, 2, 2] }, (i) => gn.call(i.x!), { x: [0, 2, 4, 8] })).toEqual([-1, 3, -3, 3]);
  expect(run({ x: [1, 2, 2] }, (i) => F.groupNorm(i.x!, 1, undefined, undefined, 0), { x: [0, 2, 0, 2] })).toEqual([-1, 1, -1, 1]);
  expect(new nn.GroupNorm(2, 4, 1e-5, { affine: false }).namedParameters()).toEqual([]);
  // nearest: src = ⌊dst·in/out⌋ (3 → 5 reads 0, 0, 1, 1, 2), and with a scale factor ⌊dst/2.1⌋ (PyTorch 1.13, contiguous input).
  expect(run({ x: [1, 1, 3] }, (i) => F.interpolate(i.x!, { size: 5 }), { x: [1, 2, 3] })).toEqual([1, 1, 2, 2, 3]);
  expect(run({ x: [1, 1, 5] }, (i) => F.interpolate(i.x!, { scaleFactor: 2.1 }), { x: [0, 1, 2, 3, 4] })).toEqual([0, 0, 0, 1, 1, 2, 2, 3, 3, 4]);
  // linear: alignCorners maps the ends onto the ends; without, src = max(0, (dst + ½)/2 − ½), the last clamped to the last sample.
  expect(run({ x: [1, 1, 2] }, (i) => F.interpolate(i.x!, { size: 5, mode: 'linear', alignCorners: true }), { x: [0, 4] })).toEqual([0, 1, 2, 3, 4]);
  expect(run({ x: [1, 1, 2] }, (i) => F.interpolate(i.x!, { scaleFactor: 2, mode: 'linear' }), { x: [0, 4] })).toEqual([0, 1, 3, 4]);
  expect(run({ x: [1, 1, 2, 2] }, (i) => new nn.Upsample({ size: [3, 3], mode: 'bilinear', alignCorners: true }).call(i.x!), { x: [0, 1, 2, 3] }))
    .toEqual([0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3]);
  // bicubic (A = −0.75): halfway between samples the taps weigh −3/32, 19/32, 19/32, −3/32, so a spike of 16 gives 9.5 beside it and
  // −1.5 one further out (at the border through the clamped, repeated edge); at integer sources the sample itself.
  expect(run({ x: [1, 1, 1, 5] }, (i) => F.interpolate(i.x!, { size: [1, 9], mode: 'bicubic', alignCorners: true }), { x: [0, 0, 16, 0, 0] }))
    .toEqual([0, -1.5, 0, 9.5, 16, 9.5, 0, -1.5, 0]);
  // area: adaptive average pooling, windows [0, 2), [1, 4), [3, 5).
  expect(run({ x: [1, 1, 5] }, (i) => F.interpolate(i.x!, { size: 3, mode: 'area' }), { x: [1, 2, 3, 4, 6] })).toEqual([1.5, 3, 5]);
  // recomputeScaleFactor: the source index uses in/out = 5/10, not 1/2.1 (compare the nearest case above).
  expect(run({ x: [1, 1, 5] }, (i) => F.interpolate(i.x!, { scaleFactor: 2.1, recomputeScaleFactor: true }), { x: [0, 1, 2, 3, 4] })).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  // Pools: padding is −∞ for max; for the mean it counts in the divisor unless countIncludePad is false.
  expect(run({ x: [1, 1, 4] }, (i) => new nn.MaxPool1d(2).call(i.x!), { x: [1, 5, 3, 4] })).toEqual([5, 4]);
  expect(run({ x: [1, 3] }, (i) => F.maxPool1d(i.x!, 2, { padding: 1 }), { x: [-1, -5, 3] })).toEqual([-1, 3]);
  expect(run({ x: [1, 1, 3] }, (i) => new nn.AvgPool1d(2, { padding: 1 }).call(i.x!), { x: [2, 4, 6] })).toEqual([1, 5]);
  expect(run({ x: [1, 1, 3] }, (i) => F.avgPool1d(i.x!, 2, { padding: 1, countIncludePad: false }), { x: [2, 4, 6] })).toEqual([2, 5]);
  expect(run({ x: [2, 6] }, (i) => { const y = new nn.Unflatten(-1, [3, -1]).call(i.x!); expect(y.shape).toEqual([2, 3, 2]); return y.select(1, 2); }, { x: [...Array(12).keys()] }))
    .toEqual([4, 5, 10, 11]);

  const tr = (shape: number[], fwd: (x: Tensor) => Tensor, dtype: 'f32' | 'i32' = 'f32') =>
    traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: { shape, dtype } }, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!) }));
  const trs = (shape: Array<string | number>, max: Record<string, number>, fwd: (x: Tensor) => Tensor) =>
    traceModel(defineModel({ name: 't', module: new nn.Identity(), inputs: { x: { shape, max } }, forward: (_m: Module, i: Record<string, Tensor>) => fwd(i.x!) }));
  // GroupNorm
  expect(() => new nn.GroupNorm(4, 6)).toThrow(/GroupNorm: num_channels 6 must be divisible by num_groups 4/);
  expect(() => new nn.GroupNorm(0, 6)).toThrow(/GroupNorm: num_groups must be a positive integer, got 0/);
  expect(() => new nn.GroupNorm(2, 6, { affine: false } as never)).toThrow(/GroupNorm: eps must be a non-negative number, got \{"affine":false\} \(options go fourth/);
  expect(() => new nn.GroupNorm(2, 6, 1e-5, { affine: 'no' as never })).toThrow(/GroupNorm: option affine must be true or false, got "no"/);
  expect(() => new nn.GroupNorm(2, 6, 1e-5, { eps: 1 } as never)).toThrow(/GroupNorm: unknown option 'eps'/);
  expect(() => tr([2, 4, 5], (x) => new nn.GroupNorm(2, 6).call(x))).toThrow(/GroupNorm: input \[2, 4, 5\] has 4 channels \(dim 1\), num_channels is 6/);
  expect(() => tr([2, 6], (x) => F.groupNorm(x, 4))).toThrow(/group_norm: input \[2, 6\] has 6 channels \(dim 1\), not divisible by num_groups 4/);
  expect(() => tr([6], (x) => F.groupNorm(x, 2))).toThrow(/group_norm: input must be \[N, C, \.\.\.\], got \[6\]/);
  expect(() => tr([2, 6], (x) => F.groupNorm(x, 2, x.mean(0).slice(0, 0, 4)))).toThrow(/group_norm: weight must be f32 \[6\] for input \[2, 6\], got f32 \[4\]/);
  expect(() => tr([2, 6], (x) => F.groupNorm(x, 2, undefined, [1, 2] as never))).toThrow(/group_norm: bias must be a tensor, got an array of 2/);
  expect(() => tr([2, 6], (x) => F.groupNorm(x, 2.5))).toThrow(/group_norm: num_groups must be a positive integer, got 2.5/);
  expect(() => tr([2, 6], (x) => F.groupNorm(x, 2, undefined, undefined, -1))).toThrow(/group_norm: eps must be a non-negative number, got -1/);
  expect(() => tr([2, 6], (x) => F.groupNorm(x, 2), 'i32')).toThrow(/group_norm: input must be f32, got i32\[2, 6\]/);
  expect(() => tr([2, 6], () => F.groupNorm(null as never, 2))).toThrow(/group_norm: input must be a tensor, got null/);
  expect(() => trs(['B', 'C', 9], { B: 2, C: 6 }, (x) => F.groupNorm(x, 2))).toThrow(/group_norm: input \[B, C, 9\] has a number of channels \(dim 1\) chosen at run time; it must be a fixed size/);
  expect(trs(['B', 6, 3], { B: 2 }, (x) => new nn.GroupNorm(3, 6).call(x)).outputs[0]!.node.type.dims).toEqual(['B', 6, 3]);
  // Upsample / interpolate
  expect(() => new nn.Upsample({})).toThrow(/Upsample: either size or scaleFactor must be given/);
  expect(() => new nn.Upsample({ size: 4, scaleFactor: 2 })).toThrow(/Upsample: only one of size and scaleFactor may be given/);
  expect(() => new nn.Upsample({ scaleFactor: 2, mode: 'cubic' as never })).toThrow(/Upsample: mode must be one of 'nearest', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area', 'nearest-exact', got "cubic"/);
  expect(() => new nn.Upsample({ size: 4, recomputeScaleFactor: true })).toThrow(/Upsample: recomputeScaleFactor true is not meaningful with an explicit size/);
  expect(() => new nn.Upsample({ scaleFactor: 2, alignCorners: true })).toThrow(/Upsample: alignCorners can only be set with the interpolating modes 'linear', 'bilinear', 'bicubic' and 'trilinear', not 'nearest'/);
  expect(() => new nn.Upsample({ scaleFactor: 2, mode: 'area', alignCorners: false })).toThrow(/Upsample: alignCorners can only be set with the interpolating modes 'linear', 'bilinear', 'bicubic' and 'trilinear', not 'area'/);
  expect(() => new nn.Upsample({ scaleFactor: 0 })).toThrow(/Upsample: scaleFactor must be a positive finite number or a list of them, got 0/);
  expect(() => new nn.Upsample({ size: [2, 0] })).toThrow(/Upsample: size must be a positive integer or a list of them, got \[2, 0\]/);
  expect(() => new nn.Upsample({ scaleFactor: 2, align_corners: true } as never)).toThrow(/Upsample: unknown option 'align_corners'/);
  expect(() => new nn.Upsample({ scaleFactor: 2, mode: 'linear', alignCorners: 'yes' as never })).toThrow(/Upsample: option alignCorners must be true or false, got "yes"/);
  expect(() => tr([1, 2, 4, 4], (x) => F.interpolate(x, { scaleFactor: 2, mode: 'bilinear', antialias: true }))).toThrow(/interpolate: antialias true is not supported/);
  expect(() => tr([1, 2, 4, 4], (x) => F.interpolate(x, { scaleFactor: 2, mode: 'linear' }))).toThrow(/interpolate: mode 'linear' needs \[N, C, L\] input, got \[1, 2, 4, 4\] \(use 'bilinear' or 'bicubic'\)/);
  expect(() => tr([1, 2, 4], (x) => F.interpolate(x, { scaleFactor: 2, mode: 'bilinear' }))).toThrow(/interpolate: mode 'bilinear' needs \[N, C, H, W\] input, got \[1, 2, 4\] \(use 'linear'\)/);
  expect(() => tr([1, 2, 4], (x) => F.interpolate(x, { scaleFactor: 2, mode: 'bicubic' }))).toThrow(/interpolate: mode 'bicubic' needs \[N, C, H, W\] input, got \[1, 2, 4\] \(use 'linear'\)/);
  expect(() => trs(['B', 2, 'H', 4], { B: 2, H: 9 }, (x) => F.interpolate(x, { size: [3, 3], mode: 'bicubic' }))).toThrow(/interpolate: size 3 over dim 2 of input \[B, 2, H, 4\], the size 'H' chosen at run time, is not supported/);
  expect(() => trs(['B', 2, 4, 'W'], { B: 2, W: 9 }, (x) => F.interpolate(x, { size: [3, 3], mode: 'area' }))).toThrow(/interpolate: mode 'area' over dim 3 of input \[B, 2, 4, W\], the size 'W' chosen at run time, is not supported/);
  expect(() => tr([1, 2, 4, 4], (x) => F.interpolate(x, { scaleFactor: 2, mode: 'bicubic', antialias: true }))).toThrow(/interpolate: antialias true is not supported/);
  expect(() => tr([1, 2, 4, 4], (x) => F.interpolate(x, { scaleFactor: 2, mode: 'bicubic', recomputeScaleFactor: 'yes' as never }))).toThrow(/interpolate: option recomputeScaleFactor must be true or false, got "yes"/);
  expect(() => tr([2, 4], (x) => F.interpolate(x, { scaleFactor: 2 }))).toThrow(/interpolate: expected \[N, C, L\], \[N, C, H, W\] or \[N, C, D, H, W\] input, got \[2, 4\]/);
  expect(() => tr([1, 2, 4, 4], (x) => F.interpolate(x, { size: [8, 8, 8] }))).toThrow(/interpolate: size has 3 values, input \[1, 2, 4, 4\] has 2 spatial dims/);
  expect(() => tr([1, 2, 5], (x) => F.interpolate(x, { scaleFactor: 0.1 }))).toThrow(/interpolate: scaleFactor 0.1 makes an output size of 0 from 5 \(dim 2 of \[1, 2, 5\]\)/);
  expect(() => tr([1, 2, 5], (x) => F.interpolate(x, { size: 9 }), 'i32')).toThrow(/interpolate: input must be f32, got i32\[1, 2, 5\]/);
  expect(() => tr([1, 2, 5], () => F.interpolate(undefined as never, { size: 9 }))).toThrow(/interpolate: input must be a tensor, got undefined/);
  expect(() => tr([1, 2, 5], (x) => F.interpolate(x, undefined as never))).toThrow(/interpolate: either size or scaleFactor must be given/);
  // (An integer scaleFactor over a run-time length works: tests/interpolate-runtime-size.test.ts.)
  expect(() => trs(['B', 2, 'L'], { B: 2, L: 9 }, (x) => F.interpolate(x, { scaleFactor: 1.5 }))).toThrow(/interpolate: scaleFactor 1.5 over dim 2 of input \[B, 2, L\], the size 'L' chosen at run time, is not supported/);
  // 1-D pools
  expect(() => new nn.MaxPool1d(0)).toThrow(/MaxPool1d: kernel_size must be a positive integer, got 0/);
  expect(() => new nn.MaxPool1d(3, { padding: 2 })).toThrow(/MaxPool1d: padding 2 must be at most half the kernel size 3/);
  expect(() => new nn.MaxPool1d(3, { dilation: 0 })).toThrow(/MaxPool1d: dilation must be a positive integer, got 0/);
  expect(() => new nn.MaxPool1d(3, { returnIndices: 0 as never })).toThrow(/MaxPool1d: option returnIndices must be true or false, got 0/);
  expect(() => new nn.AvgPool1d(3, { dilation: 1 } as never)).toThrow(/AvgPool1d: unknown option 'dilation'/);
  expect(() => new nn.AvgPool1d(3, { stride: [0] as never })).toThrow(/AvgPool1d: stride must be a positive integer, got \[0\]/);
  expect(() => new nn.AvgPool1d(3, { countIncludePad: 'no' as never })).toThrow(/AvgPool1d: option countIncludePad must be true or false, got "no"/);
  expect(() => tr([1, 2, 2], (x) => F.maxPool1d(x, 4))).toThrow(/max_pool1d: kernel 4 does not fit input \[1, 2, 2\] with padding 0/);
  expect(() => tr([1, 2, 2, 2], (x) => F.avgPool1d(x, 2))).toThrow(/avg_pool1d: expected \[N, C, L\] or unbatched \[C, L\] input, got \[1, 2, 2, 2\]/);
  expect(() => tr([1, 2, 6], (x) => F.maxPool1d(x, 2), 'i32')).toThrow(/max_pool1d: input must be f32, got i32\[1, 2, 6\]/);
  // Over a run-time length a pool's window must fit the least length (1 unless declared); its output length is a floor (tests/strided-length.test.ts).
  expect(() => trs(['B', 2, 'L'], { B: 2, L: 9 }, (x) => F.maxPool1d(x, 2))).toThrow(/max_pool1d: the window 2 spans 2 cells, so dim 2 of input \[B, 2, L\] must be at least 2 long, but 'L' is chosen at run time and may be as small as 1/);
  expect(trs([2, 'L'], { L: 9 }, (x) => F.avgPool1d(x, 2, { padding: 1 })).outputs[0]!.node.type.dims).toEqual([2, 'floor(L/2)+1']);
  // Unflatten
  expect(() => tr([2, 12], (x) => x.unflatten(1, [3, 5]))).toThrow(/unflatten: sizes \[3, 5\] do not multiply up to the size of dim 1 \(12\) of \[2, 12\]/);
  expect(() => tr([2, 12], (x) => x.unflatten(1, [5, -1]))).toThrow(/unflatten: sizes \[5, -1\] do not multiply up/);
  expect(() => tr([2, 12], (x) => x.unflatten(1, [-1, -1]))).toThrow(/unflatten: only one size may be -1, got \[-1, -1\]/);
  expect(() => tr([2, 12], (x) => x.unflatten(1, [0, 12]))).toThrow(/unflatten: sizes must be a non-empty list of positive integers \(one may be -1\), got \[0, 12\]/);
  expect(() => tr([2, 12], (x) => x.unflatten(2, [3, 4]))).toThrow(/dim 2 is out of range for a tensor of rank 2/);
  expect(() => trs(['B', 12], { B: 4 }, (x) => x.unflatten(0, [2, 2]))).toThrow(/unflatten: dim 0 of \[B, 12\] is the size B chosen at run time; unflatten needs a fixed size/);
  expect(trs(['B', 12], { B: 4 }, (x) => x.unflatten(1, [3, 4])).outputs[0]!.node.type.dims).toEqual(['B', 3, 4]);
  expect(() => new nn.Unflatten('x' as never, [2, 3])).toThrow(/Unflatten: dim must be an integer, got "x"/);
  expect(() => new nn.Unflatten(1, 6 as never)).toThrow(/Unflatten: unflattened_size must be a non-empty list of positive integers \(one may be -1\), got 6/);
});
