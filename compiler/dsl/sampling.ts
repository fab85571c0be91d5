// Spatial sampling for vision ports: F.gridSample, F.affineGrid, meshgrid and rot90, as composites
// (floor, where, gather_elements over the flattened spatial dims). torch 1.13's CPU kernels are the
// definition, and its 4-D and 5-D grid_sample are two different kernels that disagree on edge cases:
// - 4-D (aten/src/ATen/native/cpu/GridSamplerKernel.cpp, vectorised): unnormalizes as (g + 1)·(n/2)
//   − 0.5, clips a NaN coordinate to 0 (_mm256_max_ps(in, 0)), reflects by a truncated division,
//   rounds 'nearest' half to even, and multiplies a tap outside the input (a 0) by its weight, so a
//   NaN or ±inf coordinate gives NaN under 'zeros' (bilinear, bicubic).
// - 5-D (GridSampler.cpp/.h, scalar): unnormalizes as ((g + 1)·n − 1)/2, clips a NaN coordinate to
//   n − 1 (std::min/std::max), reflects by fmod and the parity of floor(in/span), rounds 'nearest'
//   half away from zero (std::round), and skips a tap outside the input (NaN coordinates give 0).
// torch's AVX2 build also contracts the 4-D kernel's (g + 1)·(n/2) − 0.5 and its sums of weighed taps
// into FMAs (an f32 emulation with them matched it bit for bit on 20,000 random coordinates, 73%
// without): here each product is rounded, so 4-D values are within about 1e-6 of torch's, and
// 'nearest' can take the other pixel where a coordinate lies within an ulp of a half. The 5-D
// kernel is matched bit for bit.
import { describeValue } from '../ir/print.ts';
import { fmtShape, normAxis } from '../ir/types.ts';
import { isSymbolic, type Dim } from '../ir/dims.ts';
import { asDim, cat, constant, ModelDefinitionError, record, scalarLike, sizeTensor, Tensor, traceBounds, where } from './tensor.ts';
import { checkOptions } from './options.ts';

export type GridSampleMode = 'bilinear' | 'nearest' | 'bicubic';
export type GridSamplePadding = 'zeros' | 'border' | 'reflection';
export interface GridSampleOptions { mode?: GridSampleMode; paddingMode?: GridSamplePadding; alignCorners?: boolean }

/** A size or a quantity derived from it: a number at a fixed size, an f32 [1] tensor at a size chosen at run time. */
type Scalar = number | Tensor;
const f = Math.fround;
const lift = (v: Scalar): Tensor => (typeof v === 'number' ? scalarLike(v, v) : v);
const sub = (a: Scalar, b: Scalar): Scalar => (typeof a === 'number' && typeof b === 'number' ? f(a - b) : lift(a).sub(b));
const mul = (a: Scalar, b: Scalar): Scalar => (typeof a === 'number' && typeof b === 'number' ? f(a * b) : lift(a).mul(b));
const div = (a: Scalar, b: Scalar): Scalar => (typeof a === 'number' && typeof b === 'number' ? f(a / b) : lift(a).div(b));
const sel = (c: Tensor, a: Scalar, b: Scalar): Tensor => record('where', [c, lift(a), lift(b)]);

/** One spatial dim of the input: its size as f32 (`n`) and as i32 (`ni`), numbers where fixed. */
interface Axis { d: Dim; n: Scalar; ni: Scalar }
function axisOf(x: Tensor, a: number): Axis {
  const d = x.dim(a);
  if (!isSymbolic(d)) return { d, n: d, ni: d };
  const ni = sizeTensor(d, { ...traceBounds(), ...x.bounds });
  return { d, n: ni.cast('f32'), ni };
}

const MODES: readonly GridSampleMode[] = ['bilinear', 'nearest', 'bicubic'];
const PADS: readonly GridSamplePadding[] = ['zeros', 'border', 'reflection'];

/**
 * torch.nn.functional.grid_sample(input, grid, mode, padding_mode, align_corners) on [N, C, H, W]
 * input and an [N, Ho, Wo, 2] grid of (x, y) in [−1, 1] (bilinear, nearest, bicubic), or [N, C, D,
 * H, W] and [N, Do, Ho, Wo, 3] of (x, y, z) (bilinear, which is trilinear there, and nearest).
 * alignCorners defaults to false, as torch 1.13's (which warns). Sizes chosen at run time are taken
 * anywhere (batch, input and grid sizes); the channels too.
 */
export function gridSample(input: Tensor, grid: Tensor, opts: GridSampleOptions = {}): Tensor {
  const o = checkOptions('grid_sample', opts, ['mode', 'paddingMode', 'alignCorners']);
  const mode = o.mode ?? 'bilinear', pad = o.paddingMode ?? 'zeros', ac = o.alignCorners ?? false;
  if (!MODES.includes(mode)) throw new ModelDefinitionError(`grid_sample: mode must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, got ${describeValue(mode)}${where()}`);
  if (!PADS.includes(pad)) throw new ModelDefinitionError(`grid_sample: paddingMode must be one of ${PADS.map((m) => `'${m}'`).join(', ')}, got ${describeValue(pad)}${where()}`);
  for (const [name, t] of [['input', input], ['grid', grid]] as const) {
    if (!(t instanceof Tensor)) throw new ModelDefinitionError(`grid_sample: ${name} must be a tensor, got ${describeValue(t)}${where()}`);
    if (t.dtype !== 'f32') throw new ModelDefinitionError(`grid_sample: ${name} must be f32 (torch needs input and grid of one floating dtype), got ${t.dtype}${fmtShape(t.dims)}${where()}`);
  }
  const r = input.rank;
  if (r !== 4 && r !== 5) throw new ModelDefinitionError(`grid_sample: expected [N, C, H, W] or [N, C, D, H, W] input, got ${fmtShape(input.dims)}${where()}`);
  if (grid.rank !== r || grid.dims[r - 1] !== r - 2) throw new ModelDefinitionError(`grid_sample: input ${fmtShape(input.dims)} needs a grid of shape [N, ${r === 4 ? 'Ho, Wo, 2' : 'Do, Ho, Wo, 3'}], got ${fmtShape(grid.dims)}${where()}`);
  if (!sameDim(input.dims[0]!, grid.dims[0]!)) throw new ModelDefinitionError(`grid_sample: input ${fmtShape(input.dims)} and grid ${fmtShape(grid.dims)} must have the same batch size${where()}`);
  if (r === 5 && mode === 'bicubic') throw new ModelDefinitionError(`grid_sample: mode 'bicubic' only supports [N, C, H, W] input (as torch's), got ${fmtShape(input.dims)}${where()}`);
  const axes = Array.from({ length: r - 2 }, (_, i) => axisOf(input, r - 1 - i)); // x (W), y (H), z (D)
  const coords = axes.map((_, i) => grid.select(-1, i)); // [N, ...out]
  const flat = input.flatten(2), N = input.dims[0]!, C = input.dims[1]!;
  const at = (v: Tensor, i: number): Tap => ({ ok: v.gt(-1).logicalAnd(v.lt(axes[i]!.n)), k: v.clamp(0, sub(axes[i]!.n, 1)).cast('i32') });
  // The input at integer coordinates (x, y[, z]) of a common shape [N, ...taps, ...out] (broadcast),
  // as [N, C, ...taps, ...out]; with `zero`, 0 where one is outside the input. One gather for all taps.
  const read = (c: Tap[], zero = true): Tensor => {
    let idx: Tensor | undefined;
    for (let i = c.length - 1; i >= 0; i--) idx = idx ? idx.mul(axes[i]!.ni).add(c[i]!.k) : c[i]!.k;
    const ok = c.map((t) => t.ok).reduce((u, v) => u.logicalAnd(v));
    const dims = broadcastDims([idx!, ok]), at1 = idx!.expand(dims, idx!.bounds).flatten(1);
    const v = record('gather_elements', [flat, at1.unsqueeze(1).expand(N, C, at1.dims[1]!)], { axis: 2 }).reshape(N, C, ...dims.slice(1));
    return zero ? sel(ok.unsqueeze(1), v, 0) : v;
  };
  return r === 4 ? sample2d(axes, coords, mode, pad, ac, at, read) : sample3d(axes, coords, mode, pad, ac, at, read);
}

const sameDim = (a: Dim, b: Dim) => a === b || (typeof a !== 'number' && typeof b !== 'number' && String(a) === String(b));

/** The dims two or more tensors broadcast to (each dim its largest, 1 giving way). */
function broadcastDims(ts: Tensor[]): Dim[] {
  const r = Math.max(...ts.map((t) => t.rank));
  return Array.from({ length: r }, (_, i) => {
    const ds = ts.map((t) => t.dims[i - (r - t.rank)]).filter((d): d is Dim => d !== undefined && d !== 1);
    return ds[0] ?? 1;
  });
}

/** An integer coordinate along one axis: whether it is inside the input, and it clamped into the input as i32. */
interface Tap { ok: Tensor; k: Tensor }
type At = (v: Tensor, axis: number) => Tap;
type Read = (c: Tap[], zero?: boolean) => Tensor;

/**
 * Coordinates [N, ...out] of axis `i` (0 = x) moved by each of `offsets`, on a tap axis of their
 * own among k (z outermost, x innermost, after N): [N, 1…, T, 1…, ...out]. Tap values and weights
 * laid so broadcast into [N, ...taps, ...out], and summed over the tap axes in torch's order.
 */
function taps(v: Tensor, offsets: number[], i: number, k: number): Tensor {
  const rest = v.rank - 1;
  let t = v.unsqueeze(1).add(constant(Float32Array.from(offsets), [offsets.length, ...Array(rest).fill(1)], 'f32', 'tap offsets'));
  for (let j = 0; j < k; j++) if (j !== k - 1 - i) t = t.unsqueeze(1 + j);
  return t;
}
/** Tensors [N, ...out] stacked on the tap axis of axis `i` among k, as taps() lays them. */
function stackTaps(vs: Tensor[], i: number, k: number): Tensor {
  let t = cat(vs.map((v) => v.unsqueeze(1)), 1);
  for (let j = 0; j < k; j++) if (j !== k - 1 - i) t = t.unsqueeze(1 + j);
  return t;
}
/** Σ over the k tap axes after [N, C]: flattened, z outermost and x innermost (torch's order of the taps). */
function sumTaps(t: Tensor, k: number): Tensor {
  // Added one by one (a sum op may add in another order, or in f64).
  const f = k === 1 ? t : t.flatten(2, 1 + k);
  return Array.from({ length: f.maxSize(2) as number }, (_, j) => f.select(2, j)).reduce((a, b) => a.add(b));
}

/** The 4-D vectorised kernel (GridSamplerKernel.cpp's ComputeLocation and ApplyGridSample). */
function sample2d(axes: Axis[], g: Tensor[], mode: GridSampleMode, pad: GridSamplePadding, ac: boolean, at: At, read: Read): Tensor {
  const unnorm = (v: Tensor, a: Axis) => (ac ? v.add(1).mul(div(sub(a.n, 1), 2)) : v.add(1).mul(div(a.n, 2)).sub(0.5));
  // clamp_max(n − 1, clamp_min(0, in)): a NaN becomes 0.
  const clip = (v: Tensor, a: Axis) => { const z = sel(v.gt(0), v, 0); return sel(z.lt(sub(a.n, 1)), z, sub(a.n, 1)); };
  const reflect = (v: Tensor, a: Axis): Tensor => {
    const low = ac ? 0 : -0.5, span2 = ac ? mul(sub(a.n, 1), 2) : mul(a.n, 2);
    const abs = (ac ? v : v.sub(low)).abs(), extra = abs.sub(abs.div(span2).trunc().mul(span2));
    // minimum(extra, 2·span − extra), NaN propagating (Vectorized's minimum).
    const t = lift(span2).sub(extra), m = sel(extra.ne(extra).logicalOr(t.ne(t)), NaN, extra.minimum(t));
    // (torch reflects onto 0 at align_corners with a size of 1; here the span of 0 makes a NaN,
    // which the clip that follows makes 0 as well.)
    return ac ? m : m.add(low);
  };
  const padded = (v: Tensor, a: Axis) => (pad === 'border' ? clip(v, a) : pad === 'reflection' ? clip(reflect(v, a), a) : v);
  if (mode === 'bicubic') {
    const [x, y] = g.map((v, i) => unnorm(v, axes[i]!)) as [Tensor, Tensor];
    const ix = x.floor(), iy = y.floor(), cx = cubic(x.sub(ix)), cy = cubic(y.sub(iy));
    // Each tap's coordinate is padded on its own, then truncated (convert_to_int_of_same_size).
    const tx = at(padded(taps(ix, [-1, 0, 1, 2], 0, 2), axes[0]!).trunc(), 0), ty = at(padded(taps(iy, [-1, 0, 1, 2], 1, 2), axes[1]!).trunc(), 1);
    // Σ_i cy_i · Σ_j cx_j · v_ij, each sum in order.
    const rows = sumTaps(stackTaps(cx, 0, 2).unsqueeze(1).mul(read([tx, ty])).transpose(2, 3), 1); // [N, C, 4, ...out]
    return sumTaps(stackTaps(cy, 0, 1).unsqueeze(1).mul(rows), 1);
  }
  const [x, y] = g.map((v, i) => padded(unnorm(v, axes[i]!), axes[i]!)) as [Tensor, Tensor];
  if (mode === 'nearest') return read([at(x.round(), 0), at(y.round(), 1)]); // half to even (_mm256_round_ps)
  const xw = x.floor(), yn = y.floor(), w = x.sub(xw), e = scalarLike(1, w).sub(w), n = y.sub(yn), s = scalarLike(1, n).sub(n);
  // nw, ne, sw, se: weights s·e, s·w, n·e, n·w; a tap outside reads 0 and is still weighed (0·NaN is NaN).
  const wt = stackTaps([s, n], 1, 2).mul(stackTaps([e, w], 0, 2)).unsqueeze(1);
  return sumTaps(read([at(taps(xw, [0, 1], 0, 2), 0), at(taps(yn, [0, 1], 1, 2), 1)]).mul(wt), 2);
}

/** GridSamplerKernel.cpp's cubic coefficients (A = −0.75) of the taps at −1, 0, 1, 2 from t in [0, 1). */
function cubic(t: Tensor): Tensor[] {
  const A = -0.75;
  const outer = (x: Tensor) => x.mul(A).sub(5 * A).mul(x).add(8 * A).mul(x).sub(4 * A);
  const inner = (x: Tensor) => x.mul(A + 2).sub(A + 3).mul(x).mul(x).add(1);
  const one = scalarLike(1, t), two = scalarLike(2, t);
  return [outer(t.add(1)), inner(t), inner(one.sub(t)), outer(two.sub(t))];
}

/** The 5-D scalar kernel (GridSampler.cpp's grid_sampler_3d_cpu_impl and GridSampler.h). */
function sample3d(axes: Axis[], g: Tensor[], mode: GridSampleMode, pad: GridSamplePadding, ac: boolean, at: At, read: Read): Tensor {
  const unnorm = (v: Tensor, a: Axis) => (ac ? v.add(1).div(2).mul(sub(a.n, 1)) : v.add(1).mul(a.n).sub(1).div(2));
  // std::min(n − 1, std::max(in, 0)): a NaN becomes n − 1.
  const clip = (v: Tensor, a: Axis) => { const z = sel(v.lt(0), 0, v); return sel(z.lt(sub(a.n, 1)), z, sub(a.n, 1)); };
  const reflect = (v: Tensor, a: Axis): Tensor => {
    const min = ac ? 0 : -0.5, span = ac ? sub(a.n, 1) : a.n;
    const i = v.sub(min).abs(), extra = i.fmod(span), flips = i.div(span).floor();
    // flips as a C int: NaN or past 2^31 is INT_MIN, even (and past 2^24 every f32 is even anyway).
    const odd = flips.fmod(2).eq(1);
    // (At align_corners with a size of 1 torch gives 0; here fmod by 0 gives NaN, which the clip
    // that follows makes n − 1 = 0.)
    return sel(odd, lift(span).sub(extra).add(min), extra.add(min));
  };
  const c = g.map((v, i) => {
    const u = unnorm(v, axes[i]!);
    return pad === 'border' ? clip(u, axes[i]!) : pad === 'reflection' ? clip(reflect(u, axes[i]!), axes[i]!) : u;
  });
  if (mode === 'nearest') {
    // std::round: half away from zero (trunc, then a step of the sign where |frac| ≥ 0.5).
    return read(c.map((v, i) => { const t = v.trunc(); return at(t.add(sel(v.sub(t).abs().ge(0.5), v.sign(), 0)), i); }));
  }
  const lo = c.map((v) => v.floor()), k = c.length;
  // Weights (ix_tnw + 1 − ix) and (ix − ix_tnw) per axis, multiplied x·y·z; tnw, tne, tsw, …, bse
  // summed in that order (x fastest), from 0, a tap outside skipped.
  const wt = c.map((v, i) => stackTaps([lo[i]!.add(1).sub(v), v.sub(lo[i]!)], i, k)).reduce((a, b) => a.mul(b)).unsqueeze(1);
  const ok = (t: Tap[]) => t.map((u) => u.ok).reduce((a, b) => a.logicalAnd(b)).unsqueeze(1);
  const t = lo.map((v, i) => at(taps(v, [0, 1], i, k), i));
  return sumTaps(sel(ok(t), read(t, false).mul(wt), 0), k);
}

/**
 * torch.nn.functional.affine_grid(theta, size, align_corners): the [N, H, W, 2] grid of theta
 * [N, 2, 3] applied to the (x, y, 1) of each output pixel for size [N, C, H, W], or [N, D, H, W, 3]
 * from theta [N, 3, 4] for [N, C, D, H, W]. The spatial sizes must be fixed; N may be chosen at run
 * time (theta's). alignCorners defaults to false (torch 1.13 warns).
 */
// (size is typed to take x.size() as it is typed, a number or a shape; a number is refused.)
export function affineGrid(theta: Tensor, size: number | readonly Dim[], opts: { alignCorners?: boolean } = {}): Tensor {
  const o = checkOptions('affine_grid', opts, ['alignCorners']), ac = o.alignCorners ?? false;
  if (Array.isArray(size)) size = size.map(asDim); // F.affine_grid(theta, x.size()) over a run-time batch
  if (!(theta instanceof Tensor) || theta.dtype !== 'f32') throw new ModelDefinitionError(`affine_grid: theta must be an f32 tensor, got ${theta instanceof Tensor ? `${theta.dtype}${fmtShape(theta.dims)}` : describeValue(theta)}${where()}`);
  if (!Array.isArray(size) || (size.length !== 4 && size.length !== 5)) throw new ModelDefinitionError(`affine_grid: size must be [N, C, H, W] or [N, C, D, H, W], got ${describeValue(size)}${where()}`);
  const k = size.length - 2, spatial = size.slice(2);
  if (theta.rank !== 3 || theta.dims[1] !== k || theta.dims[2] !== k + 1) throw new ModelDefinitionError(`affine_grid: size [${size.join(', ')}] needs theta of shape [N, ${k}, ${k + 1}], got ${fmtShape(theta.dims)}${where()}`);
  const bad = spatial.findIndex((d) => !Number.isInteger(d) || (d as number) < 1);
  if (bad >= 0) throw new ModelDefinitionError(`affine_grid: the spatial sizes must be fixed positive integers, got ${describeValue(spatial[bad])} in [${size.join(', ')}]${where()}`);
  const n0 = size[0]!, N = theta.dims[0]!;
  if (typeof n0 === 'number' && typeof N === 'number' ? n0 !== N : typeof n0 !== 'number' && !sameDim(n0, N)) {
    throw new ModelDefinitionError(`affine_grid: size's batch ${describeValue(n0)} is not theta's ${fmtShape(theta.dims)}${where()}`);
  }
  // linspace_from_neg_one: linspace(−1, 1, n), times (n − 1) then divided by n without align_corners; [0] for n = 1.
  const ramp = (n: number): number[] => {
    if (n <= 1) return [0];
    // (torch's linspace kernel: the first half from −1 up, the second from 1 down.)
    const step = f(2 / (n - 1)), half = Math.floor(n / 2);
    return Array.from({ length: n }, (_, i) => (i < half ? f(-1 + f(step * i)) : f(1 - f(step * (n - 1 - i))))).map((v) => (ac ? v : f(f(v * (n - 1)) / n)));
  };
  const dims = spatial as number[], total = dims.reduce((a, b) => a * b, 1);
  // The base grid [P, 1, k + 1]: (x, y[, z], 1) at each output position, x fastest.
  const base = new Float32Array(total * (k + 1)), ramps = dims.map(ramp).reverse(); // x, y, z
  for (let p = 0; p < total; p++) {
    let rest = p;
    for (let i = 0; i < k; i++) { const n = dims[k - 1 - i]!; base[p * (k + 1) + i] = ramps[i]![rest % n]!; rest = Math.floor(rest / n); }
    base[p * (k + 1) + k] = 1;
  }
  const b = constant(base, [total, 1, k + 1], 'f32', 'affine_grid base');
  // Σ base·theta over the last dim, in order: [N, P, k].
  return b.unsqueeze(0).mul(theta.unsqueeze(1)).sum(-1).reshape(N, ...dims, k);
}

/**
 * torch.meshgrid(*tensors, indexing): each 0-D or 1-D tensor broadcast along its own dim of the
 * grid of all their lengths; 'xy' swaps the first two dims. torch 1.13 warns without indexing and
 * takes 'ij', as here.
 */
export function meshgrid(...args: unknown[]): Tensor[] {
  let opts: { indexing?: 'ij' | 'xy' } = {};
  const last = args[args.length - 1];
  if (args.length && !(last instanceof Tensor) && !Array.isArray(last)) opts = checkOptions('meshgrid', args.pop() as typeof opts, ['indexing']);
  const ts = (args.length === 1 && Array.isArray(args[0]) ? args[0] : args) as unknown[];
  const indexing = opts.indexing ?? 'ij';
  if (indexing !== 'ij' && indexing !== 'xy') throw new ModelDefinitionError(`meshgrid: indexing must be 'ij' or 'xy', got ${describeValue(indexing)}${where()}`);
  if (ts.length === 0) throw new ModelDefinitionError(`meshgrid: expects a non-empty list of tensors${where()}`);
  ts.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new ModelDefinitionError(`meshgrid: argument ${i} is not a tensor, got ${describeValue(t)}${where()}`);
    if (t.rank > 1) throw new ModelDefinitionError(`meshgrid: expects 0-D or 1-D tensors, argument ${i} is ${fmtShape(t.dims)}${where()}`);
    if (t.dtype !== (ts[0] as Tensor).dtype) throw new ModelDefinitionError(`meshgrid: expects all tensors to have the same dtype, argument ${i} is ${t.dtype}, argument 0 ${(ts[0] as Tensor).dtype}${where()}`);
  });
  const vs = (ts as Tensor[]).map((t) => t.reshape(-1));
  const swap = indexing === 'xy' && vs.length >= 2;
  if (swap) [vs[0], vs[1]] = [vs[1]!, vs[0]!];
  const shape = vs.map((t) => t.dims[0]!);
  const bounds = Object.assign({}, ...vs.map((t) => t.bounds));
  const grids = vs.map((t, i) => t.reshape(...shape.map((d, j) => (j === i ? d : 1))).expand(shape, bounds));
  if (swap) [grids[0], grids[1]] = [grids[1]!, grids[0]!];
  return grids;
}

/** torch.rot90(x, k, dims): k quarter turns from dims[0] towards dims[1] (flips and a transpose). */
export function rot90(x: Tensor, k = 1, dims: readonly number[] = [0, 1]): Tensor {
  if (!Number.isInteger(k)) throw new ModelDefinitionError(`rot90: k must be an integer, got ${describeValue(k)}${where()}`);
  if (!Array.isArray(dims) || dims.length !== 2 || !dims.every((d) => Number.isInteger(d))) throw new ModelDefinitionError(`rot90: expected total rotation dims == 2, got dims = ${describeValue(dims)}${where()}`);
  if (x.rank < 2) throw new ModelDefinitionError(`rot90: expected total dims >= 2, got ${fmtShape(x.dims)}${where()}`);
  dims.forEach((d, i) => { if (d < -x.rank || d >= x.rank) throw new ModelDefinitionError(`rot90: rotation dim${i} ${d} is out of range for ${fmtShape(x.dims)}${where()}`); });
  const [a, b] = dims.map((d) => normAxis(d, x.rank)) as [number, number];
  if (a === b) throw new ModelDefinitionError(`rot90: expected rotation dims to be different, got dim0 = ${dims[0]} and dim1 = ${dims[1]}${where()}`);
  switch (((k % 4) + 4) % 4) {
    case 1: return x.flip(b).transpose(a, b);
    case 2: return x.flip(a, b);
    case 3: return x.flip(a).transpose(a, b);
    default: return x;
  }
}
