// GroupNorm, Upsample / F.interpolate (nearest, linear, bilinear), MaxPool1d / AvgPool1d and
// Unflatten against PyTorch 1.13 (tests/fixtures/torch-extra/resample, made by make_resample.py),
// compiled (every test ISA) over a batch chosen at run time and in the reference interpreter;
// then hand-computed values and misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { cat, compileModel, defineModel, F, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { compare } from '../compiler/conformance/run.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';

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

function expectTorch(got: Float32Array, want: Float32Array, name: string): void {
  expect(got.length, name).toBe(want.length);
  const special = Array.from(want, (v) => !Number.isFinite(v));
  expect(Array.from(got).filter((_, j) => special[j]), name).toEqual(Array.from(want).filter((_, j) => special[j]));
  const { bad, maxErr } = compare(got.filter((_, j) => !special[j]), want.filter((_, j) => !special[j]), 1e-5, 1e-5);
  expect(bad, `${name}: max err ${maxErr}`).toBe(-1);
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
