// Functional forms of the ops (PyTorch's torch.nn.functional), used by the modules.

import { fmtShape } from '../ir/types.ts';
import { addDims, canonDim, divDims, evalDim, mulDims, sizeNames, subDims, windowsOf, type Dim } from '../ir/dims.ts';
import { asDim, asOperand, arange, cat, constant, currentScope, gatherAlong, ints, intScalar, ones, leastSize, leastWhy, ModelDefinitionError, record, recordMulti, scalarLike, sizeTensor, SymSize, Tensor, traceBounds, where, zeros } from './tensor.ts';

export { gatherAlong };
import { describeValue } from '../ir/print.ts';
import { indexError } from '../ir/ops/rules.ts';
import { checkOptions } from './options.ts';

type Pair = number | [number, number];

/** A tensor argument, or an error naming the op and the argument (never a TypeError from inside the op). */
export function tensorArg(op: string, name: string, v: unknown): Tensor {
  if (!(v instanceof Tensor)) throw new ModelDefinitionError(`${op}: ${name} must be a tensor, got ${describeValue(v)}${where()}`);
  return v;
}
/** An f32 tensor argument: the op computes in floats, and PyTorch's kernel for it takes no integers or bools either. */
export function floatArg(op: string, name: string, v: unknown): Tensor {
  const t = tensorArg(op, name, v);
  if (t.dtype !== 'f32') throw new ModelDefinitionError(`${op}: ${name} must be f32, got ${t.dtype}${fmtShape(t.dims)}${where()}`);
  return t;
}
/**
 * An output larger than wasm32 memory, refused before its taps or windows are built in JS (an
 * interpolate to 2^40 was a RangeError, a scaleFactor of 1e9 ran the process out of memory).
 */
function outputFits(op: string, shape: readonly number[]): void {
  const bytes = shape.reduce((a, b) => a * b, 4);
  if (bytes > 2 ** 32) throw new ModelDefinitionError(`${op}: the output ${fmtShape(shape)} needs ${bytes} bytes; wasm32 memory holds 4 GiB${where()}`);
}
/** An int or a pair of ints (PyTorch's `_pair`), each at least `min`, or an error naming the op and option. */
export function pairOf(op: string, option: string, v: unknown, min: number): [number, number] { return tupleOf(op, option, v, min, 2) as [number, number]; }
/** An int or a list of `n` ints (PyTorch's `_pair`, `_triple`), each at least `min`. */
export function tupleOf(op: string, option: string, v: unknown, min: number, n: number): number[] {
  const p = typeof v === 'number' ? new Array<number>(n).fill(v) : v;
  if (!Array.isArray(p) || p.length !== n || !p.every((d) => Number.isInteger(d) && d >= min)) {
    const shown = (d: unknown) => (d instanceof SymSize ? describeValue(d) : String(d));
    const found = typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : Array.isArray(v) ? `[${v.slice(0, 4).map(shown).join(', ')}]` : shown(v);
    throw new ModelDefinitionError(`${op}: ${option} must be ${min > 0 ? 'a positive' : 'a non-negative'} integer or ${n === 2 ? 'a pair' : `a list of ${n}`} of them, got ${found}${where()}`);
  }
  return p as number[];
}

/** y = x · wᵀ + b, with PyTorch's weight layout [out, in]. */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  x = tensorArg('linear', 'input', x); w = tensorArg('linear', 'weight', w);
  if (b !== undefined) b = tensorArg('linear', 'bias', b);
  if (x.maxSize(-1) !== w.maxSize(1)) {
    // x.shape is at the bounds: name a feature count chosen at run time (a flatten over a run-time length) as such.
    const f = x.dim(-1);
    if (typeof f !== 'number') throw new ModelDefinitionError(`linear: input ${fmtShape(x.dims)} has '${f}' features, a count chosen at run time (${x.maxSize(-1)} at the bounds), but weight ${fmtShape(w.maxShape)} expects a fixed ${w.maxSize(1)}; pool the length away (a mean or max over it) or give it a fixed size${where()}`);
    throw new ModelDefinitionError(`linear: input ${fmtShape(x.maxShape)} has ${x.maxSize(-1)} features but weight ${fmtShape(w.maxShape)} expects ${w.maxSize(1)}${where()}`);
  }
  const y = x.matmul(w.mT);
  return b ? y.add(b) : y;
}

/** A 2-D op on PyTorch's unbatched [C, H, W] input as on a batch of one. */
function unbatched2d(x: Tensor, f: (x: Tensor) => Tensor): Tensor { return x.rank === 3 ? f(x.unsqueeze(0)).squeeze(0) : f(x); }

/** A convolution runs over fixed channels and lengths: only a batched input's dim 0 may be a size chosen at run time (conv3d, the transposed convolutions). */
export function fixedConvDims(op: string, x: Tensor, batchedRank: number): void {
  const from = x.rank === batchedRank ? 1 : 0;
  if (x.dims.slice(from).some((d) => typeof d !== 'number')) {
    throw new ModelDefinitionError(`${op}: input ${fmtShape(x.dims)} has a size chosen at run time ${from ? 'outside the batch dim (0)' : '(an unbatched input)'}; a convolution's channels and ${op.includes('3d') ? 'depth, height and width' : op.includes('1d') ? 'length' : 'height and width'} must be fixed sizes${where()}`);
  }
}
/** conv1d's and conv2d's channels are fixed sizes; the batch and the spatial dims may be chosen at run time (see windowsDim). */
export function fixedConvChannels(op: string, x: Tensor, batchedRank: number): void {
  const c = x.rank === batchedRank ? 1 : 0;
  if (typeof x.dims[c] !== 'number') {
    throw new ModelDefinitionError(`${op}: input ${fmtShape(x.dims)} has its channels (dim ${c}) chosen at run time; a convolution's channels must be a fixed size${where()}`);
  }
}

/**
 * The output length of a window of `extent` cells moved by `stride` over a length `n` padded by
 * [before, after] (floor rule), or an error naming the op and the input. Over a length chosen at
 * run time it is a dim with a floor when the stride does not divide the length's run-time part
 * (ir/dims.ts windowsOf: ⌊(T − 2)/2⌋ + 1 is 'floor(T/2)'); and since every size runs from its least
 * value (1 unless the input declares a min) to its bound, the window must fit the length there
 * (checked here at compile time: a length the kernel does not fit at run time can then never be passed).
 */
export function windowsDim(op: string, x: Tensor, axis: number, before: number, after: number, extent: number, stride: number, what: string): Dim {
  const n = x.dims[axis]!;
  if (typeof n === 'number') return windows(n, before, after, extent, stride, false);
  const span = addDims(n, before + after - extent);
  if (leastSize(span) < 0) {
    throw new ModelDefinitionError(`${op}: the ${what} spans ${extent} cells, so dim ${axis} of input ${fmtShape(x.dims)}${before + after ? ` (padded ${before}/${after})` : ''} must be at least ${extent - before - after} long, but '${n}' is chosen at run time and may be as small as ${leastSize(n)} (${leastWhy(n)}); pad the input, declare a larger minimum (min: { ${sizeNames(n).map((k) => `${k}: …`).join(', ')} } beside max) or use a fixed length${where()}`);
  }
  return windowsOf(n, before, after, extent, stride);
}

/** x with `before` zeros (or `value`s) ahead of it and `after` behind along `axis` (a negative amount crops); the batch may be a run-time size. */
export function padZeros(x: Tensor, axis: number, before: number, after: number, value = 0): Tensor {
  const block = (n: number) => {
    const z = zeros(x.dims.map((d, j) => (j === axis ? n : d)), traceBounds()), v = value === 0 ? z : z.add(value);
    return x.dtype === 'f32' ? v : v.cast(x.dtype);
  };
  // Pads first, then crops: RWKV's token shift (1, −1) of a length-1 dim is one zero, and cropping
  // first left nothing to pad (refused). A negative end counts from the actual end (of a run-time length too).
  const y = before > 0 || after > 0 ? cat([...(before > 0 ? [block(before)] : []), x, ...(after > 0 ? [block(after)] : [])], axis) : x;
  return before < 0 || after < 0 ? y.slice(axis, Math.max(0, -before), after < 0 ? after : undefined) : y;
}

/** torch.nn.functional.pad's modes (ONNX Pad's edge is replicate, its wrap circular). */
export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';
export const PAD_MODES: readonly string[] = ['constant', 'reflect', 'replicate', 'circular'] satisfies PadMode[];

/**
 * One axis of a pad, b cells before and e after (a negative count crops, first): blocks of
 * `value` (constant), or each new cell a copy of a source cell: reflect mirrors about the edge cell (not
 * repeating it), replicate repeats the edge cell, circular wraps around. Torch's F.pad and ONNX's
 * Pad both come here.
 */
export function padAxis(x: Tensor, axis: number, b: number, e: number, mode: PadMode, value = 0): Tensor {
  if (mode === 'constant' || (b <= 0 && e <= 0)) return padZeros(x, axis, b, e, value);
  if (b < 0 || e < 0) return padAxis(padZeros(x, axis, Math.min(b, 0), Math.min(e, 0)), axis, Math.max(b, 0), Math.max(e, 0), mode);
  if (typeof x.dims[axis] !== 'number') return padRunTime(x, axis, b, e, mode);
  const m = x.maxSize(axis), period = 2 * (m - 1);
  const src = (k: number): number => {
    if (mode === 'replicate') return Math.min(Math.max(k, 0), m - 1);
    if (mode === 'circular' || m === 1) return ((k % m) + m) % m;
    const r = ((k % period) + period) % period;
    return r < m ? r : period - r;
  };
  return gatherAlong(x, axis, Array.from({ length: m + b + e }, (_, k) => src(k - b)));
}

/**
 * padAxis along a length chosen at run time, as slices counted from its actual ends (the caller has
 * checked that the shortest length holds the pad: below it for reflect, up to it for circular).
 */
function padRunTime(x: Tensor, axis: number, b: number, e: number, mode: Exclude<PadMode, 'constant'>): Tensor {
  const cell = (i: number) => x.slice(axis, i, i === -1 ? undefined : i + 1); // i < 0 counts from the actual end
  const cells = (is: number[]) => is.map(cell);
  const range = (n: number, f: (k: number) => number) => Array.from({ length: n }, (_, k) => f(k));
  const [before, after] = mode === 'replicate' ? [range(b, () => 0), range(e, () => -1)]
    : mode === 'reflect' ? [range(b, (k) => b - k), range(e, (k) => -2 - k)]
      : [range(b, (k) => k - b), range(e, (k) => k)];
  // circular: the last b cells, then the first e (one slice each side).
  const parts = mode === 'circular' ? [...(b ? [x.slice(axis, -b)] : []), x, ...(e ? [x.slice(axis, 0, e)] : [])] : [...cells(before), x, ...cells(after)];
  return cat(parts, axis);
}

/**
 * The pad (b, e) of dim `axis` as PyTorch checks it: reflect below the dim's size, circular and
 * replicate at most it (and not negative), never leaving it empty. A size chosen at run time is
 * checked at its least value (its declared min, else 1).
 */
export function checkPadAxis(op: string, x: Tensor, axis: number, b: number, e: number, mode: PadMode): void {
  const n = x.dims[axis]!, least = leastSize(n);
  const size = typeof n === 'number' ? `size ${n}` : `run-time size '${n}' (as small as ${least}: ${leastWhy(n)})`;
  const most = mode === 'reflect' ? least - 1 : mode === 'circular' ? least : Infinity;
  if (mode !== 'constant' && (b < 0 || e < 0 || b > most || e > most)) throw new ModelDefinitionError(`${op}: mode ${mode} pads dim ${axis} of ${size} by 0 to ${most} cells a side, got (${b}, ${e})${where()}`);
  if (least + b + e < 1) throw new ModelDefinitionError(`${op}: (${b}, ${e}) leaves dim ${axis} of ${size} empty${where()}`);
}

/**
 * torch.nn.functional.pad: `pad` holds (before, after) pairs from the last dim backwards; constant
 * pads may be negative (they crop); reflect needs each pad below its dim's size, circular at most
 * its size, as PyTorch checks them. The padded dims must be fixed sizes.
 */
export function pad(x: Tensor, pad: readonly number[], mode: PadMode = 'constant', value?: number): Tensor {
  x = tensorArg('pad', 'input', x);
  if (!Array.isArray(pad) || pad.length % 2 || pad.length > 2 * x.rank || !pad.every((v) => Number.isInteger(v))) throw new ModelDefinitionError(`pad: pad must be a list of integer pairs (before, after), at most one pair per dim of the input ${fmtShape(x.dims)}, got ${Array.isArray(pad) ? `[${pad.slice(0, 8).map(describeValue).join(', ')}]` : describeValue(pad)}${where()}`);
  if (typeof mode !== 'string' || !PAD_MODES.includes(mode)) throw new ModelDefinitionError(`pad: mode must be one of ${PAD_MODES.join(', ')}, got ${describeValue(mode)}${where()}`);
  if (value !== undefined && (typeof value !== 'number' || (mode !== 'constant' && value !== 0))) throw new ModelDefinitionError(`pad: value is a number, for mode constant only; got ${describeValue(value)} with mode ${mode}${where()}`);
  let y = x;
  for (let i = 0; 2 * i < pad.length; i++) {
    const axis = x.rank - 1 - i, b = pad[2 * i]!, e = pad[2 * i + 1]!, n = x.dims[axis]!;
    if (!b && !e) continue;
    checkPadAxis('pad', x, axis, b, e, mode);
    y = padAxis(y, axis, b, e, mode, value);
  }
  return y;
}

export interface Conv2dOptions { stride?: Pair; padding?: Pair | 'valid' | 'same'; dilation?: Pair; groups?: number }
export function conv2d(x: Tensor, w: Tensor, b?: Tensor, o: Conv2dOptions = {}): Tensor {
  x = tensorArg('conv2d', 'input', x); w = tensorArg('conv2d', 'weight', w);
  if (b !== undefined) b = tensorArg('conv2d', 'bias', b);
  checkOptions('conv2d', o, ['stride', 'padding', 'dilation', 'groups']);
  fixedConvChannels('conv2d', x, 4);
  const stride = pairOf('conv2d', 'stride', o.stride ?? 1, 1), dilation = pairOf('conv2d', 'dilation', o.dilation ?? 1, 1);
  let padding: [number, number], after = [0, 0];
  if (o.padding === 'valid') padding = [0, 0];
  else if (o.padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) throw new ModelDefinitionError(`conv2d: padding 'same' needs stride 1, got stride ${stride.join(',')}${where()}`);
    const total = [0, 1].map((i) => dilation[i]! * (w.maxSize(2 + i) - 1));
    // PyTorch pads ⌊total/2⌋ before and the rest after: an odd total takes one more zero after (a concatenated block).
    padding = [Math.floor(total[0]! / 2), Math.floor(total[1]! / 2)];
    after = total.map((t) => t % 2);
  } else padding = pairOf('conv2d', 'padding', o.padding ?? 0, 0);
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ModelDefinitionError(`conv2d: groups must be a positive integer, got ${describeValue(groups)}${where()}`);
  // A height or width chosen at run time: its output length (a floor at a stride that does not divide, ir/dims.ts windowsOf) must be at least 1 at its least size.
  if (w.rank === 4 && x.rank >= 3) for (const i of [0, 1]) windowsDim('conv2d', x, x.rank - 2 + i, padding[i]!, padding[i]! + after[i]!, dilation[i]! * (w.maxSize(2 + i) - 1) + 1, stride[i]!, `kernel ${w.maxSize(2)}×${w.maxSize(3)}${dilation.some((v) => v > 1) ? ` (dilation ${dilation.join(',')})` : ''}`);
  const padAfter = (x: Tensor) => after.reduce((y, e, i) => padZeros(y, 2 + i, 0, e), x);
  return unbatched2d(x, (x) => record('conv2d', b ? [padAfter(x), w, b] : [padAfter(x), w], { stride, padding, dilation, groups, act: 'none' }));
}

export interface ConvTranspose2dOptions { stride?: Pair; padding?: Pair; outputPadding?: Pair; dilation?: Pair; groups?: number }
/**
 * torch.nn.functional.conv_transpose2d on [N, Cin, H, W] (or unbatched [Cin, H, W]), weight
 * [Cin, Cout/groups, kh, kw]: as a stride-1 conv2d over the input with stride − 1 zeros between
 * its pixels, padded by dilation·(k − 1) − padding (output_padding more after), with the
 * kernel flipped and its in/out channels swapped (folded at compile time for constant weights).
 * The zeros cost stride² of the work of a direct kernel; the sums run in another order than
 * torch's col2im, within rounding.
 */
export function convTranspose2d(x: Tensor, w: Tensor, b?: Tensor, o: ConvTranspose2dOptions = {}): Tensor {
  checkOptions('conv_transpose2d', o, ['stride', 'padding', 'outputPadding', 'dilation', 'groups']);
  x = floatArg('conv_transpose2d', 'input', x); w = floatArg('conv_transpose2d', 'weight', w);
  if (b !== undefined && b !== null) b = floatArg('conv_transpose2d', 'bias', b);
  if (x.rank !== 3 && x.rank !== 4) throw new ModelDefinitionError(`conv_transpose2d: expected [N, C, H, W] or unbatched [C, H, W] input, got ${fmtShape(x.dims)}${where()}`);
  fixedConvChannels('conv_transpose2d', x, 4);
  if (w.rank !== 4 || w.dims.some((d) => typeof d !== 'number')) throw new ModelDefinitionError(`conv_transpose2d: weight must be [in, out/groups, kh, kw], got ${fmtShape(w.dims)}${where()}`);
  const stride = pairOf('conv_transpose2d', 'stride', o.stride ?? 1, 1), padding = pairOf('conv_transpose2d', 'padding', o.padding ?? 0, 0);
  const outPad = pairOf('conv_transpose2d', 'output_padding', o.outputPadding ?? 0, 0), dilation = pairOf('conv_transpose2d', 'dilation', o.dilation ?? 1, 1);
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ModelDefinitionError(`conv_transpose2d: groups must be a positive integer, got ${describeValue(groups)}${where()}`);
  const [cin, coutG, kh, kw] = w.maxShape as [number, number, number, number], C = x.maxSize(-3);
  if (C !== cin || cin % groups) throw new ModelDefinitionError(`conv_transpose2d: input ${fmtShape(x.dims)} has ${C} channels, weight ${fmtShape(w.dims)} takes ${cin}${cin % groups ? ` (not divisible by groups ${groups})` : ''}${where()}`);
  if (b && (b.rank !== 1 || b.maxSize(0) !== coutG * groups)) throw new ModelDefinitionError(`conv_transpose2d: bias must be [${coutG * groups}], got ${fmtShape(b.dims)}${where()}`);
  for (const i of [0, 1]) {
    if (outPad[i]! >= Math.max(stride[i]!, dilation[i]!)) throw new ModelDefinitionError(`conv_transpose2d: output_padding ${outPad.join(',')} must be smaller than stride or dilation (${stride.join(',')} / ${dilation.join(',')})${where()}`);
  }
  return unbatched2d(x, (x) => {
    // A height or width chosen at run time is checked at its least size (its declared min, else 1).
    const least = [2, 3].map((a) => leastSize(x.dims[a]!)), k = [kh, kw];
    const out = [0, 1].map((i) => (least[i]! - 1) * stride[i]! - 2 * padding[i]! + dilation[i]! * (k[i]! - 1) + outPad[i]! + 1);
    const runTime = x.dims.slice(2).some((d) => typeof d !== 'number') ? ` at its least run-time size ${least.join('×')}` : '';
    if (out.some((n) => n < 1)) throw new ModelDefinitionError(`conv_transpose2d: the output of input ${fmtShape(x.dims)} would be ${out.join('×')}${runTime}${where()}`);
    // stride − 1 zeros after each pixel along H and W, then the trailing ones cut: [(H−1)·s + 1, (W−1)·s + 1].
    let z = spreadAlong(spreadAlong(x, 2, stride[0]!), 3, stride[1]!);
    // Each side pads dilation·(k − 1) − padding (output_padding more after); a negative amount crops.
    for (const i of [0, 1]) {
      const before = dilation[i]! * (k[i]! - 1) - padding[i]!;
      z = padZeros(z, 2 + i, before, before + outPad[i]!);
    }
    // The kernel flipped in both spatial dims, and [Cin, Cout/g] per group swapped to [Cout, Cin/g].
    const flipped = w.flip(2, 3);
    const wc = flipped.reshape(groups, cin / groups, coutG, kh, kw).permute(0, 2, 1, 3, 4).reshape(groups * coutG, cin / groups, kh, kw);
    return record('conv2d', b ? [z, wc, b] : [z, wc], { stride: [1, 1], padding: [0, 0], dilation, groups, act: 'none' });
  });
}

/** `t` spread `s` apart along `axis`: entry r at r·s, zeros between ((n − 1)·s + 1 entries; a transposed conv's input, col2im's blocks). */
export function spreadAlong(t: Tensor, axis: number, s: number): Tensor {
  if (s === 1) return t;
  const n = t.dim(axis), gaps = padZeros(t.unsqueeze(axis + 1), axis + 1, 0, s - 1); // [..., n, s, ...]
  return gaps.reshape(...t.dims.map((d, j) => (j === axis ? mulDims(n, s) : d))).slice(axis, 0, 1 - s);
}

/** torch.nn.functional.conv_transpose1d on [N, C, L] or unbatched [C, L]: conv_transpose2d over a height of 1. */
export interface ConvTranspose1dOptions { stride?: number; padding?: number; outputPadding?: number; dilation?: number; groups?: number }
export function convTranspose1d(x: Tensor, w: Tensor, b?: Tensor, o: ConvTranspose1dOptions = {}): Tensor {
  checkOptions('conv_transpose1d', o, ['stride', 'padding', 'outputPadding', 'dilation', 'groups']);
  x = floatArg('conv_transpose1d', 'input', x); w = floatArg('conv_transpose1d', 'weight', w);
  if (x.rank !== 2 && x.rank !== 3) throw new ModelDefinitionError(`conv_transpose1d: expected [N, C, L] or unbatched [C, L] input, got ${fmtShape(x.dims)}${where()}`);
  if (w.rank !== 3) throw new ModelDefinitionError(`conv_transpose1d: weight must be [in, out/groups, k], got ${fmtShape(w.dims)}${where()}`);
  const one = (name: string, v: number | undefined, min: number, dflt: number) => [min === 1 ? 1 : 0, single('conv_transpose1d', name, v ?? dflt, min)] as [number, number];
  const y = convTranspose2d(x.unsqueeze(-2), w.unsqueeze(2), b, {
    stride: one('stride', o.stride, 1, 1), padding: one('padding', o.padding, 0, 0), outputPadding: one('output_padding', o.outputPadding, 0, 0),
    dilation: one('dilation', o.dilation, 1, 1), ...(o.groups !== undefined ? { groups: o.groups } : {}),
  });
  return y.squeeze(-2);
}

export interface Conv1dOptions { stride?: number; padding?: number | 'valid' | 'same'; dilation?: number; groups?: number }
/** torch.nn.functional.conv1d on [N, C, L] (or unbatched [C, L]), weight [out, in/groups, k]: a conv2d over a height of 1. */
export function conv1d(x: Tensor, w: Tensor, b?: Tensor, o: Conv1dOptions = {}): Tensor {
  checkOptions('conv1d', o, ['stride', 'padding', 'dilation', 'groups']);
  x = floatArg('conv1d', 'input', x); w = floatArg('conv1d', 'weight', w);
  if (b !== undefined && b !== null) b = floatArg('conv1d', 'bias', b);
  if (x.rank !== 2 && x.rank !== 3) throw new ModelDefinitionError(`conv1d: expected [N, C, L] or unbatched [C, L] input, got ${fmtShape(x.dims)}${where()}`);
  if (w.rank !== 3) throw new ModelDefinitionError(`conv1d: weight must be [out, in/groups, k], got ${fmtShape(w.dims)}${where()}`);
  fixedConvChannels('conv1d', x, 3);
  if (o.padding !== undefined && o.padding !== null && o.padding !== 'same' && o.padding !== 'valid' && !(Number.isInteger(o.padding) && (o.padding as number) >= 0)) {
    throw new ModelDefinitionError(`conv1d: padding must be a non-negative integer, 'same' or 'valid', got ${describeValue(o.padding)}${where()}`);
  }
  const stride = single('conv1d', 'stride', o.stride ?? 1, 1), dilation = single('conv1d', 'dilation', o.dilation ?? 1, 1), groups = single('conv1d', 'groups', o.groups ?? 1, 1);
  // The checks conv2d makes, in conv1d's terms (its shapes carry a height of 1 that the caller never wrote); C is fixed, L may be chosen at run time.
  const [C, L] = x.dims.slice(-2) as [Dim, Dim], [co, ci, k] = w.dims as [Dim, Dim, Dim];
  if (typeof co === 'number' && typeof C === 'number' && (C % groups || co % groups)) throw new ModelDefinitionError(`conv1d: groups ${groups} must divide the input channels ${C} and output channels ${co}${where()}`);
  if (typeof ci === 'number' && typeof C === 'number' && ci * groups !== C) throw new ModelDefinitionError(`conv1d: input ${fmtShape(x.dims)} has ${C} channels but weight ${fmtShape(w.dims)} expects ${ci * groups}${groups > 1 ? ` (${ci} per group × ${groups} groups)` : ''}${where()}`);
  if (b && (b.rank !== 1 || b.dims[0] !== co)) throw new ModelDefinitionError(`conv1d: bias must be [${String(co)}], got ${fmtShape(b.dims)}${where()}`);
  const pad = o.padding === 'valid' ? 0 : o.padding === 'same' ? undefined : (o.padding ?? 0);
  if (typeof k === 'number') {
    const extent = dilation * (k - 1);
    if (pad === undefined && stride !== 1) throw new ModelDefinitionError(`conv1d: padding 'same' needs stride 1, got stride ${stride}${where()}`);
    if (pad !== undefined && typeof L !== 'number') windowsDim('conv1d', x, x.rank - 1, pad, pad, extent + 1, stride, `kernel ${k}${dilation > 1 ? ` (dilation ${dilation})` : ''}`);
    if (pad !== undefined && typeof L === 'number' && L + 2 * pad < extent + 1) {
      throw new ModelDefinitionError(`conv1d: kernel ${k}${dilation > 1 ? ` (dilation ${dilation})` : ''} does not fit input ${fmtShape(x.dims)} with padding ${pad}${where()}`);
    }
  }
  const padding = pad === undefined ? 'same' : [0, pad] as [number, number];
  const x4 = x.rank === 3 ? x.unsqueeze(2) : x.unsqueeze(1);
  const y = conv2d(x4, w.unsqueeze(2), b ?? undefined, { stride: [1, stride], padding, dilation: [1, dilation], groups });
  return y.squeeze(x.rank === 3 ? 2 : 1);
}

/** PyTorch's adaptive pooling windows along one dim: output i covers [⌊i·n/out⌋, ⌈(i+1)·n/out⌉). */
function adaptive1d(x: Tensor, axis: number, out: number, pool: (t: Tensor, axis: number) => Tensor): Tensor {
  const n = x.maxSize(axis);
  if (out === n) return x;
  return cat(Array.from({ length: out }, (_, i) => pool(x.slice(axis, Math.floor((i * n) / out), Math.ceil(((i + 1) * n) / out)), axis)), axis);
}
/** A run-time size along `axis` takes an adaptive output size of 1 or null (kept) only. */
function adaptiveFitsRunTime(op: string, x: Tensor, axis: number, o: number | null): void {
  const d = x.dims[axis]!;
  if (typeof d !== 'number' && o !== null && o !== 1) throw new ModelDefinitionError(`${op}: output size ${o} over dim ${axis} of input ${fmtShape(x.dims)}, a size chosen at run time ('${d}'): its windows would move with that size; a run-time size takes output size 1 (pooled whole) or null (kept)${where()}`);
}
/**
 * An adaptive pool over spatial dims some of which are chosen at run time. Such a dim takes output
 * size 1 (pooled whole: a global pool, the usual head of a CNN over variable lengths or images) or
 * null (kept); any other size's windows would move with the run-time size, and are refused. The
 * mean pools every whole dim in one mean (PyTorch's global average pool is one), then the fixed
 * dims take their windows as usual (a box's mean is the mean of its rows' means).
 */
function adaptiveOverRunTime(op: string, x: Tensor, spec: ReadonlyArray<number | null>, kind: 'mean' | 'max'): Tensor {
  const first = x.rank - spec.length;
  spec.forEach((o, i) => adaptiveFitsRunTime(op, x, first + i, o));
  outputFits(op, x.maxShape.map((n, a) => (a < first ? n : spec[a - first] ?? n)));
  const whole = spec.flatMap((o, i) => (o === 1 && x.dims[first + i] !== 1 ? [first + i] : []));
  const y = kind === 'mean' ? (whole.length ? x.mean(whole, true) : x) : whole.reduce((t, a) => t.max(a, true), x);
  const pool = (t: Tensor, axis: number) => (kind === 'mean' ? t.mean(axis, true) : t.max(axis, true));
  return spec.reduce<Tensor>((t, o, i) => (o === null || o === 1 ? t : adaptive1d(t, first + i, o, pool)), y);
}
/** The output size of an adaptive pool over `rank` dims (2 or 3): an int, a pair (a triple), null keeping the input's size. */
export function adaptiveOutput(op: string, v: unknown, rank = 2): Array<number | null> {
  const p: unknown[] = Array.isArray(v) ? v : Array(rank).fill(v);
  // null alone is refused as torch refuses None: null keeps one dim's size, within a pair.
  const ok = (Array.isArray(v) || v !== null) && p.length === rank && p.every((d) => d === null || (Number.isInteger(d) && (d as number) >= 1));
  const found = Array.isArray(v) && v.length <= 4 ? `[${v.map(describeValue).join(', ')}]` : describeValue(v);
  const tuple = rank === 2 ? 'pair' : 'triple';
  if (!ok) throw new ModelDefinitionError(`${op}: output_size must be a positive integer, a ${tuple} of them, or null in a ${tuple}, got ${found}${where()}`);
  return p as Array<number | null>;
}
function adaptiveSize(op: string, v: unknown, x: Tensor, rank = 2): number[] {
  return adaptiveOutput(op, v, rank).map((d, i) => d ?? x.maxSize(i - rank));
}
function adaptive2d(op: string, x: Tensor, outputSize: unknown, kind: 'mean' | 'max'): Tensor {
  x = floatArg(op, 'input', x);
  if (x.rank !== 3 && x.rank !== 4) throw new ModelDefinitionError(`${op}: expected [N, C, H, W] or unbatched [C, H, W] input, got ${fmtShape(x.maxShape)}${where()}`);
  if (x.dims.slice(-2).some((d) => typeof d !== 'number')) return adaptiveOverRunTime(op, x, adaptiveOutput(op, outputSize), kind);
  const [oh, ow] = adaptiveSize(op, outputSize, x), [h, w] = [x.maxSize(-2), x.maxSize(-1)];
  outputFits(op, [...x.maxShape.slice(0, -2), oh, ow]);
  // PyTorch's adaptive_avg_pool2d to 1×1 is input.mean((-1, -2), keepdim=True), an accurate
  // (blocked) mean, not its pooling kernel's running f32 sum: a global average pool over 512×512
  // values near 100 summed in order is 2e-3 off.
  if (kind === 'mean' && oh === 1 && ow === 1) return x.mean([-2, -1], true);
  // Windows of one size (the output divides the input) are a plain pool, and pool sums in PyTorch's order.
  if (h % oh === 0 && w % ow === 0 && kind === 'mean') return avgPool2d(x, [h / oh, w / ow]);
  if (h % oh === 0 && w % ow === 0) return maxPool2d(x, [h / oh, w / ow]);
  // Otherwise each window is a rectangle of rows × columns: pool the rows, then the columns
  // (exact for max; for the mean, a mean of row means, which rounds differently from one sum).
  const pool = (t: Tensor, axis: number) => (kind === 'mean' ? t.mean(axis, true) : t.max(axis, true));
  return adaptive1d(adaptive1d(x, x.rank - 2, oh, pool), x.rank - 1, ow, pool);
}
/**
 * torch's adaptive 3-D pools on [N, C, D, H, W] or unbatched [C, D, H, W]: to 1×1×1 the mean; else
 * each window a box of planes × rows × columns, pooled one axis at a time (exact for max; for the
 * mean, a mean of means, which rounds differently from PyTorch's one running sum).
 */
function adaptive3d(op: string, x: Tensor, outputSize: unknown, kind: 'mean' | 'max'): Tensor {
  x = floatArg(op, 'input', x);
  if (x.rank !== 4 && x.rank !== 5) throw new ModelDefinitionError(`${op}: expected [N, C, D, H, W] or unbatched [C, D, H, W] input, got ${fmtShape(x.maxShape)}${where()}`);
  if (x.dims.slice(-3).some((d) => typeof d !== 'number')) return adaptiveOverRunTime(op, x, adaptiveOutput(op, outputSize, 3), kind);
  const out = adaptiveSize(op, outputSize, x, 3);
  outputFits(op, [...x.maxShape.slice(0, -3), ...out]);
  if (kind === 'mean' && out.every((n) => n === 1)) return x.mean([-3, -2, -1], true);
  const pool = (t: Tensor, axis: number) => (kind === 'mean' ? t.mean(axis, true) : t.max(axis, true));
  return out.reduce((y, n, i) => adaptive1d(y, x.rank - 3 + i, n, pool), x);
}
/** torch.nn.functional.adaptive_avg_pool3d. */
export const adaptiveAvgPool3d = (x: Tensor, outputSize: number | Array<number | null>): Tensor => adaptive3d('adaptive_avg_pool3d', x, outputSize, 'mean');
/** torch.nn.functional.adaptive_max_pool3d (values only). */
export const adaptiveMaxPool3d = (x: Tensor, outputSize: number | Array<number | null>): Tensor => adaptive3d('adaptive_max_pool3d', x, outputSize, 'max');
/** torch.nn.functional.adaptive_avg_pool2d. */
export const adaptiveAvgPool2d = (x: Tensor, outputSize: number | [number | null, number | null]): Tensor => adaptive2d('adaptive_avg_pool2d', x, outputSize, 'mean');
/** torch.nn.functional.adaptive_max_pool2d (values only). */
export const adaptiveMaxPool2d = (x: Tensor, outputSize: number | [number | null, number | null]): Tensor => adaptive2d('adaptive_max_pool2d', x, outputSize, 'max');

/** torch's adaptive 1-D pools: the 2-D ones over a height of 1 ([N, C, L] or unbatched [C, L]), as PyTorch computes them. */
function adaptive1d2d(op: string, x: Tensor, outputSize: unknown, kind: 'mean' | 'max'): Tensor {
  x = floatArg(op, 'input', x);
  if (x.rank !== 2 && x.rank !== 3) throw new ModelDefinitionError(`${op}: expected [N, C, L] or unbatched [C, L] input, got ${fmtShape(x.dims)}${where()}`);
  const n = Array.isArray(outputSize) && outputSize.length === 1 ? outputSize[0] : outputSize;
  if (!(Number.isInteger(n) && (n as number) >= 1)) throw new ModelDefinitionError(`${op}: output_size must be a positive integer, got ${describeValue(outputSize)}${where()}`);
  adaptiveFitsRunTime(op, x, x.rank - 1, n as number); // (named on the caller's [N, C, L], not the 2-D view)
  return adaptive2d(op, x.unsqueeze(-2), [1, n as number], kind).squeeze(-2);
}
/** torch.nn.functional.adaptive_avg_pool1d. */
export const adaptiveAvgPool1d = (x: Tensor, outputSize: number): Tensor => adaptive1d2d('adaptive_avg_pool1d', x, outputSize, 'mean');
/** torch.nn.functional.adaptive_max_pool1d (values only). */
export const adaptiveMaxPool1d = (x: Tensor, outputSize: number): Tensor => adaptive1d2d('adaptive_max_pool1d', x, outputSize, 'max');

/** The output length of a window of `extent` cells moved by `stride` over n cells padded by [before, after] (PyTorch's floor/ceil rule). */
export function windows(n: number, before: number, after: number, extent: number, stride: number, ceil: boolean): number {
  const span = n + before + after - extent;
  if (span < 0) return 0;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // In ceil mode the last window must start inside the input or its leading padding.
  if (ceil && (out - 1) * stride >= n + before) out--;
  return out;
}

/** The output sizes of a pool over x's last k.length axes (the rest but the batch dim fixed), refused when a window does not fit. */
function poolOuts(op: string, x: Tensor, k: number[], s: number[], d: number[], pads: Array<[number, number]>, ceil: boolean): number[] {
  if (x.dims.slice(1).some((v) => typeof v !== 'number')) throw new ModelDefinitionError(`${op}: input ${fmtShape(x.dims)} has a size chosen at run time outside the batch dim (0); a pool's channels and spatial sizes must be fixed${where()}`);
  const outs = x.maxShape.slice(-k.length).map((n, i) => windows(n, pads[i]![0], pads[i]![1], (k[i]! - 1) * d[i]! + 1, s[i]!, ceil));
  if (outs.some((n) => n < 1)) throw new ModelDefinitionError(`${op}: kernel ${k.join('×')}${d.some((v) => v > 1) ? ` (dilation ${d.join(',')})` : ''} does not fit input ${fmtShape(x.dims)} with padding ${pads.map((p) => p.join('/')).join(',')} (output ${outs.join('×')})${where()}`);
  return outs;
}

/**
 * Max pooling with indices (torch's max_pool*d(return_indices=True), ONNX MaxPool's Indices):
 * [values, i32 indices] over x's last k.length axes (1 to 3), the IR's maxpool_indices: PyTorch's
 * CPU loop, so ties keep the first maximum in scan order and NaN the last NaN (torch 1.13 does
 * both), and an all −∞ window points at its first cell inside the input. An index is the cell's
 * position in its plane of the input, Σᵢ posᵢ·planeStrides[i] (row-major by default: h·W + w).
 * An op of its own (one scalar loop, no padded copies): a composition of selects over the
 * window's cells was as exact and about as fast, but ~10 nodes per cell. The pools without
 * indices keep their SIMD kernels (several times faster: they track no index).
 */
export function maxPoolWithIndices(op: string, x: Tensor, k: number[], s: number[], d: number[], pads: Array<[number, number]>,
  ceil: boolean, planeStrides?: number[]): [Tensor, Tensor] {
  x = floatArg(op, 'input', x);
  const sizes = x.maxShape.slice(-k.length), outs = poolOuts(op, x, k, s, d, pads, ceil);
  const P = planeStrides ?? sizes.map((_, i) => sizes.slice(i + 1).reduce((a, b) => a * b, 1));
  const [v, i] = recordMulti('maxpool_indices', [x], { kernel: k, stride: s, dilation: d, padding: pads.map(([b]) => b), outs, planeStrides: P });
  return [v!, i!];
}

/**
 * Pooling over the spatial axes (2, 3, …) of any number, window by window along one axis at a
 * time (max of maxes, sum of sums: the same windows as one N-d pass, with k₁+k₂+… strided slices
 * instead of k₁·k₂·…). `pads` are [before, after] per axis; ceil mode adds the cells a last
 * window needs after the input. The average divides the sum once, by `divisor` or by the count
 * of the cells in its window that count: the input, and with `countIncludePad` the declared
 * padding (not ceil mode's extra), PyTorch's and ONNX's rule. The count is a product over axes,
 * a constant. Max pads with −∞.
 */
export function poolNd(op: string, x: Tensor, kind: 'max' | 'avg', k: number[], s: number[], d: number[], pads: Array<[number, number]>,
  o: { ceil: boolean; countIncludePad: boolean; divisor?: number }): Tensor {
  const r = k.length, sizes = x.maxShape.slice(-r), outs = poolOuts(op, x, k, s, d, pads, o.ceil);
  let y = x;
  const counts: number[][] = [];
  sizes.forEach((n, i) => {
    const axis = x.rank - r + i, [pb, pe] = pads[i]!, out = outs[i]!;
    const need = (out - 1) * s[i]! + (k[i]! - 1) * d[i]! + 1;
    const t = padZeros(y, axis, pb, Math.max(pe, need - n - pb), kind === 'max' ? -Infinity : 0);
    let acc: Tensor | undefined;
    for (let j = 0; j < k[i]!; j++) {
      const v = t.slice(axis, j * d[i]!, j * d[i]! + (out - 1) * s[i]! + 1, s[i]!);
      acc = acc === undefined ? v : kind === 'max' ? acc.maximum(v) : acc.add(v);
    }
    y = acc!;
    // Cells of window q along this axis that count: inside the input, or inside the declared padding with countIncludePad.
    counts.push(Array.from({ length: out }, (_, q) => {
      let c = 0;
      for (let j = 0; j < k[i]!; j++) { const at = q * s[i]! + j * d[i]!; if ((at >= pb && at < pb + n) || (o.countIncludePad && at < pb + n + pe)) c++; }
      return c;
    }));
  });
  if (kind === 'max') return y;
  if (o.divisor !== undefined) return y.div(o.divisor);
  const count = new Float32Array(outs.reduce((a, b) => a * b, 1));
  for (let f = 0; f < count.length; f++) {
    let c = 1, rest = f;
    for (let i = r - 1; i >= 0; i--) { c *= counts[i]![rest % outs[i]!]!; rest = Math.floor(rest / outs[i]!); }
    count[f] = c;
  }
  return y.div(constant(count, outs, 'f32', 'pool-count'));
}

/** torch.nn.functional.max_pool2d / avg_pool2d options (PyTorch's names in camelCase). */
export interface MaxPool2dOptions { stride?: Pair | null; padding?: Pair; dilation?: Pair; ceilMode?: boolean; returnIndices?: boolean }
export interface Pool2dOptions { stride?: Pair | null; padding?: Pair; ceilMode?: boolean; countIncludePad?: boolean; divisorOverride?: number | null }
export const MAX_POOL2D_OPTIONS = ['stride', 'padding', 'dilation', 'ceilMode', 'returnIndices'] as const;
export const AVG_POOL2D_OPTIONS = ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'] as const;

/** A pool's options in PyTorch's names (the options each pool takes are checked by checkOptions). */
export interface PoolWindowOptions { stride?: unknown; padding?: unknown; dilation?: unknown; ceilMode?: unknown; returnIndices?: unknown; countIncludePad?: unknown; divisorOverride?: unknown }
/**
 * A pool's window over `rank` spatial dims as PyTorch checks it: kernel, stride (the kernel's by
 * default), padding (at most half the kernel), dilation, ceil mode and the average's divisor (a
 * non-zero integer). The 1-D, 2-D and 3-D pools all check theirs here.
 */
export function poolWindow(op: string, kernel: unknown, o: PoolWindowOptions, rank: number):
  { k: number[]; s: number[]; p: number[]; d: number[]; ceil: boolean; countIncludePad: boolean; divisor?: number; indices: boolean } {
  const k = tupleOf(op, 'kernel_size', kernel, 1, rank);
  const s = o.stride === undefined || o.stride === null ? k : tupleOf(op, 'stride', o.stride, 1, rank);
  const p = tupleOf(op, 'padding', o.padding ?? 0, 0, rank), d = tupleOf(op, 'dilation', o.dilation ?? 1, 1, rank);
  if (p.some((v, i) => 2 * v > k[i]!)) throw new ModelDefinitionError(`${op}: padding ${p.join(',')} must be at most half the kernel size ${k.join(',')}${where()}`);
  const dv = o.divisorOverride ?? undefined;
  if (dv !== undefined && (typeof dv !== 'number' || !Number.isInteger(dv) || dv === 0)) throw new ModelDefinitionError(`${op}: divisorOverride must be a non-zero integer, got ${describeValue(dv)}${where()}`);
  return { k, s, p, d, ceil: o.ceilMode === true, countIncludePad: o.countIncludePad !== false, divisor: dv, indices: o.returnIndices === true };
}

/**
 * A 2-D pool: the pool kernels for PyTorch's defaults (floored windows, no dilation, the count as
 * divisor); poolNd's separable slices (the 3-D pools' and ONNX's definition) for ceil mode,
 * dilation or divisorOverride.
 */
function pool2d(op: 'max_pool2d' | 'avg_pool2d', x: Tensor, kernel: Pair, o: MaxPool2dOptions & Pool2dOptions): Tensor | [Tensor, Tensor] {
  const max = op === 'max_pool2d';
  x = tensorArg(op, 'input', x);
  checkOptions(op, o, max ? MAX_POOL2D_OPTIONS : AVG_POOL2D_OPTIONS);
  let w = poolWindow(op, kernel, o, 2);
  const runTime = x.rank >= 3 ? [0, 1].filter((i) => typeof x.dims[x.rank - 2 + i] !== 'number') : [];
  if (runTime.length) {
    // Over a height or width chosen at run time only the pool kernels run (floored windows, laid
    // out when the code runs): ceil mode is floor mode where it changes no window count (stride 1
    // along a run-time axis, as pool1d's rule); dilation, divisorOverride, indices and a ceil that
    // counts take poolNd's windows, which are laid out at fixed sizes (it said only that a pool's
    // spatial sizes must be fixed, which the kernels do not need).
    const ceilCounts = w.ceil && [0, 1].some((i) => (runTime.includes(i) ? w.s[i] !== 1
      : windows(x.maxShape[x.rank - 2 + i]!, w.p[i]!, w.p[i]!, w.k[i]!, w.s[i]!, true) !== windows(x.maxShape[x.rank - 2 + i]!, w.p[i]!, w.p[i]!, w.k[i]!, w.s[i]!, false)));
    // A max pool's ceil mode (VGG's, SqueezeNet's, GoogLeNet's MaxPool2d(…, ceil_mode=True)) is
    // floor mode over the input with s − 1 more cells of −∞ after it: ⌊(a + s − 1)/s⌋ = ⌈a/s⌉
    // windows, each the max of the same cells. PyTorch drops a last window that would start in the
    // right padding, which s ≤ k − p rules out (its start is at most n + 2p − k + s − 1 < n + p).
    const ceilMax = ceilCounts && max && !w.indices && w.d.every((v) => v === 1) && w.s.every((v, i) => v <= w.k[i]! - w.p[i]!);
    const why = w.indices ? 'returnIndices' : w.d.some((v) => v !== 1) ? `dilation ${w.d.join(',')}` : w.divisor !== undefined ? `divisorOverride ${w.divisor}`
      : ceilCounts && !ceilMax ? `ceilMode with stride ${w.s.join(',')}${max ? ` (beyond kernel − padding ${w.k.map((v, i) => v - w.p[i]!).join(',')})` : ''}` : undefined;
    const sizes = runTime.map((i) => `'${String(x.dims[x.rank - 2 + i])}'`).join(' and ');
    if (why) throw new ModelDefinitionError(`${op}: ${why} over input ${fmtShape(x.dims)}, whose ${runTime.length > 1 ? 'height and width are' : runTime[0] ? 'width is' : 'height is'} chosen at run time (${sizes}), is not supported: over a run-time size a pool takes floor mode (ceil mode at stride 1, and a max pool's at a stride up to kernel − padding) without dilation, divisorOverride or indices; fixed sizes take them all${where()}`);
    if (ceilMax) x = pad(floatArg(op, 'input', x), [0, w.s[1]! - 1, 0, w.s[0]! - 1], 'constant', -Infinity);
    w = { ...w, ceil: false };
  }
  if (w.indices) return maxPoolIndexed(op, x, w);
  if (w.ceil || w.d.some((v) => v !== 1) || w.divisor !== undefined) {
    return unbatched2d(floatArg(op, 'input', x), (x) => poolNd(op, x, max ? 'max' : 'avg', w.k, w.s, w.d, w.p.map((v) => [v, v] as [number, number]), w));
  }
  // A height or width chosen at run time: its output length (a floor at a stride that does not divide, ir/dims.ts windowsOf) must be at least 1 at its least size.
  if (x.rank >= 3) for (const i of [0, 1]) windowsDim(op, x, x.rank - 2 + i, w.p[i]!, w.p[i]!, w.k[i]!, w.s[i]!, `window ${w.k.join('×')}`);
  return unbatched2d(x, (x) => record(max ? 'maxpool2d' : 'avgpool2d', [x], { kernel: w.k, stride: w.s, padding: w.p, ...(max ? {} : { countIncludePad: w.countIncludePad }) }));
}
/**
 * A max pool's [values, indices] on [N, C, …] or unbatched [C, …] (maxPoolWithIndices), for the
 * window poolWindow checked: what max_pool1d/2d/3d with returnIndices give.
 */
export function maxPoolIndexed(op: string, x: Tensor, w: ReturnType<typeof poolWindow>): [Tensor, Tensor] {
  x = floatArg(op, 'input', x);
  const r = w.k.length;
  if (x.rank !== r + 1 && x.rank !== r + 2) throw new ModelDefinitionError(`${op}: expected [N, C, ${['L', 'H, W', 'D, H, W'][r - 1]}] or unbatched [C, ${['L', 'H, W', 'D, H, W'][r - 1]}] input, got ${fmtShape(x.dims)}${where()}`);
  const one = x.rank === r + 1;
  const [v, i] = maxPoolWithIndices(op, one ? x.unsqueeze(0) : x, w.k, w.s, w.d, w.p.map((v) => [v, v] as [number, number]), w.ceil);
  return one ? [v.squeeze(0), i.squeeze(0)] : [v, i];
}
/**
 * torch.nn.functional.max_pool2d on [N, C, H, W] or unbatched [C, H, W] (stride defaults to the
 * kernel; padding pads with −∞). With returnIndices, [values, indices]: i32 (torch's int64), each
 * the flat position h·W + w of its maximum in its (N, C) plane of the input.
 */
export function maxPool2d(x: Tensor, kernel: Pair, o: MaxPool2dOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool2d(x: Tensor, kernel: Pair, o?: MaxPool2dOptions): Tensor;
export function maxPool2d(x: Tensor, kernel: Pair, o: MaxPool2dOptions = {}): Tensor | [Tensor, Tensor] {
  return pool2d('max_pool2d', x, kernel, o);
}
/** torch.nn.functional.avg_pool2d; countIncludePad (default true) counts the padding in the divisor, divisorOverride replaces it. */
export function avgPool2d(x: Tensor, kernel: Pair, o: Pool2dOptions = {}): Tensor { return pool2d('avg_pool2d', x, kernel, o) as Tensor; }

export interface BatchNormOptions { training?: boolean; momentum?: number; eps?: number }
/**
 * torch.nn.functional.batch_norm at inference: per channel (dim 1), y = x·α + β with
 * α = w / sqrt(var + eps) and β = b − mean·α, PyTorch's own terms. PyTorch's CPU kernel fuses
 * both multiply-adds; here each step rounds, which differs by an ulp or so. `training: true`
 * normalises by the batch's statistics (population variance over N and the spatial dims), as a
 * module without running statistics does; updating running statistics is training and refused.
 */
export function batchNorm(x: Tensor, runningMean: Tensor | undefined, runningVar: Tensor | undefined, weight?: Tensor, bias?: Tensor, o: BatchNormOptions = {}): Tensor {
  checkOptions('batch_norm', o, ['training', 'momentum', 'eps']);
  const eps = o.eps ?? 1e-5, training = o.training ?? false, momentum = o.momentum ?? 0.1;
  if (typeof eps !== 'number' || !(eps >= 0) || eps === Infinity) throw new ModelDefinitionError(`batch_norm: eps must be a non-negative number, got ${describeValue(eps)}${where()}`);
  if (typeof training !== 'boolean') throw new ModelDefinitionError(`batch_norm: training must be a boolean, got ${describeValue(training)}${where()}`);
  // Unused at inference, but checked as the modules check theirs.
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) throw new ModelDefinitionError(`batch_norm: momentum must be a number in [0, 1], got ${describeValue(momentum)}${where()}`);
  x = floatArg('batch_norm', 'input', x);
  if (x.rank < 2) throw new ModelDefinitionError(`batch_norm: input must be [N, C, ...], got ${fmtShape(x.dims)}${where()}`);
  const C = x.dims[1];
  if (typeof C !== 'number') throw new ModelDefinitionError(`batch_norm: the channel dim (1) of input ${fmtShape(x.dims)} must be a fixed size, got the run-time size ${String(C)}${where()}`);
  for (const [name, t] of [['running_mean', runningMean], ['running_var', runningVar], ['weight', weight], ['bias', bias]] as const) {
    if (t === undefined || t === null) continue;
    tensorArg('batch_norm', name, t);
    if (t.rank !== 1 || t.dims[0] !== C || t.dtype !== 'f32') throw new ModelDefinitionError(`batch_norm: ${name} must be f32 [${C}] for input ${fmtShape(x.dims)}, got ${t.dtype} ${fmtShape(t.dims)}${where()}`);
  }
  if (!training && (!runningMean || !runningVar)) throw new ModelDefinitionError(`batch_norm: running_mean and running_var are needed when not training (or pass training: true to use the batch's statistics)${where()}`);
  if (training && (runningMean || runningVar)) throw new ModelDefinitionError(`batch_norm: training with running statistics would update them, which is training; pass training: false to use them, or leave them out to use the batch's statistics${where()}`);
  const chan = (t: Tensor) => t.reshape(C, ...Array<number>(x.rank - 2).fill(1));
  let mean: Tensor, vr: Tensor;
  if (training) {
    const axes = [0, ...[...x.dims.keys()].slice(2)];
    // PyTorch refuses a single value per channel; a run-time size counts at its least value.
    const least = axes.reduce((n, a) => n * leastSize(x.dims[a]!), 1);
    if (least === 1) throw new ModelDefinitionError(`batch_norm: the batch's statistics need more than 1 value per channel, input ${fmtShape(x.dims)} has 1${axes.some((a) => typeof x.dims[a] !== 'number') ? ' when its run-time sizes are at their least (a run-time size must work for every value from its min, 1 unless declared, to its bound)' : ''}${where()}`);
    mean = x.mean(axes, true);
    const dx = x.sub(mean);
    vr = dx.mul(dx).mean(axes, true);
  } else { mean = chan(runningMean!); vr = chan(runningVar!); }
  let alpha = vr.add(eps).sqrt().reciprocal(); // 1 / sqrt(var + eps), two roundings as PyTorch's invstd
  if (weight) alpha = alpha.mul(chan(weight));
  const meanAlpha = mean.mul(alpha), beta = bias ? chan(bias).sub(meanAlpha) : meanAlpha.neg();
  return x.mul(alpha).add(beta);
}

/** torch.nn.functional.dropout at inference: the identity. Training (random dropping) is refused, so its default here is training: false. */
export function dropout(x: Tensor, p = 0.5, training = false): Tensor {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ModelDefinitionError(`dropout: p must be a number in [0, 1], got ${describeValue(p)}${where()}`);
  if (training !== false) throw new ModelDefinitionError(`dropout: training ${describeValue(training)} is not supported (simdflow compiles inference, where dropout is the identity)${where()}`);
  return tensorArg('dropout', 'input', x);
}
/**
 * torch.nn.functional.layer_norm: each sample normalised over its trailing dims `normalizedShape`
 * (one size, or several: flattened into one row, as PyTorch computes them), weight and bias of that
 * shape (default 1 and 0). The normalised dims must be fixed sizes.
 */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  x = floatArg('layer_norm', 'input', x);
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
  if (!Array.isArray(shape) || shape.length < 1 || !shape.every((d) => Number.isInteger(d) && d >= 1)) throw new ModelDefinitionError(`layer_norm: normalized_shape must be a positive integer or a non-empty list of them, got ${Array.isArray(normalizedShape) ? `[${normalizedShape.slice(0, 6).map(describeValue).join(', ')}]` : describeValue(normalizedShape)}${where()}`);
  if (typeof eps !== 'number' || !(eps >= 0) || eps === Infinity) throw new ModelDefinitionError(`layer_norm: eps must be a non-negative number, got ${describeValue(eps)}${where()}`);
  const k = shape.length, n = shape.reduce((a, d) => a * d, 1);
  if (x.rank < k || x.dims.slice(-k).some((d, i) => d !== shape[i])) throw new ModelDefinitionError(`layer_norm: input ${fmtShape(x.dims)} does not end in normalized_shape ${fmtShape(shape)}${where()}`);
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t !== undefined && t !== null && (tensorArg('layer_norm', name, t).rank !== k || t.dims.some((d, i) => d !== shape[i]) || t.dtype !== 'f32')) throw new ModelDefinitionError(`layer_norm: ${name} must be f32 ${fmtShape(shape)}, got ${t.dtype} ${fmtShape(t.dims)}${where()}`);
  }
  const w = weight ? weight.reshape(n) : constant(new Float32Array(n).fill(1), [n], 'f32', 'ones');
  const b = bias ? bias.reshape(n) : constant(new Float32Array(n), [n], 'f32', 'zeros');
  if (k === 1) return record('layernorm', [x, w, b], { eps });
  return record('layernorm', [x.reshape(...x.dims.slice(0, -k), n), w, b], { eps }).reshape(...x.dims);
}

/**
 * torch.nn.functional.group_norm: input [N, C, *] in `numGroups` groups of C/G channels; each
 * (sample, group) is normalised by its mean and population variance over its channels and all
 * positions: rstd = 1 / sqrt(var + eps) (two roundings, as PyTorch's), then y = (x − mean)·α + b
 * with α = rstd·w. PyTorch's CPU kernel computes x·α + (b − mean·α) instead, the same within an ulp
 * or so, except at a single position (an instance norm over a length of 1): the variance is 0 and
 * the output is b, exactly here, where x·α + (b − mean·α) leaves x·α's rounding (~1e-5 at eps 1e-5).
 * The channels must be fixed sizes; the batch and the positions may be chosen at run time (the
 * means divide by the run-time count).
 */
export function groupNorm(x: Tensor, numGroups: number, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  x = floatArg('group_norm', 'input', x);
  if (typeof numGroups !== 'number' || !Number.isInteger(numGroups) || numGroups < 1) throw new ModelDefinitionError(`group_norm: num_groups must be a positive integer, got ${describeValue(numGroups)}${where()}`);
  if (typeof eps !== 'number' || !(eps >= 0) || eps === Infinity) throw new ModelDefinitionError(`group_norm: eps must be a non-negative number, got ${describeValue(eps)}${where()}`);
  if (x.rank < 2) throw new ModelDefinitionError(`group_norm: input must be [N, C, ...], got ${fmtShape(x.dims)}${where()}`);
  if (typeof x.dims[1] !== 'number') throw new ModelDefinitionError(`group_norm: input ${fmtShape(x.dims)} has a number of channels (dim 1) chosen at run time; it must be a fixed size${where()}`);
  const C = x.dims[1] as number, G = numGroups;
  if (C % G) throw new ModelDefinitionError(`group_norm: input ${fmtShape(x.dims)} has ${C} channels (dim 1), not divisible by num_groups ${G}${where()}`);
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t === undefined || t === null) continue;
    tensorArg('group_norm', name, t);
    if (t.rank !== 1 || t.dims[0] !== C || t.dtype !== 'f32') throw new ModelDefinitionError(`group_norm: ${name} must be f32 [${C}] for input ${fmtShape(x.dims)}, got ${t.dtype} ${fmtShape(t.dims)}${where()}`);
  }
  // [N, G, C/G, positions…]: the positions keep their dims, so sizes chosen at run time stay apart.
  const D = C / G, at = x.dims.slice(2), ones = at.map(() => 1);
  const xg = x.reshape(x.dims[0]!, G, D, ...at), axes = [2, ...at.map((_, i) => 3 + i)];
  const mean = xg.mean(axes, true), dx = xg.sub(mean);
  const rstd = dx.mul(dx).mean(axes, true).add(eps).sqrt().reciprocal(); // two roundings, as PyTorch's
  const y = dx.mul(weight ? rstd.mul(weight.reshape(G, D, ...ones)) : rstd); // α = rstd·w: [N, G, D or 1, 1…]
  return (bias ? y.add(bias.reshape(G, D, ...ones)) : y).reshape(x.dims);
}

/** torch.nn.functional.max_pool1d / avg_pool1d options (PyTorch's names in camelCase; the unsupported ones are refused by name). */
export interface MaxPool1dOptions { stride?: number | null; padding?: number; dilation?: number; ceilMode?: boolean; returnIndices?: boolean }
export interface AvgPool1dOptions { stride?: number | null; padding?: number; ceilMode?: boolean; countIncludePad?: boolean }
/** A 1-D pool's int (or a one-element list, as torch's `_single` takes), at least `min`. */
function single(op: string, option: string, v: unknown, min: number): number {
  const n = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) throw new ModelDefinitionError(`${op}: ${option} must be ${min > 0 ? 'a positive' : 'a non-negative'} integer, got ${Array.isArray(v) ? `[${v.slice(0, 4).map(describeValue).join(', ')}]` : describeValue(v)}${where()}`);
  return n;
}
/** The window of a 1-D pool in its own terms: [kernel, stride, padding, dilation], checked as PyTorch checks them (the rest by poolWindow). */
export function pool1dWindow(op: string, kernel: unknown, o: { stride?: unknown; padding?: unknown; dilation?: unknown; ceilMode?: unknown; returnIndices?: unknown }): [number, number, number, number] {
  const k = single(op, 'kernel_size', kernel, 1);
  const s = o.stride === undefined || o.stride === null ? k : single(op, 'stride', o.stride, 1);
  const p = single(op, 'padding', o.padding ?? 0, 0), d = single(op, 'dilation', o.dilation ?? 1, 1);
  if (2 * p > k) throw new ModelDefinitionError(`${op}: padding ${p} must be at most half the kernel size ${k}${where()}`);
  poolWindow(op, [1, k], { ceilMode: o.ceilMode, returnIndices: o.returnIndices }, 2);
  return [k, s, p, d];
}
function pool1d(op: 'max_pool1d' | 'avg_pool1d', x: Tensor, kernel: number, o: MaxPool1dOptions & AvgPool1dOptions): Tensor | [Tensor, Tensor] {
  x = floatArg(op, 'input', x);
  const [k, s, p, d] = pool1dWindow(op, kernel, o);
  if (x.rank !== 2 && x.rank !== 3) throw new ModelDefinitionError(`${op}: expected [N, C, L] or unbatched [C, L] input, got ${fmtShape(x.dims)}${where()}`);
  const c = x.rank === 3 ? 1 : 0, L = x.dims[x.rank - 1]!;
  if (typeof x.dims[c] !== 'number') throw new ModelDefinitionError(`${op}: input ${fmtShape(x.dims)} has its channels (dim ${c}) chosen at run time; a pool's channels must be a fixed size${where()}`);
  let ceilMode = o.ceilMode ?? false;
  if (typeof L !== 'number') {
    // Over a length chosen at run time: the pool kernel's windows (no dilation, no indices), whose
    // output length is windowsDim's floor rule; with stride 1 ceil mode is floor mode.
    // A max pool's ceil mode at a stride up to kernel − padding is pool2d's (floor mode over s − 1 more cells of −∞).
    const ceilMax = ceilMode && op === 'max_pool1d' && s <= k - p;
    const why = d > 1 ? `dilation ${d}` : o.returnIndices === true ? 'returnIndices' : ceilMode && s > 1 && !ceilMax ? `ceil mode with stride ${s}` : undefined;
    if (why) throw new ModelDefinitionError(`${op}: ${why} over dim ${x.rank - 1} of input ${fmtShape(x.dims)}, a length chosen at run time, is not supported (a fixed length is)${where()}`);
    if (!ceilMax) { windowsDim(op, x, x.rank - 1, p, p, k, s, `window ${k}`); ceilMode = false; }
  } else if (L + 2 * p < (k - 1) * d + 1) throw new ModelDefinitionError(`${op}: kernel ${k}${d > 1 ? ` (dilation ${d})` : ''} does not fit input ${fmtShape(x.dims)} with padding ${p}${where()}`);
  // A 2-D pool over a height of 1, as conv1d is a conv2d.
  const x4 = x.unsqueeze(x.rank - 1);
  if (o.returnIndices === true) { // over a height of 1 the plane's index h·L + l is l
    const [v, i] = maxPoolIndexed(op, x4, poolWindow(op, [1, k], { stride: [1, s], padding: [0, p], dilation: [1, d], ceilMode, returnIndices: true }, 2));
    return [v.squeeze(x.rank - 1), i.squeeze(x.rank - 1)];
  }
  const y = op === 'max_pool1d'
    ? maxPool2d(x4, [1, k], { stride: [1, s], padding: [0, p], dilation: [1, d], ceilMode })
    : avgPool2d(x4, [1, k], { stride: [1, s], padding: [0, p], ceilMode, countIncludePad: o.countIncludePad ?? true });
  return y.squeeze(x.rank - 1);
}
/** torch.nn.functional.max_pool1d on [N, C, L] or unbatched [C, L] (stride defaults to the kernel; padding pads with −∞); with returnIndices, [values, i32 positions l]. */
export function maxPool1d(x: Tensor, kernelSize: number, o: MaxPool1dOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool1d(x: Tensor, kernelSize: number, o?: MaxPool1dOptions): Tensor;
export function maxPool1d(x: Tensor, kernelSize: number, o: MaxPool1dOptions = {}): Tensor | [Tensor, Tensor] {
  checkOptions('max_pool1d', o, ['stride', 'padding', 'dilation', 'ceilMode', 'returnIndices']);
  return pool1d('max_pool1d', x, kernelSize, o);
}
/** torch.nn.functional.avg_pool1d on [N, C, L] or unbatched [C, L]; countIncludePad (default true) counts the padding in the divisor. */
export function avgPool1d(x: Tensor, kernelSize: number, o: AvgPool1dOptions = {}): Tensor {
  checkOptions('avg_pool1d', o, ['stride', 'padding', 'ceilMode', 'countIncludePad']);
  return pool1d('avg_pool1d', x, kernelSize, o) as Tensor;
}

/**
 * torch.nn.functional.lp_pool1d / lp_pool2d: (Σ x^p)^(1/p) over each window, as PyTorch computes it:
 * an average pool of x^p (no padding; ceilMode's last window clipped, and its average over the
 * clipped count), times the full window's size, to the power 1/p.
 */
export function lpPool1d(x: Tensor, normType: number, kernelSize: number, stride?: number | null, ceilMode = false): Tensor {
  checkLpNorm('lp_pool1d', normType);
  return avgPool1d(floatArg('lp_pool1d', 'input', x).pow(normType), kernelSize, { stride: stride ?? null, ceilMode }).mul(single('lp_pool1d', 'kernel_size', kernelSize, 1)).pow(1 / normType);
}
export function lpPool2d(x: Tensor, normType: number, kernelSize: Pair, stride?: Pair | null, ceilMode = false): Tensor {
  checkLpNorm('lp_pool2d', normType);
  const [kh, kw] = pairOf('lp_pool2d', 'kernel_size', kernelSize, 1);
  return avgPool2d(floatArg('lp_pool2d', 'input', x).pow(normType), [kh, kw], { stride: stride ?? null, ceilMode }).mul(kh * kw).pow(1 / normType);
}
export function checkLpNorm(op: string, p: unknown): void {
  if (typeof p !== 'number' || !(p > 0) || p === Infinity) throw new ModelDefinitionError(`${op}: norm_type must be a positive finite number, got ${describeValue(p)}${where()}`);
}

/**
 * Σ of x over a window of channels (dim 1): channels c − before … c + after, those outside [0, C)
 * as zeros. Summed as shifted slices of x padded with zeros (a band matmul would turn an inf outside
 * the window into 0·inf = NaN). Local response normalization's sum of squares (here and ONNX LRN).
 */
export function channelWindowSum(x: Tensor, before: number, after: number): Tensor {
  // Beyond C − 1 channels either side the window holds only padding: pad no further.
  const C = x.maxSize(1), lo = Math.min(before, C - 1), hi = Math.min(after, C - 1);
  const padded = padZeros(x, 1, lo, hi);
  let sum = padded.slice(1, 0, C);
  for (let k = 1; k <= lo + hi; k++) sum = sum.add(padded.slice(1, k, k + C));
  return sum;
}
/**
 * torch.nn.functional.local_response_norm on [N, C, …] (at least 3-D): x / (k + alpha · avg)^beta,
 * avg the mean of x² over channels c − ⌊size/2⌋ … c + ⌊(size−1)/2⌋ (zeros outside, counted), as
 * PyTorch's average pool computes it (the sum over size, then alpha).
 */
export function localResponseNorm(x: Tensor, size: number, alpha = 1e-4, beta = 0.75, k = 1): Tensor {
  x = floatArg('local_response_norm', 'input', x);
  if (x.rank < 3) throw new ModelDefinitionError(`local_response_norm: expected [N, C, …] input of 3 or more dims, got ${fmtShape(x.dims)}${where()}`);
  if (typeof x.dims[1] !== 'number') throw new ModelDefinitionError(`local_response_norm: input ${fmtShape(x.dims)} has a number of channels (dim 1) chosen at run time; it must be a fixed size${where()}`);
  single('local_response_norm', 'size', size, 1);
  for (const [name, v] of [['alpha', alpha], ['beta', beta], ['k', k]] as const) finite('local_response_norm', name, v);
  return x.div(channelWindowSum(x.mul(x), Math.floor(size / 2), Math.floor((size - 1) / 2)).div(size).mul(alpha).add(k).pow(beta));
}

export type InterpolateMode = 'nearest' | 'nearest-exact' | 'linear' | 'bilinear' | 'bicubic' | 'trilinear' | 'area';
export interface InterpolateOptions {
  size?: number | readonly number[]; scaleFactor?: number | readonly number[]; mode?: InterpolateMode;
  alignCorners?: boolean; recomputeScaleFactor?: boolean; antialias?: boolean;
}
/** PyTorch's modes, in its order. */
const MODES: readonly string[] = ['nearest', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area', 'nearest-exact'] satisfies InterpolateMode[];
/** The options of interpolate (and Upsample), checked before any input is seen: the mode, and the unsupported options refused by name. */
export function interpolateMode(op: string, o: InterpolateOptions): InterpolateMode {
  const mode = o.mode ?? 'nearest';
  if (typeof mode !== 'string' || !MODES.includes(mode)) throw new ModelDefinitionError(`${op}: mode must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, got ${describeValue(mode)}${where()}`);
  if (o.antialias === true) throw new ModelDefinitionError(`${op}: antialias true is not supported${where()}`);
  if ((mode === 'nearest' || mode === 'nearest-exact' || mode === 'area') && o.alignCorners !== undefined && o.alignCorners !== null) throw new ModelDefinitionError(`${op}: alignCorners can only be set with the interpolating modes 'linear', 'bilinear', 'bicubic' and 'trilinear', not '${mode}'${where()}`);
  const given = (v: unknown) => v !== undefined && v !== null;
  if (given(o.size) && given(o.scaleFactor)) throw new ModelDefinitionError(`${op}: only one of size and scaleFactor may be given${where()}`);
  if (!given(o.size) && !given(o.scaleFactor)) throw new ModelDefinitionError(`${op}: either size or scaleFactor must be given${where()}`);
  if (o.recomputeScaleFactor === true && given(o.size)) throw new ModelDefinitionError(`${op}: recomputeScaleFactor true is not meaningful with an explicit size${where()}`);
  const okSize = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1, okScale = (v: unknown) => typeof v === 'number' && v > 0 && Number.isFinite(v);
  const check = (name: string, v: unknown, ok: (v: unknown) => boolean, what: string) => {
    if (!given(v)) return;
    if (Array.isArray(v) ? v.length === 0 || !v.every(ok) : !ok(v)) throw new ModelDefinitionError(`${op}: ${name} must be ${what} or a list of them, got ${Array.isArray(v) ? `[${v.slice(0, 4).map(describeValue).join(', ')}]` : describeValue(v)}${where()}`);
  };
  check('size', o.size, okSize, 'a positive integer'); check('scaleFactor', o.scaleFactor, okScale, 'a positive finite number');
  return mode;
}
/** The input rank each interpolating mode needs (the others take [N, C, L], [N, C, H, W] and [N, C, D, H, W]). */
const INTERPOLATING_RANK: Partial<Record<InterpolateMode, number>> = { linear: 3, bilinear: 4, bicubic: 4, trilinear: 5 };
const RANK_LAYOUT: Record<number, string> = { 3: '[N, C, L]', 4: '[N, C, H, W]', 5: '[N, C, D, H, W]' };
/** Interpolation along one axis as a weighted sum of taps: output d is Σₖ x[index[k][d]]·weight[k][d]. */
export interface Taps { index: number[][]; weight: Float32Array[] }
/**
 * The taps of linear interpolation at source coordinates `src` (one per output position) along an
 * axis of n: ⌊src⌋ and ⌊src⌋ + 1, each clamped to [0, n − 1]; λ1 = src − ⌊src⌋ and
 * λ0 = 1 − λ1, each rounded to f32. Outside [0, n − 1] both taps are the edge element.
 */
export function linearTaps(src: readonly number[], n: number): Taps {
  const out = src.length, i0: number[] = [], i1: number[] = [], l0 = new Float32Array(out), l1 = new Float32Array(out);
  const clamp = (i: number) => Math.min(Math.max(i, 0), n - 1);
  src.forEach((s, d) => {
    const a = Math.floor(s);
    i0.push(clamp(a)); i1.push(clamp(a + 1));
    l1[d] = Math.fround(s - a); l0[d] = Math.fround(1 - l1[d]!);
  });
  return { index: [i0, i1], weight: [l0, l1] };
}
export interface CubicTapOptions {
  /** ONNX's exclude_outside: the taps outside [0, n − 1] weigh 0 and the others are scaled to sum to 1. */
  excludeOutside?: boolean;
  /**
   * ONNX's reference: at an integer src, t = 1 on the taps src − 2 … src + 1 (the same value as
   * t = 0 on src − 1 … src + 2, but other neighbours are multiplied by 0, which matters for ∞).
   */
  integerAsOne?: boolean;
}
/**
 * The taps of cubic convolution at source coordinates `src` along an axis of n: ⌊src⌋ − 1 … ⌊src⌋ + 2,
 * each read clamped to [0, n − 1] (the edge repeats), weighted by `coeffs(t)` for t = src − ⌊src⌋
 * (in f64; the weights are rounded to f32 once, after exclude_outside's scaling).
 */
export function cubicTaps(src: readonly number[], n: number, coeffs: (t: number) => readonly number[], o: CubicTapOptions = {}): Taps {
  const out = src.length, index: number[][] = [[], [], [], []], weight = index.map(() => new Float32Array(out));
  src.forEach((s, d) => {
    let a = Math.floor(s), t = s - a;
    if (o.integerAsOne && t === 0) { a -= 1; t = 1; }
    const w = [...coeffs(t)];
    if (o.excludeOutside) {
      w.forEach((_, k) => { if (a - 1 + k < 0 || a - 1 + k >= n) w[k] = 0; });
      const sum = w.reduce((p, q) => p + q, 0);
      w.forEach((v, k) => { w[k] = v / sum; });
    }
    w.forEach((v, k) => { index[k]!.push(Math.min(Math.max(a - 1 + k, 0), n - 1)); weight[k]![d] = v; });
  });
  return { index, weight };
}
/**
 * Whether the taps read each of the n elements in place: every non-zero weight of output d on
 * index d (linear and cubic weights sum to 1, so that is x up to an ulp; reading x skips the
 * axis, though 0·∞ from a neighbour would have made NaN).
 */
export function readsInPlace(t: Taps, n: number): boolean {
  return t.index[0]!.length === n && t.index[0]!.every((_, d) => t.index.every((idx, k) => idx[d] === d || t.weight[k]![d] === 0));
}
/** y = Σₖ x[index[k]]·weight[k] along `axis`, summed in tap order (the weights broadcast over the axes after it). */
export function weighAlong(x: Tensor, axis: number, t: Taps, label: string): Tensor {
  const w = (l: Float32Array) => constant(l, [l.length, ...Array<number>(x.rank - 1 - axis).fill(1)], 'f32', label);
  return t.index.map((idx, k) => gatherAlong(x, axis, idx).mul(w(t.weight[k]!))).reduce((y, term) => y.add(term));
}
/**
 * x[idx] along `axis`, whose size n is chosen at run time, for an output s·n long (s an integer):
 * idx holds the source of each output index d up to the bound, computed from d alone (already at
 * least 0). Where some d below s·n at some n in [least, bound] reads past n − 1, the indices are
 * clamped to n − 1 when the code runs (n − 1 from sizeTensor); either way they are sliced to s·n
 * and gathered with run-time indices (the gather checks each against the actual n).
 */
export function gatherAlongRunTime(x: Tensor, axis: number, idx: readonly number[], s: number, label: string): Tensor {
  const n = x.dim(axis), out = mulDims(n, s), bound = x.maxSize(axis);
  if (idx.length !== s * bound) throw new Error(`gatherAlongRunTime: ${idx.length} indices for ${s}·${bound} outputs`);
  // Whether some size m reads past m − 1: the largest index below s·m (a running max) against it.
  const top: number[] = [];
  idx.forEach((v, d) => top.push(Math.max(v, top[d - 1] ?? -Infinity)));
  let clamp = false;
  for (let m = leastSize(n); m <= bound; m++) if (top[s * m - 1]! > m - 1) { clamp = true; break; }
  let i = constant(Int32Array.from(idx), [idx.length], 'i32', label).slice(0, 0, out);
  if (clamp) i = i.minimum(sizeTensor(n, x.bounds).sub(1));
  const perm = [axis, ...[...Array(x.rank).keys()].filter((a) => a !== axis)];
  return record('gather', [x.permute(...perm), i]).permute(...[...Array(x.rank).keys()].map((a) => (a < axis ? a + 1 : a === axis ? 0 : a)));
}
/** weighAlong over an axis of a size n chosen at run time, to s·n outputs: the taps' indices (from the output index alone) clamped by gatherAlongRunTime, the weights sliced to s·n. */
export function weighAlongRunTime(x: Tensor, axis: number, t: Taps, s: number, label: string): Tensor {
  const out = mulDims(x.dim(axis), s);
  const w = (l: Float32Array) => constant(l, [l.length, ...Array<number>(x.rank - 1 - axis).fill(1)], 'f32', label).slice(0, 0, out);
  return t.index.map((idx, k) => gatherAlongRunTime(x, axis, idx, s, `${label} index`).mul(w(t.weight[k]!))).reduce((y, term) => y.add(term));
}
/**
 * Each element of `axis` repeated s times in place (x[⌊d/s⌋] for d < s·n): nearest upsampling by
 * an integer s over a size chosen at run time, as a broadcast and a reshape instead of a gather.
 */
export function repeatAlong(x: Tensor, axis: number, s: number): Tensor {
  if (s === 1) return x;
  const dims = x.dims, wide = [...dims.slice(0, axis + 1), s, ...dims.slice(axis + 1)];
  return x.unsqueeze(axis + 1).expand(...wide, x.bounds).reshape(...dims.slice(0, axis), mulDims(dims[axis]!, s), ...dims.slice(axis + 1));
}
/**
 * PyTorch 1.13's cubic convolution weights (A = −0.75) of the taps ⌊src⌋ − 1 … ⌊src⌋ + 2 at
 * t = src − ⌊src⌋: ((A + 2)·x − (A + 3))·x² + 1 for the two within 1 (x = t, 1 − t) and
 * ((A·x − 5A)·x + 8A)·x − 4A for the two beyond (x = t + 1, 2 − t). In f32 as the 1.13 build that
 * made the fixtures evaluates them (probed with one-hot inputs): t is rounded once from the exact
 * src, and the first multiply-add of the near weight and the first two of the far weight are fused.
 */
function torchCubicCoeffs(t: number): number[] {
  const f = Math.fround, A = -0.75;
  // a·b + c with one rounding (the product of two f32s is exact in f64; the sum can round twice, rarely an ulp off).
  const fma = (a: number, b: number, c: number) => f(a * b + c);
  const near = (x: number) => f(f(f(fma(A + 2, x, -(A + 3)) * x) * x) + 1);
  const far = (x: number) => f(f(fma(fma(A, x, -5 * A), x, 8 * A) * x) - 4 * A);
  const u = f(t), v = f(1 - u);
  return [far(f(u + 1)), near(u), near(v), far(f(v + 1))];
}
/**
 * torch.nn.functional.interpolate on [N, C, L] ('nearest', 'nearest-exact', 'linear', 'area'), [N, C, H, W]
 * ('nearest', 'nearest-exact', 'bilinear', 'bicubic', 'area') or [N, C, D, H, W] ('nearest', 'nearest-exact',
 * 'trilinear', 'area'), with PyTorch 1.13's source indices. The output size
 * is ⌊in·scaleFactor⌋, or `size`. 'nearest' (legacy): src = min(⌊dst·scale⌋, in − 1) in f32
 * ('nearest-exact': min(⌊(dst + ½)·scale⌋, in − 1)),
 * scale = 1/scaleFactor when given (and recomputeScaleFactor is not true), else in/out, as
 * PyTorch's kernel for contiguous input (its channels-last kernel, which a 4-D input of one channel
 * takes, copies when out = in and takes dst >> 1 when out = 2·in, so a scaleFactor such as 2.1 can
 * pick other rows there). Linear modes and bicubic are separable (W, then H, then D, as PyTorch's
 * kernel nests them): with alignCorners, src = dst·(in − 1)/(out − 1); without, scale·(dst + ½) − ½,
 * for the linear modes at least 0; linear: y = x[i0]·λ0 + x[i1]·λ1 with λ1 = src − i0,
 * λ0 = 1 − λ1 (each rounded to f32); bicubic: the 4 taps ⌊src⌋ − 1 … ⌊src⌋ + 2 read clamped to the
 * border, weighted by cubic convolution with A = −0.75 (computed at compile time; no shortcut
 * when out = in, so as in PyTorch an ∞ makes its neighbours NaN). PyTorch's CPU kernel fuses
 * multiply-adds, so a value may differ by an ulp or so. 'area' is adaptive_avg_pool over the output
 * size. The batch may be chosen at run time, and so may a spatial size that an integer
 * scaleFactor resizes without alignCorners (not in mode 'area'; runTimeAxisCheck).
 */
export function interpolate(x: Tensor, opts: InterpolateOptions): Tensor {
  let o = checkOptions('interpolate', opts, ['size', 'scaleFactor', 'mode', 'alignCorners', 'recomputeScaleFactor', 'antialias']);
  if ((Array.isArray(o.size) ? o.size : [o.size]).some((v) => v instanceof SymSize) && x instanceof Tensor) o = { ...o, size: undefined, scaleFactor: sizeAsScale(x, o.size!) };
  const mode = interpolateMode('interpolate', o);
  x = floatArg('interpolate', 'input', x);
  if (x.rank < 3 || x.rank > 5) throw new ModelDefinitionError(`interpolate: expected [N, C, L], [N, C, H, W] or [N, C, D, H, W] input, got ${fmtShape(x.dims)}${where()}`);
  const rank = INTERPOLATING_RANK[mode];
  if (rank !== undefined && x.rank !== rank) throw new ModelDefinitionError(`interpolate: mode '${mode}' needs ${RANK_LAYOUT[rank]} input, got ${fmtShape(x.dims)} (use ${Object.entries(INTERPOLATING_RANK).filter(([, r]) => r === x.rank).map(([m]) => `'${m}'`).join(' or ')})${where()}`);
  if (typeof x.dims[1] !== 'number') throw new ModelDefinitionError(`interpolate: input ${fmtShape(x.dims)} has its channels (dim 1) chosen at run time; they must be a fixed size${where()}`);
  const k = x.rank - 2, list = (v: number | readonly number[], name: string): number[] => {
    const a = Array.isArray(v) ? [...v] : Array<number>(k).fill(v as number);
    if (a.length !== k) throw new ModelDefinitionError(`interpolate: ${name} has ${a.length} values, input ${fmtShape(x.dims)} has ${k} spatial dim${k > 1 ? 's' : ''}${where()}`);
    return a;
  };
  const ins = x.maxShape.slice(2);
  const scales = o.scaleFactor !== undefined && o.scaleFactor !== null ? list(o.scaleFactor, 'scaleFactor') : undefined;
  const outs = scales ? ins.map((n, i) => Math.floor(n * scales[i]!)) : list(o.size!, 'size');
  x.dims.slice(2).forEach((d, i) => { if (typeof d !== 'number') runTimeAxisCheck(x, 2 + i, mode, o, scales?.[i], o.size === undefined || o.size === null ? undefined : list(o.size, 'size')[i]); });
  outs.forEach((n, i) => { if (n < 1) throw new ModelDefinitionError(`interpolate: scaleFactor ${scales![i]} makes an output size of 0 from ${ins[i]} (dim ${2 + i} of ${fmtShape(x.dims)})${where()}`); });
  outputFits('interpolate', [...x.maxShape.slice(0, 2), ...outs]);
  if (mode === 'area') return k === 1 ? adaptiveAvgPool2d(x.unsqueeze(2), [1, outs[0]!]).squeeze(2) : k === 2 ? adaptiveAvgPool2d(x, [outs[0]!, outs[1]!]) : adaptiveAvgPool3d(x, outs);
  // recomputeScaleFactor: PyTorch passes the kernel only the output size, so the scale is in/out.
  const kernelScales = o.recomputeScaleFactor === true ? undefined : scales;
  const f = Math.fround, align = o.alignCorners === true;
  // Last spatial dim first, as PyTorch's kernel interpolates the innermost dim inside the outer one.
  for (let i = k - 1; i >= 0; i--) {
    const axis = 2 + i, n = ins[i]!, out = outs[i]!, sf = kernelScales?.[i];
    if (typeof x.dims[axis] !== 'number') { x = interpolateRunTime(x, axis, mode, sf!); continue; }
    // PyTorch's compute_scales_value: 1/scale_factor when given, else in/out, as f32.
    const scale = f(sf !== undefined ? 1 / sf : n / out);
    if (mode === 'nearest' || mode === 'nearest-exact') {
      // 'nearest-exact': the source of pixel centres, ⌊(dst + ½)·scale⌋ (PyTorch rounds the product to f32 too).
      const at = mode === 'nearest' ? (d: number) => f(d * scale) : (d: number) => f((d + 0.5) * scale);
      x = gatherAlong(x, axis, Array.from({ length: out }, (_, d) => Math.min(Math.floor(at(d)), n - 1)));
      continue;
    }
    const ratio = align ? (out > 1 ? f((n - 1) / (out - 1)) : 0) : scale;
    // The source index before rounding to f32 (PyTorch's matches this, not an f32 product). For the
    // linear modes never negative and below n, so ⌊src⌋ is PyTorch's truncation and only i0 + 1 is
    // clamped; bicubic keeps a negative src (area_pixel_compute_source_index with cubic = true).
    const iota = Array.from({ length: out }, (_, d) => d);
    const src = iota.map((d) => (align ? ratio * d : ratio * (d + 0.5) - 0.5));
    const taps = mode === 'bicubic' ? cubicTaps(src, n, torchCubicCoeffs)
      : out === n ? { index: [iota, iota], weight: [new Float32Array(out).fill(1), new Float32Array(out)] }
      : linearTaps(src.map((s) => Math.max(s, 0)), n);
    x = weighAlong(x, axis, taps, 'interpolate λ');
  }
  return x;
}

/**
 * A size chosen at run time given to interpolate (torchvision FPN's F.interpolate(inner, size=lateral.shape[-2:])):
 * each a whole multiple s of the input's dim ('2*H' of 'H'), where PyTorch's scale in/out is f32(1/s)
 * whatever the size, as with scaleFactor s, which it becomes; any other is refused by name.
 */
function sizeAsScale(x: Tensor, size: number | readonly number[]): number[] {
  const ins = x.dims.slice(2), sizes = Array.isArray(size) ? size : ins.map(() => size as number);
  if (sizes.length !== ins.length) throw new ModelDefinitionError(`interpolate: size has ${sizes.length} values, input ${fmtShape(x.dims)} has ${ins.length} spatial dim${ins.length === 1 ? '' : 's'}${where()}`);
  return sizes.map((v, i) => {
    const to: Dim = asDim(v), bound = v instanceof SymSize ? v.bound : v, s = bound / x.maxSize(2 + i);
    if (Number.isInteger(s) && s >= 1 && canonDim(mulDims(ins[i]!, s)) === canonDim(to)) return s;
    throw new ModelDefinitionError(`interpolate: size ${describeValue(to)} for dim ${2 + i} of input ${fmtShape(x.dims)} is no fixed whole multiple s of it, so PyTorch's scale in/out would depend on the size; a size chosen at run time is taken where it is one (such as '2*H' of 'H'), as scaleFactor s${where()}`);
  });
}
/**
 * Whether interpolate can resize `axis`, a size n chosen at run time: only by an integer
 * scaleFactor s (the output s·n, a polynomial; the kernel's scale f32(1/s) whatever n) without
 * alignCorners, so each output's source and weights follow from its index alone but for the clamp
 * to n − 1. The rest is refused by name.
 */
function runTimeAxisCheck(x: Tensor, axis: number, mode: InterpolateMode, o: InterpolateOptions, sf: number | undefined, size: number | undefined): void {
  const at = `dim ${axis} of input ${fmtShape(x.dims)}, the size '${x.dim(axis)}' chosen at run time`;
  const no = (what: string, why: string) => { throw new ModelDefinitionError(`interpolate: ${what} over ${at}, is not supported: ${why}; an integer scaleFactor in mode 'nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic' or 'trilinear' without alignCorners is${where()}`); };
  if (mode === 'area') no(`mode 'area'`, `its windows depend on the size`);
  if (size !== undefined) no(`size ${size}`, `a fixed output size makes the scale ${x.dim(axis)}/${size} depend on the size`);
  if (o.recomputeScaleFactor === true) no('recomputeScaleFactor true', `the scale is then ${x.dim(axis)}/out, which depends on the size`);
  if (o.alignCorners === true) no('alignCorners true', `the ratio (${x.dim(axis)} − 1)/(out − 1) depends on the size`);
  if (sf === undefined || !Number.isInteger(sf)) no(`scaleFactor ${sf}`, `the output size ⌊${x.dim(axis)}·${sf}⌋ is no polynomial of the sizes`);
}
/**
 * interpolate along `axis`, a size n chosen at run time, by the integer scaleFactor s: PyTorch's
 * source indices and weights from the output index d alone (scale f32(1/s)), computed up to the
 * bound; the clamp of the indices to n − 1 is taken when the code runs. Nearest (and
 * nearest-exact) where ⌊f32(d·scale)⌋ = ⌊d/s⌋ for every d below the bound is each element
 * repeated s times (checked here, for this bound).
 */
function interpolateRunTime(x: Tensor, axis: number, mode: InterpolateMode, s: number): Tensor {
  const f = Math.fround, scale = f(1 / s), iota = Array.from({ length: s * x.maxSize(axis) }, (_, d) => d);
  if (mode === 'nearest' || mode === 'nearest-exact') {
    const idx = iota.map(mode === 'nearest' ? (d) => Math.floor(f(d * scale)) : (d) => Math.floor(f((d + 0.5) * scale)));
    return idx.every((v, d) => v === Math.floor(d / s)) ? repeatAlong(x, axis, s) : gatherAlongRunTime(x, axis, idx, s, 'interpolate index');
  }
  // out = n: the fixed path's taps d and d with weights 1 and 0 (x·1 + x·0, as PyTorch's kernel).
  if (s === 1 && mode !== 'bicubic') return x.mul(1).add(x.mul(0));
  const src = iota.map((d) => scale * (d + 0.5) - 0.5);
  const taps = mode === 'bicubic' ? cubicTaps(src, Infinity, torchCubicCoeffs) : linearTaps(src.map((v) => Math.max(v, 0)), Infinity);
  return weighAlongRunTime(x, axis, taps, s, 'interpolate λ');
}

export const relu = (x: Tensor): Tensor => tensorArg('relu', 'input', x).relu();
export const tanh = (x: Tensor): Tensor => tensorArg('tanh', 'input', x).tanh();
export const sigmoid = (x: Tensor): Tensor => tensorArg('sigmoid', 'input', x).sigmoid();
export const gelu = (x: Tensor, opts: { approximate?: 'none' | 'tanh' } = {}): Tensor => {
  const a = checkOptions('gelu', opts, ['approximate']).approximate ?? 'none';
  if (a !== 'none' && a !== 'tanh') throw new ModelDefinitionError(`gelu: approximate must be 'none' or 'tanh', got ${JSON.stringify(a)}${where()}`);
  return a === 'tanh' ? geluTanh(x) : tensorArg('gelu', 'input', x).gelu();
};
/** PyTorch's GELU(approximate='tanh'): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function geluTanh(x: Tensor): Tensor {
  x = tensorArg('gelu', 'input', x);
  return x.mul(0.5).mul(x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI)).tanh().add(1));
}
/** PyTorch's SiLU as its kernel computes it: x / (1 + exp(−x)). */
export function silu(x: Tensor): Tensor {
  x = floatArg('silu', 'input', x);
  return x.div(x.neg().exp().add(1));
}
/** PyTorch's leaky ReLU: x where x > 0, else x · slope (as max(x, 0) + slope · min(x, 0), NaN staying NaN). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  activationOptions.leakyRelu('leaky_relu', negativeSlope);
  // (An i32 input computed in i32 or f32 as the slope happened to be an integer or not.)
  x = floatArg('leaky_relu', 'input', x);
  return x.maximum(0).add(x.minimum(0).mul(negativeSlope));
}
/** RReLU's slope at inference, (lower + upper) / 2, its bounds checked for `op`. */
export function rreluSlope(op: string, lower: unknown, upper: unknown): number {
  const lo = finite(op, 'lower', lower), hi = finite(op, 'upper', upper);
  if (lo > hi) throw new ModelDefinitionError(`${op}: lower ${lo} must not exceed upper ${hi}${where()}`);
  return (lo + hi) / 2;
}
/** torch's RReLU at inference: leaky ReLU with the slope (lower + upper) / 2. */
export const rrelu = (x: Tensor, lower = 1 / 8, upper = 1 / 3): Tensor => leakyRelu(x, rreluSlope('rrelu', lower, upper));
/** A finite number option of an activation, or an error naming it. */
function finite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelDefinitionError(`${op}: ${name} must be a finite number, got ${describeValue(v)}${where()}`);
  return v;
}
/** The options of the activations that have them, checked in the caller's name (the module's when it is made, else the function's). */
export const activationOptions = {
  hardtanh(op: string, minVal: unknown, maxVal: unknown): void {
    finite(op, 'min_val', minVal); finite(op, 'max_val', maxVal);
    if ((minVal as number) > (maxVal as number)) throw new ModelDefinitionError(`${op}: max_val ${String(maxVal)} must not be below min_val ${String(minVal)}${where()}`);
  },
  elu(op: string, alpha: unknown): void { finite(op, 'alpha', alpha); },
  leakyRelu(op: string, negativeSlope: unknown): void { finite(op, 'negative_slope', negativeSlope); },
  softplus(op: string, beta: unknown, threshold: unknown): void {
    if (finite(op, 'beta', beta) <= 0) throw new ModelDefinitionError(`${op}: beta must be positive, got ${String(beta)}${where()}`);
    if (typeof threshold !== 'number' || Number.isNaN(threshold)) throw new ModelDefinitionError(`${op}: threshold must be a number, got ${describeValue(threshold)}${where()}`);
  },
};
/** torch's hardtanh: clamp(x, min_val, max_val) (NaN stays NaN). */
export function hardtanh(x: Tensor, minVal = -1, maxVal = 1): Tensor {
  activationOptions.hardtanh('hardtanh', minVal, maxVal);
  return floatArg('hardtanh', 'input', x).maximum(minVal).minimum(maxVal);
}
export const relu6 = (x: Tensor): Tensor => hardtanh(x, 0, 6);
/**
 * torch's ELU: x where x > 0, else α·(exp(x) − 1), as max(x, 0) + α·(exp(min(x, 0)) − 1). torch
 * uses expm1, which keeps the relative precision of tiny negative x; exp − 1 is within 6e-8 absolute.
 */
export function elu(x: Tensor, alpha = 1): Tensor {
  activationOptions.elu('elu', alpha);
  x = floatArg('elu', 'input', x);
  return x.maximum(0).add(x.minimum(0).exp().sub(1).mul(alpha));
}
/**
 * torch's softplus: log(1 + exp(β·x)) / β, and x itself where β·x > threshold. Computed as
 * (max(βx, 0) + log(1 + exp(−|βx|))) / β, which never overflows and gives βx/β once exp(−βx)
 * is below half an ulp of 1 (βx > 16.6), so a threshold of 17 or more needs no switch; a lower
 * one selects x where βx > threshold, as torch (it was refused before). torch's log1p keeps the
 * relative precision of tiny results at very negative x; this gives 0 there (within 1e-7 absolute).
 */
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  activationOptions.softplus('softplus', beta, threshold);
  x = floatArg('softplus', 'input', x);
  const bx = beta === 1 ? x : x.mul(beta);
  const y = bx.maximum(0).add(bx.abs().neg().exp().add(1).log());
  const soft = beta === 1 ? y : y.div(beta);
  return threshold >= 17 ? soft : whereOp(bx.gt(threshold), x, soft);
}
/** torch's hardsigmoid: min(max(x + 3, 0), 6) / 6. */
export const hardsigmoid = (x: Tensor): Tensor => floatArg('hardsigmoid', 'input', x).add(3).maximum(0).minimum(6).div(6);
/** torch's hardswish: x · min(max(x + 3, 0), 6) / 6, in that order. */
export function hardswish(x: Tensor): Tensor {
  x = floatArg('hardswish', 'input', x);
  return x.mul(x.add(3).maximum(0).minimum(6)).div(6);
}
/** torch's mish: x · tanh(log(1 + exp(x))), with softplus's overflow-free form. */
export const mish = (x: Tensor): Tensor => { x = floatArg('mish', 'input', x); return x.mul(softplus(x).tanh()); };
/** torch's SELU: scale · elu(x, α) with PyTorch's α and scale. */
export const selu = (x: Tensor): Tensor => elu(floatArg('selu', 'input', x), 1.6732632423543772848170429916717).mul(1.0507009873554804934193349852946);
/** torch's CELU: max(0, x) + min(0, α·(exp(x/α) − 1)), α ≠ 0. */
export function celu(x: Tensor, alpha = 1): Tensor {
  if (finite('celu', 'alpha', alpha) === 0) throw new ModelDefinitionError(`celu: alpha must not be 0${where()}`);
  x = floatArg('celu', 'input', x);
  return x.maximum(0).add((alpha === 1 ? x : x.div(alpha)).minimum(0).exp().sub(1).mul(alpha));
}
/** torch's logsigmoid: min(x, 0) − log(1 + exp(−|x|)). */
export const logsigmoid = (x: Tensor): Tensor => { x = floatArg('logsigmoid', 'input', x); return x.minimum(0).sub(x.abs().neg().exp().add(1).log()); };
/** torch's hardshrink: 0 where −λ ≤ x ≤ λ, else x (NaN stays NaN). */
export function hardshrink(x: Tensor, lambd = 0.5): Tensor {
  finite('hardshrink', 'lambd', lambd);
  x = floatArg('hardshrink', 'input', x);
  return whereOp(x.abs().le(lambd), 0, x);
}
/** torch's softshrink: x − λ where x > λ, x + λ where x < −λ, else 0 (NaN too, as PyTorch's kernel); λ ≥ 0. */
export function softshrink(x: Tensor, lambd = 0.5): Tensor {
  if (!(finite('softshrink', 'lambd', lambd) >= 0)) throw new ModelDefinitionError(`softshrink: lambd must be at least 0, got ${lambd}${where()}`);
  x = floatArg('softshrink', 'input', x);
  return whereOp(x.gt(lambd), x.sub(lambd), whereOp(x.lt(-lambd), x.add(lambd), 0));
}
/** torch's tanhshrink: x − tanh(x). */
export const tanhshrink = (x: Tensor): Tensor => { x = floatArg('tanhshrink', 'input', x); return x.sub(x.tanh()); };
/** torch's threshold: `value` where x ≤ threshold, else x (NaN stays NaN). */
export function threshold(x: Tensor, threshold: number, value: number): Tensor {
  finite('threshold', 'threshold', threshold); finite('threshold', 'value', value);
  x = floatArg('threshold', 'input', x);
  return whereOp(x.le(threshold), value, x);
}
/** torch's softmin: softmax(−x) along `dim`. */
export const softmin = (x: Tensor, dim: number): Tensor => softmax(floatArg('softmin', 'input', x).neg(), dim);
/** torch's pixel_shuffle: [*, C·r², H, W] to [*, C, H·r, W·r]. */
export function pixelShuffle(x: Tensor, r: number): Tensor {
  x = tensorArg('pixel_shuffle', 'input', x);
  const [c, h, w] = shuffleDims('pixel_shuffle', x, r);
  const lead = x.dims.slice(0, -3);
  return x.reshape(...lead, c / (r * r), r, r, h, w).permute(...lead.map((_, i) => i), lead.length, lead.length + 3, lead.length + 1, lead.length + 4, lead.length + 2).reshape(...lead, c / (r * r), mulDims(h, r), mulDims(w, r));
}
/** torch's pixel_unshuffle: [*, C, H·r, W·r] to [*, C·r², H, W]. */
export function pixelUnshuffle(x: Tensor, r: number): Tensor {
  x = tensorArg('pixel_unshuffle', 'input', x);
  const [c, h, w] = shuffleDims('pixel_unshuffle', x, r);
  const lead = x.dims.slice(0, -3), hr = divDims(h, r)!, wr = divDims(w, r)!;
  return x.reshape(...lead, c, hr, r, wr, r).permute(...lead.map((_, i) => i), lead.length, lead.length + 2, lead.length + 4, lead.length + 1, lead.length + 3).reshape(...lead, c * r * r, hr, wr);
}
/**
 * The last three dims of a pixel (un)shuffle's input, or an error: fixed channels (divisible by r²
 * to shuffle); a height and width fixed or chosen at run time (a super-resolution net over any
 * image size), which pixel_unshuffle must divide by r at every size (r·K, not K).
 */
function shuffleDims(op: 'pixel_shuffle' | 'pixel_unshuffle', x: Tensor, r: number): [number, Dim, Dim] {
  if (!Number.isInteger(r) || r < 1) throw new ModelDefinitionError(`${op}: the factor must be a positive integer, got ${describeValue(r)}${where()}`);
  const [c, h, w] = x.dims.slice(-3);
  const shuffle = op === 'pixel_shuffle', factor = shuffle ? 'upscale_factor' : 'downscale_factor';
  if (x.rank < 3 || typeof c !== 'number') throw new ModelDefinitionError(`${op}: input ${fmtShape(x.dims)} must be [*, C, H, W] with fixed channels C${where()}`);
  if (shuffle && c % (r * r)) throw new ModelDefinitionError(`${op}: input ${fmtShape(x.dims)} has ${c} channels, which ${factor}² ${r * r} must divide${where()}`);
  if (!shuffle) {
    const bad = [h!, w!].find((d) => divDims(d, r) === undefined);
    if (bad !== undefined) throw new ModelDefinitionError(`${op}: input ${fmtShape(x.dims)} has ${typeof bad === 'number' ? `a height or width ${bad}` : `a height or width '${bad}' chosen at run time`}, which ${factor} ${r} must divide${typeof bad === 'number' ? '' : ` at every size (give it as a multiple of ${r}: an input dim of ${r} beside 'K', reshaped to ${r}*K)`}${where()}`);
  }
  return [c, h!, w!];
}
/** The p-norm along `dim` (p 1, 2, ∞ or any positive number), as torch.norm computes it. */
function pNorm(op: string, x: Tensor, p: number, dim: number, keepdim: boolean): Tensor {
  if (typeof p !== 'number' || !(p > 0)) throw new ModelDefinitionError(`${op}: p must be a positive number or Infinity, got ${describeValue(p)}${where()}`);
  if (!Number.isInteger(dim) || dim < -x.rank || dim >= x.rank) throw new ModelDefinitionError(`${op}: dim must be an integer in [${-x.rank}, ${x.rank - 1}] for input ${fmtShape(x.dims)}, got ${describeValue(dim)}${where()}`);
  return x.norm(p, dim, keepdim);
}
/** torch.nn.functional.normalize: x / max(‖x‖_p, eps) along `dim`. */
export function normalize(x: Tensor, p = 2, dim = 1, eps = 1e-12): Tensor {
  x = floatArg('normalize', 'input', x);
  finite('normalize', 'eps', eps);
  return x.div(pNorm('normalize', x, p, dim, true).maximum(eps));
}
/** torch.nn.functional.cosine_similarity: Σ x1·x2 / sqrt(max(Σ x1² · Σ x2², eps²)) along `dim` (x1 and x2 broadcast). */
export function cosineSimilarity(x1: Tensor, x2: Tensor, dim = 1, eps = 1e-8): Tensor {
  x1 = floatArg('cosine_similarity', 'x1', x1); x2 = floatArg('cosine_similarity', 'x2', x2);
  finite('cosine_similarity', 'eps', eps);
  const d = x1.mul(x2);
  if (!Number.isInteger(dim) || dim < -d.rank || dim >= d.rank) throw new ModelDefinitionError(`cosine_similarity: dim must be an integer in [${-d.rank}, ${d.rank - 1}] for inputs ${fmtShape(x1.dims)} and ${fmtShape(x2.dims)}, got ${describeValue(dim)}${where()}`);
  // torch broadcasts x1 and x2 first: a dim of 1 broadcast along `dim` counts in the norms once per copy.
  const a = x1.expand(d.dims, d.bounds), b = x2.expand(d.dims, d.bounds);
  return d.sum(dim).div(a.mul(a).sum(dim).mul(b.mul(b).sum(dim)).maximum(eps * eps).sqrt());
}
/** torch.nn.functional.pairwise_distance: ‖x1 − x2 + eps‖_p along the last dim. */
export function pairwiseDistance(x1: Tensor, x2: Tensor, p = 2, eps = 1e-6, keepdim = false): Tensor {
  x1 = floatArg('pairwise_distance', 'x1', x1); x2 = floatArg('pairwise_distance', 'x2', x2);
  finite('pairwise_distance', 'eps', eps);
  return pNorm('pairwise_distance', x1.sub(x2).add(eps), p, -1, keepdim);
}
/**
 * torch.cdist(x1 [..., P, M], x2 [..., R, M], p = 2): the p-norm distance of every pair of rows,
 * [..., P, R] (batch dims broadcast; p ≥ 0, Infinity too). Computed directly, as torch does for
 * p ≠ 2 and up to 25 rows; for p = 2 with more rows torch takes ‖a‖² + ‖b‖² − 2a·b (clamped at
 * 0), whose rounding can differ from this by more than f32 rounding where two rows nearly agree.
 */
export function cdist(x1: Tensor, x2: Tensor, p = 2): Tensor {
  x1 = floatArg('cdist', 'x1', x1); x2 = floatArg('cdist', 'x2', x2);
  if (typeof p !== 'number' || !(p >= 0)) throw new ModelDefinitionError(`cdist: p must be a number ≥ 0 or Infinity, got ${describeValue(p)}${where()}`);
  if (x1.rank < 2 || x2.rank < 2 || x1.dims[x1.rank - 1] !== x2.dims[x2.rank - 1]) {
    throw new ModelDefinitionError(`cdist: x1 and x2 must be [..., P, M] and [..., R, M] with the same M, got ${fmtShape(x1.dims)} and ${fmtShape(x2.dims)}${where()}`);
  }
  return x1.unsqueeze(-2).sub(x2.unsqueeze(-3)).norm(p, -1);
}
/** torch's softsign: x / (1 + |x|). */
export const softsign = (x: Tensor): Tensor => { x = floatArg('softsign', 'input', x); return x.div(x.abs().add(1)); };
/** torch's PReLU: x where x > 0, else w·x, with w one value or one per channel (dim 1; dim 0 of a 1-D input); as leaky ReLU, a zero's sign may differ. */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  x = floatArg('prelu', 'input', x); weight = floatArg('prelu', 'weight', weight);
  const n = weight.rank === 1 ? weight.maxSize(0) : -1, ch = x.rank >= 2 ? 1 : 0;
  if (n < 1 || (n > 1 && (x.rank === 0 || x.dims[ch] !== n))) {
    throw new ModelDefinitionError(`prelu: weight must be [1] or [channels] (dim ${ch} of input ${fmtShape(x.dims)}), got ${fmtShape(weight.dims)}${where()}`);
  }
  const w = n === 1 || x.rank <= 1 ? weight : weight.reshape(n, ...Array<number>(x.rank - 2).fill(1));
  return x.maximum(0).add(x.minimum(0).mul(w));
}
/** torch's GLU: the first half of `dim` times the sigmoid of the second. */
export function glu(x: Tensor, dim = -1): Tensor {
  x = floatArg('glu', 'input', x);
  const n = x.dim(dim);
  if (typeof n !== 'number' || n % 2) throw new ModelDefinitionError(`glu: dim ${dim} of ${fmtShape(x.dims)} must be a fixed, even size${where()}`);
  const [a, b] = x.split(n / 2, dim) as [Tensor, Tensor];
  return a.mul(b.sigmoid());
}
export const softmax = (x: Tensor, dim: number): Tensor => tensorArg('softmax', 'input', x).softmax(dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => tensorArg('log_softmax', 'input', x).logSoftmax(dim);
/** torch.topk(x, k, dim, largest, sorted): [values, indices] (Tensor.topk). */
export const topk = (x: Tensor, k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] => tensorArg('topk', 'input', x).topk(k, dim, largest, sorted);

/** Rows of `table` picked by integer `indices` (nn.Embedding). */
export interface EmbeddingOptions {
  /** Rows looked up whose `normType`-norm exceeds it are scaled to maxNorm / (norm + 1e-7), as PyTorch renormalizes them. */
  maxNorm?: number | null;
  normType?: number;
  /** Training only (which row gets no gradient, gradient scaling, sparse gradients): no effect on the outputs. */
  paddingIdx?: number | null;
  scaleGradByFreq?: boolean;
  sparse?: boolean;
}

/** Embedding's maxNorm (absent, null, or a finite number ≥ 0) and normType (a positive number or Infinity), checked for `op`. */
export function checkEmbeddingNorm(op: string, o: EmbeddingOptions): void {
  const { maxNorm, normType } = o;
  if (maxNorm !== undefined && maxNorm !== null && !(typeof maxNorm === 'number' && maxNorm >= 0 && maxNorm < Infinity)) throw new ModelDefinitionError(`${op}: max_norm must be a finite number ≥ 0 (or null), got ${describeValue(maxNorm)}${where()}`);
  if (normType !== undefined && !(typeof normType === 'number' && normType > 0)) throw new ModelDefinitionError(`${op}: norm_type must be a positive number or Infinity, got ${describeValue(normType)}${where()}`);
}

/**
 * torch.nn.functional.embedding: rows of `table` by i32 index. With maxNorm, PyTorch renormalizes
 * each looked-up row in place during the forward; every row a lookup can return is then the
 * renormalized one (a row already renormalized has a norm just under maxNorm and stays), so the
 * whole table is renormalized before the lookup instead: constants, folded at compile time.
 * Other uses of the same weight (a tied output layer) read it as loaded; in PyTorch they would
 * read whichever rows earlier lookups had renormalized, which depends on the calls' history.
 */
export function embedding(indices: Tensor, table: Tensor, opts: EmbeddingOptions = {}): Tensor {
  indices = tensorArg('embedding', 'indices', indices); table = tensorArg('embedding', 'weight', table);
  checkOptions('embedding', opts, ['maxNorm', 'normType', 'paddingIdx', 'scaleGradByFreq', 'sparse']);
  if (indices.dtype !== 'i32') throw new ModelDefinitionError(`embedding: indices must be i32, got ${indices.dtype}${where()}`);
  checkEmbeddingNorm('embedding', opts);
  const { maxNorm, normType = 2 } = opts;
  if (maxNorm === undefined || maxNorm === null) return record('gather', [table, indices]);
  if (table.rank !== 2 || table.dtype !== 'f32') throw new ModelDefinitionError(`embedding: max_norm needs an f32 weight [num_embeddings, embedding_dim], got ${table.dtype} ${fmtShape(table.dims)}${where()}`);
  const norm = pNorm('embedding', table, normType, -1, true);
  const scale = whereOp(norm.gt(maxNorm), scalarLike(maxNorm, norm).div(norm.add(1e-7)), 1);
  return record('gather', [table.mul(scale), indices]);
}

/**
 * torch.nn.functional.one_hot: i32 [..., numClasses] (PyTorch: int64), 1 at each index. An index
 * outside [0, numClasses) is an error as in PyTorch: refused when constant, a trap at run time (the
 * indices are also read through a gather of numClasses zeros, which checks them). numClasses must be
 * given (PyTorch's −1 takes it from the data); it may be a size chosen at run time (x.size(1)).
 */
export function oneHot(indices: Tensor, numClasses: number): Tensor {
  indices = tensorArg('one_hot', 'input', indices);
  if (indices.dtype !== 'i32') throw new ModelDefinitionError(`one_hot: input must be i32 (class indices), got ${indices.dtype}${where()}`);
  if ((numClasses as unknown) instanceof SymSize) {
    // A class count chosen at run time (one_hot(labels, logits.size(1))): the same, over arange(n).
    const n = numClasses, checked = record('gather', [zeros([n]).cast('i32'), indices]); // (n: a SymSize, typed as a number)
    return indices.unsqueeze(-1).eq(arange(n)).cast('i32').add(checked.unsqueeze(-1));
  }
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 2 ** 24) throw new ModelDefinitionError(`one_hot: num_classes must be an integer in [1, 2^24]${numClasses === -1 ? ' (−1, the largest index + 1, depends on the data: give it)' : ''}, got ${describeValue(numClasses)}${where()}`);
  const checked = record('gather', [constant(new Int32Array(numClasses), [numClasses], 'i32', 'one_hot classes'), indices]); // zeros, or a trap
  return indices.unsqueeze(-1).eq(arange(numClasses)).cast('i32').add(checked.unsqueeze(-1));
}

export type EmbeddingBagMode = 'sum' | 'mean' | 'max';
export interface EmbeddingBagOptions extends EmbeddingOptions {
  offsets?: Tensor | null;
  mode?: EmbeddingBagMode;
  perSampleWeights?: Tensor | null;
  includeLastOffset?: boolean;
}
/**
 * embedding_bag's rules for 1-D offsets [n], as PyTorch 1.13 raises: offsets[0] is 0, no offset is
 * below the one before it (PyTorch's sum fails an internal check, its max corrupts its heap), none
 * is past the end of the L indices (one at L, an empty bag, is fine), and with includeLastOffset
 * the last is L, as PyTorch documents (it takes a smaller one in some modes, positions after it
 * in no bag, and corrupts its heap in others: mode max, or padding_idx). Each rule: `bad` on
 * constant offsets at position k; `check` on run-time ones, [ok, value] of one shape for a check
 * node; a message with {0} the offset (and {1} its position: indexError's form).
 */
function offsetRules(n: number, L: Dim, size: () => Tensor, includeLastOffset: boolean) {
  const length = typeof L === 'number' ? String(L) : `${L} of this call`;
  const rules: Array<{ bad: (o: Int32Array, k: number) => boolean; check: (o: Tensor) => [Tensor, Tensor]; msg: string }> = [
    { bad: (o, k) => k === 0 && o[0] !== 0, check: (o) => { const f = o.slice(0, 0, 1); return [f.eq(0), f]; }, msg: 'offsets[0] must be 0 (where the first bag starts), got {0}' },
    { bad: (o, k) => o[k]! > (typeof L === 'number' ? L : Infinity), check: (o) => [o.le(size()), o], msg: `offsets[{1}] = {0} is past the end of the indices (${length})` },
  ];
  // Each offset against the one before it (the first against itself).
  if (n > 1) rules.splice(1, 0, { bad: (o, k) => k > 0 && o[k]! < o[k - 1]!, check: (o) => [o.ge(cat([o.slice(0, 0, 1), o.slice(0, 0, n - 1)], 0)), o], msg: 'offsets must not decrease, got offsets[{1}] = {0}, below the offset before it' });
  if (includeLastOffset) rules.push({ bad: (o, k) => typeof L === 'number' && k === n - 1 && o[k] !== L, check: (o) => { const e = o.slice(0, n - 1, n); return [e.eq(size()), e]; }, msg: `with includeLastOffset the last offset must be the number of indices (${length}), got {0}` });
  return rules;
}
/**
 * The offsets of a 1-D embedding_bag, checked by offsetRules: constant ones here (a
 * ModelDefinitionError), run-time ones by a `check` node per rule (its trap, or the reference's
 * error), each reading the previous one's result so they run in order, before any bag is summed.
 */
function checkedOffsets(offsets: Tensor, indices: Tensor, includeLastOffset: boolean): Tensor {
  const L = indices.dim(0), n = offsets.maxSize(0);
  // L as a value: a named size's is the count of the call's positions.
  const size = () => sizeTensor(L);
  const rules = offsetRules(n, L, size, includeLastOffset);
  if (offsets.node.op === 'const') {
    const o = offsets.node.attrs.data as Int32Array;
    for (const { bad, msg } of rules) {
      const k = o.findIndex((_, k) => bad(o, k));
      if (k >= 0) throw new ModelDefinitionError(`embedding_bag: ${msg.replace('{0}', String(o[k])).replaceAll('{1}', String(k))}${where()}`);
    }
    if (typeof L === 'number') return offsets; // (against a named size L, the rules that read it are checked when the code runs)
  }
  return rules.reduce((o, r) => { const [ok, v] = r.check(o); return runTimeCheck('embedding_bag', o, ok, v, r.msg); }, offsets);
}

/**
 * x, once every element of the bool `ok` holds when the code runs; else the call fails with
 * `msg` ({0} the i32 `v` at the first false element, {1} its position), as the reference does.
 * The nodes that read the result run after the check.
 */
export function runTimeCheck(op: string, x: Tensor, ok: Tensor, v: Tensor, msg: string): Tensor {
  return record('check', [x, ok, v], { error: indexError(op, currentScope() || undefined, msg) });
}

/**
 * x, once its positions (dims 2…) number more than one. PyTorch's instance norm raises on a
 * single position when it normalizes by the input's own statistics (in eval too, unless the
 * module tracks running statistics); F.instance_norm's math (and ONNX's) would give the bias. A
 * count chosen at run time is checked when the code runs.
 */
export function moreThanOnePosition(op: string, x: Tensor): Tensor {
  const positions = x.dims.slice(2);
  if (positions.some((d) => leastSize(d) > 1)) return x; // (a declared minimum above 1 too)
  const why = 'PyTorch raises here unless the module uses running statistics';
  if (positions.every((d) => typeof d === 'number')) throw new ModelDefinitionError(`${op}: expected more than 1 spatial element, got input size ${fmtShape(x.dims)} (${why})${where()}`);
  const n = sizeTensor(positions.reduce<Dim>((p, q) => mulDims(p, q), 1));
  return runTimeCheck(op, x, n.gt(1), n, `expected more than 1 spatial element, got {0} (input ${fmtShape(x.dims)}; ${why})`);
}

/** Bags above this many (bag, position, feature) cells are refused with 1-D input: each bag reads every position. */
const BAG_CELLS = 1 << 22;
/**
 * torch.nn.functional.embedding_bag: each bag's looked-up rows summed (times perSampleWeights, mode
 * 'sum' only), averaged or maxed; entries equal to paddingIdx left out (and not counted); an empty
 * bag gives zeros. Bags are the rows of a 2-D `indices` [B, N], or with 1-D `indices` [L] the runs
 * offsets[b] … offsets[b + 1] (the last to L; with includeLastOffset the last offset, L, ends it).
 * Offsets that break PyTorch's rules (offsetRules) are an error: at trace time when constant, else
 * when the code runs. Each sum runs in position order, as PyTorch's.
 */
export function embeddingBag(indices: Tensor, table: Tensor, opts: EmbeddingBagOptions = {}): Tensor {
  checkOptions('embedding_bag', opts, ['offsets', 'mode', 'perSampleWeights', 'includeLastOffset', 'maxNorm', 'normType', 'paddingIdx', 'scaleGradByFreq', 'sparse']);
  indices = tensorArg('embedding_bag', 'indices', indices); table = tensorArg('embedding_bag', 'weight', table);
  const { mode = 'mean', offsets, perSampleWeights: w, includeLastOffset = false, paddingIdx } = opts;
  if (mode !== 'sum' && mode !== 'mean' && mode !== 'max') throw new ModelDefinitionError(`embedding_bag: mode must be 'sum', 'mean' or 'max', got ${describeValue(mode)}${where()}`);
  if (table.rank !== 2) throw new ModelDefinitionError(`embedding_bag: weight must be [num_embeddings, embedding_dim], got ${fmtShape(table.dims)}${where()}`);
  if (w !== undefined && w !== null) {
    if (mode !== 'sum') throw new ModelDefinitionError(`embedding_bag: perSampleWeights is only supported with mode 'sum', got mode '${mode}'${where()}`);
    tensorArg('embedding_bag', 'perSampleWeights', w);
    if (w.dtype !== 'f32' || w.rank !== indices.rank || w.dims.some((d, k) => d !== indices.dims[k])) throw new ModelDefinitionError(`embedding_bag: perSampleWeights must be f32 of the indices' shape ${fmtShape(indices.dims)}, got ${w.dtype} ${fmtShape(w.dims)}${where()}`);
  }
  const n = table.maxSize(0);
  if (paddingIdx !== undefined && paddingIdx !== null && !(Number.isInteger(paddingIdx) && paddingIdx >= -n && paddingIdx < n)) throw new ModelDefinitionError(`embedding_bag: padding_idx must be an integer in [${-n}, ${n}), got ${describeValue(paddingIdx)}${where()}`);
  const rows = embedding(indices, table, { maxNorm: opts.maxNorm, normType: opts.normType }); // [B, N, D] or [L, D]
  const weighted = w === undefined || w === null ? rows : rows.mul(w.unsqueeze(-1));
  // Which positions count: all, or those not holding padding_idx ([B, N] or [L]).
  const kept = paddingIdx === undefined || paddingIdx === null ? undefined : indices.ne(paddingIdx < 0 ? paddingIdx + n : paddingIdx);
  // in[b, j]: position j counts towards bag b; with 1-D indices the rows are [1, L, D] against bags [bags, L, 1].
  let inBag: Tensor | undefined, spread = (t: Tensor) => t;
  if (indices.rank === 2) {
    if (offsets !== undefined && offsets !== null) throw new ModelDefinitionError(`embedding_bag: offsets must be left out with 2-D indices ${fmtShape(indices.dims)} (each row is a bag)${where()}`);
    // PyTorch 1.13 takes it and drops the last row (mean then averages wrongly; max corrupts its heap).
    if (includeLastOffset) throw new ModelDefinitionError(`embedding_bag: includeLastOffset needs 1-D indices with offsets; with 2-D indices ${fmtShape(indices.dims)} each row is a bag (PyTorch 1.13 drops the last row)${where()}`);
    inBag = kept;
  } else if (indices.rank === 1) {
    if (offsets === undefined || offsets === null) throw new ModelDefinitionError(`embedding_bag: 1-D indices ${fmtShape(indices.dims)} need offsets (where each bag starts)${where()}`);
    tensorArg('embedding_bag', 'offsets', offsets);
    if (offsets.dtype !== 'i32' || offsets.rank !== 1 || (includeLastOffset && (typeof offsets.dims[0] !== 'number' || offsets.maxSize(0) < 2))) throw new ModelDefinitionError(`embedding_bag: offsets must be i32 [bags${includeLastOffset ? ' + 1' : ''}]${includeLastOffset ? ' of a fixed size' : ''}, got ${offsets.dtype} ${fmtShape(offsets.dims)}${where()}`);
    if (typeof offsets.dims[0] !== 'number') return bagsOverRunTime(mode, indices, offsets, rows, weighted, kept);
    const L = indices.dim(0), B = offsets.maxSize(0) - (includeLastOffset ? 1 : 0);
    if (B * indices.maxSize(0) * table.maxSize(1) > BAG_CELLS) throw new ModelDefinitionError(`embedding_bag: ${B} bags over ${indices.maxSize(0)} positions of ${table.maxSize(1)} features is too large for 1-D indices (each bag reads every position; at most ${BAG_CELLS} cells); give 2-D indices [bags, n] when the bags are of one size${where()}`);
    // Bag b holds positions offsets[b] ≤ j < its end: the next offset, or (the last bag) every position after.
    const off = checkedOffsets(offsets, indices, includeLastOffset), last = ints([2 ** 31 - 1]); // (one bag: off.slice(0, 1, 1) would be empty, which slice refuses)
    const ends = includeLastOffset ? off.slice(0, 1, B + 1) : B === 1 ? last : cat([off.slice(0, 1, B), last], 0);
    const at = arange(indices.maxSize(0)), j = (typeof L === 'number' ? at : at.slice(0, 0, L)).unsqueeze(0);
    const member = j.ge(off.slice(0, 0, B).unsqueeze(1)).cast('i32').mul(j.lt(ends.unsqueeze(1)).cast('i32'));
    inBag = (kept ? member.mul(kept.cast('i32').unsqueeze(0)) : member).gt(0);
    spread = (t) => t.unsqueeze(0);
  } else throw new ModelDefinitionError(`embedding_bag: indices must be [B, N], or [L] with offsets, got ${fmtShape(indices.dims)}${where()}`);
  const axis = 1; // N of [B, N, D], or L of [bags, L, D]
  if (!inBag) return mode === 'sum' ? weighted.sum(axis) : mode === 'mean' ? rows.mean(axis) : rows.max(axis);
  const mask = inBag.unsqueeze(-1), count = inBag.cast('f32').sum(axis).unsqueeze(-1);
  if (mode === 'max') return whereOp(count.gt(0), whereOp(mask, spread(rows), -Infinity).max(axis), 0);
  const sum = whereOp(mask, spread(weighted), 0).sum(axis);
  return mode === 'sum' ? sum : sum.div(count.maximum(1));
}

/**
 * A 1-D embedding_bag whose number of bags (offsets [B]) is chosen at run time (a recommender's
 * batch): the offsets checked by the same rules when the code runs (each against the one before
 * it, read by a gather at max(k − 1, 0)), bag b running from offsets[b] to offsets[b + 1] or, the
 * last, to the end.
 */
function bagsOverRunTime(mode: 'sum' | 'mean' | 'max', indices: Tensor, offsets: Tensor, rows: Tensor, weighted: Tensor, kept: Tensor | undefined): Tensor {
  const B = offsets.dim(0), L = indices.dim(0), length = typeof L === 'number' ? String(L) : `${L} of this call`;
  const k = ones([B], offsets.bounds).cumsum(0).cast('i32').sub(1); // 0 … B − 1
  const prev = offsets.gather(0, k.sub(1).maximum(0)), first = offsets.slice(0, 0, 1);
  let off = runTimeCheck('embedding_bag', offsets, first.eq(0), first, 'offsets[0] must be 0 (where the first bag starts), got {0}');
  off = runTimeCheck('embedding_bag', off, off.ge(prev), off, 'offsets must not decrease, got offsets[{1}] = {0}, below the offset before it');
  off = runTimeCheck('embedding_bag', off, off.le(sizeTensor(L, indices.bounds)), off, `offsets[{1}] = {0} is past the end of the indices (${length})`);
  const last = k.add(1).eq(sizeTensor(B, offsets.bounds));
  const ends = whereOp(last, 2 ** 31 - 1, off.gather(0, k.add(1).minimum(sizeTensor(B, offsets.bounds).sub(1))));
  const j = ones([L], indices.bounds).cumsum(0).cast('i32').sub(1).unsqueeze(0);
  const member = j.ge(off.unsqueeze(1)).logicalAnd(j.lt(ends.unsqueeze(1)));
  const inBag = kept ? member.logicalAnd(kept.unsqueeze(0)) : member;
  const mask = inBag.unsqueeze(-1), count = inBag.cast('f32').sum(1).unsqueeze(-1);
  if (mode === 'max') return whereOp(count.gt(0), whereOp(mask, rows.unsqueeze(0), -Infinity).max(1), 0);
  const sum = whereOp(mask, weighted.unsqueeze(0), 0).sum(1);
  return mode === 'sum' ? sum : sum.div(count.maximum(1));
}

/** where(cond, a, b): a where cond is true, else b. */
export function whereOp(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  // A number takes the other branch's dtype where it can (torch.where(c, int_tensor, 0) stays int).
  tensorArg('where', 'condition', cond);
  [a, b] = [asOperand(a), asOperand(b)];
  for (const [name, v] of [['input', a], ['other', b]] as const) {
    if (typeof v !== 'number' && !(v instanceof Tensor)) throw new ModelDefinitionError(`where: ${name} must be a tensor or a number, got ${describeValue(v)}${where()}`);
  }
  // (A number with a bool branch is an int if it is integral, as torch's where(c, mask, 0).)
  const lift = (v: Tensor | number, other: Tensor | number) => (typeof v !== 'number' ? v
    : other instanceof Tensor && other.dtype === 'bool' && v === (v | 0) ? intScalar(v) : scalarLike(v, other));
  let x = lift(a, b), y = lift(b, a);
  // A bool branch takes the other's type, as torch promotes it (where(c, mask, 2.5) is f32).
  if (x.dtype === 'bool' && y.dtype !== 'bool') x = x.cast(y.dtype);
  if (y.dtype === 'bool' && x.dtype !== 'bool') y = y.cast(x.dtype);
  // torch promotes the branches as arithmetic does: an i32 branch with an f32 one (or a number
  // that is not an integer: where(c, int_tensor, 0.5)) gives f32.
  if (x.dtype === 'i32' && y.dtype === 'f32') x = x.cast('f32');
  if (x.dtype === 'f32' && y.dtype === 'i32') y = y.cast('f32');
  return record('where', [cond, x, y]);
}

/** torch.gather(input, dim, index): Tensor.gather's functional form. */
export const gather = (input: Tensor, dim: number, index: Tensor): Tensor => tensorArg('gather', 'input', input).gather(dim, index);

export { scaledDotProductAttention, sinusoidalPositionalEncoding, causalMask } from './attention.ts';
