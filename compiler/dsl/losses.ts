// PyTorch 1.13's loss functions (torch.nn.functional's and the nn *Loss modules), as composites of
// the DSL's ops, each in the order torch's kernel computes it (aten/src/ATen/native/Loss*.cpp and
// torch/nn/functional.py): a model that reports its loss, a distillation or evaluation graph.
// Reductions 'mean', 'sum' and 'none' (kl_div also 'batchmean'); torch's deprecated size_average and
// reduce are refused (unknown options). A class index out of range raises, as torch's: at trace time
// when the targets are constant, else when the code runs (a check node: its trap, or the reference's error).
import { canonDim, isSymbolic, mulDims, type Dim } from '../ir/dims.ts';
import { describeValue } from '../ir/print.ts';
import { fmtShape } from '../ir/types.ts';
import { floatArg, pairwiseDistance, runTimeCheck, tensorArg } from './functional.ts';
import { Module, type Parameter } from './module.ts';
import { checkOptions } from './options.ts';
import { ModelDefinitionError, record, scalar, scalarLike, sizeTensor, Tensor, where } from './tensor.ts';

export type Reduction = 'mean' | 'sum' | 'none';
const REDUCTIONS: readonly string[] = ['mean', 'sum', 'none'];

function reductionOf(op: string, r: unknown, extra: readonly string[] = []): string {
  const ok = [...REDUCTIONS, ...extra];
  if (typeof r !== 'string' || !ok.includes(r)) throw new ModelDefinitionError(`${op}: reduction must be ${ok.map((s) => `'${s}'`).join(', ')}, got ${describeValue(r)} (torch: "is not a valid value for reduction")${where()}`);
  return r;
}
/** torch's apply_loss_reduction: the mean or sum of every element, or the elements themselves. */
const reduced = (loss: Tensor, reduction: string): Tensor => (reduction === 'mean' ? loss.mean() : reduction === 'sum' ? loss.sum() : loss);

function num(op: string, name: string, v: unknown, ok: (v: number) => boolean = Number.isFinite, what = 'a finite number'): number {
  if (typeof v !== 'number' || !ok(v)) throw new ModelDefinitionError(`${op}: ${name} must be ${what}, got ${describeValue(v)}${where()}`);
  return v;
}
function bool(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ModelDefinitionError(`${op}: ${name} must be true or false, got ${describeValue(v)}${where()}`);
  return v;
}
/** Whether two shapes are the same dims (sizes chosen at run time by their canonical names). */
const sameShapeOf = (a: readonly Dim[], b: readonly Dim[]): boolean => a.length === b.length && a.every((d, i) => canonDim(d) === canonDim(b[i]!));
/** A target of the input's own dims (torch refuses a broadcast target in these losses). */
function sameDims(op: string, input: Tensor, target: Tensor, what = 'target'): void {
  if (!sameShapeOf(input.dims, target.dims)) {
    throw new ModelDefinitionError(`${op}: ${what} ${fmtShape(target.dims)} must have the input's size ${fmtShape(input.dims)} (torch: "Target size must be the same as input size")${where()}`);
  }
}
/** An optional f32 tensor option (weight, pos_weight). */
function optTensor(op: string, name: string, v: unknown): Tensor | undefined {
  if (v === undefined || v === null) return undefined;
  return floatArg(op, name, v);
}

// ---- class indices: nll_loss and cross_entropy -------------------------------------------------

export interface NllLossOptions { weight?: Tensor | null; ignoreIndex?: number; reduction?: Reduction }
export interface CrossEntropyOptions extends NllLossOptions { labelSmoothing?: number }

/**
 * The class dim (1, or 0 for an unbatched [C]) and C, with the target's shape and dtype checked. C
 * may be a size chosen at run time (CLIP's contrastive loss: the batch is the classes), without a
 * weight or label smoothing (both need the count when the model is built).
 */
function classTargets(op: string, input: Tensor, target: unknown, o: { weight?: unknown; labelSmoothing?: number } = {}): { cd: number; C: Dim; target: Tensor } {
  const t = tensorArg(op, 'target', target);
  if (input.rank === 0) throw new ModelDefinitionError(`${op}: input must be [C], [N, C] or [N, C, d1, …], got a 0-d tensor${where()}`);
  const cd = input.rank === 1 ? 0 : 1, Cd = input.dims[cd]!;
  if (isSymbolic(Cd) && ((o.weight !== undefined && o.weight !== null) || (o.labelSmoothing ?? 0) > 0)) {
    throw new ModelDefinitionError(`${op}: the class dim of ${fmtShape(input.dims)} is a size chosen at run time; ${o.labelSmoothing ? 'label smoothing' : 'a class weight'} needs a fixed number of classes${where()}`);
  }
  if (t.dtype !== 'i32') throw new ModelDefinitionError(`${op}: class-index targets must be i32 (torch's int64), got ${t.dtype}${fmtShape(t.dims)} (torch: "expected scalar type Long")${op === 'cross_entropy' ? '; class probabilities must be f32 of the input\'s shape' : ''}${where()}`);
  const want = input.dims.filter((_, i) => i !== cd);
  if (!sameShapeOf(t.dims, want)) {
    throw new ModelDefinitionError(`${op}: target ${fmtShape(t.dims)} must be the input ${fmtShape(input.dims)} without its class dim: ${fmtShape(want)}${where()}`);
  }
  return { cd, C: Cd, target: t };
}

function weightOf(op: string, w: unknown, C: Dim): Tensor | undefined {
  const weight = optTensor(op, 'weight', w);
  if (weight && (weight.rank !== 1 || weight.dims[0] !== C)) throw new ModelDefinitionError(`${op}: weight tensor should be defined either for all ${C} classes or no classes but got weight tensor of shape: ${fmtShape(weight.dims)}${where()}`);
  return weight;
}

/**
 * nll_loss's pieces over log-probabilities `logp`: each target's −w[t]·logp[t] (0 where ignored)
 * and its weight w[t] (0 where ignored). A target outside [0, C) that is not ignore_index raises:
 * at trace time for a constant target, else when the code runs ("Target {t} is out of bounds.").
 */
function nllTerms(op: string, logp: Tensor, target: Tensor, cd: number, C: Dim, weight: Tensor | undefined, ignoreIndex: number): { loss: Tensor; w: Tensor; ignored: Tensor; safe: Tensor } {
  const classes = typeof C === 'number' ? `0 to ${C - 1}` : `0 to ${C} − 1, with ${C} chosen at run time`;
  const cls = target.node.op === 'const' ? Array.from(target.node.attrs.data as Int32Array) : [];
  const bad = cls.find((k) => k !== ignoreIndex && (k < 0 || (typeof C === 'number' && k >= C)));
  if (bad !== undefined) throw new ModelDefinitionError(`${op}: Target ${bad} is out of bounds (the classes are ${classes}; ignore_index is ${ignoreIndex})${where()}`);
  if (target.node.op !== 'const' || typeof C !== 'number') {
    // ok: ignored, or within [0, C) (a count chosen at run time: its size as an i32 when the code runs)
    const ignoredHere = target.eq(ignoreIndex);
    const inRange = typeof C === 'number' ? target.eq(target.clamp(0, C - 1)) : target.ge(0).logicalAnd(target.lt(sizeTensor(C, logp.bounds).reshape([])));
    target = runTimeCheck(op, target, record('where', [ignoredHere, ignoredHere, inRange]), target, `Target {0} is out of bounds (the classes are ${classes}).`);
  }
  const ignored = target.eq(ignoreIndex), safe = record('where', [ignored, scalarLike(0, target), target]);
  const picked = logp.gather(cd, safe.unsqueeze(cd)).squeeze(cd);
  const w0 = weight ? weight.gather(0, safe.reshape(-1)).reshape(...safe.dims) : undefined;
  const w = record('where', [ignored, scalar(0), w0 ?? scalar(1)]).expand(safe.dims, safe.bounds);
  // (−w·x as torch; an ignored target gives 0 whatever the input there holds)
  const loss = record('where', [ignored, scalar(0), w0 ? w0.neg().mul(picked) : picked.neg()]);
  return { loss, w, ignored, safe };
}

/**
 * torch.nn.functional.nll_loss(input [N, C, d…] or [C], target [N, d…] or [] i32, {weight,
 * ignoreIndex = −100, reduction}): −weight[t]·input[t]; 'mean' divides by the weights of the targets
 * not ignored (all ignored: 0/0 = NaN, as torch).
 */
export function nllLoss(input: Tensor, target: Tensor, o: NllLossOptions = {}): Tensor {
  const op = 'nll_loss';
  checkOptions(op, o, ['weight', 'ignoreIndex', 'reduction']);
  input = floatArg(op, 'input', input);
  const reduction = reductionOf(op, o.reduction ?? 'mean'), ignoreIndex = num(op, 'ignoreIndex', o.ignoreIndex ?? -100, Number.isInteger, 'an integer');
  const { cd, C, target: t } = classTargets(op, input, target, o);
  const { loss, w } = nllTerms(op, input, t, cd, C, weightOf(op, o.weight, C), ignoreIndex);
  return reduction === 'mean' ? loss.sum().div(w.sum()) : reduced(loss, reduction);
}

/**
 * torch.nn.functional.cross_entropy(input, target, {weight, ignoreIndex = −100, reduction,
 * labelSmoothing = 0}): log_softmax over the class dim (1, or 0 for an unbatched [C]), then with
 * i32 class indices nll_loss, and with f32 class probabilities of the input's shape
 * −Σ w·p·log_softmax (its 'mean' divides by the count of samples, not the weights). Label smoothing
 * ε as torch 1.13: indices (1 − ε)·nll + ε/C·smooth, smooth = −Σ_c w_c·logp_c of each target not
 * ignored, its 'mean' divided by the weights of those targets (by their count without weights);
 * probabilities p·(1 − ε) + ε/C.
 */
export function crossEntropy(input: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  const op = 'cross_entropy';
  checkOptions(op, o, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']);
  input = floatArg(op, 'input', input);
  tensorArg(op, 'target', target);
  const reduction = reductionOf(op, o.reduction ?? 'mean'), ignoreIndex = num(op, 'ignoreIndex', o.ignoreIndex ?? -100, Number.isInteger, 'an integer');
  const ls = num(op, 'labelSmoothing', o.labelSmoothing ?? 0);
  if (!(ls >= 0 && ls <= 1)) throw new ModelDefinitionError(`${op}: label_smoothing must be between 0.0 and 1.0. Got: ${ls}${where()}`);
  if (input.rank === 0) throw new ModelDefinitionError(`${op}: input must be [C], [N, C] or [N, C, d1, …], got a 0-d tensor${where()}`);
  const cd = input.rank === 1 ? 0 : 1;
  if (target.dtype === 'f32' && sameShapeOf(target.dims, input.dims)) {
    if (isSymbolic(input.dims[cd]!)) throw new ModelDefinitionError(`${op}: the class dim of ${fmtShape(input.dims)} is a size chosen at run time; it must be a fixed size${where()}`);
    const C = input.maxSize(cd), weight = weightOf(op, o.weight, C);
    if (ignoreIndex >= 0) throw new ModelDefinitionError(`${op}: ignore_index is not supported for floating point target (class probabilities), got ignoreIndex ${ignoreIndex}${where()}`);
    const p = ls > 0 ? target.mul(1 - ls).add(ls / C) : target;
    let prod = input.logSoftmax(cd).mul(p);
    if (weight) prod = prod.mul(weight.reshape(...input.dims.map((_, i) => (i === cd ? C : 1))));
    if (reduction === 'none') return prod.sum(cd).neg();
    const total = prod.sum().neg();
    if (reduction === 'sum') return total;
    const n = input.dims.filter((_, i) => i !== cd).reduce<Dim>((a, d) => mulDims(a, d), 1);
    return total.div(typeof n === 'number' ? n : sizeTensor(n, input.bounds).float().reshape([]));
  }
  const { C, target: t } = classTargets(op, input, target, { weight: o.weight, labelSmoothing: ls });
  const weight = weightOf(op, o.weight, C), logp = input.logSoftmax(cd);
  const { loss, w, ignored } = nllTerms(op, logp, t, cd, C, weight, ignoreIndex);
  const nll = reduction === 'mean' ? loss.sum().div(w.sum()) : reduced(loss, reduction);
  if (ls === 0) return nll;
  const wl = weight ? logp.mul(weight.reshape(...input.dims.map((_, i) => (i === cd ? C : 1)))) : logp;
  const smooth = record('where', [ignored, scalar(0), wl.sum(cd).neg()]);
  const ret = reduction === 'mean' ? smooth.sum().div(weight ? w.sum() : ignored.logicalNot().float().sum()) : reduced(smooth, reduction);
  return nll.mul(1 - ls).add(ret.mul(ls / (C as number)));
}

// ---- elementwise regression losses ---------------------------------------------------------------

export interface ReductionOptions { reduction?: Reduction }

/** input and target as f32 (target broadcast to the input, as torch's elementwise losses do). */
function pair(op: string, input: unknown, target: unknown): [Tensor, Tensor] {
  return [floatArg(op, 'input', input), floatArg(op, 'target', target)];
}

/** torch.nn.functional.mse_loss: (x − y)², broadcast as torch (which warns when the sizes differ). */
export function mseLoss(input: Tensor, target: Tensor, o: ReductionOptions = {}): Tensor {
  checkOptions('mse_loss', o, ['reduction']);
  const [x, y] = pair('mse_loss', input, target), d = x.sub(y);
  return reduced(d.mul(d), reductionOf('mse_loss', o.reduction ?? 'mean'));
}
/** torch.nn.functional.l1_loss: |x − y|. */
export function l1Loss(input: Tensor, target: Tensor, o: ReductionOptions = {}): Tensor {
  checkOptions('l1_loss', o, ['reduction']);
  const [x, y] = pair('l1_loss', input, target);
  return reduced(x.sub(y).abs(), reductionOf('l1_loss', o.reduction ?? 'mean'));
}
/** torch.nn.functional.smooth_l1_loss(beta = 1): z = |x − y|, 0.5·z·z/β where z < β, else z − 0.5·β; β = 0 is l1_loss. */
export function smoothL1Loss(input: Tensor, target: Tensor, o: ReductionOptions & { beta?: number } = {}): Tensor {
  const op = 'smooth_l1_loss';
  checkOptions(op, o, ['reduction', 'beta']);
  const [x, y] = pair(op, input, target), reduction = reductionOf(op, o.reduction ?? 'mean');
  const beta = num(op, 'beta', o.beta ?? 1, (v) => v >= 0 && v < Infinity, 'a finite number ≥ 0 (torch: "smooth_l1_loss does not support negative values for beta.")');
  const z = x.sub(y).abs();
  if (beta === 0) return reduced(z, reduction);
  return reduced(record('where', [z.lt(beta), z.mul(0.5).mul(z).div(beta), z.sub(0.5 * beta)]), reduction);
}
/** torch.nn.functional.huber_loss(delta = 1): z = |x − y|, 0.5·z·z where z < δ, else δ·(z − 0.5·δ). */
export function huberLoss(input: Tensor, target: Tensor, o: ReductionOptions & { delta?: number } = {}): Tensor {
  const op = 'huber_loss';
  checkOptions(op, o, ['reduction', 'delta']);
  const [x, y] = pair(op, input, target), reduction = reductionOf(op, o.reduction ?? 'mean');
  const delta = num(op, 'delta', o.delta ?? 1, (v) => v > 0 && v < Infinity, 'a finite number > 0 (torch: "huber_loss does not support non-positive values for delta.")');
  const z = x.sub(y).abs();
  return reduced(record('where', [z.lt(delta), z.mul(0.5).mul(z), z.sub(0.5 * delta).mul(delta)]), reduction);
}

// ---- binary targets --------------------------------------------------------------------------------

/**
 * torch.nn.functional.binary_cross_entropy(input, target, {weight, reduction}): −w·(y·log x +
 * (1 − y)·log(1 − x)), each log clamped at −100, as torch's kernel: (y − 1)·max(log1p(−x), −100)
 * − y·max(log x, −100). An input outside [0, 1] (NaN too) raises when the code runs, as torch's.
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, o: ReductionOptions & { weight?: Tensor | null } = {}): Tensor {
  const op = 'binary_cross_entropy';
  checkOptions(op, o, ['weight', 'reduction']);
  let [x, y] = pair(op, input, target);
  sameDims(op, x, y);
  const weight = optTensor(op, 'weight', o.weight), reduction = reductionOf(op, o.reduction ?? 'mean');
  const ok = x.eq(x.clamp(0, 1)); // (false at NaN, as torch's check)
  x = runTimeCheck(op, x, ok, ok.int(), 'all elements of input should be between 0 and 1 (element {1} is not)');
  let loss = y.sub(1).mul(x.neg().log1p().maximum(-100)).sub(y.mul(x.log().maximum(-100)));
  if (weight) loss = loss.mul(weight);
  return reduced(loss, reduction);
}

/**
 * torch.nn.functional.binary_cross_entropy_with_logits(input, target, {weight, posWeight,
 * reduction}): the stable form torch 1.13 computes, m = max(−x, 0):
 * (1 − y)·x + m + log(e^−m + e^(−x−m)); with posWeight p the log term times (p − 1)·y + 1.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, o: ReductionOptions & { weight?: Tensor | null; posWeight?: Tensor | null } = {}): Tensor {
  const op = 'binary_cross_entropy_with_logits';
  checkOptions(op, o, ['weight', 'posWeight', 'reduction']);
  const [x, y] = pair(op, input, target);
  sameDims(op, x, y);
  const weight = optTensor(op, 'weight', o.weight), pw = optTensor(op, 'posWeight', o.posWeight), reduction = reductionOf(op, o.reduction ?? 'mean');
  const m = x.neg().clamp(0), lse = m.neg().exp().add(x.neg().sub(m).exp()).log();
  const base = scalar(1).sub(y).mul(x);
  let loss = pw ? base.add(pw.sub(1).mul(y).add(1).mul(lse.add(m))) : base.add(m).add(lse);
  if (weight) loss = loss.mul(weight);
  return reduced(loss, reduction);
}

// ---- distributions -----------------------------------------------------------------------------------

/**
 * torch.nn.functional.kl_div(input (log-probabilities), target, {reduction = 'mean', logTarget}):
 * target·(log target − input) by xlogy (0 where target is 0, NaN where it is NaN or, for a negative
 * target, the log's NaN), or with logTarget e^target·(target − input). 'batchmean' is the sum over
 * input.size(0); 'mean' (torch warns) the mean of every element.
 */
export function klDiv(input: Tensor, target: Tensor, o: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}): Tensor {
  const op = 'kl_div';
  checkOptions(op, o, ['reduction', 'logTarget']);
  const [x, y] = pair(op, input, target), reduction = reductionOf(op, o.reduction ?? 'mean', ['batchmean']);
  const logTarget = bool(op, 'logTarget', o.logTarget ?? false);
  let loss: Tensor;
  if (logTarget) loss = y.exp().mul(y.sub(x));
  else {
    const xlogy = record('where', [y.isnan(), y, record('where', [y.eq(0), scalar(0), y.mul(y.log())])]);
    loss = xlogy.sub(y.mul(x));
  }
  if (reduction !== 'batchmean') return reduced(loss, reduction);
  const total = loss.sum();
  if (x.rank === 0) return total;
  const b = x.dims[0]!;
  return total.div(typeof b === 'number' ? b : sizeTensor(b, x.bounds).float().reshape([]));
}

/**
 * torch.nn.functional.poisson_nll_loss(input, target, {logInput = true, full, eps = 1e-8,
 * reduction}): e^x − y·x, or x − y·log(x + eps); full adds Stirling's y·log y − y + 0.5·log(2πy)
 * where y > 1.
 */
export function poissonNllLoss(input: Tensor, target: Tensor, o: ReductionOptions & { logInput?: boolean; full?: boolean; eps?: number } = {}): Tensor {
  const op = 'poisson_nll_loss';
  checkOptions(op, o, ['logInput', 'full', 'eps', 'reduction']);
  const [x, y] = pair(op, input, target), reduction = reductionOf(op, o.reduction ?? 'mean');
  const logInput = bool(op, 'logInput', o.logInput ?? true), full = bool(op, 'full', o.full ?? false), eps = num(op, 'eps', o.eps ?? 1e-8);
  let loss = logInput ? x.exp().sub(y.mul(x)) : x.sub(y.mul(x.add(eps).log()));
  if (full) {
    const stirling = y.mul(y.log()).sub(y).add(y.mul(2 * Math.PI).log().mul(0.5));
    loss = loss.add(record('where', [y.le(1), scalar(0), stirling]));
  }
  return reduced(loss, reduction);
}

/**
 * torch.nn.functional.gaussian_nll_loss(input, target, var, {full, eps = 1e-6, reduction}):
 * 0.5·(log v + (x − y)²/v), v = max(var, eps) (+ 0.5·log 2π when full). var has the input's size,
 * or its size without the last dim, or that with a last dim of 1; a negative var raises when the
 * code runs ("var has negative entry/entries"), as torch.
 */
export function gaussianNllLoss(input: Tensor, target: Tensor, variance: Tensor, o: ReductionOptions & { full?: boolean; eps?: number } = {}): Tensor {
  const op = 'gaussian_nll_loss';
  checkOptions(op, o, ['full', 'eps', 'reduction']);
  const [x, y] = pair(op, input, target);
  let v = floatArg(op, 'var', variance);
  const reduction = reductionOf(op, o.reduction ?? 'mean'), full = bool(op, 'full', o.full ?? false), eps = num(op, 'eps', o.eps ?? 1e-6);
  const same = sameShapeOf;
  if (!same(v.dims, x.dims)) {
    if (x.rank >= 1 && same(x.dims.slice(0, -1), v.dims)) v = v.unsqueeze(-1);
    else if (!(x.rank >= 1 && v.rank >= 1 && same(x.dims.slice(0, -1), v.dims.slice(0, -1)) && v.dims[v.rank - 1] === 1)) {
      throw new ModelDefinitionError(`${op}: var is of incorrect size: ${fmtShape(v.dims)} for input ${fmtShape(x.dims)} (it must be the input's size, that without the last dim, or that with a last dim of 1)${where()}`);
    }
  }
  const ok = v.lt(0).logicalNot();
  v = runTimeCheck(op, v, ok, ok.int(), 'var has negative entry/entries (element {1})').clamp(eps);
  const d = x.sub(y);
  let loss = v.log().add(d.mul(d).div(v)).mul(0.5);
  if (full) loss = loss.add(0.5 * Math.log(2 * Math.PI));
  return reduced(loss, reduction);
}

// ---- margins and embeddings --------------------------------------------------------------------------

/** torch.nn.functional.margin_ranking_loss(x1, x2, y, {margin = 0, reduction}): max(0, −y·(x1 − x2) + margin). */
export function marginRankingLoss(input1: Tensor, input2: Tensor, target: Tensor, o: ReductionOptions & { margin?: number } = {}): Tensor {
  const op = 'margin_ranking_loss';
  checkOptions(op, o, ['margin', 'reduction']);
  const a = floatArg(op, 'input1', input1), b = floatArg(op, 'input2', input2), y = floatArg(op, 'target', target);
  if (a.rank !== b.rank || a.rank !== y.rank) throw new ModelDefinitionError(`${op}: All input tensors should have same dimension but got sizes: input1: ${fmtShape(a.dims)}, input2: ${fmtShape(b.dims)}, target: ${fmtShape(y.dims)}${where()}`);
  const margin = num(op, 'margin', o.margin ?? 0), reduction = reductionOf(op, o.reduction ?? 'mean');
  return reduced(y.neg().mul(a.sub(b)).add(margin).clamp(0), reduction);
}
/** torch.nn.functional.hinge_embedding_loss(x, y, {margin = 1, reduction}): max(0, margin − x) where y ≠ 1, plus x where y ≠ −1. */
export function hingeEmbeddingLoss(input: Tensor, target: Tensor, o: ReductionOptions & { margin?: number } = {}): Tensor {
  const op = 'hinge_embedding_loss';
  checkOptions(op, o, ['margin', 'reduction']);
  const x = floatArg(op, 'input', input), y = tensorArg(op, 'target', target);
  if (y.dtype === 'bool') throw new ModelDefinitionError(`${op}: target must be f32 or i32 (1 or −1), got bool${where()}`);
  const margin = num(op, 'margin', o.margin ?? 1), reduction = reductionOf(op, o.reduction ?? 'mean');
  const m = record('where', [y.ne(1), scalar(margin).sub(x).clamp(0), scalar(0)]);
  return reduced(m.add(record('where', [y.ne(-1), x, scalar(0)])), reduction);
}
/** torch.nn.functional.soft_margin_loss(x, y, {reduction}): log(1 + e^(−y·x)) (log1p). */
export function softMarginLoss(input: Tensor, target: Tensor, o: ReductionOptions = {}): Tensor {
  checkOptions('soft_margin_loss', o, ['reduction']);
  const [x, y] = pair('soft_margin_loss', input, target);
  return reduced(x.neg().mul(y).exp().log1p(), reductionOf('soft_margin_loss', o.reduction ?? 'mean'));
}
/**
 * torch.nn.functional.cosine_embedding_loss(x1, x2, y, {margin = 0, reduction}): with
 * cos = Σx1·x2 / sqrt((Σx1² + 1e-12)·(Σx2² + 1e-12)), 1 − cos where y = 1 and max(0, cos − margin)
 * where y = −1 (0 for any other y). x1, x2 [N, D] with y [N], or [D] with a 0-d y.
 */
export function cosineEmbeddingLoss(input1: Tensor, input2: Tensor, target: Tensor, o: ReductionOptions & { margin?: number } = {}): Tensor {
  const op = 'cosine_embedding_loss';
  checkOptions(op, o, ['margin', 'reduction']);
  const a = floatArg(op, 'input1', input1), b = floatArg(op, 'input2', input2), y = tensorArg(op, 'target', target);
  if (y.rank > 1) throw new ModelDefinitionError(`${op}: 0D or 1D target tensor expected, multi-target not supported, got ${fmtShape(y.dims)}${where()}`);
  const want = y.rank + 1;
  if (a.rank !== want || b.rank !== want) throw new ModelDefinitionError(`${op}: ${y.rank}D target tensor expects ${want}D input tensors, but found inputs with sizes ${fmtShape(a.dims)} and ${fmtShape(b.dims)}${where()}`);
  const margin = num(op, 'margin', o.margin ?? 0), reduction = reductionOf(op, o.reduction ?? 'mean');
  const d = y.rank, EPS = 1e-12;
  const cos = a.mul(b).sum(d).div(a.mul(a).sum(d).add(EPS).mul(b.mul(b).sum(d).add(EPS)).sqrt());
  const pos = record('where', [y.eq(1), scalar(1).sub(cos), scalar(0)]), neg = record('where', [y.eq(-1), cos.sub(margin).clamp(0), scalar(0)]);
  return reduced(pos.add(neg), reduction);
}
/**
 * torch.nn.functional.triplet_margin_loss(anchor, positive, negative, {margin = 1, p = 2, eps = 1e-6,
 * swap, reduction}): max(0, margin + d(a, p) − d(a, n)), d = pairwise_distance (‖x − y + eps‖_p
 * along the last dim); with swap d(a, n) is min(d(a, n), d(p, n)).
 */
export function tripletMarginLoss(anchor: Tensor, positive: Tensor, negative: Tensor, o: ReductionOptions & { margin?: number; p?: number; eps?: number; swap?: boolean } = {}): Tensor {
  const op = 'triplet_margin_loss';
  checkOptions(op, o, ['margin', 'p', 'eps', 'swap', 'reduction']);
  const a = floatArg(op, 'anchor', anchor), pos = floatArg(op, 'positive', positive), neg = floatArg(op, 'negative', negative);
  if (a.rank !== pos.rank || a.rank !== neg.rank) throw new ModelDefinitionError(`${op}: The anchor, positive, and negative tensors are expected to have the same number of dimensions, but got: anchor ${a.rank}D, positive ${pos.rank}D, and negative ${neg.rank}D inputs${where()}`);
  const margin = num(op, 'margin', o.margin ?? 1), p = num(op, 'p', o.p ?? 2, (v) => v > 0, 'a positive number or Infinity'), eps = num(op, 'eps', o.eps ?? 1e-6);
  const swap = bool(op, 'swap', o.swap ?? false), reduction = reductionOf(op, o.reduction ?? 'mean');
  const dPos = pairwiseDistance(a, pos, p, eps);
  let dNeg = pairwiseDistance(a, neg, p, eps);
  if (swap) dNeg = dNeg.minimum(pairwiseDistance(pos, neg, p, eps));
  return reduced(dPos.add(margin).sub(dNeg).clamp(0), reduction);
}

// ---- nn modules ----------------------------------------------------------------------------------------

/** A module's weight option: an array of numbers (tensors exist only while tracing), kept as a parameter under torch's buffer name. */
function arrayOption(cls: string, name: string, v: unknown): Float32Array | undefined {
  if (v === undefined || v === null) return undefined;
  const ok = (Array.isArray(v) || v instanceof Float32Array) && v.length > 0 && Array.prototype.every.call(v, (e: unknown) => typeof e === 'number');
  if (!ok) throw new ModelDefinitionError(`${cls}: ${name} must be an array of numbers (a Float32Array or number[]; a state_dict loads it as '${name}'), got ${describeValue(v)}`);
  return Float32Array.from(v as ArrayLike<number>);
}
/** Loss modules with weights: `buffer` makes torch's buffer as a parameter holding the given values. */
abstract class WeightedLoss extends Module {
  protected buffer(cls: string, name: string, v: unknown): Parameter | undefined {
    const a = arrayOption(cls, name, v);
    if (!a) return undefined;
    const p = this.param(name, [a.length]);
    p.data = a;
    return p;
  }
}
/** The options of a loss module, checked when it is made (the values again when it is called). */
function moduleOptions<T extends object>(cls: string, o: T | undefined, allowed: Array<keyof T & string>): T {
  const opts = checkOptions(cls, o, allowed);
  const r = (opts as { reduction?: unknown }).reduction;
  if (r !== undefined) reductionOf(cls, r, cls === 'KLDivLoss' ? ['batchmean'] : []);
  return opts;
}

type WeightOption = { weight?: ArrayLike<number> | null };

/** nn.CrossEntropyLoss({ weight, ignoreIndex, reduction, labelSmoothing }): called with (input, target). */
export class CrossEntropyLoss extends WeightedLoss {
  readonly options: Omit<CrossEntropyOptions, 'weight'>;
  readonly weight: Parameter | undefined;
  constructor(o: Omit<CrossEntropyOptions, 'weight'> & WeightOption = {}) {
    super();
    const { weight, ...rest } = moduleOptions('CrossEntropyLoss', o, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']);
    this.options = rest; this.weight = this.buffer('CrossEntropyLoss', 'weight', weight);
  }
  forward(input: Tensor, target: Tensor): Tensor { return crossEntropy(input, target, { ...this.options, weight: this.weight?.t }); }
}
/** nn.NLLLoss({ weight, ignoreIndex, reduction }): called with (log-probabilities, target). */
export class NLLLoss extends WeightedLoss {
  readonly options: Omit<NllLossOptions, 'weight'>;
  readonly weight: Parameter | undefined;
  constructor(o: Omit<NllLossOptions, 'weight'> & WeightOption = {}) {
    super();
    const { weight, ...rest } = moduleOptions('NLLLoss', o, ['weight', 'ignoreIndex', 'reduction']);
    this.options = rest; this.weight = this.buffer('NLLLoss', 'weight', weight);
  }
  forward(input: Tensor, target: Tensor): Tensor { return nllLoss(input, target, { ...this.options, weight: this.weight?.t }); }
}
/** nn.BCELoss({ weight, reduction }): called with (probabilities, target). */
export class BCELoss extends WeightedLoss {
  readonly options: ReductionOptions;
  readonly weight: Parameter | undefined;
  constructor(o: ReductionOptions & { weight?: ArrayLike<number> | null } = {}) {
    super();
    const { weight, ...rest } = moduleOptions('BCELoss', o, ['weight', 'reduction']);
    this.options = rest; this.weight = this.buffer('BCELoss', 'weight', weight);
  }
  forward(input: Tensor, target: Tensor): Tensor { return binaryCrossEntropy(input, target, { ...this.options, weight: this.weight?.t }); }
}
/** nn.BCEWithLogitsLoss({ weight, posWeight, reduction }): called with (logits, target); posWeight is the state_dict's pos_weight. */
export class BCEWithLogitsLoss extends WeightedLoss {
  readonly options: ReductionOptions;
  readonly weight: Parameter | undefined;
  readonly pos_weight: Parameter | undefined;
  constructor(o: ReductionOptions & { weight?: ArrayLike<number> | null; posWeight?: ArrayLike<number> | null } = {}) {
    super();
    const { weight, posWeight, ...rest } = moduleOptions('BCEWithLogitsLoss', o, ['weight', 'posWeight', 'reduction']);
    this.options = rest;
    this.weight = this.buffer('BCEWithLogitsLoss', 'weight', weight);
    this.pos_weight = this.buffer('BCEWithLogitsLoss', 'pos_weight', posWeight);
  }
  forward(input: Tensor, target: Tensor): Tensor { return binaryCrossEntropyWithLogits(input, target, { ...this.options, weight: this.weight?.t, posWeight: this.pos_weight?.t }); }
}

/** A loss module of two inputs whose options are numbers and flags: `fn(input, target, options)`. */
abstract class PairLoss<O extends object> extends Module {
  readonly options: O;
  private readonly _fn: (a: Tensor, b: Tensor, o: O) => Tensor;
  constructor(cls: string, allowed: Array<keyof O & string>, fn: (a: Tensor, b: Tensor, o: O) => Tensor, o: O) { super(); this.options = moduleOptions(cls, o, allowed); this._fn = fn; }
  forward(input: Tensor, target: Tensor): Tensor { return this._fn(input, target, this.options); }
}
/** A loss module of three inputs (x1, x2, target or anchor, positive, negative). */
abstract class TripleLoss<O extends object> extends Module {
  readonly options: O;
  private readonly _fn: (a: Tensor, b: Tensor, c: Tensor, o: O) => Tensor;
  constructor(cls: string, allowed: Array<keyof O & string>, fn: (a: Tensor, b: Tensor, c: Tensor, o: O) => Tensor, o: O) { super(); this.options = moduleOptions(cls, o, allowed); this._fn = fn; }
  forward(a: Tensor, b: Tensor, c: Tensor): Tensor { return this._fn(a, b, c, this.options); }
}

/** nn.MSELoss({ reduction }), nn.L1Loss, nn.SmoothL1Loss({ reduction, beta }), nn.HuberLoss({ reduction, delta }), … */
export class MSELoss extends PairLoss<ReductionOptions> { constructor(o: ReductionOptions = {}) { super('MSELoss', ['reduction'], mseLoss, o); } }
export class L1Loss extends PairLoss<ReductionOptions> { constructor(o: ReductionOptions = {}) { super('L1Loss', ['reduction'], l1Loss, o); } }
export class SmoothL1Loss extends PairLoss<ReductionOptions & { beta?: number }> { constructor(o: ReductionOptions & { beta?: number } = {}) { super('SmoothL1Loss', ['reduction', 'beta'], smoothL1Loss, o); } }
export class HuberLoss extends PairLoss<ReductionOptions & { delta?: number }> { constructor(o: ReductionOptions & { delta?: number } = {}) { super('HuberLoss', ['reduction', 'delta'], huberLoss, o); } }
export class KLDivLoss extends PairLoss<{ reduction?: Reduction | 'batchmean'; logTarget?: boolean }> { constructor(o: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}) { super('KLDivLoss', ['reduction', 'logTarget'], klDiv, o); } }
export class HingeEmbeddingLoss extends PairLoss<ReductionOptions & { margin?: number }> { constructor(o: ReductionOptions & { margin?: number } = {}) { super('HingeEmbeddingLoss', ['margin', 'reduction'], hingeEmbeddingLoss, o); } }
export class SoftMarginLoss extends PairLoss<ReductionOptions> { constructor(o: ReductionOptions = {}) { super('SoftMarginLoss', ['reduction'], softMarginLoss, o); } }
export class PoissonNLLLoss extends PairLoss<ReductionOptions & { logInput?: boolean; full?: boolean; eps?: number }> { constructor(o: ReductionOptions & { logInput?: boolean; full?: boolean; eps?: number } = {}) { super('PoissonNLLLoss', ['logInput', 'full', 'eps', 'reduction'], poissonNllLoss, o); } }
/** nn.GaussianNLLLoss({ full, eps, reduction }): called with (input, target, var). */
export class GaussianNLLLoss extends TripleLoss<ReductionOptions & { full?: boolean; eps?: number }> { constructor(o: ReductionOptions & { full?: boolean; eps?: number } = {}) { super('GaussianNLLLoss', ['full', 'eps', 'reduction'], gaussianNllLoss, o); } }
/** nn.MarginRankingLoss({ margin, reduction }) and nn.CosineEmbeddingLoss: called with (x1, x2, target). */
export class MarginRankingLoss extends TripleLoss<ReductionOptions & { margin?: number }> { constructor(o: ReductionOptions & { margin?: number } = {}) { super('MarginRankingLoss', ['margin', 'reduction'], marginRankingLoss, o); } }
export class CosineEmbeddingLoss extends TripleLoss<ReductionOptions & { margin?: number }> { constructor(o: ReductionOptions & { margin?: number } = {}) { super('CosineEmbeddingLoss', ['margin', 'reduction'], cosineEmbeddingLoss, o); } }
/** nn.TripletMarginLoss({ margin, p, eps, swap, reduction }): called with (anchor, positive, negative). */
export class TripletMarginLoss extends TripleLoss<ReductionOptions & { margin?: number; p?: number; eps?: number; swap?: boolean }> { constructor(o: ReductionOptions & { margin?: number; p?: number; eps?: number; swap?: boolean } = {}) { super('TripletMarginLoss', ['margin', 'p', 'eps', 'swap', 'reduction'], tripletMarginLoss, o); } }
