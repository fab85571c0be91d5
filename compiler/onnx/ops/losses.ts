// ONNX NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 12, 13) through the DSL's
// F.nllLoss and F.crossEntropy (compiler/dsl/losses.ts, torch 1.13's definitions), which are
// ONNX's: −weight[t]·input[n, t, d…] (0 where t is ignore_index), 'mean' dividing by the sum of
// the weights of the targets not ignored (by their count without weights; all ignored: 0/0, NaN).
// That is what ONNX's node tests expect (test_nllloss_*_ii, test_sce_*_ii, from its reference
// implementation); the operator text's "mean(loss), if weight is not provided" could be read as
// dividing by every target, ignored ones included, and the reference does so in one case: given
// ignore_index −1 and no weights.
// A target outside [0, C) that is not ignore_index raises when the code runs; ONNX leaves it
// undefined. Without ignore_index nothing is ignored: INT32_MIN stands for "none" (a target can
// only equal it by being out of range anyway, and then gives 0 rather than the error).
import { crossEntropy, nllLoss, type Reduction } from '../../dsl/losses.ts';
import { fmtShape } from '../../ir/types.ts';
import type { Tensor } from '../../dsl/tensor.ts';
import type { Ctx } from '../ctx.ts';
import { f32Input, type Translate } from './common.ts';

const I32_MIN = -(2 ** 31);

function lossArgs(c: Ctx, what: [string, string, string]): { x: Tensor; target: Tensor; weight: Tensor | undefined; reduction: Reduction; ignoreIndex: number } {
  c.only('reduction', 'ignore_index');
  const x = f32Input(c, 0, what[0]), target = c.t(1, what[1]);
  if (x.rank < 2) c.unsupported(`${what[0]} ${fmtShape(x.dims)} (expected [N, C] or [N, C, d1, …])`);
  if (target.dtype !== 'i32') c.unsupported(`${what[1]} of type ${target.dtype} (expected int32 or int64 class indices)`);
  const weight = c.has(2) ? f32Input(c, 2, what[2]) : undefined;
  const reduction = c.str('reduction', 'mean');
  if (!['mean', 'sum', 'none'].includes(reduction)) c.unsupported(`reduction '${reduction}' (expected 'mean', 'sum' or 'none')`);
  const ii = c.attr('ignore_index') ? c.int('ignore_index', 0) : undefined;
  // An int64 ignore_index outside i32 equals no target: as if absent.
  const ignoreIndex = ii !== undefined && ii >= I32_MIN && ii < 2 ** 31 ? ii : I32_MIN;
  return { x, target, weight, reduction: reduction as Reduction, ignoreIndex };
}

export const nllLossOp: Translate = (c) => {
  const { x, target, weight, reduction, ignoreIndex } = lossArgs(c, ['input', 'target', 'weight']);
  return nllLoss(x, target, { weight, reduction, ignoreIndex });
};

/** SoftmaxCrossEntropyLoss: the loss, and (its optional second output) log_softmax over axis 1. */
export const softmaxCrossEntropy: Translate = (c) => {
  const { x, target, weight, reduction, ignoreIndex } = lossArgs(c, ['scores', 'labels', 'weights']);
  const loss = crossEntropy(x, target, { weight, reduction, ignoreIndex });
  return c.node.outputs.length > 1 && c.node.outputs[1] ? [loss, x.logSoftmax(1)] : loss;
};
