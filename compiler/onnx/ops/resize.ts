// ONNX Resize (opsets 10, 11, 13, 18, 19): 'nearest', 'linear' and 'cubic' along any axes, with
// F.interpolate's pieces (gatherAlong, linearTaps / cubicTaps, weighAlong) and ONNX's source
// coordinates; a symbolic axis by an integer scale with the run-time clamp of F.interpolate's
// (gatherAlongRunTime, weighAlongRunTime). Antialias, tf_crop_and_resize and the options only they
// read are refused by name.

import { canonDim, type Dim } from '../../ir/dims.ts';
import type { Tensor } from '../../dsl/tensor.ts';
import { cubicTaps, gatherAlong, gatherAlongRunTime, linearTaps, readsInPlace, repeatAlong, weighAlong, weighAlongRunTime } from '../../dsl/functional.ts';
import { Ctx } from '../ctx.ts';
import { f32Input, normAxis } from './common.ts';

const TRANSFORMS = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'half_pixel_symmetric', 'tf_crop_and_resize'];
const NEAREST = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/** An optional input as a list of numbers: undefined when absent or empty (ONNX's "not given"). */
function given(c: Ctx, i: number, what: string): number[] | undefined {
  if (!c.has(i)) return undefined;
  const v = Array.from(c.host(i, what).data as ArrayLike<number | bigint>, Number);
  return v.length ? v : undefined;
}

/** ONNX's reference's cubic weights of the taps ⌊x⌋ − 1 … ⌊x⌋ + 2 at ratio t = x − ⌊x⌋, written as it writes them (f64). */
function cubicCoeffs(t: number, A: number): number[] {
  const far = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A, near = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
  return [far(t + 1), near(t), near(1 - t), far(1 - t + 1)];
}

/**
 * Resize as ONNX's reference computes it: per resized axis (scale s, input n, output size m) the
 * source coordinate x of output index d is, by coordinate_transformation_mode, half_pixel
 * (d + ½)/s − ½, pytorch_half_pixel the same (−½ when s·n = 1), align_corners d·(n − 1)/(s·n − 1)
 * (0 when s·n = 1), asymmetric d/s, tf_half_pixel_for_nn (d + ½)/s, half_pixel_symmetric the
 * half_pixel one shifted by n/2·(1 − m/(s·n)); all in f64 as the reference does. 'nearest' reads
 * x itself when it is an integer, else ⌊x⌋ or ⌈x⌉ by nearest_mode; 'linear' weighs ⌊x⌋ and ⌊x⌋ + 1
 * (F.interpolate's taps); 'cubic' weighs ⌊x⌋ − 1 … ⌊x⌋ + 2 by cubic convolution with
 * A = cubic_coeff_a (default −0.75; PyTorch's bicubic is A = −0.75 without exclude_outside), the
 * weights in f64 as the reference computes them, then f32; with exclude_outside 1 the taps outside
 * the input weigh 0 and the rest are scaled to sum to 1. Indices outside the input read its edge.
 * m is ⌊s·n⌋ from scales, or the given size (s = m/n), or with keep_aspect_ratio_policy one s for all axes and m = ⌊s·n + ½⌋.
 * align_corners with scales where s·n ≠ m (and m > 1) is refused: there ONNX's reference and
 * onnxruntime (and PyTorch, whose exporter writes such scales) differ.
 * Opset 10 is asymmetric, and its 'nearest' (unspecified rounding) is taken only for upsampling.
 */
export function resize(c: Ctx): Tensor {
  const v10 = c.opset < 11;
  if (v10) c.only('mode');
  else c.only('mode', 'coordinate_transformation_mode', 'nearest_mode', 'cubic_coeff_a', 'exclude_outside', 'extrapolation_value',
    ...(c.opset >= 18 ? ['antialias', 'axes', 'keep_aspect_ratio_policy'] : []));
  const mode = c.str('mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'cubic') c.unsupported(`mode '${mode}'`);
  if (v10 && mode === 'cubic') c.unsupported(`mode 'cubic' in opset 10 (its modes are nearest and linear)`);
  const ctm = v10 ? 'asymmetric' : c.str('coordinate_transformation_mode', 'half_pixel');
  if (!TRANSFORMS.includes(ctm) || (ctm === 'tf_half_pixel_for_nn' && c.opset >= 18) || (ctm === 'half_pixel_symmetric' && c.opset < 19)) c.unsupported(`coordinate_transformation_mode '${ctm}'`);
  if (ctm === 'tf_crop_and_resize') c.unsupported(`coordinate_transformation_mode 'tf_crop_and_resize'`);
  if (c.int('antialias', 0) !== 0) c.unsupported('antialias');
  const excludeOutside = c.int('exclude_outside', 0), A = c.float('cubic_coeff_a', -0.75);
  if (excludeOutside !== 0 && excludeOutside !== 1) c.unsupported(`exclude_outside ${excludeOutside} (only 0 or 1)`);
  if (excludeOutside === 1 && mode !== 'cubic') c.unsupported(`exclude_outside 1 with mode '${mode}' (only with 'cubic')`);
  if (c.float('extrapolation_value', 0) !== 0) c.unsupported('extrapolation_value');
  const nearestMode = c.str('nearest_mode', 'round_prefer_floor');
  if (mode === 'nearest' && !v10 && !NEAREST.includes(nearestMode)) c.unsupported(`nearest_mode '${nearestMode}'`);

  let x = mode === 'nearest' ? c.t(0, 'X') : f32Input(c, 0, 'X');
  const r = x.rank;
  const axesAttr = c.intList('axes');
  let axes = axesAttr ? axesAttr.map((a) => normAxis(c, a, r, 'axes entry')) : [...Array(r).keys()];
  if (new Set(axes).size !== axes.length) c.unsupported(`axes [${axesAttr}] with a repeated axis`);
  // Sizes may be a size value: PyTorch exports F.interpolate(x, size=…) over a dynamic batch as
  // Resize(x, sizes = Concat(Shape(x)[0:2], [h, w])), whose batch entry is the input's own.
  const scalesIn = given(c, v10 ? 1 : 2, 'scales'), sizesIn: Dim[] | undefined = v10 ? undefined : c.isSizes(3) ? c.dims(3, 'sizes') : given(c, 3, 'sizes');
  if (scalesIn && sizesIn) c.unsupported('both scales and sizes');
  if (!scalesIn && !sizesIn) c.unsupported('neither scales nor sizes');
  const list: Dim[] = (scalesIn ?? sizesIn)!;
  if (list.length !== axes.length) c.unsupported(`${scalesIn ? 'scales' : 'sizes'} of ${list.length} values for ${axes.length} axes`);

  const dims = x.dims;
  const ins = dims.map((d) => (typeof d === 'number' ? d : NaN));
  const scale = ins.map(() => 1), outs = [...ins];
  const policy = c.str('keep_aspect_ratio_policy', 'stretch');
  if (!['stretch', 'not_larger', 'not_smaller'].includes(policy)) c.unsupported(`keep_aspect_ratio_policy '${policy}'`);
  // A symbolic axis keeps its size where scale 1 reads each element in place: in every
  // transformation but tf_half_pixel_for_nn, whose source d + ½ rounds up to d + 1 by 'ceil' and
  // 'round_prefer_ceil' and is interpolated by 'linear' (there it takes the integer scale's path below).
  const inPlace = ctm !== 'tf_half_pixel_for_nn' || (mode === 'nearest' && (nearestMode === 'floor' || nearestMode === 'round_prefer_floor'));
  // (With keep_aspect_ratio_policy, one scale from the other axes would resize it too.)
  const keeps = (a: number, v: Dim) => (scalesIn ? v === 1 : policy === 'stretch' && canonDim(v) === canonDim(dims[a]!));
  const kept = axes.filter((a, i) => Number.isNaN(ins[a]!) && keeps(a, list[i]!) && inPlace);
  // Otherwise a symbolic axis n is resized by an integer scale s to s·n, where every transformation
  // but align_corners takes its source coordinates from the output index alone (half_pixel_symmetric's
  // shift is 0 as m = s·n; pytorch_half_pixel's s·n = 1 is scale 1, kept), and the taps' clamp to
  // n − 1 is taken when the code runs; cubic's exclude_outside weighs taps by n, so is refused.
  const runTime = (v: Dim): string | undefined =>
    sizesIn ? `by sizes, to ${v}` : typeof v !== 'number' || !Number.isInteger(v) || v < 1 ? `by scale ${v}`
      : ctm === 'align_corners' ? `by scale ${v} with coordinate_transformation_mode 'align_corners', whose ratio (n − 1)/(s·n − 1) depends on the size`
      : excludeOutside === 1 ? `by scale ${v} with exclude_outside 1, whose weights depend on the size` : undefined;
  axes.forEach((a, i) => {
    if (kept.includes(a)) return;
    if (Number.isNaN(ins[a]!)) {
      const why = runTime(list[i]!);
      if (why !== undefined) c.unsupported(`resizing axis ${a} of the symbolic size '${dims[a]}' (${why}; a symbolic axis may only keep its size (${sizesIn ? `sizes naming it, with keep_aspect_ratio_policy 'stretch'` : 'scale 1'}${inPlace ? '' : `, and not with coordinate_transformation_mode '${ctm}' ${mode === 'nearest' ? `and nearest_mode '${nearestMode}'` : `in mode '${mode}'`}`}) or grow by an integer scale, not with align_corners or exclude_outside)`);
      scale[a] = list[i] as number;
      return;
    }
    const v = list[i]!;
    if (typeof v !== 'number') c.unsupported(`size ${v} for axis ${a} of size ${ins[a]} (a symbolic size may only name the symbolic axis it keeps)`);
    if (scalesIn) {
      if (!(v > 0 && Number.isFinite(v))) c.unsupported(`scale ${v} (scales must be positive)`);
      scale[a] = v; outs[a] = Math.floor(v * ins[a]!);
    } else {
      if (!Number.isInteger(v) || v < 1) c.unsupported(`size ${v} (sizes must be positive)`);
      scale[a] = v / ins[a]!; outs[a] = v;
    }
  });
  if (sizesIn && policy !== 'stretch') {
    const s = axes.map((a) => scale[a]!), k = policy === 'not_larger' ? Math.min(...s) : Math.max(...s);
    for (const a of axes) { scale[a] = k; outs[a] = Math.floor(k * ins[a]! + 0.5); }
  }
  axes = axes.filter((a) => !kept.includes(a));
  for (const a of axes) if (outs[a]! < 1) c.unsupported(`an output size of 0 (axis ${a}: ${ins[a]} × ${scale[a]})`);
  // ONNX's reference divides by s·n − 1, onnxruntime and PyTorch (whose exporter writes such scales)
  // by m − 1: the same source coordinates only when s·n = m, or when m = 1 (only d = 0, read at 0).
  for (const a of axes) if (ctm === 'align_corners' && outs[a]! > 1 && scale[a]! * ins[a]! !== outs[a]) c.unsupported(`coordinate_transformation_mode 'align_corners' with a scale whose product with the input size is not an integer (axis ${a}: ${ins[a]} × ${scale[a]}; ONNX's reference divides by that product − 1, onnxruntime and PyTorch by the output size − 1)`);
  if (v10 && mode === 'nearest' && axes.some((a) => scale[a]! < 1)) c.unsupported(`'nearest' downsampling in opset 10 (its rounding is unspecified; opset 11 names it)`);

  // The innermost axis first, as F.interpolate does.
  for (const a of [...axes].sort((p, q) => q - p)) {
    const sym = Number.isNaN(ins[a]!), s = scale[a]!;
    // A symbolic axis: n = 2 stands for it in the coordinates (m = w = s·n, see runTime), the output indices taken up to s times its bound.
    const n = sym ? 2 : ins[a]!, m = sym ? 2 * s : outs[a]!, w = s * n, count = sym ? s * x.maxSize(a) : m;
    const src = (d: number): number => {
      switch (ctm) {
        case 'align_corners': return w === 1 ? 0 : (d * (n - 1)) / (w - 1);
        case 'asymmetric': return d / s;
        case 'pytorch_half_pixel': return w === 1 ? -0.5 : (d + 0.5) / s - 0.5;
        case 'tf_half_pixel_for_nn': return (d + 0.5) / s;
        case 'half_pixel_symmetric': return (n / 2) * (1 - m / w) + (d + 0.5) / s - 0.5;
        default: return (d + 0.5) / s - 0.5;
      }
    };
    const xs = Array.from({ length: count }, (_, d) => src(d));
    if (mode === 'nearest') {
      const pick = (v: number): number => {
        const f = Math.floor(v), ratio = v - f;
        if (ratio === 0) return f;
        if (v10 || nearestMode === 'floor') return f;
        if (nearestMode === 'ceil') return f + 1;
        return (nearestMode === 'round_prefer_floor' ? ratio <= 0.5 : ratio < 0.5) ? f : f + 1;
      };
      if (sym) {
        const idx = xs.map((v) => Math.max(pick(v), 0));
        x = idx.every((v, d) => v === Math.floor(d / s)) ? repeatAlong(x, a, s) : gatherAlongRunTime(x, a, idx, s, 'Resize index');
        continue;
      }
      x = gatherAlong(x, a, xs.map((v) => Math.min(Math.max(pick(v), 0), n - 1)));
      continue;
    }
    if (sym) {
      x = weighAlongRunTime(x, a, mode === 'linear' ? linearTaps(xs, Infinity) : cubicTaps(xs, Infinity, (t) => cubicCoeffs(t, A), { integerAsOne: true }), s, 'Resize λ');
      continue;
    }
    const taps = mode === 'linear' ? linearTaps(xs, n) : cubicTaps(xs, n, (t) => cubicCoeffs(t, A), { excludeOutside: excludeOutside === 1, integerAsOne: true });
    // An axis read in place (scale 1, or one element read whole) is left as it is.
    if (readsInPlace(taps, n)) continue;
    x = weighAlong(x, a, taps, 'Resize λ');
  }
  return x;
}
