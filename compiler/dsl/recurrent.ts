// nn.RNN, nn.LSTM, nn.GRU and nn.Embedding with PyTorch's parameter names, layouts, gate
// order and return values. Each layer and direction becomes one input-projection GEMM over
// the whole sequence (x·W_ihᵀ + b_ih) and one recurrent op that runs the time loop in wasm.
// Shape legend: B batch, T time, I input, H hidden, L layers, D directions (1 or 2).

import { fmtShape } from '../ir/types.ts';
import * as F from './functional.ts';
import { Module, positiveInt, type Parameter } from './module.ts';
import { cat, ModelDefinitionError, recordMulti, stack, Tensor, where, zeros } from './tensor.ts';
import { checkOptions } from './options.ts';
import { loop } from './control.ts';
import { describeValue } from '../ir/print.ts';

export interface RNNOptions {
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  bidirectional?: boolean;
  /** nn.RNN only. */
  nonlinearity?: 'tanh' | 'relu';
  /** Dropout between layers while training: the identity at inference. */
  dropout?: number;
  /** nn.LSTM only: h projected to this size by weight_hr (0: none). */
  projSize?: number;
}

type Kind = 'rnn' | 'lstm' | 'gru';
const GATES: Record<Kind, number> = { rnn: 1, lstm: 4, gru: 3 };

interface LayerParams { wih: Parameter; whh: Parameter; bih?: Parameter; bhh?: Parameter; whr?: Parameter }

abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly numDirections: number;
  /** LSTM's projection size (0: none); h and the output have this size instead of hidden_size. */
  readonly projSize: number;
  private readonly cells: LayerParams[] = [];

  constructor(private readonly kind: Kind, readonly inputSize: number, readonly hiddenSize: number, readonly opts: RNNOptions = {}) {
    super();
    const name = { rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' }[kind];
    checkOptions<RNNOptions>(name, opts, ['numLayers', 'bias', 'batchFirst', 'bidirectional', 'dropout', ...(kind === 'rnn' ? ['nonlinearity' as const] : []), ...(kind === 'lstm' ? ['projSize' as const] : [])]);
    positiveInt(name, 'input_size', inputSize); positiveInt(name, 'hidden_size', hiddenSize); positiveInt(name, 'num_layers', opts.numLayers ?? 1);
    if (opts.dropout !== undefined && !(typeof opts.dropout === 'number' && opts.dropout >= 0 && opts.dropout <= 1)) throw new ModelDefinitionError(`${name}: dropout must be a number in [0, 1], got ${String(opts.dropout)}`);
    this.numLayers = opts.numLayers ?? 1;
    this.batchFirst = opts.batchFirst ?? false;
    this.numDirections = opts.bidirectional ? 2 : 1;
    const P = opts.projSize ?? 0;
    if (!(Number.isInteger(P) && P >= 0 && P < hiddenSize)) throw new ModelDefinitionError(`${name}: proj_size must be an integer in [0, hidden_size ${hiddenSize}), got ${describeValue(P)}`);
    this.projSize = P;
    const G = GATES[kind], H = hiddenSize, R = P || H, k = 1 / Math.sqrt(H);
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < this.numDirections; d++) {
        const sfx = `_l${l}${d ? '_reverse' : ''}`;
        const inp = l === 0 ? inputSize : R * this.numDirections;
        const p: LayerParams = {
          wih: this.param(`weight_ih${sfx}`, [G * H, inp], { uniform: k }),
          whh: this.param(`weight_hh${sfx}`, [G * H, R], { uniform: k }),
        };
        if (opts.bias ?? true) { p.bih = this.param(`bias_ih${sfx}`, [G * H], { uniform: k }); p.bhh = this.param(`bias_hh${sfx}`, [G * H], { uniform: k }); }
        if (P) p.whr = this.param(`weight_hr${sfx}`, [P, H], { uniform: k });
        this.cells.push(p);
      }
    }
  }

  /** Runs all layers; `h0`/`c0` are [L·D, B, H] (h0 [L·D, B, proj_size] with a projection; or absent: zeros). Returns y and the final states. */
  protected runLayers(x: Tensor, h0?: Tensor, c0?: Tensor): { y: Tensor; hn: Tensor; cn?: Tensor } {
    const name = this.constructor.name;
    const unbatched = x.rank === 2;
    if (x.rank !== 3 && !unbatched) throw new ModelDefinitionError(`${name}: input must be [T, B, I], [B, T, I] (batch_first) or [T, I], got ${fmtShape(x.maxShape)}${where()}`);
    let inp = unbatched ? x.unsqueeze(0) : this.batchFirst ? x : x.transpose(0, 1); // [B, T, I]
    if (inp.maxSize(-1) !== this.inputSize) throw new ModelDefinitionError(`${name}: input has ${inp.maxSize(-1)} features, expected input_size ${this.inputSize} (input ${fmtShape(x.maxShape)})${where()}`);
    const B = inp.maxSize(0), Bd = inp.dim(0), H = this.hiddenSize, R = this.projSize || H, LD = this.numLayers * this.numDirections;
    const state = (t: Tensor | undefined, what: string, H = R) => {
      if (t === undefined) return undefined;
      if (!(t instanceof Tensor)) throw new ModelDefinitionError(`${name}: ${what} must be a tensor, got ${Array.isArray(t) ? `an array of ${(t as unknown[]).length}${this.kind === 'lstm' ? '' : ` (only LSTM takes a pair (h0, c0))`}` : String(t)}${where()}`);
      const s = unbatched ? t.unsqueeze(1) : t;
      if (s.rank !== 3 || s.maxSize(0) !== LD || s.maxSize(1) !== B || s.maxSize(2) !== H) {
        throw new ModelDefinitionError(`${name}: ${what} must be [${LD}, ${B}, ${H}] (num_layers·directions, batch, ${H === this.hiddenSize ? 'hidden' : 'proj_size'}), got ${fmtShape(t.maxShape)}${where()}`);
      }
      return s;
    };
    const h = state(h0, 'h0'), c = state(c0, 'c0', this.hiddenSize);
    const hns: Tensor[] = [], cns: Tensor[] = [];
    const op = `${this.kind}_seq` as const;
    for (let l = 0; l < this.numLayers; l++) {
      const ys: Tensor[] = [];
      for (let d = 0; d < this.numDirections; d++) {
        const i = l * this.numDirections + d, p = this.cells[i]!;
        const xp = F.linear(inp, p.wih.t, p.bih?.t);
        const init = [h ? h.select(0, i) : zeros([Bd, R], inp.bounds)];
        if (this.kind === 'lstm') init.push(c ? c.select(0, i) : zeros([Bd, H], inp.bounds));
        if (p.whr) {
          const [y, hn, cn] = projectedLSTM(xp, p, init[0]!, init[1]!, d === 1);
          ys.push(y); hns.push(hn); cns.push(cn);
          continue;
        }
        const attrs = { reverse: d === 1, ...(this.kind === 'rnn' ? { act: this.opts.nonlinearity ?? 'tanh' } : {}) };
        const [y, hn, cn] = recordMulti(op, [xp, p.whh.t, p.bhh ? p.bhh.t : zeros([GATES[this.kind] * H]), ...init], attrs);
        ys.push(y!); hns.push(hn!); if (cn) cns.push(cn);
      }
      inp = cat(ys, -1);
    }
    const fix = (t: Tensor) => (unbatched ? t.squeeze(1) : t);
    const y = unbatched ? inp.squeeze(0) : this.batchFirst ? inp : inp.transpose(0, 1);
    return { y, hn: fix(stack(hns, 0)), ...(cns.length ? { cn: fix(stack(cns, 0)) } : {}) };
  }
}

/**
 * One direction of an LSTM with a projection (proj_size P), as PyTorch defines it: the gates from
 * xp_t (x·W_ihᵀ + b_ih, [B, T, 4H]) + h·W_hhᵀ + b_hh, c' = σ(f)·c + σ(i)·tanh(g), and
 * h' = (σ(o)·tanh(c'))·W_hrᵀ. A loop over the T steps inside wasm (the fused recurrent kernels have
 * no projection), T fixed or chosen at run time; reversed, the loop walks t from T − 1 down to 0,
 * so y comes out in time order and the final state is the one at position 0. Returns y [B, T, P],
 * h_n [B, P] and c_n [B, H].
 */
function projectedLSTM(xp: Tensor, p: LayerParams, h0: Tensor, c0: Tensor, reverse: boolean): [Tensor, Tensor, Tensor] {
  const H = c0.maxSize(1);
  // A loop returns what its steps emit, so c is emitted too, for c_n (the last step's).
  const { y, c } = loop(xp.dim(1), { h: h0, c: c0 }, ({ h, c }, t) => {
    const g = xp.dynamicSlice(1, t).squeeze(1).add(F.linear(h!, p.whh.t, p.bhh?.t));
    const [i, f, gg, o] = [0, 1, 2, 3].map((k) => g.slice(-1, k * H, (k + 1) * H));
    const c2 = f!.sigmoid().mul(c!).add(i!.sigmoid().mul(gg!.tanh()));
    const h2 = F.linear(o!.sigmoid().mul(c2.tanh()), p.whr!.t);
    return { next: { h: h2, c: c2 }, emit: { y: h2, c: c2 } };
  }, { axis: 1, reverse });
  // The last step's values: at the run-time end (slice's -1 counts from it), or at 0 reversed.
  const last = (e: Tensor) => (reverse ? e.slice(1, 0, 1) : e.slice(1, -1)).squeeze(1);
  return [y!, last(y!), last(c!)];
}

/** nn.RNN: forward(x, h0?) → [y, h_n]. */
export class RNN extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) { super('rnn', inputSize, hiddenSize, opts); }
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] { const r = this.runLayers(x, h0); return [r.y, r.hn]; }
}

/** nn.GRU: forward(x, h0?) → [y, h_n]. */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: Omit<RNNOptions, 'nonlinearity'> = {}) { super('gru', inputSize, hiddenSize, opts); }
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] { const r = this.runLayers(x, h0); return [r.y, r.hn]; }
}

/** nn.LSTM: forward(x, [h0, c0]?) → [y, [h_n, c_n]]. */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: Omit<RNNOptions, 'nonlinearity'> = {}) { super('lstm', inputSize, hiddenSize, opts); }
  forward(x: Tensor, hx?: [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    if (hx !== undefined && !(Array.isArray(hx) && hx.length === 2)) {
      throw new ModelDefinitionError(`LSTM: the initial state must be a pair [h0, c0], got ${hx instanceof Tensor ? 'a single tensor' : Array.isArray(hx) ? `an array of ${(hx as unknown[]).length}` : String(hx)}${where()}`);
    }
    const r = this.runLayers(x, hx?.[0], hx?.[1]);
    return [r.y, [r.hn, r.cn!]];
  }
}

/**
 * nn.RNNCell / LSTMCell / GRUCell: one time step, PyTorch's parameter names (weight_ih, weight_hh,
 * bias_ih, bias_hh) and gate order, run as the layers' recurrent op over one step (the same
 * kernels and sums as nn.RNN/LSTM/GRU). Input [B, I] or unbatched [I]; a state left out is zeros.
 */
abstract class CellBase extends Module {
  readonly weight_ih: Parameter;
  readonly weight_hh: Parameter;
  readonly bias_ih?: Parameter;
  readonly bias_hh?: Parameter;
  constructor(private readonly kind: Kind, private readonly cellName: string, readonly inputSize: number, readonly hiddenSize: number,
    readonly opts: { bias?: boolean; nonlinearity?: 'tanh' | 'relu' } = {}) {
    super();
    checkOptions(cellName, opts, kind === 'rnn' ? ['bias', 'nonlinearity'] : ['bias']);
    positiveInt(cellName, 'input_size', inputSize); positiveInt(cellName, 'hidden_size', hiddenSize);
    if (opts.nonlinearity !== undefined && opts.nonlinearity !== 'tanh' && opts.nonlinearity !== 'relu') throw new ModelDefinitionError(`${cellName}: nonlinearity must be 'tanh' or 'relu', got ${JSON.stringify(opts.nonlinearity)}`);
    const G = GATES[kind], k = 1 / Math.sqrt(hiddenSize);
    this.weight_ih = this.param('weight_ih', [G * hiddenSize, inputSize], { uniform: k });
    this.weight_hh = this.param('weight_hh', [G * hiddenSize, hiddenSize], { uniform: k });
    if (opts.bias ?? true) { this.bias_ih = this.param('bias_ih', [G * hiddenSize], { uniform: k }); this.bias_hh = this.param('bias_hh', [G * hiddenSize], { uniform: k }); }
  }
  /** One step from x and the state(s): the new h (and c). */
  protected step(x: Tensor, h?: Tensor, c?: Tensor): Tensor[] {
    const name = this.cellName, H = this.hiddenSize;
    if (!(x instanceof Tensor) || (x.rank !== 1 && x.rank !== 2) || x.dims[x.rank - 1] !== this.inputSize) throw new ModelDefinitionError(`${name}: input must be [B, ${this.inputSize}] or unbatched [${this.inputSize}], got ${x instanceof Tensor ? fmtShape(x.dims) : String(x)}${where()}`);
    const one = x.rank === 1, xb = one ? x.unsqueeze(0) : x, B = xb.dim(0);
    const state = (t: Tensor | undefined, what: string) => {
      if (t === undefined || t === null) return zeros([B, H], xb.bounds);
      if (!(t instanceof Tensor) || t.rank !== x.rank || t.dims[t.rank - 1] !== H || (!one && t.dims[0] !== B)) throw new ModelDefinitionError(`${name}: ${what} must be ${one ? `[${H}]` : `[${String(B)}, ${H}]`}, got ${t instanceof Tensor ? fmtShape(t.dims) : String(t)}${where()}`);
      return one ? t.unsqueeze(0) : t;
    };
    const init = [state(h, 'h'), ...(this.kind === 'lstm' ? [state(c, 'c')] : [])];
    const xp = F.linear(xb, this.weight_ih.t, this.bias_ih?.t).unsqueeze(1);
    const attrs = { reverse: false, ...(this.kind === 'rnn' ? { act: this.opts.nonlinearity ?? 'tanh' } : {}) };
    const [, ...out] = recordMulti(`${this.kind}_seq`, [xp, this.weight_hh.t, this.bias_hh ? this.bias_hh.t : zeros([GATES[this.kind] * H]), ...init], attrs);
    return out.map((t) => (one ? t!.squeeze(0) : t!));
  }
}
/** nn.RNNCell: forward(x, h?) → h'. */
export class RNNCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: { bias?: boolean; nonlinearity?: 'tanh' | 'relu' } = {}) { super('rnn', 'RNNCell', inputSize, hiddenSize, opts); }
  forward(x: Tensor, h?: Tensor): Tensor { return this.step(x, h)[0]!; }
}
/** nn.GRUCell: forward(x, h?) → h'. */
export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: { bias?: boolean } = {}) { super('gru', 'GRUCell', inputSize, hiddenSize, opts); }
  forward(x: Tensor, h?: Tensor): Tensor { return this.step(x, h)[0]!; }
}
/** nn.LSTMCell: forward(x, [h, c]?) → [h', c']. */
export class LSTMCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: { bias?: boolean } = {}) { super('lstm', 'LSTMCell', inputSize, hiddenSize, opts); }
  forward(x: Tensor, hx?: [Tensor, Tensor]): [Tensor, Tensor] {
    if (hx !== undefined && !(Array.isArray(hx) && hx.length === 2)) throw new ModelDefinitionError(`LSTMCell: the state must be a pair [h, c], got ${hx instanceof Tensor ? 'a single tensor' : String(hx)}${where()}`);
    const [h, c] = this.step(x, hx?.[0], hx?.[1]);
    return [h!, c!];
  }
}

/**
 * nn.Embedding: rows of `weight` [num_embeddings, embedding_dim] by i32 index. `paddingIdx`'s row
 * starts at zero (it only changes training otherwise); maxNorm and normType as F.embedding's.
 */
export class Embedding extends Module {
  readonly weight: Parameter;
  readonly paddingIdx?: number;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, readonly opts: Omit<F.EmbeddingOptions, 'paddingIdx'> & { paddingIdx?: number } = {}) {
    super();
    checkOptions('Embedding', opts, ['paddingIdx', 'maxNorm', 'normType', 'scaleGradByFreq', 'sparse']);
    F.checkEmbeddingNorm('Embedding', opts);
    positiveInt('Embedding', 'num_embeddings', numEmbeddings); positiveInt('Embedding', 'embedding_dim', embeddingDim);
    const p = opts.paddingIdx;
    if (p !== undefined && !(Number.isInteger(p) && p >= -numEmbeddings && p < numEmbeddings)) {
      throw new ModelDefinitionError(`Embedding: padding_idx must be an integer in [${-numEmbeddings}, ${numEmbeddings}), got ${String(p)}`);
    }
    if (p !== undefined) this.paddingIdx = p < 0 ? p + numEmbeddings : p;
    this.weight = this.param('weight', [numEmbeddings, embeddingDim], { normal: 1, ...(this.paddingIdx !== undefined ? { zeroRow: this.paddingIdx } : {}) });
  }
  forward(ids: Tensor): Tensor {
    const { maxNorm, normType } = this.opts;
    return F.embedding(ids, this.weight.t, { maxNorm, normType });
  }
}

/**
 * nn.EmbeddingBag: F.embeddingBag over its weight [num_embeddings, embedding_dim]; forward(indices,
 * offsets?, perSampleWeights?) as PyTorch's. mode 'mean' by default; paddingIdx's row starts at zero.
 */
export class EmbeddingBag extends Module {
  readonly weight: Parameter;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number,
    readonly opts: Omit<F.EmbeddingBagOptions, 'offsets' | 'perSampleWeights' | 'paddingIdx'> & { paddingIdx?: number } = {}) {
    super();
    checkOptions('EmbeddingBag', opts, ['mode', 'includeLastOffset', 'maxNorm', 'normType', 'paddingIdx', 'scaleGradByFreq', 'sparse']);
    positiveInt('EmbeddingBag', 'num_embeddings', numEmbeddings); positiveInt('EmbeddingBag', 'embedding_dim', embeddingDim);
    F.checkEmbeddingNorm('EmbeddingBag', opts);
    const { mode, paddingIdx: p } = opts;
    if (mode !== undefined && mode !== 'sum' && mode !== 'mean' && mode !== 'max') throw new ModelDefinitionError(`EmbeddingBag: mode must be 'sum', 'mean' or 'max', got ${describeValue(mode)}`);
    if (p !== undefined && !(Number.isInteger(p) && p >= -numEmbeddings && p < numEmbeddings)) throw new ModelDefinitionError(`EmbeddingBag: padding_idx must be an integer in [${-numEmbeddings}, ${numEmbeddings}), got ${describeValue(p)}`);
    const zeroRow = p === undefined ? undefined : p < 0 ? p + numEmbeddings : p;
    this.weight = this.param('weight', [numEmbeddings, embeddingDim], { normal: 1, ...(zeroRow !== undefined ? { zeroRow } : {}) });
  }
  forward(indices: Tensor, offsets?: Tensor, perSampleWeights?: Tensor): Tensor {
    return F.embeddingBag(indices, this.weight.t, { ...this.opts, ...(offsets ? { offsets } : {}), ...(perSampleWeights ? { perSampleWeights } : {}) });
  }
}
