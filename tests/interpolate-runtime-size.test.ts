// F.interpolate / nn.Upsample over lengths, heights and widths chosen at run time (an integer
// scaleFactor, PyTorch's scale f32(1/s) whatever the size): ONE artifact per model run at several
// sizes (1 and odd ones included) on 1 and 2 threads and in the reference interpreter, each against
// the same model traced with that size fixed (the fixed-size path matches PyTorch's fixtures in
// resample / nearest-exact / trilinear tests) and interpreted; then what is refused, by name.
import { expect, test } from 'vitest';
import { cat, compileModel, defineModel, F, interpret, Module, ModelDefinitionError, nn, traceModel, type Tensor } from '../compiler/index.ts';
import { evalDim } from '../compiler/ir/dims.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

type Shape = Array<number | string>;
type Fwd = (m: Module, i: Record<string, Tensor>) => Record<string, Tensor>;
const def = (module: Module, inputs: Record<string, { shape: Shape; max?: Record<string, number>; min?: Record<string, number> }>, forward: Fwd) =>
  defineModel({ name: 'interp_rt', module, inputs, forward });

/** Inputs of the given shapes: a wave with an inf and a NaN where there is room (so 0·inf = NaN spreads as in the fixed model). */
function feed(shape: number[], seed: number, special: boolean): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1), a = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.37 + seed) * 4 + Math.cos(i * 0.11) * 0.5);
  if (special && n > 20) { a[Math.floor(n / 3)] = Infinity; a[Math.floor((2 * n) / 3)] = NaN; }
  return a;
}

/**
 * One artifact of `forward` over the named sizes, run at each of `cases` (sizes by name) on 1 and 2
 * threads and in the reference, each output equal (NaN for NaN) to the same forward traced with
 * those sizes fixed and interpreted; with `convs`, the compiled outputs within expectTorch's 1e-5
 * (a compiled convolution sums in its own order) and no inf or NaN in the inputs. Returns the
 * run-time graph's output dims.
 */
async function againstFixed(module: Module, inputs: Record<string, { shape: Shape; max: Record<string, number>; min?: Record<string, number> }>, forward: Fwd, cases: Array<Record<string, number>>, convs = false): Promise<Record<string, unknown>> {
  const d = def(module, inputs, forward), g = traceModel(d);
  const { bytes } = await compileModel(d, { isas: TEST_ISAS });
  const one = await loadModelBytes(bytes), two = await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' });
  for (const [c, sizes] of cases.entries()) {
    const shapes = Object.fromEntries(Object.entries(inputs).map(([k, s]) => [k, s.shape.map((v) => evalDim(v, sizes))]));
    const data = Object.fromEntries(Object.entries(shapes).map(([k, s], j) => [k, feed(s, c * 7 + j, !convs)]));
    const fixed = interpret(traceModel(def(module, Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, { shape: s }])), forward)), data);
    const ref = interpret(g, data, undefined, sizes);
    const feeds = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, { data: v, shape: shapes[k]! }]));
    const out = one.run(feeds), out2 = two.run(feeds);
    const at = JSON.stringify(sizes);
    for (const name of Object.keys(fixed)) {
      const want = Array.from(fixed[name] as Float32Array);
      expect(Array.from(ref[name] as Float32Array), `reference ${name} at ${at}`).toEqual(want);
      if (convs) expectTorch(out[name] as Float32Array, fixed[name] as Float32Array, `compiled ${name} at ${at}`);
      else expect(Array.from(out[name] as Float32Array), `compiled ${name} at ${at}`).toEqual(want);
      expect(Array.from(out2[name] as Float32Array), `2 threads ${name} at ${at}`).toEqual(Array.from(out[name] as Float32Array));
    }
  }
  one.dispose(); two.dispose();
  return Object.fromEntries(g.outputs.map((o) => [o.name, o.node.type.dims]));
}

test('nearest, nearest-exact, bilinear and bicubic by 2 and 3 (bilinear by 1) over a run-time H and W (and a fixed W beside a run-time H) equal the fixed-size model at 1×1, 2×5, 7×3 and 9×9 from one artifact, on 1 and 2 threads', async () => {
  const fwd: Fwd = (_m, { x, z }) => {
    const o: Record<string, Tensor> = {};
    for (const mode of ['nearest-exact', 'bilinear', 'bicubic'] as const) for (const s of [2, 3]) o[`${mode}${s}`] = F.interpolate(x!, { scaleFactor: s, mode });
    o.nearest = F.interpolate(x!, { scaleFactor: [3, 2], mode: 'nearest' });
    o.bilinear1 = F.interpolate(x!, { scaleFactor: 1, mode: 'bilinear' });
    // W fixed at 5: a fractional scale and align corners there (the fixed path), H by 2 at run time.
    o.mixed = F.interpolate(z!, { scaleFactor: [2, 1.5], mode: 'bilinear' });
    o.upsample = new nn.Upsample({ scaleFactor: 2, mode: 'bicubic' }).call(z!);
    return o;
  };
  const dims = await againstFixed(new nn.Identity(), { x: { shape: ['N', 2, 'H', 'W'], max: { N: 2, H: 9, W: 9 } }, z: { shape: ['N', 3, 'H', 5], max: { N: 2, H: 9 } } }, fwd,
    [{ N: 1, H: 1, W: 1 }, { N: 2, H: 2, W: 5 }, { N: 1, H: 7, W: 3 }, { N: 2, H: 9, W: 9 }]);
  expect(dims).toMatchObject({ 'nearest-exact2': ['N', 2, '2*H', '2*W'], bicubic3: ['N', 2, '3*H', '3*W'], bilinear1: ['N', 2, 'H', 'W'], nearest: ['N', 2, '3*H', '2*W'], mixed: ['N', 3, '2*H', 7], upsample: ['N', 3, '2*H', 10] });
});

test('1-D nearest, nearest-exact and linear by 2 and 3 over a run-time length (trilinear over a run-time D and T, linear over the floor(T/2)+1 of a pool) equal the fixed-size model at T = 1, 2, 5 and 13', async () => {
  const fwd: Fwd = (_m, { x, v }) => {
    const o: Record<string, Tensor> = {};
    for (const mode of ['nearest', 'nearest-exact', 'linear'] as const) for (const s of [2, 3]) o[`${mode}${s}`] = F.interpolate(x!, { scaleFactor: s, mode });
    o.trilinear = F.interpolate(v!, { scaleFactor: [2, 3, 2], mode: 'trilinear' });
    // Over a floor dim (a strided pool's ⌊T/2⌋ + 1): its n − 1 counted when the code runs too.
    o.pooled = F.interpolate(F.maxPool1d(x!, 2, { padding: 1 }), { scaleFactor: 3, mode: 'linear' });
    return o;
  };
  const dims = await againstFixed(new nn.Identity(), { x: { shape: ['B', 3, 'T'], max: { B: 2, T: 13 } }, v: { shape: ['B', 2, 'D', 'T', 3], max: { B: 2, D: 4, T: 13 } } }, fwd,
    [{ B: 1, T: 1, D: 1 }, { B: 2, T: 2, D: 3 }, { B: 2, T: 5, D: 1 }, { B: 1, T: 13, D: 4 }]);
  expect(dims).toMatchObject({ linear3: ['B', 3, '3*T'], 'nearest-exact2': ['B', 3, '2*T'], trilinear: ['B', 2, '2*D', '3*T', 6], pooled: ['B', 3, '3*floor(T/2)+3'] });
});

class UNet extends Module {
  enc = new nn.Conv2d(3, 4, 3, { padding: 1 });
  pool = new nn.MaxPool2d(2);
  mid = new nn.Conv2d(4, 8, 3, { padding: 1 });
  up = new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' });
  upNearest = new nn.Upsample({ scaleFactor: 2 });
  dec = new nn.Conv2d(12, 2, 3, { padding: 1 });
  forward(x: Tensor): Tensor { return this.run(x, this.up); }
  run(x: Tensor, up: nn.Upsample): Tensor {
    const skip = F.relu(this.enc.call(x));
    const u = up.call(F.relu(this.mid.call(this.pool.call(skip))));
    return this.dec.call(cat([skip, u], 1));
  }
  /** Over any H × W: the skip cropped to the upsampled 2·⌊H/2⌋ × 2·⌊W/2⌋ (`end` gives the crop from u's dim). */
  cropped(x: Tensor, up: nn.Upsample, end: (d: number | string) => number | string = (d) => d): Tensor {
    const skip = F.relu(this.enc.call(x));
    const u = up.call(F.relu(this.mid.call(this.pool.call(skip))));
    return this.dec.call(cat([skip.slice(2, 0, end(u.dim(2))).slice(3, 0, end(u.dim(3))), u], 1));
  }
}

// The image declared even-sized, [N, 3, 2·K, 2·L] (the runtime reads K and L off its shape, max: { K: 8 }
// bounding K, so the height runs 2, 4, …, 16): pooled by 2 it is K × L, upsampled 2·K × 2·L again, and the skip concatenates.
test('a U-Net-like model (conv, max pool 2, conv, upsample ×2 bilinear or nearest, cat with the skip, conv) over a run-time 2·K × 2·L image equals the fixed-size model at 2×2, 2×6, 6×10 and 16×12', async () => {
  const net = new UNet();
  const fwd: Fwd = (m, { x }) => ({ bilinear: (m as UNet).run(x!, (m as UNet).up), nearest: (m as UNet).run(x!, (m as UNet).upNearest) });
  const dims = await againstFixed(net, { x: { shape: ['N', 3, '2*K', '2*L'], max: { N: 2, K: 8, L: 6 } } }, fwd,
    [{ N: 1, K: 1, L: 1 }, { N: 2, K: 1, L: 3 }, { N: 1, K: 3, L: 5 }, { N: 2, K: 8, L: 6 }], true);
  expect(dims).toEqual({ bilinear: ['N', 2, '2*K', '2*L'], nearest: ['N', 2, '2*K', '2*L'] });
});

// Over any H × W the skip is cropped to the upsampled 2·⌊H/2⌋ × 2·⌊W/2⌋ (PyTorch's skip[..., :2 * (H // 2), :2 * (W // 2)]):
// the slice's shape check knows 2·⌊H/2⌋ ≤ H (ir/symbolic.ts probeStarts), and one row or column more is still refused.
test('a U-Net-like model cropping its skip to 2·⌊H/2⌋ × 2·⌊W/2⌋ over a run-time H × W equals the fixed-size model at 2×3, 5×4, 7×9 and 9×9; a crop one longer is refused', async () => {
  const net = new UNet();
  const fwd: Fwd = (m, { x }) => ({ bilinear: (m as UNet).cropped(x!, (m as UNet).up), nearest: (m as UNet).cropped(x!, (m as UNet).upNearest) });
  const img = { x: { shape: ['N', 3, 'H', 'W'], max: { N: 2, H: 9, W: 9 }, min: { H: 2, W: 2 } } };
  const dims = await againstFixed(net, img, fwd, [{ N: 1, H: 2, W: 3 }, { N: 2, H: 5, W: 4 }, { N: 1, H: 7, W: 9 }, { N: 2, H: 9, W: 9 }], true);
  expect(dims).toEqual({ bilinear: ['N', 2, '2*floor(H/2)', '2*floor(W/2)'], nearest: ['N', 2, '2*floor(H/2)', '2*floor(W/2)'] });
  // 2·⌊H/2⌋ + 1 passes H at every even H: refused at the least one.
  const tooLong = () => traceModel(def(net, img, (m, { x }) => ({ y: (m as UNet).cropped(x!, (m as UNet).up, (d) => `${d}+1`) })));
  expect(tooLong).toThrow(ModelDefinitionError);
  expect(tooLong).toThrow('slice: range 0:3:1 is invalid for axis 2 of [1, 4, 2, 2] — with H=2, N=1, W=2, floor(H/2)=1 (inputs f32[N, 4, H, W]); a symbolic size must work for every value from its declared minimum (H ≥ 2, W ≥ 2, floor(H/2) ≥ 1) to its bound');
});

test('over a run-time size, nearest by an integer is a broadcast and a reshape (no gather); bilinear gathers with its upper taps clamped when the code runs', () => {
  const ops = (fwd: (x: Tensor) => Tensor) => traceModel(def(new nn.Identity(), { x: { shape: ['N', 2, 'H', 'W'], max: { N: 2, H: 64, W: 64 } } }, (_m, i) => ({ y: fwd(i.x!) }))).nodes.map((n) => n.op);
  for (const mode of ['nearest', 'nearest-exact'] as const) for (const s of [2, 3, 5]) expect(ops((x) => F.interpolate(x, { scaleFactor: s, mode })), `${mode} ${s}`).not.toContain('gather');
  // Per axis: tap ⌊src⌋ never passes H − 1, tap ⌊src⌋ + 1 does at the last outputs (one minimum per axis).
  const bil = ops((x) => F.interpolate(x, { scaleFactor: 2, mode: 'bilinear' }));
  expect(bil.filter((o) => o === 'gather')).toHaveLength(4);
  expect(bil.filter((o) => o === 'minimum')).toHaveLength(2);
});

test('over a run-time size, interpolate refuses by name what depends on the size: area, a fixed size, recomputeScaleFactor, alignCorners, a fractional scale, run-time channels', () => {
  const tr = (shape: Shape, max: Record<string, number>, fwd: (x: Tensor) => Tensor) => () => traceModel(def(new nn.Identity(), { x: { shape, max } }, (_m, i) => ({ y: fwd(i.x!) })));
  const img = (fwd: (x: Tensor) => Tensor) => tr(['N', 2, 'H', 'W'], { N: 2, H: 8, W: 8 }, fwd);
  const tail = `is not supported: .*; an integer scaleFactor in mode 'nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic' or 'trilinear' without alignCorners is`;
  const at = (d: number, n: string) => `over dim ${d} of input \\[N, 2, H, W\\], the size '${n}' chosen at run time, ${tail}`;
  expect(img((x) => F.interpolate(x, { scaleFactor: 2, mode: 'area' }))).toThrow(new RegExp(`interpolate: mode 'area' ${at(2, 'H')}`));
  expect(img((x) => F.interpolate(x, { size: [4, 6] }))).toThrow(new RegExp(`interpolate: size 4 ${at(2, 'H')}`));
  expect(img((x) => F.interpolate(x, { scaleFactor: 2, recomputeScaleFactor: true }))).toThrow(new RegExp(`interpolate: recomputeScaleFactor true ${at(2, 'H')}`));
  expect(img((x) => F.interpolate(x, { scaleFactor: 2, mode: 'bilinear', alignCorners: true }))).toThrow(new RegExp(`interpolate: alignCorners true ${at(2, 'H')}`));
  expect(img((x) => F.interpolate(x, { scaleFactor: [2, 1.5], mode: 'bicubic' }))).toThrow(new RegExp(`interpolate: scaleFactor 1.5 ${at(3, 'W')}`));
  expect(img((x) => F.interpolate(x, { scaleFactor: 0.5 }))).toThrow(ModelDefinitionError);
  expect(img((x) => new nn.Upsample({ size: 16, mode: 'nearest' }).call(x))).toThrow(new RegExp(`interpolate: size 16 ${at(2, 'H')}`));
  // A fixed size on a fixed axis is fine beside an H at run time only when H has a scale: size names every axis, so it is refused for H.
  expect(tr(['N', 2, 'H', 4], { N: 2, H: 8 }, (x) => F.interpolate(x, { size: [8, 8] }))).toThrow(/interpolate: size 8 over dim 2 of input \[N, 2, H, 4\], the size 'H' chosen at run time/);
  expect(tr(['N', 'C', 4, 4], { N: 2, C: 3 }, (x) => F.interpolate(x, { scaleFactor: 2 }))).toThrow(/interpolate: input \[N, C, 4, 4\] has its channels \(dim 1\) chosen at run time; they must be a fixed size/);
  // The 1-D modes name the length.
  expect(tr(['B', 3, 'T'], { B: 2, T: 8 }, (x) => F.interpolate(x, { scaleFactor: 2.5, mode: 'linear' }))).toThrow(/interpolate: scaleFactor 2.5 over dim 2 of input \[B, 3, T\], the size 'T' chosen at run time, is not supported: the output size ⌊T·2.5⌋ is no polynomial of the sizes/);
});
