// torch.nn.functional.unfold and fold: sliding blocks of an image as columns (im2col) and back
// (col2im, overlaps summed), composed of strided slices, stacks and zero padding.
// Shape legend: N batch, C channels, (kh, kw) kernel, (oh, ow) blocks along H and W, L = oh·ow.

import { fmtShape } from '../ir/types.ts';
import { describeValue } from '../ir/print.ts';
import { ModelDefinitionError, stack, Tensor, where } from './tensor.ts';
import { checkOptions } from './options.ts';
import { floatArg, padZeros, pairOf, spreadAlong, windows } from './functional.ts';

type Pair = number | [number, number];

export interface BlockOptions { dilation?: Pair; padding?: Pair; stride?: Pair }

interface Geometry { k: [number, number]; d: [number, number]; p: [number, number]; s: [number, number] }
function geometry(op: string, kernelSize: unknown, o: BlockOptions): Geometry {
  checkOptions(op, o, ['dilation', 'padding', 'stride']);
  return {
    k: pairOf(op, 'kernel_size', kernelSize, 1), d: pairOf(op, 'dilation', o.dilation ?? 1, 1),
    p: pairOf(op, 'padding', o.padding ?? 0, 0), s: pairOf(op, 'stride', o.stride ?? 1, 1),
  };
}
/** Blocks along an axis of n: ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1. */
const blocks = (n: number, g: Geometry, i: 0 | 1) => windows(n, g.p[i], g.p[i], g.d[i] * (g.k[i] - 1) + 1, g.s[i], false);

/**
 * torch.nn.functional.unfold: [N, C, H, W] (or unbatched [C, H, W]) → [N, C·kh·kw, L], column
 * c·kh·kw + i·kw + j of block (bh, bw) holding x[c, bh·sh + i·dh − ph, bw·sw + j·dw − pw] (zero
 * outside the image).
 */
export function unfold(x: Tensor, kernelSize: Pair, o: BlockOptions = {}): Tensor {
  const g = geometry('unfold', kernelSize, o);
  x = floatArg('unfold', 'input', x);
  if (x.rank === 3) return unfold(x.unsqueeze(0), kernelSize, o).squeeze(0);
  if (x.rank !== 4) throw new ModelDefinitionError(`unfold: expected [N, C, H, W] or unbatched [C, H, W] input, got ${fmtShape(x.dims)}${where()}`);
  if (x.dims.slice(1).some((d) => typeof d !== 'number')) throw new ModelDefinitionError(`unfold: input ${fmtShape(x.dims)} has a size chosen at run time outside the batch dim (0); C, H and W must be fixed${where()}`);
  const [C, H, W] = x.maxShape.slice(1) as [number, number, number], oh = blocks(H, g, 0), ow = blocks(W, g, 1);
  if (oh < 1 || ow < 1) throw new ModelDefinitionError(`unfold: kernel ${g.k.join('×')} (dilation ${g.d.join('×')}, padding ${g.p.join('×')}) does not fit input ${fmtShape(x.dims)}${where()}`);
  const xp = padZeros(padZeros(x, 2, g.p[0], g.p[0]), 3, g.p[1], g.p[1]);
  const taps: Tensor[] = [];
  for (let i = 0; i < g.k[0]; i++) {
    for (let j = 0; j < g.k[1]; j++) {
      const r = i * g.d[0], q = j * g.d[1];
      taps.push(xp.slice(2, r, r + (oh - 1) * g.s[0] + 1, g.s[0]).slice(3, q, q + (ow - 1) * g.s[1] + 1, g.s[1])); // [N, C, oh, ow]
    }
  }
  return stack(taps, 2).reshape(x.dims[0]!, C * g.k[0] * g.k[1], oh * ow);
}


/**
 * torch.nn.functional.fold: [N, C·kh·kw, L] (or unbatched [C·kh·kw, L]) → [N, C, H, W], each block's
 * columns added back where unfold took them (overlaps summed in column order, as PyTorch's col2im
 * adds them), the padding cut off.
 */
export function fold(x: Tensor, outputSize: Pair, kernelSize: Pair, o: BlockOptions = {}): Tensor {
  const g = geometry('fold', kernelSize, o);
  const [H, W] = pairOf('fold', 'output_size', outputSize, 1);
  x = floatArg('fold', 'input', x);
  if (x.rank === 2) return fold(x.unsqueeze(0), outputSize, kernelSize, o).squeeze(0);
  if (x.rank !== 3) throw new ModelDefinitionError(`fold: expected [N, C·kh·kw, L] or unbatched [C·kh·kw, L] input, got ${fmtShape(x.dims)}${where()}`);
  if (x.dims.slice(1).some((d) => typeof d !== 'number')) throw new ModelDefinitionError(`fold: input ${fmtShape(x.dims)} has a size chosen at run time outside the batch dim (0)${where()}`);
  const K = g.k[0] * g.k[1], [CK, L] = x.maxShape.slice(1) as [number, number], oh = blocks(H, g, 0), ow = blocks(W, g, 1);
  if (CK % K) throw new ModelDefinitionError(`fold: input ${fmtShape(x.dims)} has ${CK} columns (dim 1), not divisible by the kernel's ${g.k.join('×')} = ${K}${where()}`);
  if (oh < 1 || ow < 1 || oh * ow !== L) throw new ModelDefinitionError(`fold: output_size ${H}×${W} with kernel ${g.k.join('×')}, dilation ${g.d.join('×')}, padding ${g.p.join('×')}, stride ${g.s.join('×')} makes ${Math.max(oh, 0)}×${Math.max(ow, 0)} blocks, input ${fmtShape(x.dims)} has ${describeValue(L)}${where()}`);
  const N = x.dims[0]!, C = CK / K, Hp = H + 2 * g.p[0], Wp = W + 2 * g.p[1];
  const cols = x.reshape(N, C, g.k[0], g.k[1], oh, ow);
  let sum: Tensor | undefined;
  for (let i = 0; i < g.k[0]; i++) {
    for (let j = 0; j < g.k[1]; j++) {
      const r = i * g.d[0], q = j * g.d[1];
      const block = spreadAlong(spreadAlong(cols.select(2, i).select(2, j), 2, g.s[0]), 3, g.s[1]); // [N, C, rows, cols]
      const placed = padZeros(padZeros(block, 2, r, Hp - r - block.maxSize(2)), 3, q, Wp - q - block.maxSize(3));
      sum = sum ? sum.add(placed) : placed;
    }
  }
  return sum!.slice(2, g.p[0], g.p[0] + H).slice(3, g.p[1], g.p[1] + W);
}
