// `F`, the DSL's torch.nn.functional: the ops of functional.ts a model calls. The option checkers
// and resampling pieces functional.ts shares with the nn layers and the ONNX importer (pairOf,
// gatherAlong, the interpolation taps, …) are exported from there, not here. Each refuses extra
// positional arguments (arity.ts: F.softmax(x, 1, 2) lost its 2 silently in a JavaScript model).
import { checkedFunctions } from './arity.ts';
import * as B from './blocks.ts';
import * as E from './einsum.ts';
import * as Fn from './functional.ts';
import * as Lo from './losses.ts';
import * as G from './sampling.ts';
import * as U from './unpool.ts';
import * as V from './volumetric.ts';

export const {
  linear, conv1d, conv2d, convTranspose1d, convTranspose2d, lpPool1d, lpPool2d, localResponseNorm, rrelu,
  maxPool1d, avgPool1d, maxPool2d, avgPool2d, adaptiveAvgPool1d, adaptiveMaxPool1d, adaptiveAvgPool2d,
  adaptiveMaxPool2d, adaptiveAvgPool3d, adaptiveMaxPool3d, batchNorm, layerNorm, groupNorm, dropout,
  interpolate, embedding, embeddingBag, oneHot, relu, relu6, tanh, sigmoid, gelu, geluTanh, silu, leakyRelu,
  hardtanh, elu, softplus, hardsigmoid, hardswish, mish, softsign, prelu, glu, softmax, logSoftmax, whereOp,
  selu, celu, logsigmoid, hardshrink, softshrink, tanhshrink, threshold, softmin, pixelShuffle,
  pixelUnshuffle, normalize, cosineSimilarity, pairwiseDistance, scaledDotProductAttention,
  sinusoidalPositionalEncoding, causalMask, gather, topk, pad, where, einsum, unfold, fold, maxUnpool1d,
  maxUnpool2d, maxUnpool3d, conv3d, convTranspose3d, maxPool3d, avgPool3d, crossEntropy, nllLoss, mseLoss, l1Loss,
  smoothL1Loss, huberLoss, binaryCrossEntropy, binaryCrossEntropyWithLogits, klDiv, marginRankingLoss, hingeEmbeddingLoss,
  softMarginLoss, cosineEmbeddingLoss, tripletMarginLoss, poissonNllLoss, gaussianNllLoss, gridSample, affineGrid
} = checkedFunctions('F.', {
  linear: Fn.linear, conv1d: Fn.conv1d, conv2d: Fn.conv2d, convTranspose1d: Fn.convTranspose1d,
  convTranspose2d: Fn.convTranspose2d, lpPool1d: Fn.lpPool1d, lpPool2d: Fn.lpPool2d,
  localResponseNorm: Fn.localResponseNorm, rrelu: Fn.rrelu, maxPool1d: Fn.maxPool1d, avgPool1d: Fn.avgPool1d,
  maxPool2d: Fn.maxPool2d, avgPool2d: Fn.avgPool2d, adaptiveAvgPool1d: Fn.adaptiveAvgPool1d,
  adaptiveMaxPool1d: Fn.adaptiveMaxPool1d, adaptiveAvgPool2d: Fn.adaptiveAvgPool2d,
  adaptiveMaxPool2d: Fn.adaptiveMaxPool2d, adaptiveAvgPool3d: Fn.adaptiveAvgPool3d,
  adaptiveMaxPool3d: Fn.adaptiveMaxPool3d, batchNorm: Fn.batchNorm, layerNorm: Fn.layerNorm,
  groupNorm: Fn.groupNorm, dropout: Fn.dropout, interpolate: Fn.interpolate, embedding: Fn.embedding,
  embeddingBag: Fn.embeddingBag, oneHot: Fn.oneHot, relu: Fn.relu, relu6: Fn.relu6, tanh: Fn.tanh,
  sigmoid: Fn.sigmoid, gelu: Fn.gelu, geluTanh: Fn.geluTanh, silu: Fn.silu, leakyRelu: Fn.leakyRelu,
  hardtanh: Fn.hardtanh, elu: Fn.elu, softplus: Fn.softplus, hardsigmoid: Fn.hardsigmoid,
  hardswish: Fn.hardswish, mish: Fn.mish, softsign: Fn.softsign, prelu: Fn.prelu, glu: Fn.glu,
  softmax: Fn.softmax, logSoftmax: Fn.logSoftmax, whereOp: Fn.whereOp, selu: Fn.selu, celu: Fn.celu,
  logsigmoid: Fn.logsigmoid, hardshrink: Fn.hardshrink, softshrink: Fn.softshrink, tanhshrink: Fn.tanhshrink,
  threshold: Fn.threshold, softmin: Fn.softmin, pixelShuffle: Fn.pixelShuffle,
  pixelUnshuffle: Fn.pixelUnshuffle, normalize: Fn.normalize, cosineSimilarity: Fn.cosineSimilarity,
  pairwiseDistance: Fn.pairwiseDistance, scaledDotProductAttention: Fn.scaledDotProductAttention,
  sinusoidalPositionalEncoding: Fn.sinusoidalPositionalEncoding, causalMask: Fn.causalMask,
  gather: Fn.gather, topk: Fn.topk, pad: Fn.pad, where: Fn.whereOp, einsum: E.einsum, unfold: B.unfold,
  fold: B.fold, maxUnpool1d: U.maxUnpool1d, maxUnpool2d: U.maxUnpool2d, maxUnpool3d: U.maxUnpool3d,
  conv3d: V.conv3d, convTranspose3d: V.convTranspose3d, maxPool3d: V.maxPool3d, avgPool3d: V.avgPool3d,
  crossEntropy: Lo.crossEntropy, nllLoss: Lo.nllLoss, mseLoss: Lo.mseLoss, l1Loss: Lo.l1Loss, smoothL1Loss: Lo.smoothL1Loss,
  huberLoss: Lo.huberLoss, binaryCrossEntropy: Lo.binaryCrossEntropy, binaryCrossEntropyWithLogits: Lo.binaryCrossEntropyWithLogits,
  klDiv: Lo.klDiv, marginRankingLoss: Lo.marginRankingLoss, hingeEmbeddingLoss: Lo.hingeEmbeddingLoss,
  softMarginLoss: Lo.softMarginLoss, cosineEmbeddingLoss: Lo.cosineEmbeddingLoss, tripletMarginLoss: Lo.tripletMarginLoss,
  poissonNllLoss: Lo.poissonNllLoss, gaussianNllLoss: Lo.gaussianNllLoss,
  gridSample: G.gridSample, affineGrid: G.affineGrid,
});
// index.ts names each of these types in its namespace F too (F.Conv2dOptions): add one there as well.
export type {
  Conv1dOptions, Conv2dOptions, ConvTranspose1dOptions, ConvTranspose2dOptions, MaxPool1dOptions,
  AvgPool1dOptions, MaxPool2dOptions, Pool2dOptions, BatchNormOptions, InterpolateMode, InterpolateOptions, PadMode,
} from './functional.ts';
export type { BlockOptions } from './blocks.ts';
export type { Reduction, NllLossOptions, CrossEntropyOptions, ReductionOptions } from './losses.ts';
export type { MaxUnpoolOptions } from './unpool.ts';
export type { GridSampleOptions, GridSampleMode, GridSamplePadding } from './sampling.ts';
export type { Conv3dOptions, ConvTranspose3dOptions, MaxPool3dOptions, AvgPool3dOptions } from './volumetric.ts';
