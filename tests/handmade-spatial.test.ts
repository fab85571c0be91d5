// Vision models that sample space, written by hand in the DSL as a user ports them from PyTorch,
// against PyTorch 1.13 (tests/fixtures/torch-extra/handmade_spatial_*, made by
// make_handmade_spatial.py): a Spatial Transformer Network (localization net → theta →
// F.affineGrid → F.gridSample → classifier) and a Swin Transformer stage (window partition by
// view/permute, shifted windows by roll, the shifted windows' attention mask, the relative position
// bias gathered by an index built with meshgrid, window reverse). Each compiled (every test ISA, 2
// threads) and in the reference at batch 2, and as one artifact over a batch chosen at run time at
// batches 1, 2 and 3.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { arange, defineModel, F, meshgrid, Module, nn, readSafetensors, stack, stateDictFrom, type InputSpec, type Tensor } from '../compiler/index.ts';
import '../runtime/node.ts';
import { expectTorchCase, expectTorchRunTime } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra');
const read = (c: string, f: string) => readSafetensors(readFileSync(join(FIX, `handmade_spatial_${c}`, f)), `handmade_spatial_${c}/${f}`);
const weights = (c: string) => stateDictFrom(read(c, 'weights.safetensors'));
type Fwd = (m: Module, i: Record<string, Tensor>) => Record<string, Tensor>;
const one: Fwd = (m, i) => (m as unknown as { call(x: Tensor): Record<string, Tensor> }).call(Object.values(i)[0]!);

/** One artifact over a batch chosen at run time, at the fixture's batch and at dyn.a / dyn.b's (expectTorchRunTime). */
const runTimeCase = (c: string, module: Module, inputs: Record<string, InputSpec>, forward: Fwd) =>
  expectTorchRunTime(defineModel({ name: `${c}_rt`, module, inputs, forward }), read(c, 'io.safetensors'));

// --- Spatial Transformer Network -------------------------------------------------------------------

/** PyTorch's STN tutorial, scaled down; the bicubic output is a variant's sampler on the same theta. */
export class STN extends Module {
  localization = new nn.Sequential(new nn.Conv2d(1, 4, 5), new nn.MaxPool2d(2, { stride: 2 }), new nn.ReLU(),
    new nn.Conv2d(4, 6, 3), new nn.MaxPool2d(2, { stride: 2 }), new nn.ReLU());
  fc_loc = new nn.Sequential(new nn.Linear(6 * 2 * 2, 16), new nn.ReLU(), new nn.Linear(16, 3 * 2));
  conv1 = new nn.Conv2d(1, 4, 3);
  fc = new nn.Linear(4 * 7 * 7, 5);
  forward(x: Tensor): Record<string, Tensor> {
    const xs = this.localization.call(x).view(-1, 6 * 2 * 2);
    const theta = this.fc_loc.call(xs).view(-1, 2, 3);
    const grid = F.affineGrid(theta, x.size(), { alignCorners: false });
    const warped = F.gridSample(x, grid, { alignCorners: false });
    const y = F.relu(F.maxPool2d(this.conv1.call(warped), 2)).view(-1, 4 * 7 * 7);
    const gridAc = F.affineGrid(theta, x.size(), { alignCorners: true });
    const bicubic = F.gridSample(x, gridAc, { mode: 'bicubic', paddingMode: 'reflection', alignCorners: true });
    return { theta, warped, logits: F.logSoftmax(this.fc.call(y), 1), bicubic };
  }
}

test('STN (localization net → theta → affineGrid → gridSample → classifier; a bicubic reflection sampler on the same theta) matches PyTorch, fixed and over a batch chosen at run time', async () => {
  const m = new STN().loadStateDict(weights('stn'));
  expect(await expectTorchCase(defineModel({ name: 'stn', module: m, inputs: { x: [2, 1, 16, 16] }, forward: one }), read('stn', 'io.safetensors'), { threads: 2 }))
    .toEqual(['theta', 'warped', 'logits', 'bicubic']);
  const dims = await runTimeCase('stn', m, { x: { shape: ['N', 1, 16, 16], max: { N: 3 } } }, one);
  expect(dims.warped).toEqual(['N', 1, 16, 16]);
});

// --- Swin Transformer ------------------------------------------------------------------------------

function windowPartition(x: Tensor, ws: number): Tensor {
  const [B, H, W, C] = x.dims as [string | number, number, number, number];
  return x.view(B, H / ws, ws, W / ws, ws, C).permute(0, 1, 3, 2, 4, 5).view(-1, ws, ws, C);
}
function windowReverse(windows: Tensor, ws: number, B: string | number, H: number, W: number): Tensor {
  return windows.view(B, H / ws, W / ws, ws, ws, -1).permute(0, 1, 3, 2, 4, 5).view(B, H, W, -1);
}

class WindowAttention extends Module {
  relative_position_bias_table: ReturnType<Module['param']>;
  qkv: nn.Linear; proj: nn.Linear;
  constructor(readonly dim: number, readonly ws: number, readonly numHeads: number) {
    super();
    this.relative_position_bias_table = this.param('relative_position_bias_table', [(2 * ws - 1) * (2 * ws - 1), numHeads]);
    this.qkv = new nn.Linear(dim, dim * 3);
    this.proj = new nn.Linear(dim, dim);
  }
  /** The relative_position_index buffer, as the __init__ builds it (meshgrid of the window's coordinates). */
  relativePositionIndex(): Tensor {
    const ws = this.ws, coords = stack(meshgrid([arange(ws), arange(ws)], { indexing: 'ij' })).flatten(1); // [2, ws²]
    const rel = coords.unsqueeze(2).sub(coords.unsqueeze(1)).permute(1, 2, 0); // [ws², ws², 2]
    return rel.select(2, 0).add(ws - 1).mul(2 * ws - 1).add(rel.select(2, 1).add(ws - 1));
  }
  /** `images`: the batch of images the windows came from (torch's B_ // nW: the DSL cannot split a run-time 4·N by 4 itself). */
  forward(x: Tensor, mask?: Tensor, images?: string | number): Tensor {
    const [B_, N, C] = x.dims as [string | number, number, number], h = this.numHeads;
    const qkv = this.qkv.call(x).reshape(B_, N, 3, h, C / h).permute(2, 0, 3, 1, 4);
    const [q, k, v] = [qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2)];
    let attn = q!.mul((C / h) ** -0.5).matmul(k!.transpose(-2, -1));
    const bias = this.relative_position_bias_table.t.indexSelect(0, this.relativePositionIndex().view(-1)).view(N, N, -1);
    attn = attn.add(bias.permute(2, 0, 1).unsqueeze(0));
    if (mask) {
      const nW = mask.size(0) as number;
      attn = attn.view(images!, nW, h, N, N).add(mask.unsqueeze(1).unsqueeze(0)).view(-1, h, N, N);
    }
    return this.proj.call(attn.softmax(-1).matmul(v!).transpose(1, 2).reshape(B_, N, C));
  }
}

class SwinBlock extends Module {
  norm1: nn.LayerNorm; attn: WindowAttention; norm2: nn.LayerNorm; mlp: nn.Sequential;
  constructor(dim: number, readonly res: [number, number], heads: number, readonly ws: number, readonly shift: number) {
    super();
    this.norm1 = new nn.LayerNorm(dim);
    this.attn = new WindowAttention(dim, ws, heads);
    this.norm2 = new nn.LayerNorm(dim);
    this.mlp = new nn.Sequential(new nn.Linear(dim, 4 * dim), new nn.GELU(), new nn.Linear(4 * dim, dim));
  }
  /** The attn_mask buffer: each pixel's region of the shifted image (3 × 3 by the slices), -100 between regions. */
  attnMask(): Tensor {
    const [H, W] = this.res, ws = this.ws, s = this.shift;
    const region = (n: number) => arange(n).ge(n - ws).int().add(arange(n).ge(n - s).int()); // slice(0, -ws), (-ws, -s), (-s, None)
    const [rh, rw] = meshgrid(region(H), region(W), { indexing: 'ij' });
    const img = rh!.mul(3).add(rw!).float().view(1, H, W, 1);
    const mw = windowPartition(img, ws).view(-1, ws * ws);
    const m = mw.unsqueeze(1).sub(mw.unsqueeze(2));
    return m.maskedFill(m.ne(0), -100).maskedFill(m.eq(0), 0);
  }
  forward(x: Tensor): Tensor {
    const [H, W] = this.res, [B, , C] = x.dims as [string | number, number, number];
    const shortcut = x;
    let h = this.norm1.call(x).view(B, H, W, C);
    if (this.shift > 0) h = h.roll([-this.shift, -this.shift], [1, 2]);
    let windows = windowPartition(h, this.ws).view(-1, this.ws * this.ws, C);
    windows = this.attn.call(windows, this.shift > 0 ? this.attnMask() : undefined, B).view(-1, this.ws, this.ws, C);
    h = windowReverse(windows, this.ws, B, H, W);
    if (this.shift > 0) h = h.roll([this.shift, this.shift], [1, 2]);
    const y = shortcut.add(h.view(B, H * W, C));
    return y.add(this.mlp.call(this.norm2.call(y)));
  }
}

export class Swin extends Module {
  patch_embed = new nn.Conv2d(3, 8, 4, { stride: 4 });
  patch_norm = new nn.LayerNorm(8);
  blocks = new nn.Sequential(new SwinBlock(8, [8, 8], 2, 4, 0), new SwinBlock(8, [8, 8], 2, 4, 2));
  norm = new nn.LayerNorm(8);
  head = new nn.Linear(8, 5);
  forward(img: Tensor): Record<string, Tensor> {
    const x = this.norm.call(this.blocks.call(this.patch_norm.call(this.patch_embed.call(img).flatten(2).transpose(1, 2))));
    return { tokens: x, logits: this.head.call(x.mean(1)) };
  }
}

test('Swin stage (window partition, shifted windows by roll, the shifted attention mask, relative position bias by its index, window reverse) matches PyTorch, fixed and over a batch chosen at run time', async () => {
  const m = new Swin().loadStateDict(weights('swin'));
  expect(await expectTorchCase(defineModel({ name: 'swin', module: m, inputs: { img: [2, 3, 32, 32] }, forward: one }), read('swin', 'io.safetensors'), { threads: 2 }))
    .toEqual(['tokens', 'logits']);
  const dims = await runTimeCase('swin', m, { img: { shape: ['N', 3, 32, 32], max: { N: 3 } } }, one);
  expect(dims.tokens).toEqual(['N', 64, 8]);
});
