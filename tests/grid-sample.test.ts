// F.gridSample, F.affineGrid, meshgrid, rot90 and roll against PyTorch 1.13 (tests/fixtures/torch-
// extra/grid_sample, made by make_grid_sample.py): every mode × padding × alignCorners of grid_sample
// on 4-D input (torch's vectorised kernel: NaN coordinates clip to 0, 'nearest' ties to even) and
// 5-D input (its scalar kernel: NaN clips to the far edge, ties away from zero, taps outside
// skipped), with NaN, ±inf, 1e10 and exact ties in the grid; compiled (every test ISA) and in the
// reference. Then one artifact over batch, image and grid sizes chosen at run time, run at the
// fixture's two sizes; then what is refused, by name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, meshgrid, Module, ModelDefinitionError, nn, readSafetensors, traceModel, type Tensor } from '../compiler/index.ts';
import type { SafeTensor } from '../compiler/weights/safetensors.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const io = readSafetensors(readFileSync(join(import.meta.dirname, 'fixtures', 'torch-extra', 'grid_sample', 'io.safetensors')), 'grid_sample/io.safetensors');
const MODES = ['bilinear', 'nearest', 'bicubic'] as const, PADS = ['zeros', 'border', 'reflection'] as const;

/** Every mode × padding × alignCorners of gridSample(x, g) (and of x3, g3 but bicubic), named as the fixture. */
function samples(x: Tensor, g: Tensor, x3?: Tensor, g3?: Tensor, tag = ''): Record<string, Tensor> {
  const o: Record<string, Tensor> = {};
  for (const mode of MODES) for (const paddingMode of PADS) for (const ac of [false, true]) {
    o[`${tag}${mode}_${paddingMode}_${+ac}`] = F.gridSample(x, g, { mode, paddingMode, alignCorners: ac });
    if (x3 && mode !== 'bicubic') o[`${tag}v_${mode}_${paddingMode}_${+ac}`] = F.gridSample(x3, g3!, { mode, paddingMode, alignCorners: ac });
  }
  return o;
}

/**
 * The fixture's outputs of `forward` against torch: every one in the reference interpreter, and
 * those named in `compiled` compiled too (every test ISA); the composite's ops are the IR's own,
 * so a handful of modes compiled covers the code paths while keeping the compile short.
 */
async function againstTorch(forward: (t: Record<string, Tensor>) => Record<string, Tensor>, compiled: string[]): Promise<number> {
  const shapes = Object.fromEntries([...io.keys()].filter((k) => k.startsWith('input.')).map((k) => [k.slice(6), io.get(k)!.shape as number[]]));
  const feeds = Object.fromEntries([...io.keys()].filter((k) => k.startsWith('input.')).map((k) => [k.slice(6), io.get(k)!.data as Float32Array]));
  const def = (pick?: string[]) => defineModel({
    name: 'grid', module: new nn.Identity(), inputs: shapes,
    forward: (_m: Module, t: Record<string, Tensor>) => { const o = forward(t); return pick ? Object.fromEntries(pick.map((k) => [k, o[k]!])) : o; },
  });
  const ref = interpret(traceModel(def()), feeds);
  for (const [name, got] of Object.entries(ref)) expectTorch(got as Float32Array, io.get(`output.${name}`)!.data as Float32Array, `reference ${name}`);
  const model = await loadModelBytes((await compileModel(def(compiled), { isas: TEST_ISAS })).bytes), out = model.run(feeds);
  for (const name of compiled) expectTorch(out[name] as Float32Array, io.get(`output.${name}`)!.data as Float32Array, `compiled ${name}`);
  model.dispose();
  return Object.keys(ref).length;
}

test('gridSample (4-D and 5-D, every mode, padding and alignCorners; NaN, inf, ties), affineGrid, meshgrid, rot90 and roll match PyTorch', async () => {
  const n = await againstTorch(({ x, g, x3, g3, xs, gs, x1, g1, x31, g31, theta, theta3, a, b, c, r }) => {
    const [mij0, mij1, mij2] = meshgrid(a!, b!, c!, { indexing: 'ij' });
    const [mxy0, mxy1, mxy2] = meshgrid([a!, b!, c!], { indexing: 'xy' });
    return {
      ...samples(x!, g!, x3!, g3!), ...samples(xs!, gs!, undefined, undefined, 'rt_'), ...samples(x1!, g1!, x31!, g31!, 'one_'),
      affine_0: F.affineGrid(theta!, [2, 3, 4, 5], { alignCorners: false }), affine_1: F.affineGrid(theta!, [2, 3, 4, 5], { alignCorners: true }),
      affine_h1: F.affineGrid(theta!, [2, 1, 1, 3]), affine3_0: F.affineGrid(theta3!, [2, 1, 2, 3, 4]),
      affine3_1: F.affineGrid(theta3!, [2, 1, 2, 3, 4], { alignCorners: true }),
      mij0: mij0!, mij1: mij1!, mij2: mij2!, mxy0: mxy0!, mxy1: mxy1!, mxy2: mxy2!,
      rot1: r!.rot90(1, [1, 2]), rot2: r!.rot90(2, [1, 2]), rot3: r!.rot90(3, [-1, 0]), rotm1: r!.rot90(-1, [0, 2]), rot4: r!.rot90(4, [0, 1]),
      roll_flat: r!.roll(5), roll_neg: r!.roll(-7, -1), roll_two: r!.roll([1, -2], [0, 2]), roll_same: r!.roll([1, 2], [1, 1]),
    };
  }, ['bilinear_reflection_0', 'nearest_border_0', 'v_bilinear_zeros_0', 'v_nearest_zeros_0',
    'affine_0', 'affine3_1', 'mxy0', 'mxy1', 'rot1', 'rotm1', 'roll_flat', 'roll_two']);
  expect(n).toBe(30 + 18 + 30 + 5 + 6 + 5 + 4);
});

test('one artifact samples over a batch, an image and a grid size chosen at run time (4-D and 5-D; the fixture at B 2, 4×8 → 4×6, at B 1, 6×5 → 3×2 and at sizes of 1)', async () => {
  const compiled = ['bilinear_zeros_0', 'nearest_reflection_1', 'bicubic_border_0', 'v_bilinear_reflection_1', 'v_nearest_border_0'];
  const def = (pick?: string[]) => defineModel({
    name: 'grid_rt', module: new nn.Identity(),
    inputs: {
      x: { shape: ['B', 'C', 'H', 'W'], max: { B: 2, C: 3, H: 8, W: 8 } }, g: { shape: ['B', 'P', 'Q', 2], max: { P: 6, Q: 6 } },
      x3: { shape: ['A', 2, 'D', 'E', 'F'], max: { A: 2, D: 3, E: 4, F: 5 } }, g3: { shape: ['A', 'R', 'S', 'T', 3], max: { R: 2, S: 3, T: 4 } },
    },
    forward: (_m: Module, { x, g, x3, g3 }: Record<string, Tensor>) => { const o = samples(x!, g!, x3!, g3!); return pick ? Object.fromEntries(pick.map((k) => [k, o[k]!])) : o; },
  });
  const graph = traceModel(def()), model = await loadModelBytes((await compileModel(def(compiled), { isas: TEST_ISAS })).bytes);
  // (The second case has no 5-D input of its own: the first's is fed again and not checked.)
  for (const [names, tag] of [[['x', 'g', 'x3', 'g3'], ''], [['xs', 'gs', 'x3', 'g3'], 'rt_'], [['x1', 'g1', 'x31', 'g31'], 'one_']] as const) {
    const t = names.map((n) => io.get(`input.${n}`)!), [x, g, x3, g3] = t as [SafeTensor, SafeTensor, SafeTensor, SafeTensor];
    const feeds = Object.fromEntries(['x', 'g', 'x3', 'g3'].map((k, i) => [k, { data: t[i]!.data as Float32Array, shape: t[i]!.shape as number[] }]));
    const sizes = { B: x.shape[0]!, C: x.shape[1]!, H: x.shape[2]!, W: x.shape[3]!, P: g.shape[1]!, Q: g.shape[2]!,
      A: x3.shape[0]!, D: x3.shape[2]!, E: x3.shape[3]!, F: x3.shape[4]!, R: g3.shape[1]!, S: g3.shape[2]!, T: g3.shape[3]! };
    const out = model.run(feeds), ref = interpret(graph, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.data])), undefined, sizes);
    for (const mode of MODES) for (const p of PADS) for (const ac of [0, 1]) {
      for (const name of [`${mode}_${p}_${ac}`, ...(mode === 'bicubic' || tag === 'rt_' ? [] : [`v_${mode}_${p}_${ac}`])]) {
        const want = io.get(`output.${tag}${name}`)!.data as Float32Array, at = `${name} at ${JSON.stringify(sizes)}`;
        expectTorch(ref[name] as Float32Array, want, `reference ${at}`);
        if (compiled.includes(name)) expectTorch(out[name] as Float32Array, want, `compiled ${at}`);
      }
    }
  }
  model.dispose();
});

test("meshgrid over a length chosen at run time and a 0-D tensor ('xy': the first two dims swapped), as torch gives", () => {
  const def = defineModel({
    name: 'mesh', module: new nn.Identity(), inputs: { a: { shape: ['L'], max: { L: 5 } }, b: [3] },
    forward: (_m: Module, { a, b }: Record<string, Tensor>) => { const [p, q, r] = meshgrid(a!, b!, b!.sum(), { indexing: 'xy' }); return { p: p!, q: q!, r: r! }; },
  });
  const g = traceModel(def);
  expect(g.outputs.map((o) => o.node.type.dims)).toEqual([[3, 'L', 1], [3, 'L', 1], [3, 'L', 1]]);
  const out = interpret(g, { a: Float32Array.of(1, 2, 3, 4), b: Float32Array.of(10, 20, 30) }, undefined, { L: 4 });
  // torch.meshgrid(tensor([1., 2, 3, 4]), tensor([10., 20, 30]), tensor(60.), indexing='xy'): [3, 4, 1] each.
  expect(Array.from(out.p as Float32Array)).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
  expect(Array.from(out.q as Float32Array)).toEqual([10, 10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30]);
  expect(Array.from(out.r as Float32Array)).toEqual(Array(12).fill(60));
});

test('gridSample, affineGrid, meshgrid and rot90 refuse what torch refuses (or what cannot be done here), by name', () => {
  const trace = (inputs: Record<string, number[]>, f: (t: Record<string, Tensor>) => Tensor | Tensor[]) =>
    traceModel(defineModel({ name: 'bad', module: new nn.Identity(), inputs, forward: (_m: Module, t: Record<string, Tensor>) => { const r = f(t); return Array.isArray(r) ? r[0]! : r; } }));
  const x4 = { x: [1, 2, 3, 4], g: [1, 2, 2, 2] }, x5 = { x: [1, 2, 3, 4, 5], g: [1, 2, 2, 2, 3] };
  const cases: Array<[Record<string, number[]>, (t: Record<string, Tensor>) => Tensor | Tensor[], RegExp]> = [
    [x5, ({ x, g }) => F.gridSample(x!, g!, { mode: 'bicubic' }), /grid_sample: mode 'bicubic' only supports \[N, C, H, W\] input/],
    [x4, ({ x, g }) => F.gridSample(x!, g!, { mode: 'area' as 'nearest' }), /grid_sample: mode must be one of 'bilinear', 'nearest', 'bicubic', got "area"/],
    [x4, ({ x, g }) => F.gridSample(x!, g!, { paddingMode: 'circular' as 'zeros' }), /paddingMode must be one of 'zeros', 'border', 'reflection', got "circular"/],
    [x4, ({ x, g }) => F.gridSample(x!, g!, { align_corners: true } as object), /grid_sample: unknown option 'align_corners'/],
    [{ x: [1, 2, 3, 4], g: [1, 2, 2, 3] }, ({ x, g }) => F.gridSample(x!, g!), /grid_sample: input \[1, 2, 3, 4\] needs a grid of shape \[N, Ho, Wo, 2\], got \[1, 2, 2, 3\]/],
    [{ x: [2, 2, 3, 4], g: [1, 2, 2, 2] }, ({ x, g }) => F.gridSample(x!, g!), /must have the same batch size/],
    [{ x: [2, 3, 4], g: [2, 3, 2] }, ({ x, g }) => F.gridSample(x!, g!), /grid_sample: expected \[N, C, H, W\] or \[N, C, D, H, W\] input, got \[2, 3, 4\]/],
    [x4, ({ x, g }) => F.gridSample(x!.int(), g!), /grid_sample: input must be f32/],
    [{ t: [2, 2, 3] }, ({ t }) => F.affineGrid(t!, [2, 1, 2, 3, 4]), /affine_grid: size \[2, 1, 2, 3, 4\] needs theta of shape \[N, 3, 4\], got \[2, 2, 3\]/],
    [{ t: [2, 2, 3] }, ({ t }) => F.affineGrid(t!, [3, 1, 4, 4]), /affine_grid: size's batch 3 is not theta's \[2, 2, 3\]/],
    [{ t: [2, 2, 3] }, ({ t }) => F.affineGrid(t!, [2, 1, 'H', 4]), /affine_grid: the spatial sizes must be fixed positive integers, got "H"/],
    [{ t: [2, 2, 3] }, ({ t }) => F.affineGrid(t!, [2, 1, 4]), /affine_grid: size must be \[N, C, H, W\] or \[N, C, D, H, W\]/],
    [{ a: [3], b: [2] }, ({ a, b }) => meshgrid(a!, b!.int()), /meshgrid: expects all tensors to have the same dtype, argument 1 is i32/],
    [{ a: [3], b: [2, 2] }, ({ a, b }) => meshgrid(a!, b!), /meshgrid: expects 0-D or 1-D tensors, argument 1 is \[2, 2\]/],
    [{ a: [3] }, ({ a }) => meshgrid(a!, { indexing: 'yx' as 'xy' }), /meshgrid: indexing must be 'ij' or 'xy', got "yx"/],
    [{ a: [3] }, () => meshgrid([]), /meshgrid: expects a non-empty list of tensors/],
    [{ a: [3, 4] }, ({ a }) => a!.rot90(1, [1, -1]), /rot90: expected rotation dims to be different, got dim0 = 1 and dim1 = -1/],
    [{ a: [3, 4] }, ({ a }) => a!.rot90(1, [0, 2]), /rot90: rotation dim1 2 is out of range for \[3, 4\]/],
    [{ a: [3, 4] }, ({ a }) => a!.rot90(1.5), /rot90: k must be an integer, got 1.5/],
    [{ a: [3, 4] }, ({ a }) => a!.rot90(1, [0]), /rot90: expected total rotation dims == 2/],
    [{ a: [3] }, ({ a }) => a!.rot90(), /rot90: expected total dims >= 2, got \[3\]/],
    [{ a: [3, 4] }, ({ a }) => a!.roll([], []), /roll: shifts required/],
    [{ a: [3, 4] }, ({ a }) => a!.roll(1, [0, 0]), /roll: 1 shifts for 2 dims/],
  ];
  for (const [inputs, f, msg] of cases) {
    expect(() => trace(inputs, f), String(msg)).toThrow(ModelDefinitionError);
    expect(() => trace(inputs, f), String(msg)).toThrow(msg);
  }
});
