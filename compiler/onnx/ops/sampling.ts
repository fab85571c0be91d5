// ONNX GridSample (opset 16; 20's names and 5-D) and AffineGrid (opset 20), through the DSL's
// F.gridSample and F.affineGrid (compiler/dsl/sampling.ts), which follow torch 1.13's kernels.
// ONNX defines GridSample by reference to torch.nn.functional.grid_sample (opset 16's text says
// "see also", and its reference implementation cites GridSampler.h); where the spec says more, it
// is followed, and where it is silent torch's 4-D kernel is the definition. Known differences:
// - ONNX Runtime and ONNX's reference implementation pad the unnormalized coordinate first (when it
//   lies outside the pixels' extent) and then each tap again; torch pads each tap only. So bicubic
//   under 'border' within two pixels of an edge differs from them (a row [1, 2, 4, 8] sampled at
//   x = −1.2 without align_corners: 0.99325 here and in torch, 1 in ONNX's reference), and so may
//   'reflection'; bilinear agrees up to rounding, and nearest but where a reflected coordinate
//   is a tie (they round before reflecting: x = 4.5 over 4 pixels rounds to 4, reflected to 3;
//   here it reflects to 2.5, rounded to 2).
// - Opset 20's text says 'nearest' rounds a tie to the even index. torch's 4-D kernel does (so do
//   we); its 5-D kernel rounds ties away from zero, and so do ONNX's own node tests of 5-D nearest
//   (test_gridsample_volumetric_nearest_*, made with torch 2.0) and its reference implementation
//   (std::round for 3 spatial dims). We follow those (the DSL's 5-D path is torch's kernel).
// - NaN and ±inf coordinates are not specified: we give torch's (its 4-D and 5-D kernels differ).
import { affineGrid as dslAffineGrid, gridSample as dslGridSample, type GridSampleMode, type GridSamplePadding } from '../../dsl/sampling.ts';
import { fmtShape } from '../../ir/types.ts';
import type { Tensor } from '../../dsl/tensor.ts';
import { f32Input, type Translate } from './common.ts';

const MODES_16: Record<string, GridSampleMode> = { bilinear: 'bilinear', nearest: 'nearest', bicubic: 'bicubic' };
const MODES_20: Record<string, GridSampleMode> = { linear: 'bilinear', nearest: 'nearest', cubic: 'bicubic' };
const PADS: readonly GridSamplePadding[] = ['zeros', 'border', 'reflection'];

export const gridSample: Translate = (c): Tensor => {
  c.only('mode', 'padding_mode', 'align_corners');
  const x = f32Input(c, 0, 'X'), grid = f32Input(c, 1, 'grid');
  const names = c.opset < 20 ? MODES_16 : MODES_20, m = c.str('mode', c.opset < 20 ? 'bilinear' : 'linear');
  const mode = Object.hasOwn(names, m) ? names[m]! : c.unsupported(`mode '${m}' (opset ${c.opset} names ${Object.keys(names).map((k) => `'${k}'`).join(', ')})`);
  const pad = c.str('padding_mode', 'zeros') as GridSamplePadding;
  if (!PADS.includes(pad)) c.unsupported(`padding_mode '${pad}' (expected 'zeros', 'border' or 'reflection')`);
  const ac = c.int('align_corners', 0) !== 0;
  const r = x.rank;
  if (r !== 4 && !(r === 5 && c.opset >= 20)) c.unsupported(`X ${fmtShape(x.dims)}: GridSample takes [N, C, H, W]${c.opset >= 20 ? ' or [N, C, D, H, W] (1-D and past 3-D spatial inputs have no kernel here)' : ' before opset 20'}`);
  if (r === 5 && mode === 'bicubic') c.unsupported(`mode '${m}' on 5-D X ${fmtShape(x.dims)} (tricubic; only 4-D input takes it)`);
  return dslGridSample(x, grid, { mode, paddingMode: pad, alignCorners: ac });
};

/** AffineGrid (opset 20): theta [N, 2, 3] or [N, 3, 4], size [N, C, H, W] or [N, C, D, H, W] known at compile time (N may be symbolic). */
export const affineGrid: Translate = (c): Tensor => {
  c.only('align_corners');
  const theta = f32Input(c, 0, 'theta'), size = c.dims(1, 'size');
  return dslAffineGrid(theta, size, { alignCorners: c.int('align_corners', 0) !== 0 });
};
