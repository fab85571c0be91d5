// `F`, the DSL's torch.nn.functional: the ops of functional.ts a model calls. The option checkers
// and resampling pieces functional.ts shares with the nn layers and the ONNX importer (pairOf,
// gatherAlong, the interpolation taps, …) are exported from there, not here.
export {
  linear, conv1d, conv2d, convTranspose1d, convTranspose2d, lpPool1d, lpPool2d, localResponseNorm, rrelu,
  maxPool1d, avgPool1d, maxPool2d, avgPool2d, adaptiveAvgPool1d, adaptiveMaxPool1d, adaptiveAvgPool2d, adaptiveMaxPool2d,
  adaptiveAvgPool3d, adaptiveMaxPool3d,
  batchNorm, layerNorm, groupNorm, dropout, interpolate, embedding, embeddingBag, oneHot,
  relu, relu6, tanh, sigmoid, gelu, geluTanh, silu, leakyRelu, hardtanh, elu, softplus, hardsigmoid,
  hardswish, mish, softsign, prelu, glu, softmax, logSoftmax, whereOp, selu, celu, logsigmoid, hardshrink, softshrink,
  tanhshrink, threshold, softmin, pixelShuffle, pixelUnshuffle, normalize, cosineSimilarity, pairwiseDistance,
  whereOp as where, // torch.where's name
  scaledDotProductAttention, sinusoidalPositionalEncoding, causalMask, gather,
  topk, pad,
  type Conv1dOptions, type Conv2dOptions, type ConvTranspose1dOptions, type ConvTranspose2dOptions, type MaxPool1dOptions,
  type AvgPool1dOptions, type MaxPool2dOptions, type Pool2dOptions, type BatchNormOptions,
  type InterpolateMode, type InterpolateOptions, type PadMode,
} from './functional.ts';
export { einsum } from './einsum.ts';
export { unfold, fold, type BlockOptions } from './blocks.ts';
export { maxUnpool1d, maxUnpool2d, maxUnpool3d, type MaxUnpoolOptions } from './unpool.ts';
export { conv3d, convTranspose3d, maxPool3d, avgPool3d, type Conv3dOptions, type ConvTranspose3dOptions, type MaxPool3dOptions, type AvgPool3dOptions } from './volumetric.ts';
