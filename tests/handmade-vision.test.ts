// Well-known vision architectures written by hand in the DSL as a user ports them from PyTorch
// (ResNet, MobileNetV2/V3, ConvNeXt, ViT, U-Net, DenseNet/VGG/Inception, super-resolution and the
// norms), against PyTorch 1.13 (tests/fixtures/torch-extra/handmade_vision_*, made by
// make_handmade_vision.py from export.py's classes where they fit): compiled (every test ISA, and
// 2 threads) and in the reference; where the model allows, one artifact over sizes chosen at run
// time too, at the fixture's size and two others.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { cat, compileModel, defineModel, F, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type InputSpec, type Parameter, type Tensor } from '../compiler/index.ts';
import type { Dim } from '../compiler/ir/dims.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch, expectTorchCase, expectTorchRunTime } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra');
const read = (c: string, f: string) => readSafetensors(readFileSync(join(FIX, `handmade_vision_${c}`, f)), `handmade_vision_${c}/${f}`);
const weights = (c: string) => stateDictFrom(read(c, 'weights.safetensors'));
type Fwd = (m: Module, i: Record<string, Tensor>) => Record<string, Tensor>;

/** The fixed-size case through expectTorchCase. */
async function fixedCase(c: string, module: Module, inputs: Record<string, InputSpec | number[]>, forward: Fwd): Promise<string[]> {
  return expectTorchCase(defineModel({ name: c, module, inputs, forward }), read(c, 'io.safetensors'), { threads: 2 });
}

/** One artifact over sizes chosen at run time (expectTorchRunTime), from the case's fixture. */
const runTimeCase = (c: string, module: Module, inputs: Record<string, InputSpec>, forward: Fwd, feed?: (name: string, shape: number[]) => number[], prefixes?: string[]) =>
  expectTorchRunTime(defineModel({ name: `${c}_rt`, module, inputs, forward }), read(c, 'io.safetensors'), feed, prefixes);

// --- ResNet ---------------------------------------------------------------------------------------

export class BasicBlock extends Module {
  conv1: nn.Conv2d; bn1: nn.BatchNorm2d; conv2: nn.Conv2d; bn2: nn.BatchNorm2d; down?: nn.Sequential;
  constructor(cin: number, cout: number, stride: number) {
    super();
    this.conv1 = new nn.Conv2d(cin, cout, 3, { stride, padding: 1, bias: false }); this.bn1 = new nn.BatchNorm2d(cout);
    this.conv2 = new nn.Conv2d(cout, cout, 3, { padding: 1, bias: false }); this.bn2 = new nn.BatchNorm2d(cout);
    if (stride !== 1 || cin !== cout) this.down = new nn.Sequential(new nn.Conv2d(cin, cout, 1, { stride, bias: false }), new nn.BatchNorm2d(cout));
  }
  forward(x: Tensor): Tensor {
    const y = this.bn2.call(this.conv2.call(F.relu(this.bn1.call(this.conv1.call(x)))));
    return F.relu(y.add(this.down ? this.down.call(x) : x));
  }
}

export class Bottleneck extends Module {
  conv1: nn.Conv2d; bn1: nn.BatchNorm2d; conv2: nn.Conv2d; bn2: nn.BatchNorm2d; conv3: nn.Conv2d; bn3: nn.BatchNorm2d;
  relu = new nn.ReLU(); downsample: nn.Sequential;
  constructor(cin: number, width: number, stride: number) {
    super();
    const cout = width * 4;
    this.conv1 = new nn.Conv2d(cin, width, 1, { bias: false }); this.bn1 = new nn.BatchNorm2d(width);
    this.conv2 = new nn.Conv2d(width, width, 3, { stride, padding: 1, bias: false }); this.bn2 = new nn.BatchNorm2d(width);
    this.conv3 = new nn.Conv2d(width, cout, 1, { bias: false }); this.bn3 = new nn.BatchNorm2d(cout);
    this.downsample = new nn.Sequential(new nn.Conv2d(cin, cout, 1, { stride, bias: false }), new nn.BatchNorm2d(cout));
  }
  forward(x: Tensor): Tensor {
    let out = this.relu.call(this.bn1.call(this.conv1.call(x)));
    out = this.relu.call(this.bn2.call(this.conv2.call(out)));
    out = this.bn3.call(this.conv3.call(out));
    return this.relu.call(out.add(this.downsample.call(x)));
  }
}

export class ResNet extends Module {
  conv1 = new nn.Conv2d(3, 4, 3, { padding: 1, bias: false });
  bn1 = new nn.BatchNorm2d(4);
  maxpool = new nn.MaxPool2d(3, { stride: 2, padding: 1 });
  layer1 = new nn.Sequential(new BasicBlock(4, 4, 1), new BasicBlock(4, 6, 2));
  layer2 = new Bottleneck(6, 2, 2);
  avgpool = new nn.AdaptiveAvgPool2d([1, 1]);
  fc = new nn.Linear(8, 5);
  forward(x: Tensor): Record<string, Tensor> {
    const feat = this.layer2.call(this.layer1.call(this.maxpool.call(F.relu(this.bn1.call(this.conv1.call(x))))));
    return { feat, logits: this.fc.call(this.avgpool.call(feat).flatten(1)) };
  }
}

const one = (m: Module, i: Record<string, Tensor>) => (m as unknown as { call(x: Tensor): Record<string, Tensor> | Tensor }).call(Object.values(i)[0]!) as Record<string, Tensor>;
const img = (c: number, max: Record<string, number>, min?: Record<string, number>): InputSpec => ({ shape: ['N', c, 'H', 'W'], max, ...(min ? { min } : {}) });

test('ResNet (basic blocks, 1x1 stride-2 downsample, bottleneck, max pool, global average, Linear) matches PyTorch, fixed and over N×H×W chosen at run time', async () => {
  const m = new ResNet().loadStateDict(weights('resnet'));
  expect(await fixedCase('resnet', m, { x: [2, 3, 12, 12] }, one)).toEqual(['feat', 'logits']);
  const dims = await runTimeCase('resnet', m, { x: img(3, { N: 3, H: 16, W: 16 }) }, one);
  expect(dims.logits).toEqual(['N', 5]);
});

// --- MobileNetV2 / V3 -----------------------------------------------------------------------------

export class InvertedResidualV2 extends Module {
  conv: nn.Sequential; useRes: boolean;
  constructor(cin: number, cout: number, stride: number, expand: number) {
    super();
    const h = cin * expand;
    this.useRes = stride === 1 && cin === cout;
    this.conv = new nn.Sequential(
      new nn.Conv2d(cin, h, 1, { bias: false }), new nn.BatchNorm2d(h), new nn.ReLU6(),
      new nn.Conv2d(h, h, 3, { stride, padding: 1, groups: h, bias: false }), new nn.BatchNorm2d(h), new nn.ReLU6(),
      new nn.Conv2d(h, cout, 1, { bias: false }), new nn.BatchNorm2d(cout));
  }
  forward(x: Tensor): Tensor { return this.useRes ? x.add(this.conv.call(x)) : this.conv.call(x); }
}

export class SqueezeExciteSiLU extends Module {
  avgpool = new nn.AdaptiveAvgPool2d(1); fc1: nn.Conv2d; fc2: nn.Conv2d; activation = new nn.SiLU(); scale_activation = new nn.Hardsigmoid();
  constructor(c: number, s: number) { super(); this.fc1 = new nn.Conv2d(c, s, 1); this.fc2 = new nn.Conv2d(s, c, 1); }
  forward(x: Tensor): Tensor { return x.mul(this.scale_activation.call(this.fc2.call(this.activation.call(this.fc1.call(this.avgpool.call(x)))))); }
}

/** export.py's SqueezeExcite and InvertedResidual (MobileNetV3-style). */
export class SqueezeExcite extends Module {
  fc1: nn.Conv2d; fc2: nn.Conv2d;
  constructor(c: number, r = 4) { super(); this.fc1 = new nn.Conv2d(c, c / r, 1); this.fc2 = new nn.Conv2d(c / r, c, 1); }
  forward(x: Tensor): Tensor { return x.mul(F.hardsigmoid(this.fc2.call(F.relu(this.fc1.call(F.adaptiveAvgPool2d(x, 1)))))); }
}
export class InvertedResidual extends Module {
  expand: nn.Sequential; dw: nn.Sequential; se: SqueezeExcite; project: nn.Sequential;
  constructor(c: number, expand: number) {
    super();
    const h = c * expand;
    this.expand = new nn.Sequential(new nn.Conv2d(c, h, 1, { bias: false }), new nn.BatchNorm2d(h), new nn.ReLU6());
    this.dw = new nn.Sequential(new nn.Conv2d(h, h, 3, { padding: 1, groups: h, bias: false }), new nn.BatchNorm2d(h), new nn.Hardswish());
    this.se = new SqueezeExcite(h);
    this.project = new nn.Sequential(new nn.Conv2d(h, c, 1, { bias: false }), new nn.BatchNorm2d(c));
  }
  forward(x: Tensor): Tensor { return x.add(this.project.call(this.se.call(this.dw.call(this.expand.call(x))))); }
}

/** SENet's SE layer as its authors wrote it: b and c from x.size(), view(b, c), Linear, view(b, c, 1, 1), expand_as. */
export class SELayer extends Module {
  avg_pool = new nn.AdaptiveAvgPool2d(1); fc: nn.Sequential;
  constructor(c: number, r: number) { super(); this.fc = new nn.Sequential(new nn.Linear(c, c / r, { bias: false }), new nn.ReLU(), new nn.Linear(c / r, c, { bias: false }), new nn.Sigmoid()); }
  forward(x: Tensor): Tensor {
    const [b, c] = x.size();
    const y = this.fc.call(this.avg_pool.call(x).view(b!, c!)).view(b!, c!, 1, 1);
    return x.mul(y.expandAs(x));
  }
}

export class MobileNet extends Module {
  stem = new nn.Sequential(new nn.Conv2d(3, 4, 3, { stride: 2, padding: 1, bias: false }), new nn.BatchNorm2d(4), new nn.Hardswish());
  b1 = new InvertedResidualV2(4, 4, 1, 2);
  b2 = new InvertedResidualV2(4, 6, 2, 2);
  se = new SqueezeExciteSiLU(6, 2);
  v3 = new InvertedResidual(6, 2);
  se_lin = new SELayer(6, 3);
  head = new nn.Sequential(new nn.Conv2d(6, 8, 1), new nn.Hardswish(), new nn.AdaptiveAvgPool2d(1), new nn.Flatten(1), new nn.Dropout(0.2), new nn.Linear(8, 4));
  forward(x: Tensor): Record<string, Tensor> {
    const h = this.se_lin.call(this.v3.call(this.se.call(this.b2.call(this.b1.call(this.stem.call(x))))));
    return { feat: h, logits: this.head.call(h) };
  }
}

test('MobileNetV2/V3 (ReLU6 inverted residuals, depthwise stride 2, SE with SiLU/Hardsigmoid, SENet SE from x.size(), Hardswish) matches PyTorch, fixed and over N×H×W chosen at run time', async () => {
  const m = new MobileNet().loadStateDict(weights('mobilenet'));
  expect(await fixedCase('mobilenet', m, { x: [2, 3, 12, 12] }, one)).toEqual(['feat', 'logits']);
  await runTimeCase('mobilenet', m, { x: img(3, { N: 2, H: 16, W: 16 }) }, one);
});

// --- ConvNeXt -------------------------------------------------------------------------------------

/** torchvision's LayerNorm2d: an nn.LayerNorm over the channels of [N, C, H, W], permuted last and back. */
export class LayerNorm2d extends nn.LayerNorm {
  override forward(x: Tensor): Tensor {
    const y = F.layerNorm(x.permute(0, 2, 3, 1), [this.normalizedShape as number], this.weight!.t, this.bias!.t, this.eps);
    return y.permute(0, 3, 1, 2);
  }
}

export class ConvNeXtBlock extends Module {
  dwconv: nn.Conv2d; norm: nn.LayerNorm; pwconv1: nn.Linear; act = new nn.GELU(); pwconv2: nn.Linear; gamma: Parameter;
  constructor(dim: number) {
    super();
    this.dwconv = new nn.Conv2d(dim, dim, 7, { padding: 3, groups: dim });
    this.norm = new nn.LayerNorm(dim, 1e-6);
    this.pwconv1 = new nn.Linear(dim, 4 * dim); this.pwconv2 = new nn.Linear(4 * dim, dim);
    this.gamma = this.param('gamma', [dim]);
  }
  forward(x: Tensor): Tensor {
    let y = this.dwconv.call(x).permute(0, 2, 3, 1);
    y = this.pwconv2.call(this.act.call(this.pwconv1.call(this.norm.call(y))));
    return x.add(this.gamma.t.mul(y).permute(0, 3, 1, 2));
  }
}

export class ConvNeXt extends Module {
  stem = new nn.Sequential(new nn.Conv2d(3, 4, 2, { stride: 2 }), new LayerNorm2d(4, 1e-6));
  stage1 = new ConvNeXtBlock(4);
  down = new nn.Sequential(new LayerNorm2d(4, 1e-6), new nn.Conv2d(4, 8, 2, { stride: 2 }));
  stage2 = new ConvNeXtBlock(8);
  norm = new nn.LayerNorm(8, 1e-6);
  head = new nn.Linear(8, 3);
  forward(x: Tensor): Record<string, Tensor> {
    const f = this.stage2.call(this.down.call(this.stage1.call(this.stem.call(x))));
    return { feat: f, logits: this.head.call(this.norm.call(f.mean([-2, -1]))) };
  }
}

test('ConvNeXt (patchify stem, depthwise 7x7, channels-last LayerNorm via permute, Linear 4x + GELU, layer scale, LayerNorm2d downsample) matches PyTorch, fixed and over N×H×W chosen at run time', async () => {
  const m = new ConvNeXt().loadStateDict(weights('convnext'));
  expect(await fixedCase('convnext', m, { x: [2, 3, 16, 16] }, one)).toEqual(['feat', 'logits']);
  await runTimeCase('convnext', m, { x: img(3, { N: 3, H: 20, W: 16 }, { H: 4, W: 4 }) }, one);
});

// --- ViT ------------------------------------------------------------------------------------------

/** export.py's VitTiny. */
export class VitTiny extends Module {
  patch = new nn.Conv2d(3, 8, 4, { stride: 4 });
  cls_token = this.param('cls_token', [1, 1, 8]);
  pos = this.param('pos', [1, 5, 8]);
  norm1 = new nn.LayerNorm(8);
  attn = new nn.MultiheadAttention(8, 2, { batchFirst: true });
  norm2 = new nn.LayerNorm(8);
  mlp = new nn.Sequential(new nn.Linear(8, 16), new nn.GELU(), new nn.Linear(16, 8));
  head = new nn.Linear(8, 3);
  forward(im: Tensor): Tensor {
    let x = this.patch.call(im).flatten(2).transpose(1, 2);
    x = cat([this.cls_token.t.expand(x.dim(0), -1, -1), x], 1).add(this.pos.t);
    const h = this.norm1.call(x);
    x = x.add(this.attn.call(h, h, h, { needWeights: false })[0]);
    x = x.add(this.mlp.call(this.norm2.call(x)));
    return this.head.call(x.select(1, 0));
  }
}

export class ViT extends Module {
  patch_embed = new nn.Conv2d(3, 8, 4, { stride: 4 });
  cls_token = this.param('cls_token', [1, 1, 8]);
  pos_embed = this.param('pos_embed', [1, 5, 8]);
  encoder = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0.1, activation: 'gelu', batchFirst: true, normFirst: true, layerNormEps: 1e-6 }), 2);
  norm = new nn.LayerNorm(8, 1e-6);
  head = new nn.Linear(8, 3);
  tiny = new VitTiny();
  forward(im: Tensor): Record<string, Tensor> {
    let x = this.patch_embed.call(im).flatten(2).transpose(1, 2);
    x = cat([this.cls_token.t.expand(x.dim(0), -1, -1), x], 1).add(this.pos_embed.t);
    x = this.norm.call(this.encoder.call(x));
    return { tokens: x, logits: this.head.call(x.select(1, 0)), tiny: this.tiny.call(im) };
  }
}

test('ViT (strided-conv patches, cls token expanded and cat, position embedding, TransformerEncoder norm_first GELU, head on token 0) matches PyTorch, fixed and over a batch chosen at run time', async () => {
  const m = new ViT().loadStateDict(weights('vit'));
  expect(await fixedCase('vit', m, { img: [2, 3, 8, 8] }, one)).toEqual(['tokens', 'logits', 'tiny']);
  const dims = await runTimeCase('vit', m, { img: { shape: ['N', 3, 8, 8], max: { N: 3 } } }, one);
  expect(dims.tokens).toEqual(['N', 5, 8]);
  // timm's spelling, cls_token.expand(x.shape[0], -1, -1), expands to the run-time batch (x.shape[0] is
  // a SymSize); read at its bound (maxShape) it fixes the batch, and the cat says why it fails at 1.
  const timm = (bound: boolean) => (_m: Module, i: Record<string, Tensor>) => {
    const x = m.patch_embed.call(i.img!).flatten(2).transpose(1, 2);
    return { t: cat([m.cls_token.t.expand(bound ? x.maxShape[0]! : x.shape[0]!, -1, -1), x], 1) };
  };
  const timmAt = (bound: boolean) => traceModel(defineModel({ name: 'timm', module: m, inputs: { img: { shape: ['N', 3, 8, 8], max: { N: 3 } } }, forward: timm(bound) }));
  const img = Float32Array.from({ length: 2 * 3 * 64 }, (_, i) => Math.cos(i));
  const atTwo = traceModel(defineModel({ name: 'timm2', module: m, inputs: { img: [2, 3, 8, 8] }, forward: timm(false) }));
  expect(Array.from(interpret(timmAt(false), { img: { data: img, shape: [2, 3, 8, 8] } }).t!)).toEqual(Array.from(interpret(atTwo, { img }).t!));
  expect(() => timmAt(true))
    .toThrow("(dim 0 of f32[3, 1, 8] is a fixed 3, the bound of 'N': a size read from x.maxShape or x.maxSize(i), or computed in JavaScript, is its bound; x.size(i) and x.dim(i) give the size chosen at run time, for expand, reshape, zeros and the like, e.g. ones([x.size(1), x.size(1)]) or arange(x.size(1)))");
});

// --- U-Net ----------------------------------------------------------------------------------------

const doubleConv = (cin: number, cout: number) => new nn.Sequential(
  new nn.Conv2d(cin, cout, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(cout), new nn.ReLU(),
  new nn.Conv2d(cout, cout, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(cout), new nn.ReLU());
const convBnRelu = (cin: number, cout: number) => new nn.Sequential(new nn.Conv2d(cin, cout, 3, { padding: 1 }), new nn.BatchNorm2d(cout), new nn.ReLU());

/** export.py's UNetTiny. */
export class UNetTiny extends Module {
  enc1 = convBnRelu(2, 4); enc2 = convBnRelu(4, 8); bottom = convBnRelu(8, 8);
  up2 = new nn.ConvTranspose2d(8, 8, 2, { stride: 2 }); dec2 = convBnRelu(16, 4);
  up1 = new nn.Upsample({ scaleFactor: 2, mode: 'nearest' }); dec1 = convBnRelu(8, 4);
  out = new nn.Conv2d(4, 1, 1);
  forward(x: Tensor): Tensor {
    const e1 = this.enc1.call(x), e2 = this.enc2.call(F.maxPool2d(e1, 2)), b = this.bottom.call(F.maxPool2d(e2, 2));
    const d2 = this.dec2.call(cat([this.up2.call(b), e2], 1));
    const d1 = this.dec1.call(cat([this.up1.call(d2), e1], 1));
    return this.out.call(d1).sigmoid();
  }
}

export class UNet extends Module {
  inc = doubleConv(2, 4);
  down1 = new nn.Sequential(new nn.MaxPool2d(2), doubleConv(4, 6));
  down2 = new nn.Sequential(new nn.MaxPool2d(2), doubleConv(6, 8));
  up1 = new nn.ConvTranspose2d(8, 6, 2, { stride: 2 }); conv1 = doubleConv(12, 6);
  up2 = new nn.ConvTranspose2d(6, 4, 2, { stride: 2 }); conv2 = doubleConv(8, 4);
  outc = new nn.Conv2d(4, 3, 1);
  tiny = new UNetTiny();
  forward(x: Tensor): Record<string, Tensor> {
    const x1 = this.inc.call(x), x2 = this.down1.call(x1), x3 = this.down2.call(x2);
    let y = this.conv1.call(cat([x2, this.up1.call(x3)], 1));
    y = this.conv2.call(cat([x1, this.up2.call(y)], 1));
    return { mask: this.outc.call(y), tiny: this.tiny.call(x) };
  }
}

test('U-Net (two MaxPool2d levels, ConvTranspose2d stride 2 up, cat skips, BatchNorm, 1x1 head; nearest Upsample) matches PyTorch, fixed and over a 4·K × 4·L image chosen at run time', async () => {
  const m = new UNet().loadStateDict(weights('unet'));
  expect(await fixedCase('unet', m, { x: [2, 2, 8, 12] }, one)).toEqual(['mask', 'tiny']);
  // An input dim cannot be spelled '4*K': the image [N, 2, 4·K, 4·L] comes in as [N, 2, K, 4, L, 4] (the same bytes).
  const dims = await runTimeCase('unet', m, { x: { shape: ['N', 2, 'K', 4, 'L', 4], max: { N: 3, K: 3, L: 3 } } },
    (mm, { x }) => one(mm, { x: x!.reshape(x!.dim(0), 2, `4*${x!.dim(2)}`, `4*${x!.dim(4)}`) }),
    (_n, [N, C, H, W]) => [N!, C!, H! / 4, 4, W! / 4, 4]);
  expect(dims.mask).toEqual(['N', 3, '4*K', '4*L']);
});

// --- DenseNet, VGG, Inception ---------------------------------------------------------------------

export class DenseLayer extends Module {
  norm1: nn.BatchNorm2d; conv1: nn.Conv2d; norm2: nn.BatchNorm2d; conv2: nn.Conv2d;
  constructor(cin: number, growth: number) {
    super();
    this.norm1 = new nn.BatchNorm2d(cin); this.conv1 = new nn.Conv2d(cin, 2 * growth, 1, { bias: false });
    this.norm2 = new nn.BatchNorm2d(2 * growth); this.conv2 = new nn.Conv2d(2 * growth, growth, 3, { padding: 1, bias: false });
  }
  forward(feats: Tensor[]): Tensor {
    const h = cat(feats, 1);
    return this.conv2.call(F.relu(this.norm2.call(this.conv1.call(F.relu(this.norm1.call(h))))));
  }
}

export class DenseBlock extends nn.ModuleDict {
  constructor(cin: number, growth: number, n: number) {
    super(Object.fromEntries(Array.from({ length: n }, (_, i) => [`denselayer${i + 1}`, new DenseLayer(cin + i * growth, growth)])));
  }
  override forward(x: Tensor): Tensor {
    const feats = [x];
    for (const layer of this.items.values()) feats.push((layer as DenseLayer).call(feats));
    return cat(feats, 1);
  }
}

export class BasicConv extends Module {
  conv: nn.Conv2d; bn: nn.BatchNorm2d;
  constructor(cin: number, cout: number, k: number | [number, number], padding: number | [number, number] = 0) {
    super(); this.conv = new nn.Conv2d(cin, cout, k, { padding, bias: false }); this.bn = new nn.BatchNorm2d(cout, 0.001);
  }
  forward(x: Tensor): Tensor { return F.relu(this.bn.call(this.conv.call(x))); }
}

export class InceptionA extends Module {
  branch1x1: BasicConv; branch5x5_1: BasicConv; branch5x5_2: BasicConv; branch3x3_1: BasicConv; branch3x3_2: BasicConv; branch3x3_3: BasicConv; branch_pool: BasicConv;
  constructor(cin: number) {
    super();
    this.branch1x1 = new BasicConv(cin, 2, 1);
    this.branch5x5_1 = new BasicConv(cin, 2, 1); this.branch5x5_2 = new BasicConv(2, 3, 5, 2);
    this.branch3x3_1 = new BasicConv(cin, 2, 1); this.branch3x3_2 = new BasicConv(2, 2, [1, 3], [0, 1]); this.branch3x3_3 = new BasicConv(2, 2, [3, 1], [1, 0]);
    this.branch_pool = new BasicConv(cin, 2, 1);
  }
  forward(x: Tensor): Tensor {
    const b5 = this.branch5x5_2.call(this.branch5x5_1.call(x));
    const b3 = this.branch3x3_3.call(this.branch3x3_2.call(this.branch3x3_1.call(x)));
    const bp = this.branch_pool.call(F.avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: false }));
    return cat([this.branch1x1.call(x), b5, b3, bp], 1);
  }
}

export class Classic extends Module {
  features = new nn.Sequential(
    new nn.Conv2d(3, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2, { stride: 2, ceilMode: true }),
    new nn.Conv2d(4, 6, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }));
  classifier = new nn.Sequential(new nn.Flatten(), new nn.Linear(6 * 3 * 3, 8), new nn.ReLU(), new nn.Dropout(), new nn.Linear(8, 3));
  dense = new DenseBlock(3, 2, 3);
  transition = new nn.Sequential(new nn.BatchNorm2d(9), new nn.ReLU(), new nn.Conv2d(9, 4, 1, { bias: false }), new nn.AvgPool2d(2, { stride: 2 }));
  inception = new InceptionA(4);
  pool_ceil = new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false });
  forward(x: Tensor): Record<string, Tensor> {
    const d = this.transition.call(this.dense.call(x)), inc = this.inception.call(d);
    return { vgg: this.classifier.call(this.features.call(x)), dense: d, inception: inc, pool_ceil: this.pool_ceil.call(inc) };
  }
  /** What runs over any height and width: the VGG features (ceil-mode max pools), the dense block, the inception block, a ceil-mode max pool at stride 1. */
  spatial(x: Tensor): Record<string, Tensor> {
    const d = this.transition.call(this.dense.call(x)), inc = this.inception.call(d);
    return { vgg_feat: this.features.call(x), dense: d, inception: inc, ceil1: F.maxPool2d(inc, 3, { stride: 1, padding: 1, ceilMode: true }) };
  }
}

test('VGG (MaxPool2d ceil_mode over odd sizes, padded), DenseNet block + transition, Inception-A branches (count_include_pad=False) match PyTorch, fixed and over a batch chosen at run time; VGG features (ceil-mode max pools), dense and inception blocks over H×W chosen at run time, what is refused there named', async () => {
  const m = new Classic().loadStateDict(weights('classic'));
  expect(await fixedCase('classic', m, { x: [2, 3, 7, 7] }, one)).toEqual(['vgg', 'dense', 'inception', 'pool_ceil']);
  await runTimeCase('classic', m, { x: { shape: ['N', 3, 7, 7], max: { N: 3 } } }, one);
  // Over a height and width chosen at run time: the VGG features, whose max pools' ceil mode at stride
  // 2 is floor mode over s − 1 more cells of −∞ (it was refused), the dense and inception blocks
  // (average pool with count_include_pad=False), and ceil mode at stride 1, which is floor mode.
  const hw = { x: img(3, { N: 3, H: 10, W: 10 }, { H: 2, W: 2 }) };
  const dims = await runTimeCase('classic', m, hw, (mm, i) => (mm as Classic).spatial(i.x!), undefined, ['hw.a.', 'hw.b.']);
  expect(dims.ceil1).toEqual(['N', 9, 'floor(H/2)', 'floor(W/2)']);
  expect(dims.vgg_feat).toEqual(['N', 6, 'floor((H+1)/4)+1', 'floor((W+1)/4)+1']);
  // What is refused names the option (it said a pool's spatial sizes must be fixed, which the floor-mode pools do not need).
  const tr = (f: (x: Tensor) => Tensor, x: InputSpec) => () => traceModel(defineModel({ name: 'p', module: m, inputs: { x }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(tr((x) => m.pool_ceil.call(m.inception.call(m.transition.call(m.dense.call(x)))), hw.x)).toThrow("avg_pool2d: ceilMode with stride 2,2 over input [N, 9, floor(H/2), floor(W/2)], whose height and width are chosen at run time ('floor(H/2)' and 'floor(W/2)'), is not supported: over a run-time size a pool takes floor mode (ceil mode at stride 1, and a max pool's at a stride up to kernel − padding) without dilation, divisorOverride or indices; fixed sizes take them all in module 'pool_ceil' (AvgPool2d)");
  expect(tr((x) => F.maxPool2d(x, 2, { stride: 3, ceilMode: true }), hw.x)).toThrow(/max_pool2d: ceilMode with stride 3,3 \(beyond kernel − padding 2,2\) over input \[N, 3, H, W\]/);
  expect(tr((x) => F.avgPool2d(x, 2, { ceilMode: true, divisorOverride: 3 }), { shape: ['N', 3, 'H', 8], max: { N: 2, H: 9 }, min: { H: 2 } })).toThrow(/avg_pool2d: divisorOverride 3 over input \[N, 3, H, 8\], whose height is chosen at run time \('H'\), is not supported/);
  expect(tr((x) => F.maxPool2d(x, 2, { dilation: [1, 2] }), { shape: ['N', 3, 8, 'W'], max: { N: 2, W: 9 }, min: { W: 3 } })).toThrow(/max_pool2d: dilation 1,2 over input \[N, 3, 8, W\], whose width is chosen at run time/);
  expect(tr((x) => F.maxPool2d(x, 2, { returnIndices: true })[1], { shape: ['N', 3, 8, 'W'], max: { N: 2, W: 9 }, min: { W: 2 } })).toThrow(/max_pool2d: returnIndices over input/);
  // Ceil mode at stride 2 along a fixed width where it adds no window (8 → 4) runs over a run-time height at stride 1; an average's over a width of 7 it would give a window.
  const ceilW = (W: number) => traceModel(defineModel({ name: 'p', module: m, inputs: { x: { shape: ['N', 3, 'H', W], max: { N: 2, H: 9 } } }, forward: (_m: Module, i: Record<string, Tensor>) => F.avgPool2d(i.x!, [1, 2], { ceilMode: true }) })).outputs[0]!.node.type.dims;
  expect(ceilW(8)).toEqual(['N', 3, 'H', 4]);
  expect(() => ceilW(7)).toThrow(/avg_pool2d: ceilMode with stride 1,2 over input \[N, 3, H, 7\], whose height is chosen at run time/);
});

// --- super-resolution, GroupNorm, InstanceNorm, Dropout2d, Flatten/Unflatten -------------------------

/** export.py's SuperRes (ESPCN-style). */
export class SuperRes extends Module {
  conv1 = new nn.Conv2d(1, 8, 3);
  norm = new nn.InstanceNorm2d(8, 1e-5, 0.1, { affine: true });
  conv2 = new nn.Conv2d(8, 4, 3, { padding: 1 });
  forward(x: Tensor): Tensor {
    let y = this.norm.call(this.conv1.call(F.pad(x, [1, 1, 1, 1], 'reflect'))).tanh();
    y = F.pixelShuffle(this.conv2.call(y), 2);
    return y.add(F.interpolate(x, { scaleFactor: 2, mode: 'bilinear', alignCorners: false }));
  }
}

export class Misc extends Module {
  sr = new SuperRes();
  espcn = new nn.Sequential(new nn.Conv2d(1, 4, 5, { padding: 2 }), new nn.Tanh(), new nn.Conv2d(4, 18, 3, { padding: 1 }), new nn.PixelShuffle(3));
  gn = new nn.Sequential(new nn.Conv2d(2, 6, 3, { padding: 1 }), new nn.GroupNorm(3, 6), new nn.SiLU(), new nn.Dropout2d(0.3));
  inorm = new nn.InstanceNorm2d(6);
  inorm_rs = new nn.InstanceNorm2d(6, 1e-5, 0.1, { affine: true, trackRunningStats: true });
  unflat = new nn.Sequential(new nn.Flatten(), new nn.Linear(6 * 4 * 4, 12), new nn.Unflatten(1, [3, 2, 2]), new nn.ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }));
  /** The super-resolution nets, which run over any image size, and pixel_unshuffle of the result. */
  spatial(x: Tensor): Record<string, Tensor> {
    const sr = this.sr.call(x);
    return { sr, espcn: this.espcn.call(x), unshuffle: F.pixelUnshuffle(sr, 2) };
  }
  forward(x: Tensor, im: Tensor): Record<string, Tensor> {
    const g = this.gn.call(im);
    return { sr: this.sr.call(x), espcn: this.espcn.call(x), gn: g, inorm: this.inorm.call(g), inorm_rs: this.inorm_rs.call(g), unflat: this.unflat.call(g),
      as: g.transpose(1, 3).reshapeAs(g).add(g.mean(1, true).expandAs(g).mul(g.flatten(1).viewAs(g))) };
  }
}

test('super-resolution (reflect pad, InstanceNorm, pixel_shuffle 2 and 3, bilinear skip), GroupNorm + SiLU + Dropout2d, InstanceNorm2d with running stats, Flatten/Unflatten + ConvTranspose2d, expand_as/view_as/reshape_as match PyTorch, the super-resolution nets over H×W chosen at run time too', async () => {
  const m = new Misc().loadStateDict(weights('misc'));
  expect(await fixedCase('misc', m, { x: [2, 1, 6, 6], img: [2, 2, 4, 4] }, (mm, i) => (mm as Misc).forward(i.x!, i.img!))).toHaveLength(7);
  // The super-resolution nets over an image size chosen at run time (pixel_shuffle was refused there:
  // 'must be [*, C, H, W] with fixed C, H, W'); pixel_unshuffle takes the 2·H it gives back to H.
  const dims = await runTimeCase('misc', m, { x: img(1, { N: 3, H: 8, W: 8 }, { H: 2, W: 2 }) }, (mm, i) => (mm as Misc).spatial(i.x!), undefined, ['hw.a.', 'hw.b.']);
  expect(dims).toEqual({ sr: ['N', 1, '2*H', '2*W'], espcn: ['N', 2, '3*H', '3*W'], unshuffle: ['N', 4, 'H', 'W'] });
  const tr = (shape: InputSpec, f: (x: Tensor) => Tensor) => () => traceModel(defineModel({ name: 'p', module: m, inputs: { x: shape }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(tr(img(4, { N: 2, H: 8, W: 8 }), (x) => F.pixelUnshuffle(x, 2))).toThrow("pixel_unshuffle: input [N, 4, H, W] has a height or width 'H' chosen at run time, which downscale_factor 2 must divide at every size (give it as a multiple of 2: an input dim of 2 beside 'K', reshaped to 2*K)");
  expect(tr(img(4, { N: 2, H: 8, W: 8 }), (x) => F.pixelShuffle(x.transpose(1, 2), 2))).toThrow('pixel_shuffle: input [N, H, 4, W] must be [*, C, H, W] with fixed channels C');
  expect(() => traceModel(defineModel({ name: 'as', module: new nn.Identity(), inputs: { x: [2, 3] }, forward: (_m: Module, i: Record<string, Tensor>) => i.x!.expandAs([2, 3] as never) }))).toThrow('expand_as: expected a tensor, got an array of 2');
});

// --- idioms from well-known repositories, as written there -------------------------------------------

/** milesial/Pytorch-UNet's Up: bilinear alignCorners, the skip's size difference padded from x.size(). */
export class Up extends Module {
  up = new nn.Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: true }); conv: nn.Sequential;
  constructor(cin: number, cout: number) { super(); this.conv = new nn.Sequential(new nn.Conv2d(cin, cout, 3, { padding: 1 }), new nn.ReLU()); }
  forward(x1: Tensor, x2: Tensor): Tensor {
    x1 = this.up.call(x1);
    const diffY = x2.size()[2]! - x1.size()[2]!, diffX = x2.size()[3]! - x1.size()[3]!;
    x1 = F.pad(x1, [Math.floor(diffX / 2), diffX - Math.floor(diffX / 2), Math.floor(diffY / 2), diffY - Math.floor(diffY / 2)]);
    return this.conv.call(cat([x2, x1], 1));
  }
}
/** CBAM's spatial gate: max and mean over the channels, cat, 7x7 conv, sigmoid. */
export class SpatialGate extends Module {
  conv = new nn.Conv2d(2, 1, 7, { padding: 3, bias: false });
  forward(x: Tensor): Tensor { return x.mul(this.conv.call(cat([x.max(1).unsqueeze(1), x.mean(1).unsqueeze(1)], 1)).sigmoid()); }
}
/** ConvNeXt's channels-first LayerNorm, written out. */
export class LayerNormCF extends Module {
  weight: Parameter; bias: Parameter;
  constructor(c: number, readonly eps = 1e-6) { super(); this.weight = this.param('weight', [c]); this.bias = this.param('bias', [c]); }
  forward(x: Tensor): Tensor {
    const u = x.mean(1, true), s = x.sub(u).pow(2).mean(1, true);
    const y = x.sub(u).div(s.add(this.eps).sqrt());
    return this.weight.t.unsqueeze(1).unsqueeze(2).mul(y).add(this.bias.t.unsqueeze(1).unsqueeze(2));
  }
}
/** timm's ViT Attention: one qkv Linear, reshape/permute to heads, unbind, scaled scores, proj. */
export class TimmAttention extends Module {
  qkv: nn.Linear; proj: nn.Linear; scale: number;
  constructor(dim: number, readonly numHeads: number) { super(); this.scale = (dim / numHeads) ** -0.5; this.qkv = new nn.Linear(dim, dim * 3); this.proj = new nn.Linear(dim, dim); }
  forward(x: Tensor): Tensor {
    const [B, N, C] = x.shape as [number, number, number];
    const qkv = this.qkv.call(x).reshape(B, N, 3, this.numHeads, C / this.numHeads).permute(2, 0, 3, 1, 4);
    const [q, k, v] = qkv.unbind(0) as [Tensor, Tensor, Tensor];
    const attn = q.matmul(k.transpose(-2, -1)).mul(this.scale).softmax(-1);
    return this.proj.call(attn.matmul(v).transpose(1, 2).reshape(B, N, C));
  }
}
function windowPartition(x: Tensor, ws: number): Tensor {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  return x.view(B, H / ws, ws, W / ws, ws, C).permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws, ws, C);
}
/** Swin's, B computed from the windows' count as there; over a run-time batch it must be named (`batch`: x.dim(0)). */
function windowReverse(windows: Tensor, ws: number, H: number, W: number, batch?: Dim): Tensor {
  const B = batch ?? Math.trunc(windows.shape[0]! / (H * W / ws / ws));
  return windows.view(B, H / ws, W / ws, ws, ws, -1).permute(0, 1, 3, 2, 4, 5).contiguous().view(B, H, W, -1);
}

export class Idioms extends Module {
  down = new nn.Conv2d(4, 4, 3, { padding: 1 });
  up = new Up(8, 4);
  gate = new SpatialGate();
  lncf = new LayerNormCF(4);
  attn = new TimmAttention(8, 2);
  win = new nn.Linear(4, 4);
  same = new nn.Conv2d(4, 4, 3, { stride: 2 });
  /** EfficientNet's TF 'SAME' padding for a strided conv, computed from the input's size. */
  tfSame(x: Tensor): Tensor {
    const [ih, iw] = x.size().slice(-2) as [number, number], [kh, kw] = this.same.weight.shape.slice(-2) as [number, number], [sh, sw] = [2, 2];
    const ph = Math.max((Math.ceil(ih / sh) - 1) * sh + kh - ih, 0), pw = Math.max((Math.ceil(iw / sw) - 1) * sw + kw - iw, 0);
    return this.same.call(F.pad(x, [Math.floor(pw / 2), pw - Math.floor(pw / 2), Math.floor(ph / 2), ph - Math.floor(ph / 2)]));
  }
  /** Swin's B from the windows' count reads the bound: over a run-time batch `named` passes it as x.dim(0). */
  named = false;
  forward(x: Tensor, tok: Tensor): Record<string, Tensor> {
    const d = F.maxPool2d(F.relu(this.down.call(x)), 2);
    const u = this.up.call(d, x);
    const h = this.lncf.call(this.gate.call(u));
    const w = h.slice(2, 0, 6).slice(3, 0, 8).permute(0, 2, 3, 1);
    const wins = this.win.call(windowPartition(w.roll([-1, -1], [1, 2]), 2));
    const back = windowReverse(wins, 2, 6, 8, this.named ? x.dim(0) : undefined).roll([1, 1], [1, 2]);
    return { unet_up: u, gated: h, swin: back, tf_same: this.tfSame(x), attn: this.attn.call(tok) };
  }
}

test("idioms as written in well-known repositories (milesial's U-Net Up with F.pad from x.size(), CBAM's gate, ConvNeXt's channels-first LayerNorm, Swin's windows with roll, EfficientNet's TF SAME padding, timm's Attention) match PyTorch, fixed and over a batch chosen at run time", async () => {
  const m = new Idioms().loadStateDict(weights('idioms'));
  const two = (mm: Module, i: Record<string, Tensor>) => (mm as Idioms).call(i.x!, i.tok!);
  expect(await fixedCase('idioms', m, { x: [2, 4, 7, 9], tok: [2, 5, 8] }, two)).toEqual(['unet_up', 'gated', 'swin', 'tf_same', 'attn']);
  const batch = { x: { shape: ['N', 4, 7, 9], max: { N: 3 } }, tok: { shape: ['N', 5, 8], max: { N: 3 } } } satisfies Record<string, InputSpec>;
  // Over a run-time batch Swin's B = windows.shape[0] / (H·W/ws²) is arithmetic on a run-time size:
  // refused by the size, naming the fix.
  expect(() => traceModel(defineModel({ name: 'idioms', module: m, inputs: batch, forward: two }))).toThrow("size(0) of f32[12*N, 2, 2, 4] is '12*N', a size chosen at run time (at most 36): JavaScript arithmetic or comparison on it would use its bound, not the size");
  m.named = true;
  await runTimeCase('idioms', m, batch, two);
});

test('ceil-mode max pools over a length chosen at run time (1-D, and 2-D beside a fixed width where ceil counts) match PyTorch at T = 1, 2, 5, 8 from one artifact', async () => {
  // PyTorch 1.13: F.max_pool1d(x, 3, 2, 1, ceil_mode=True), F.max_pool1d(x, 2, 2, 0, ceil_mode=True) of
  // sin(0..T−1) as [1, 1, T], and F.max_pool2d(y, 2, 2, 0, ceil_mode=True) of cos(0..3T−1) as [1, 1, T, 3].
  const s1 = 0.8414709568023682, s2 = 0.9092974066734314, s3 = 0.14112000167369843, s4 = -0.756802499294281, s7 = 0.6569865942001343;
  const c = [1.0, 0.28366219997406006, 0.9601702690124512, 0.004425697959959507, 0.9074468016624451, 0.13673721253871918, 0.9887046217918396, 0.4080820679664612];
  const want: Record<number, number[][]> = {
    1: [[0], [0], [1.0, -0.416146844625473]], 2: [[s1, s1], [s1], c.slice(0, 2)],
    5: [[s1, s2, s3], [s1, s2, s4], c.slice(0, 6)], 8: [[s1, s2, s3, s7, s7], [s1, s2, s4, s7], c],
  };
  const def = defineModel({
    name: 'ceil', module: new nn.Identity(), inputs: { x: { shape: [1, 1, 'T'], max: { T: 8 } }, y: { shape: [1, 1, 'T', 3], max: { T: 8 } } },
    forward: (_m: Module, i: Record<string, Tensor>) => ({ a: F.maxPool1d(i.x!, 3, { stride: 2, padding: 1, ceilMode: true }), b: new nn.MaxPool1d(2, { ceilMode: true }).call(i.x!), c: F.maxPool2d(i.y!, 2, { ceilMode: true }) }),
  });
  const g = traceModel(def), model = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  expect(g.outputs.map((o) => o.node.type.dims)).toEqual([[1, 1, 'floor(T/2)+1'], [1, 1, 'floor((T+1)/2)'], [1, 1, 'floor((T+1)/2)', 2]]);
  for (const T of [1, 2, 5, 8]) {
    const feeds = { x: { data: Float32Array.from({ length: T }, (_, i) => Math.sin(i)), shape: [1, 1, T] }, y: { data: Float32Array.from({ length: 3 * T }, (_, i) => Math.cos(i)), shape: [1, 1, T, 3] } };
    const ref = interpret(g, feeds), out = model.run(feeds);
    ['a', 'b', 'c'].forEach((k, j) => {
      expectTorch(ref[k] as Float32Array, Float32Array.from(want[T]![j]!), `reference ${k} at T=${T}`);
      expectTorch(out[k] as Float32Array, Float32Array.from(want[T]![j]!), `compiled ${k} at T=${T}`);
    });
  }
  model.dispose();
});
