// ONNX operators, each as a translation into the DSL's tensor operations: this table, and ops/
// beside this file by family (common helpers, elementwise and logic, shapes, reductions, NN
// layers, Resize, recurrent layers, attention, GridSample/AffineGrid, the Bitwise ops, the losses). Semantics are ONNX's, per opset: attributes that became
// inputs (Split/Squeeze/Unsqueeze/Reduce* axes, Clip min/max, Slice starts/ends) are read from
// where that opset puts them. Anything we cannot compute exactly is refused through
// ctx.unsupported, naming the node and the attribute or dtype.

import { record, type Tensor } from '../dsl/tensor.ts';
import { elu, geluTanh, leakyRelu, mish, softplus, softsign } from '../dsl/functional.ts';
import { DT } from './proto.ts';
import { isHost } from './ctx.ts';
import { f32Input, full, type Translate } from './ops/common.ts';
import { binary, boolLogic, castTo, clip, compare, F, hardSigmoid, hostBinary, hostNot, leaky, mod, not, pow, rounding, sign, softmaxLike, T, unary, variadic } from './ops/elementwise.ts';
import { concat, constantOfShape, constantOp, dataDependentSize, depthToSpace, expand, flatten, gather, gatherElements, oneHot, pad, range, reshape, shapeOf, size, slice, spaceToDepth, split, squeeze, tile, transpose, unsqueeze, where } from './ops/shapes.ts';
import { orSizes, sizeArith, sizeCast, sizeConcat, sizeEqual, sizeGather, sizeIdentity, sizeMod, sizeReduce, sizeReshape, sizeSlice, sizeSqueeze, sizeUnsqueeze, sizeWhere } from './ops/sizes.ts';
import { argExtreme, cumsum, reduceOp, topK, trilu } from './ops/reductions.ts';
import { batchNorm, conv, convTranspose, dropout, gemm, globalPool, maxUnpool, groupNormOp, instanceNorm, layerNorm, lrn, pool, rmsNorm } from './ops/nn.ts';
import { RECURRENT } from './ops/recurrent.ts';
import { ATTENTION } from './ops/attention.ts';
import { resize } from './ops/resize.ts';
import { einsum } from './ops/einsum.ts';
import { gatherNd, scatterElements, scatterNd } from './ops/scatter.ts';
import { affineGrid, gridSample } from './ops/sampling.ts';
import { bitShift, bitwiseNotOp, bitwiseOp } from './ops/bitwise.ts';
import { nllLossOp, softmaxCrossEntropy } from './ops/losses.ts';

/** Swish (x · sigmoid(alpha · x)), shared by Swish and SwiGLU. */
const swish = (x: Tensor, alpha: number): Tensor => x.mul((alpha === 1 ? x : x.mul(alpha)).sigmoid());

export const OPS: Record<string, Translate> = {
  Add: orSizes(sizeArith('add'), binary('add'), true), Sub: orSizes(sizeArith('sub'), binary('sub'), true),
  Mul: orSizes(sizeArith('mul'), binary('mul'), true), Div: orSizes(sizeArith('div'), binary('div'), true), Pow: pow,
  Max: variadic('maximum'), Min: variadic('minimum'), Sum: variadic('add'), Mean: variadic('add', true),
  Relu: unary((x) => x.relu()), Tanh: unary((x) => x.tanh()), Sigmoid: unary((x) => x.sigmoid()), Exp: unary((x) => x.exp()),
  Log: unary((x) => x.log()), Sqrt: unary((x) => x.sqrt()), Erf: unary((x) => x.erf()),
  Sin: unary((x) => x.sin()), Cos: unary((x) => x.cos()), Tan: unary((x) => x.tan()),
  Asin: unary((x) => x.asin()), Acos: unary((x) => x.acos()), Atan: unary((x) => x.atan()),
  Sinh: unary((x) => x.sinh()), Cosh: unary((x) => x.cosh()), Asinh: unary((x) => x.asinh()), Acosh: unary((x) => x.acosh()), Atanh: unary((x) => x.atanh()),
  Neg: (c) => { const x = c.t(0, 'X'); return x.dtype === 'i32' ? x.mul(full('i32', -1)) : f32Input(c, 0, 'X').neg(); },
  Abs: (c) => { const x = c.t(0, 'X'); return x.dtype === 'i32' ? x.maximum(x.mul(full('i32', -1))) : f32Input(c, 0, 'X').abs(); },
  Floor: rounding('Floor', 'floor'), Ceil: rounding('Ceil', 'ceil'), Round: rounding('Round', 'round'), Sign: sign, Reciprocal: unary((x) => record('recip', [x])),
  Gelu: unary((x, c) => { c.only('approximate'); const a = c.str('approximate', 'none'); return a === 'tanh' ? geluTanh(x) : a === 'none' ? x.gelu() : c.unsupported(`approximate '${a}'`); }),
  LeakyRelu: unary((x, c) => { c.only('alpha'); return leakyRelu(x, c.float('alpha', 0.01)); }),
  PRelu: (c) => leaky(f32Input(c, 0, 'X'), f32Input(c, 1, 'slope')),
  Elu: unary((x, c) => { c.only('alpha'); return elu(x, c.float('alpha', 1)); }),
  Selu: unary((x, c) => { c.only('alpha', 'gamma'); return elu(x, c.float('alpha', 1.67326319217681884765625)).mul(c.float('gamma', 1.05070102214813232421875)); }),
  Softplus: unary((x) => softplus(x)),
  Softsign: unary((x) => softsign(x)),
  HardSigmoid: unary((x, c) => { c.only('alpha', 'beta'); return hardSigmoid(x, c.float('alpha', 0.2), c.float('beta', 0.5)); }),
  HardSwish: unary((x) => x.mul(hardSigmoid(x, 1 / 6, 0.5))),
  Mish: unary((x) => mish(x)),
  Swish: unary((x, c) => { c.only('alpha'); return swish(x, c.float('alpha', 1)); }),
  // SwiGLU (opset 28; ONNX's function body): Swish(A, alpha) · B, B broadcast as Mul's.
  SwiGLU: (c) => { c.only('alpha'); return swish(f32Input(c, 0, 'A'), c.float('alpha', 1)).mul(f32Input(c, 1, 'B')); },
  Clip: clip,
  Softmax: softmaxLike(false), LogSoftmax: softmaxLike(true),
  Equal: orSizes(sizeEqual, compare('Equal', 'eq', (a, b) => record('where', [a, b, not(b)])), true),
  Less: compare('Less', 'lt'), Greater: compare('Greater', 'gt'), LessOrEqual: compare('LessOrEqual', 'le'), GreaterOrEqual: compare('GreaterOrEqual', 'ge'),
  And: boolLogic('And', hostBinary('And', (a, b) => (a && b ? 1 : 0), DT.BOOL), (a, b) => record('where', [a, b!, F()])),
  Or: boolLogic('Or', hostBinary('Or', (a, b) => (a || b ? 1 : 0), DT.BOOL), (a, b) => record('where', [a, T(), b!])),
  Xor: boolLogic('Xor', hostBinary('Xor', (a, b) => (!a !== !b ? 1 : 0), DT.BOOL), (a, b) => record('where', [a, not(b!), b!])),
  Not: boolLogic('Not', hostNot, (a) => not(a)),
  BitwiseAnd: bitwiseOp('and'), BitwiseOr: bitwiseOp('or'), BitwiseXor: bitwiseOp('xor'), BitwiseNot: bitwiseNotOp, BitShift: bitShift,
  Mod: orSizes(sizeMod, mod, true),
  Cast: orSizes(sizeCast, (c) => { c.only('to', 'saturate', 'round_mode'); return castTo(c, c.val(0), c.int('to', 0)); }),
  CastLike: (c) => { c.only('saturate', 'round_mode'); const l = c.val(1); return castTo(c, c.val(0), isHost(l) ? l.dtype : ({ f32: DT.FLOAT, i32: DT.INT64, bool: DT.BOOL } as const)[l.dtype]); },
  Identity: orSizes(sizeIdentity, (c) => c.val(0)),
  Dropout: dropout,
  Constant: constantOp, ConstantOfShape: constantOfShape, Shape: shapeOf, Range: range,
  Size: size,
  Reshape: orSizes(sizeReshape, reshape), Flatten: flatten, Transpose: transpose, Concat: orSizes(sizeConcat, concat, true), Slice: orSizes(sizeSlice, slice), Split: split,
  DepthToSpace: depthToSpace, SpaceToDepth: spaceToDepth,
  Pad: pad, Squeeze: orSizes(sizeSqueeze, squeeze), Unsqueeze: orSizes(sizeUnsqueeze, unsqueeze), Expand: expand, Gather: orSizes(sizeGather, gather), Where: orSizes(sizeWhere, where, true),
  ReduceSum: orSizes(sizeReduce('add'), reduceOp('sum', 13)), ReduceMean: reduceOp('mean', 18), ReduceMax: reduceOp('max', 18), ReduceMin: reduceOp('min', 18),
  ReduceSumSquare: reduceOp('sumsq', 18), ReduceL1: reduceOp('l1', 18), ReduceL2: reduceOp('l2', 18),
  ReduceLogSumExp: reduceOp('logsumexp', 18), ReduceLogSum: reduceOp('logsum', 18), ReduceProd: orSizes(sizeReduce('mul'), reduceOp('prod', 18)),
  ArgMax: argExtreme(true), ArgMin: argExtreme(false),
  TopK: topK,
  CumSum: cumsum, Trilu: trilu,
  MatMul: (c) => {
    const a = f32Input(c, 0, 'A'), b = f32Input(c, 1, 'B');
    return a.rank === 1 && b.rank === 1 ? a.unsqueeze(0).matmul(b.unsqueeze(1)).reshape() : a.matmul(b);
  },
  Gemm: gemm, Conv: conv, ConvTranspose: convTranspose, MaxPool: pool('max'), AveragePool: pool('avg'), MaxUnpool: maxUnpool,
  GlobalAveragePool: globalPool('mean'), GlobalMaxPool: globalPool('max'),
  BatchNormalization: batchNorm, LayerNormalization: layerNorm, InstanceNormalization: instanceNorm, GroupNormalization: groupNormOp, LRN: lrn,
  Resize: resize, GridSample: gridSample, AffineGrid: affineGrid,
  Tile: tile, GatherElements: gatherElements, RMSNormalization: rmsNorm, OneHot: oneHot,
  NonZero: dataDependentSize, Unique: dataDependentSize, Compress: dataDependentSize,
  Einsum: einsum,
  NegativeLogLikelihoodLoss: nllLossOp, SoftmaxCrossEntropyLoss: softmaxCrossEntropy,
  ScatterElements: scatterElements, Scatter: scatterElements, ScatterND: scatterNd, GatherND: gatherNd,
  ...RECURRENT,
  ...ATTENTION,
};

