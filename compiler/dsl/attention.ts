// Attention and the Transformer, with PyTorch's module names, parameter names, layouts and
// semantics: LayerNorm, MultiheadAttention, TransformerEncoderLayer/DecoderLayer,
// TransformerEncoder/Decoder, Transformer, additive attention, positional encodings.
// Masks are PyTorch's booleans: true = may NOT attend. Shape legend: B batch, L/S target and
// source lengths, E embedding, H heads, d = E/H.

import { fmtShape } from '../ir/types.ts';
import { describeValue } from '../ir/print.ts';
import type { Dim } from '../ir/dims.ts';
import * as F from './functional.ts';
import { Linear, Dropout } from './layers.ts';
import { deepcopy, Module, positiveInt, type Parameter } from './module.ts';
import { asDim, cat, constant, full, ModelDefinitionError, record, SymSize, Tensor, where, zeros } from './tensor.ts';
import { checkOptions } from './options.ts';

export class LayerNorm extends Module {
  readonly weight?: Parameter;
  readonly bias?: Parameter;
  /** The normalised trailing dims, as given: one size (the last dim) or several. */
  readonly normalizedShape: number | number[];
  /** nn.LayerNorm(normalized_shape, eps, elementwise_affine): over the last dim, or the last few (weight and bias of their shape). */
  constructor(normalizedShape: number | number[], readonly eps = 1e-5, opts: { elementwiseAffine?: boolean } = {}) {
    super();
    checkOptions('LayerNorm', opts, ['elementwiseAffine']);
    const shape = Array.isArray(normalizedShape) ? [...normalizedShape] : [normalizedShape];
    if (!shape.length) throw new ModelDefinitionError('LayerNorm: normalized_shape must name at least one dimension, got []');
    shape.forEach((d) => positiveInt('LayerNorm', 'normalized_shape', d));
    this.normalizedShape = Array.isArray(normalizedShape) ? shape : shape[0]!;
    if (typeof eps !== 'number' || !(eps >= 0)) throw new ModelDefinitionError(`LayerNorm: eps must be a non-negative number, got ${typeof eps === 'object' ? JSON.stringify(eps) : String(eps)} (options go third: new LayerNorm(n, eps, { elementwiseAffine }))`);
    if (opts.elementwiseAffine ?? true) {
      this.weight = this.param('weight', shape, 'ones');
      this.bias = this.param('bias', shape, 'zeros');
    }
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, this.weight?.t, this.bias?.t, this.eps);
  }
}

export interface AttentionMasks {
  /** [B, S]: true where a key is padding. */
  keyPaddingMask?: Tensor;
  /** [L, S] or [B·H, L, S]: true where attention is not allowed. */
  attnMask?: Tensor;
  isCausal?: boolean;
}

/**
 * A KV cache for incremental decoding: k/v [Bc, capacity, E] (state tensors) and the position,
 * i32[] (every sequence at one position) or i32[B] (each at its own). With `row` (i32[]) the
 * input's B sequences are cache rows row … row+B−1 (prefill of one sequence of a batch).
 * A position whose new keys do not all fit the capacity, or a row whose sequences do not all fit
 * the cache, is an error when the model runs ("KV cache in …: position 510 + 3 new keys do not
 * fit its 512 positions"), in the reference and in the compiled code alike.
 */
export interface KVCache { k: Tensor; v: Tensor; pos: Tensor; row?: Tensor }

const TRUE = () => constant(Uint8Array.of(1), [], 'bool', 'true');
const FALSE = () => constant(Uint8Array.of(0), [], 'bool', 'false');

interface Masks { bool?: Tensor; additive?: Tensor }

/**
 * PyTorch's masks as one boolean [B|1, H|1, L|1, S] mask (true = not attended) and one
 * additive float mask (added to the scores, e.g. generate_square_subsequent_mask's −inf).
 */
function combineMasks(B: number, H: number, L: number, S: number, m: AttentionMasks): Masks {
  const parts: Tensor[] = [];
  const check = (t: Tensor, what: string) => {
    if (t.dtype !== 'bool' && t.dtype !== 'f32') throw new ModelDefinitionError(`attention: ${what} must be a bool mask (true = not attended) or a float mask (added), got ${t.dtype}${fmtShape(t.maxShape)}${where()}`);
  };
  if (m.keyPaddingMask) {
    const k = m.keyPaddingMask;
    check(k, 'key_padding_mask');
    if (k.rank !== 2 || k.maxSize(0) !== B || k.maxSize(1) !== S) throw new ModelDefinitionError(`attention: key_padding_mask must be [${B}, ${S}], got ${fmtShape(k.maxShape)}${where()}`);
    parts.push(k.reshape(B, 1, 1, S));
  }
  if (m.attnMask) {
    const a = m.attnMask;
    check(a, 'attn_mask');
    if (a.rank === 2 && a.maxSize(0) === L && a.maxSize(1) === S) parts.push(a.reshape(1, 1, L, S));
    else if (a.rank === 3 && a.maxSize(0) === B * H && a.maxSize(1) === L && a.maxSize(2) === S) parts.push(a.reshape(B, H, L, S));
    else throw new ModelDefinitionError(`attention: attn_mask must be [${L}, ${S}] or [${B * H}, ${L}, ${S}], got ${fmtShape(a.maxShape)}${where()}`);
  }
  const bools = parts.filter((t) => t.dtype === 'bool'), floats = parts.filter((t) => t.dtype === 'f32');
  return {
    ...(bools.length ? { bool: bools.length === 1 ? bools[0] : F.whereOp(bools[0]!, TRUE(), bools[1]!) } : {}),
    ...(floats.length ? { additive: floats.length === 1 ? floats[0] : floats[0]!.add(floats[1]!) } : {}),
  };
}

/**
 * Attention weights, decomposed: softmax(q kᵀ·scale + masks) per head, [B, H, L, S], from
 * q [B, L, H·d] and k [B, S, H·d]; used when the weights themselves are wanted or a mask is
 * additive (the fused kernel takes boolean masks).
 */
function attentionProbs(q: Tensor, k: Tensor, H: number, masks: Masks, causal: boolean, scale: number): Tensor {
  const [B, L, E] = q.maxShape as [number, number, number], S = k.maxSize(1), d = E / H;
  const qh = q.reshape(B, L, H, d).permute(0, 2, 1, 3), kt = k.reshape(B, S, H, d).permute(0, 2, 3, 1);
  let s = qh.matmul(kt).mul(scale);
  if (masks.additive) s = s.add(masks.additive);
  if (masks.bool) s = F.whereOp(masks.bool, -Infinity, s);
  if (causal) s = F.whereOp(causalMask(L, S, q.dim(1), k.dim(1)), -Infinity, s);
  return s.softmax(-1);
}

/**
 * True strictly above the diagonal: PyTorch's causal (square subsequent) mask, [L, S]. With
 * lengths chosen at run time (`Ld`, `Sd` named sizes bounded by L, S) it is the top-left corner
 * of the mask at the bounds, which is the causal mask of the actual lengths.
 */
export function causalMask(L: number, S = L, Ld: Dim = L, Sd: Dim = S): Tensor {
  // Of sizes chosen at run time (causalMask(x.size(1))): the mask at their bounds, cut to them.
  const bound = (n: unknown) => (n instanceof SymSize ? n.bound : n) as number;
  if ((L as unknown) instanceof SymSize || (S as unknown) instanceof SymSize) return causalMask(bound(L), bound(S), asDim(L), asDim(S));
  positiveInt('causalMask', 'L', L); positiveInt('causalMask', 'S', S);
  const m = new Uint8Array(L * S);
  for (let i = 0; i < L; i++) for (let j = i + 1; j < S; j++) m[i * S + j] = 1;
  const full = constant(m, [L, S], 'bool', 'causal');
  return full.slice(0, 0, Ld).slice(1, 0, Sd);
}

/**
 * softmax(q kᵀ·scale + mask) v over [B, H, L, d] tensors (torch.nn.functional.scaled_dot_product_attention).
 * A boolean attnMask is torch's here: true where a query MAY attend (nn.MultiheadAttention's is the
 * opposite); any mask broadcasts to [B, H, L, S] from the right.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: { attnMask?: Tensor; isCausal?: boolean; scale?: number } = {}): Tensor {
  for (const [name, t] of [['query', q], ['key', k], ['value', v]] as const) F.tensorArg('scaled_dot_product_attention', name, t);
  checkOptions('scaled_dot_product_attention', opts, ['attnMask', 'isCausal', 'scale']);
  if (opts.attnMask !== undefined) F.tensorArg('scaled_dot_product_attention', 'attnMask', opts.attnMask);
  // PyTorch raises on both (the causal mask is then the mask): applying both would be a guess.
  if (opts.attnMask !== undefined && opts.isCausal === true) throw new ModelDefinitionError(`scaled_dot_product_attention: attnMask must not be given with isCausal: true (PyTorch refuses the pair); fold the causal mask into attnMask, or leave it out${where()}`);
  const r = q.rank;
  if (r < 2 || r > 4 || k.rank !== r || v.rank !== r) throw new ModelDefinitionError(`scaled_dot_product_attention: q, k, v must be [B, H, L, d], [B, L, d] or [L, d] alike, got ${fmtShape(q.maxShape)}, ${fmtShape(k.maxShape)}, ${fmtShape(v.maxShape)}${where()}`);
  if (r < 4) {
    // [B, L, d] as one head, [L, d] as one batch of one head (PyTorch's (N, …, L, E)); a mask with
    // the batch dim gains the head dim as well.
    const lift = (t: Tensor) => (r === 3 ? t.unsqueeze(1) : t.unsqueeze(0).unsqueeze(0));
    const m = opts.attnMask, mask = m instanceof Tensor && r === 3 && m.rank === 3 ? m.unsqueeze(1) : m;
    const o = scaledDotProductAttention(lift(q), lift(k), lift(v), { ...opts, ...(mask ? { attnMask: mask } : {}) });
    return r === 3 ? o.squeeze(1) : o.squeeze(0).squeeze(0);
  }
  if (opts.scale !== undefined && typeof opts.scale !== 'number') throw new ModelDefinitionError(`scaled_dot_product_attention: scale must be a number, got ${describeValue(opts.scale)}${where()}`);
  // The heads and head sizes (dims 1 and 3) are read as numbers: the default scale is 1/√d.
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (typeof t.dim(1) !== 'number' || typeof t.dim(3) !== 'number') throw new ModelDefinitionError(`scaled_dot_product_attention: ${name} ${fmtShape(t.dims)} has a size chosen at run time in its heads or head size (dims 1 and 3); only the batch and lengths may be${where()}`);
  }
  // torch broadcasts the batch and heads (dims 0 and 1) as matmul does: a key and value of one head
  // shared by every query head (multi-query attention), or one batch row shared by all.
  const common = (i: 0 | 1): Dim => {
    const big = [q.dim(i), k.dim(i), v.dim(i)].filter((s) => s !== 1);
    if (big.some((s) => s !== big[0])) throw new ModelDefinitionError(`scaled_dot_product_attention: q ${fmtShape(q.dims)}, k ${fmtShape(k.dims)} and v ${fmtShape(v.dims)} must agree in their ${i ? 'heads' : 'batch'} (dim ${i}) or have 1 there${where()}`);
    return big[0] ?? 1;
  };
  const Bc = common(0), Hc = common(1), bounds = { ...q.bounds, ...k.bounds, ...v.bounds };
  const fit = (t: Tensor) => (t.dim(0) === Bc && t.dim(1) === Hc ? t : t.expand(Bc, Hc, t.dim(2), t.dim(3), bounds));
  q = fit(q); k = fit(k); v = fit(v);
  const [B, H, L, d] = q.maxShape as [number, number, number, number], dv = v.maxSize(3), scale = opts.scale ?? 1 / Math.sqrt(d);
  const merge = (t: Tensor) => t.permute(0, 2, 1, 3).reshape(B, t.maxSize(2), H * t.maxSize(3));
  const mask = opts.attnMask === undefined ? undefined : sdpaMask(opts.attnMask, [q.dim(0), q.dim(1), q.dim(2), k.dim(2)], k.bounds);
  if (mask && mask.dtype === 'f32') {
    // An additive mask: the decomposed form (the fused kernel takes boolean masks).
    let s = q.matmul(k.mT).mul(scale).add(mask);
    if (opts.isCausal) s = F.whereOp(causalMask(L, k.maxSize(2), q.dim(2), k.dim(2)), -Infinity, s);
    return s.softmax(-1).matmul(v);
  }
  const ins = [merge(q), merge(k), merge(v), ...(mask ? [mask] : [])];
  const o = record('attention', ins, { heads: H, scale, causal: !!opts.isCausal, layout: 'separate', mask: !!mask, cached: false });
  return o.reshape(B, L, H, dv).permute(0, 2, 1, 3);
}

/**
 * SDPA's attn_mask as the attention op takes it: rank 4 (leading 1s added), and a boolean one
 * inverted (the op's true = not attended) and expanded over the keys; `to` is [B, H, L, S].
 */
function sdpaMask(m: Tensor, to: readonly Dim[], keyBounds: Record<string, number>): Tensor {
  if (!(m instanceof Tensor)) throw new ModelDefinitionError(`scaled_dot_product_attention: attnMask must be a tensor, got ${describeValue(m)}${where()}`);
  if (m.dtype !== 'bool' && m.dtype !== 'f32') throw new ModelDefinitionError(`scaled_dot_product_attention: attnMask must be a bool mask (true = may attend) or a float mask (added), got ${m.dtype}${fmtShape(m.maxShape)}${where()}`);
  const wanted = () => `[${to.join(', ')}]`;
  if (m.rank > 4) throw new ModelDefinitionError(`scaled_dot_product_attention: attnMask ${fmtShape(m.dims)} does not broadcast to ${wanted()}${where()}`);
  while (m.rank < 4) m = m.unsqueeze(0);
  if (m.dims.some((dim, i) => dim !== 1 && dim !== to[i])) throw new ModelDefinitionError(`scaled_dot_product_attention: attnMask ${fmtShape(m.dims)} does not broadcast to ${wanted()}${where()}`);
  if (m.dtype === 'f32') return m;
  m = F.whereOp(m, FALSE(), TRUE());
  return m.dim(3) === to[3] ? m : m.expand(m.dim(0), m.dim(1), m.dim(2), to[3]!, keyBounds);
}

export interface MHAOptions {
  bias?: boolean; kdim?: number; vdim?: number; batchFirst?: boolean; dropout?: number;
  /** Learned rows bias_k, bias_v [1, 1, E] appended to every sequence's projected keys and values. */
  addBiasKv?: boolean;
  /** A row of zeros appended to the keys and values (after bias_k/bias_v). */
  addZeroAttn?: boolean;
}

/** nn.MultiheadAttention. forward → [output, weights (head-averaged [B, L, S], or [B, H, L, S] with averageAttnWeights: false) | undefined]. */
export class MultiheadAttention extends Module {
  readonly in_proj_weight?: Parameter;
  readonly q_proj_weight?: Parameter;
  readonly k_proj_weight?: Parameter;
  readonly v_proj_weight?: Parameter;
  readonly in_proj_bias?: Parameter;
  readonly bias_k?: Parameter;
  readonly bias_v?: Parameter;
  readonly addZeroAttn: boolean;
  readonly out_proj: Linear;
  readonly kdim: number;
  readonly vdim: number;
  readonly headDim: number;
  readonly batchFirst: boolean;
  constructor(readonly embedDim: number, readonly numHeads: number, opts: MHAOptions = {}) {
    super();
    checkOptions('MultiheadAttention', opts, ['bias', 'kdim', 'vdim', 'batchFirst', 'dropout', 'addBiasKv', 'addZeroAttn']);
    positiveInt('MultiheadAttention', 'embed_dim', embedDim); positiveInt('MultiheadAttention', 'num_heads', numHeads);
    // (Inference ignores dropout, so { dropout: '0.1' } or { dropout: true } went unnoticed; RNN's is checked as here.)
    if (opts.dropout !== undefined && !(typeof opts.dropout === 'number' && opts.dropout >= 0 && opts.dropout <= 1)) throw new ModelDefinitionError(`MultiheadAttention: dropout must be a number in [0, 1], got ${describeValue(opts.dropout)}`);
    if (embedDim % numHeads) throw new ModelDefinitionError(`MultiheadAttention: embed_dim ${embedDim} must be divisible by num_heads ${numHeads}`);
    this.kdim = opts.kdim ?? embedDim;
    this.vdim = opts.vdim ?? embedDim;
    this.headDim = embedDim / numHeads;
    this.batchFirst = opts.batchFirst ?? false;
    const bound = Math.sqrt(6 / (embedDim + embedDim)); // xavier_uniform on each [E, ·] block
    if (this.kdim === embedDim && this.vdim === embedDim) {
      this.in_proj_weight = this.param('in_proj_weight', [3 * embedDim, embedDim], { uniform: bound });
    } else {
      this.q_proj_weight = this.param('q_proj_weight', [embedDim, embedDim], { uniform: bound });
      this.k_proj_weight = this.param('k_proj_weight', [embedDim, this.kdim], { uniform: bound });
      this.v_proj_weight = this.param('v_proj_weight', [embedDim, this.vdim], { uniform: bound });
    }
    if (opts.bias ?? true) this.in_proj_bias = this.param('in_proj_bias', [3 * embedDim], 'zeros');
    if (opts.addBiasKv) {
      this.bias_k = this.param('bias_k', [1, 1, embedDim], { normal: 1 / Math.sqrt(embedDim) });
      this.bias_v = this.param('bias_v', [1, 1, embedDim], { normal: 1 / Math.sqrt(embedDim) });
    }
    this.addZeroAttn = opts.addZeroAttn ?? false;
    this.out_proj = new Linear(embedDim, embedDim, { bias: opts.bias ?? true });
  }

  /** Rows a..b of the packed projection (weight and bias). */
  private proj(part: 0 | 1 | 2, x: Tensor, parts = 1): Tensor {
    const E = this.embedDim;
    const w = this.in_proj_weight ? this.in_proj_weight.t.slice(0, part * E, (part + parts) * E) : [this.q_proj_weight, this.k_proj_weight, this.v_proj_weight][part]!.t;
    const b = this.in_proj_bias?.t.slice(0, part * E, (part + parts) * E);
    return F.linear(x, w, b);
  }

  forward(query: Tensor, key: Tensor, value: Tensor, opts: AttentionMasks & { needWeights?: boolean; averageAttnWeights?: boolean; cache?: KVCache } = {}): [Tensor, Tensor | undefined] {
    const E = this.embedDim, H = this.numHeads, name = `MultiheadAttention(${E}, ${H})`;
    checkOptions('MultiheadAttention.forward', opts, ['keyPaddingMask', 'attnMask', 'isCausal', 'needWeights', 'averageAttnWeights', 'cache']);
    // (A missing key or value, say a definition whose module is the attention itself with one input, was a raw TypeError.)
    const bad = ([['query', query], ['key', key], ['value', value]] as const).find(([, t]) => !(t instanceof Tensor));
    if (bad) throw new ModelDefinitionError(`${name}: forward(query, key, value) takes three tensors; ${bad[0]} is ${describeValue(bad[1])}${where()}`);
    const cbad = opts.cache && (['k', 'v', 'pos'] as const).find((k) => !(opts.cache![k] instanceof Tensor));
    if (cbad) throw new ModelDefinitionError(`${name}: cache must be { k, v, pos } tensors (state k/v [B, capacity, E], pos i32), its ${cbad} is ${describeValue(opts.cache![cbad])}${where()}`);
    if (query.rank === 2 && !opts.cache) {
      // Unbatched [L, E] as PyTorch: a batch of one; key_padding_mask [S]; weights [L, S] (or [H, L, S]).
      if (key.rank !== 2 || value.rank !== 2) throw new ModelDefinitionError(`${name}: an unbatched query [L, E] needs unbatched key and value [S, kdim] / [S, vdim], got ${fmtShape(key.maxShape)} / ${fmtShape(value.maxShape)}${where()}`);
      const b = this.batchFirst ? 0 : 1, kpm = opts.keyPaddingMask;
      if (kpm && kpm.rank !== 1) throw new ModelDefinitionError(`${name}: key_padding_mask for an unbatched query must be [${key.maxSize(0)}], got ${fmtShape(kpm.maxShape)}${where()}`);
      const q = query.unsqueeze(b), k = key === query ? q : key.unsqueeze(b), v = value === query ? q : value === key ? k : value.unsqueeze(b);
      const [y, w] = this.forward(q, k, v, { ...opts, ...(kpm ? { keyPaddingMask: kpm.unsqueeze(0) } : {}) });
      return [y.squeeze(b), w?.squeeze(0)];
    }
    const bf = (t: Tensor) => (this.batchFirst ? t : t.transpose(0, 1));
    const q0 = bf(query), k0 = bf(key), v0 = bf(value);
    if (q0.rank !== 3 || q0.maxSize(-1) !== E) throw new ModelDefinitionError(`${name}: query must be [B, L, ${E}]${this.batchFirst ? '' : ' (as [L, B, E] unless batch_first)'}, got ${fmtShape(query.maxShape)}${where()}`);
    if (k0.maxSize(-1) !== this.kdim || v0.maxSize(-1) !== this.vdim || k0.maxSize(1) !== v0.maxSize(1) || k0.maxSize(0) !== q0.maxSize(0)) {
      throw new ModelDefinitionError(`${name}: key ${fmtShape(key.maxShape)} / value ${fmtShape(value.maxShape)} must be [B, S, ${this.kdim}] / [B, S, ${this.vdim}] for query ${fmtShape(query.maxShape)}${where()}`);
    }
    const [B, L] = q0.maxShape as [number, number], S = k0.maxSize(1);
    const scale = 1 / Math.sqrt(this.headDim);
    const selfAttn = query === key && key === value;
    let out: Tensor, weights: Tensor | undefined;
    if (opts.cache) {
      if (!selfAttn) throw new ModelDefinitionError(`${name}: a KV cache needs self-attention (query = key = value)${where()}`);
      if (this.bias_k || this.addZeroAttn) throw new ModelDefinitionError(`${name}: a KV cache is not supported with addBiasKv or addZeroAttn${where()}`);
      // Attention over a cache is causal: query i sits at position pos + i and sees keys up to it.
      for (const k of ['attnMask', 'keyPaddingMask'] as const) {
        if (opts[k] !== undefined) throw new ModelDefinitionError(`${name}: ${k} is not supported with a KV cache (the cache attends causally to the filled positions)${where()}`);
      }
      if (opts.isCausal === false) throw new ModelDefinitionError(`${name}: isCausal: false is not supported with a KV cache (attention over a cache is causal)${where()}`);
      if (opts.needWeights === true) throw new ModelDefinitionError(`${name}: needWeights is not supported with a KV cache (the fused kernel never forms the weights)${where()}`);
      const qkv = this.proj(0, q0, 3);
      const { pos, row } = opts.cache, at = row ? [pos, row] : [pos];
      const kc = record('cache_write', [opts.cache.k, qkv.slice(2, E, 2 * E), ...at]);
      const vc = record('cache_write', [opts.cache.v, qkv.slice(2, 2 * E, 3 * E), ...at]);
      out = record('attention', [qkv.slice(2, 0, E), kc, vc, ...at], { heads: H, scale, causal: true, layout: 'separate', mask: false, cached: true, ...(row ? { row: true } : {}) });
      opts.cache.k = kc; opts.cache.v = vc;
    } else {
      // A mask made at the bounds (F.causalMask(x.size(1))) over lengths chosen at run time was refused
      // deep in the IR ('mask [1, 1, 8, 8] must broadcast to [1, 2, 1, 1] … with B=1, T=1').
      const Ld = q0.dim(1), Sd = k0.dim(1), Bd = q0.dim(0), am = opts.attnMask, kpm = opts.keyPaddingMask;
      const show = (d: Dim) => (typeof d === 'string' ? `'${d}'` : String(d));
      const fixed = (t: Tensor | undefined, want: Dim[]) => t instanceof Tensor && t.rank >= want.length && want.some((d, i) => typeof d === 'string' && t.dim(t.rank - want.length + i) !== d);
      if (fixed(am, [Ld, Sd])) throw new ModelDefinitionError(`${name}: attn_mask ${fmtShape(am!.dims)} must have the query and key lengths ${fmtShape([Ld, Sd])}, chosen at run time: slice a mask made at the bounds to them (mask.slice(0, 0, ${show(Ld)}).slice(1, 0, ${show(Sd)}), the lengths as x.dim(1)) or, for a causal mask, give isCausal: true${where()}`);
      if (fixed(kpm, [Bd, Sd])) throw new ModelDefinitionError(`${name}: key_padding_mask ${fmtShape(kpm!.dims)} must be ${fmtShape([Bd, Sd])}, the batch and key length chosen at run time (an input with those size names)${where()}`);
      let masks = combineMasks(B, H, L, S, opts);
      const causal = !!opts.isCausal;
      const q = selfAttn || this.in_proj_weight === undefined || key !== value ? undefined : this.proj(0, q0);
      let ins = selfAttn ? [this.proj(0, q0, 3)]
        : q ? [q, this.proj(1, k0, 2)]
        : [this.proj(0, q0), this.proj(1, k0), this.proj(2, v0)];
      let layout: 'qkv' | 'q_kv' | 'separate' = selfAttn ? 'qkv' : q ? 'q_kv' : 'separate';
      const split = (): [Tensor, Tensor, Tensor] => layout === 'qkv' ? [ins[0]!.slice(2, 0, E), ins[0]!.slice(2, E, 2 * E), ins[0]!.slice(2, 2 * E)]
        : layout === 'q_kv' ? [ins[0]!, ins[1]!.slice(2, 0, E), ins[1]!.slice(2, E)] : ins as [Tensor, Tensor, Tensor];
      // PyTorch's add_bias_kv and add_zero_attn: rows appended to every sequence's keys and values
      // (bias_k/bias_v, then zeros), which every mask attends (its columns padded with 0 / false).
      const rows = [...(this.bias_k ? [[this.bias_k.t, this.bias_v!.t]] : []), ...(this.addZeroAttn ? [[undefined, undefined]] : [])];
      if (rows.length) {
        if (causal) throw new ModelDefinitionError(`${name}: isCausal is not supported with addBiasKv or addZeroAttn (the appended keys sit after the sequence; give attnMask instead)${where()}`);
        const [qq, kk, vv] = split(), row = (b: Tensor | undefined) => { const z = zeros([q0.dim(0), 1, E], q0.bounds); return b ? z.add(b) : z; };
        ins = [qq, cat([kk, ...rows.map(([b]) => row(b))], 1), cat([vv, ...rows.map(([, b]) => row(b))], 1)];
        layout = 'separate';
        const pad = (m: Tensor | undefined) => m && F.padZeros(m, 3, 0, rows.length);
        masks = { ...(masks.bool ? { bool: pad(masks.bool) } : {}), ...(masks.additive ? { additive: pad(masks.additive) } : {}) };
      }
      const needWeights = opts.needWeights ?? true;
      if (needWeights || masks.additive) {
        // The weights are wanted (or a mask is additive): compute the probabilities once and use them for the output too.
        const [qq, kk, vv] = split();
        const p = attentionProbs(qq, kk, H, masks, causal, scale);
        out = p.matmul(vv.reshape(B, kk.maxSize(1), H, this.headDim).permute(0, 2, 1, 3)).permute(0, 2, 1, 3).reshape(B, L, E);
        if (needWeights) weights = opts.averageAttnWeights === false ? p : p.mean(1);
      } else {
        const mask = masks.bool;
        out = record('attention', [...ins, ...(mask ? [mask] : [])], { heads: H, scale, causal, layout, mask: !!mask, cached: false });
      }
    }
    const y = this.out_proj.call(out);
    return [bf(y), weights];
  }
}

/** The feed-forward activation: PyTorch's names, or a function of a tensor (as PyTorch takes F.gelu, F.silu, a lambda, …). */
export type Activation = 'relu' | 'gelu' | ((x: Tensor) => Tensor);
export interface TransformerLayerOptions {
  dimFeedforward?: number;
  dropout?: number;
  activation?: Activation;
  layerNormEps?: number;
  batchFirst?: boolean;
  normFirst?: boolean;
}
const act = (a: Activation, x: Tensor): Tensor => {
  if (typeof a !== 'function') return a === 'gelu' ? x.gelu() : x.relu();
  const y = a(x);
  if (!(y instanceof Tensor) || y.dtype !== x.dtype || y.rank !== x.rank || y.dims.some((d, i) => d !== x.dims[i])) throw new ModelDefinitionError(`activation: the function must return a tensor of its input's shape ${fmtShape(x.dims)}, got ${y instanceof Tensor ? `${y.dtype} ${fmtShape(y.dims)}` : describeValue(y)}${where()}`);
  return y;
};
const LAYER_OPTIONS = ['dimFeedforward', 'dropout', 'activation', 'layerNormEps', 'batchFirst', 'normFirst'] as const;
function layerOptions(where: string, opts: TransformerLayerOptions, extra: ReadonlyArray<keyof TransformerOptions> = []): void {
  checkOptions<TransformerOptions>(where, opts, [...LAYER_OPTIONS, ...extra]);
  if (opts.activation !== undefined && opts.activation !== 'relu' && opts.activation !== 'gelu' && typeof opts.activation !== 'function') {
    throw new ModelDefinitionError(`${where}: activation must be 'relu', 'gelu' or a function of a tensor, got ${describeValue(opts.activation)}`);
  }
}

/** nn.TransformerEncoderLayer. */
export class TransformerEncoderLayer extends Module {
  self_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  readonly activation: Activation;
  readonly normFirst: boolean;
  constructor(readonly dModel: number, readonly nhead: number, readonly opts: TransformerLayerOptions = {}) {
    super();
    layerOptions('TransformerEncoderLayer', opts);
    const ff = opts.dimFeedforward ?? 2048, eps = opts.layerNormEps ?? 1e-5;
    this.self_attn = new MultiheadAttention(dModel, nhead, { batchFirst: opts.batchFirst ?? false });
    this.linear1 = new Linear(dModel, ff);
    this.dropout = new Dropout(opts.dropout ?? 0.1);
    this.linear2 = new Linear(ff, dModel);
    this.norm1 = new LayerNorm(dModel, eps);
    this.norm2 = new LayerNorm(dModel, eps);
    this.activation = opts.activation ?? 'relu';
    this.normFirst = opts.normFirst ?? false;
  }
  forward(src: Tensor, m: { srcMask?: Tensor; srcKeyPaddingMask?: Tensor; isCausal?: boolean; cache?: KVCache } = {}): Tensor {
    checkOptions('TransformerEncoderLayer.forward', m, ['srcMask', 'srcKeyPaddingMask', 'isCausal', 'cache']);
    const sa = (x: Tensor) => this.self_attn.call(x, x, x, { attnMask: m.srcMask, keyPaddingMask: m.srcKeyPaddingMask, isCausal: m.isCausal, needWeights: false, cache: m.cache })[0];
    const ff = (x: Tensor) => this.linear2.call(act(this.activation, this.linear1.call(x)));
    let x = src;
    if (this.normFirst) {
      x = x.add(sa(this.norm1.call(x)));
      return x.add(ff(this.norm2.call(x)));
    }
    x = this.norm1.call(x.add(sa(x)));
    return this.norm2.call(x.add(ff(x)));
  }
}

/** nn.TransformerDecoderLayer. */
export class TransformerDecoderLayer extends Module {
  self_attn: MultiheadAttention;
  multihead_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  norm3: LayerNorm;
  readonly activation: Activation;
  readonly normFirst: boolean;
  /** A copy whose activation is a module runs relu (afterDeepcopy). */
  private _reluCopy = false;
  constructor(readonly dModel: number, readonly nhead: number, readonly opts: TransformerLayerOptions = {}) {
    super();
    layerOptions('TransformerDecoderLayer', opts);
    const ff = opts.dimFeedforward ?? 2048, eps = opts.layerNormEps ?? 1e-5, batchFirst = opts.batchFirst ?? false;
    this.self_attn = new MultiheadAttention(dModel, nhead, { batchFirst });
    this.multihead_attn = new MultiheadAttention(dModel, nhead, { batchFirst });
    this.linear1 = new Linear(dModel, ff);
    this.dropout = new Dropout(opts.dropout ?? 0.1);
    this.linear2 = new Linear(ff, dModel);
    this.norm1 = new LayerNorm(dModel, eps);
    this.norm2 = new LayerNorm(dModel, eps);
    this.norm3 = new LayerNorm(dModel, eps);
    this.activation = opts.activation ?? 'relu';
    this.normFirst = opts.normFirst ?? false;
  }
  /**
   * PyTorch's copies of a decoder layer whose activation is a module (an nn.PReLU; every
   * TransformerDecoder's layers, copy.deepcopy'd) run relu: its __setstate__ (1.13 to 2.x) looks
   * for `activation` where a function is kept, not where a module is, and puts F.relu there. The
   * module stays a child, so its weight is still in the state_dict (TransformerEncoderLayer's was
   * fixed, PyTorch PR 81832). A model trained so computes relu there, and so does its port.
   */
  protected override afterDeepcopy(): void { if (this.activation instanceof Module) this._reluCopy = true; }
  forward(tgt: Tensor, memory: Tensor, m: DecoderMasks = {}): Tensor {
    checkOptions('TransformerDecoderLayer.forward', m, DECODER_MASKS);
    const sa = (x: Tensor) => this.self_attn.call(x, x, x, { attnMask: m.tgtMask, keyPaddingMask: m.tgtKeyPaddingMask, isCausal: m.tgtIsCausal, needWeights: false })[0];
    const ca = (x: Tensor) => this.multihead_attn.call(x, memory, memory, { attnMask: m.memoryMask, keyPaddingMask: m.memoryKeyPaddingMask, isCausal: m.memoryIsCausal, needWeights: false })[0];
    const ff = (x: Tensor) => this.linear2.call(act(this._reluCopy ? 'relu' : this.activation, this.linear1.call(x)));
    let x = tgt;
    if (this.normFirst) {
      x = x.add(sa(this.norm1.call(x)));
      x = x.add(ca(this.norm2.call(x)));
      return x.add(ff(this.norm3.call(x)));
    }
    x = this.norm1.call(x.add(sa(x)));
    x = this.norm2.call(x.add(ca(x)));
    return this.norm3.call(x.add(ff(x)));
  }
}

export interface DecoderMasks {
  tgtMask?: Tensor; memoryMask?: Tensor; tgtKeyPaddingMask?: Tensor; memoryKeyPaddingMask?: Tensor;
  tgtIsCausal?: boolean; memoryIsCausal?: boolean;
}
const DECODER_MASKS = ['tgtMask', 'memoryMask', 'tgtKeyPaddingMask', 'memoryKeyPaddingMask', 'tgtIsCausal', 'memoryIsCausal'] as const;

/**
 * The arguments of TransformerEncoder/Decoder(layer, num_layers, norm?), PyTorch's positional
 * order: a layer of the right kind, a non-negative integer (2.5 or '2' would make a silent number
 * of copies) and a module (PyTorch takes any, usually a LayerNorm) or nothing (an options object such as { norm } is not one).
 */
function stackArgs(name: string, kind: new (...a: never[]) => Module, layer: unknown, numLayers: unknown, norm: unknown): void {
  const what = (v: unknown) => (v instanceof Module ? v.constructor.name : typeof v === 'object' && v !== null ? 'an object' : describeValue(v));
  if (!(layer instanceof kind)) throw new ModelDefinitionError(`${name}: the first argument must be a ${kind.name}, got ${what(layer)}`);
  if (typeof numLayers !== 'number' || !Number.isInteger(numLayers) || numLayers < 0) throw new ModelDefinitionError(`${name}: num_layers must be a non-negative integer, got ${describeValue(numLayers)}`);
  if (norm !== undefined && norm !== null && !(norm instanceof Module)) throw new ModelDefinitionError(`${name}: norm (the third argument, positional as in PyTorch) must be a module (e.g. nn.LayerNorm) or left out, got ${what(norm)}`);
}

/** nn.TransformerEncoder: `num_layers` deep copies of a layer (layers.0, layers.1, …; an activation module in it too, as PyTorch's) and an optional final norm. */
export class TransformerEncoder extends Module {
  layers: TransformerEncoderLayer[];
  norm?: LayerNorm;
  constructor(layer: TransformerEncoderLayer, numLayers: number, norm?: LayerNorm) {
    super();
    stackArgs('TransformerEncoder', TransformerEncoderLayer, layer, numLayers, norm);
    this.layers = Array.from({ length: numLayers }, () => deepcopy(layer));
    if (norm) this.norm = norm;
  }
  forward(src: Tensor, m: { mask?: Tensor; srcKeyPaddingMask?: Tensor; isCausal?: boolean } = {}): Tensor {
    checkOptions('TransformerEncoder.forward', m, ['mask', 'srcKeyPaddingMask', 'isCausal']);
    let x = src;
    for (const l of this.layers) x = l.call(x, { srcMask: m.mask, srcKeyPaddingMask: m.srcKeyPaddingMask, isCausal: m.isCausal });
    return this.norm ? this.norm.call(x) : x;
  }
}

/** nn.TransformerDecoder. */
export class TransformerDecoder extends Module {
  layers: TransformerDecoderLayer[];
  norm?: LayerNorm;
  constructor(layer: TransformerDecoderLayer, numLayers: number, norm?: LayerNorm) {
    super();
    stackArgs('TransformerDecoder', TransformerDecoderLayer, layer, numLayers, norm);
    this.layers = Array.from({ length: numLayers }, () => deepcopy(layer));
    if (norm) this.norm = norm;
  }
  forward(tgt: Tensor, memory: Tensor, m: DecoderMasks = {}): Tensor {
    checkOptions('TransformerDecoder.forward', m, DECODER_MASKS);
    let x = tgt;
    for (const l of this.layers) x = l.call(x, memory, m);
    return this.norm ? this.norm.call(x) : x;
  }
}

export interface TransformerOptions extends TransformerLayerOptions { numEncoderLayers?: number; numDecoderLayers?: number }

/** nn.Transformer, with its final encoder and decoder norms. */
export class Transformer extends Module {
  encoder: TransformerEncoder;
  decoder: TransformerDecoder;
  constructor(readonly dModel = 512, readonly nhead = 8, opts: TransformerOptions = {}) {
    super();
    layerOptions('Transformer', opts, ['numEncoderLayers', 'numDecoderLayers']);
    const { numEncoderLayers = 6, numDecoderLayers = 6, ...layer } = opts;
    const eps = opts.layerNormEps ?? 1e-5;
    this.encoder = new TransformerEncoder(new TransformerEncoderLayer(dModel, nhead, layer), numEncoderLayers, new LayerNorm(dModel, eps));
    this.decoder = new TransformerDecoder(new TransformerDecoderLayer(dModel, nhead, layer), numDecoderLayers, new LayerNorm(dModel, eps));
  }
  /**
   * nn.Transformer.generate_square_subsequent_mask(sz): −inf above the diagonal, 0 elsewhere (torch
   * 1.13's triu of full((sz, sz), −inf)); sz may be a size chosen at run time (tgt.size(1)).
   */
  static generateSquareSubsequentMask(sz: number): Tensor {
    if (!((sz as unknown) instanceof SymSize)) positiveInt('Transformer.generateSquareSubsequentMask', 'sz', sz);
    return full([sz, sz], -Infinity).triu(1);
  }
  forward(src: Tensor, tgt: Tensor, m: DecoderMasks & { srcMask?: Tensor; srcKeyPaddingMask?: Tensor } = {}): Tensor {
    const { srcMask, srcKeyPaddingMask, ...dec } = checkOptions('Transformer.forward', m, ['srcMask', 'srcKeyPaddingMask', ...DECODER_MASKS]);
    const memory = this.encoder.call(src, { mask: srcMask, srcKeyPaddingMask });
    return this.decoder.call(tgt, memory, dec);
  }
}

/** Additive (Bahdanau) attention: score = w_v · tanh(W_q q + W_k k); softmax over keys; weights @ v. */
export class AdditiveAttention extends Module {
  W_q: Linear;
  W_k: Linear;
  w_v: Linear;
  constructor(queryDim: number, keyDim: number, hidden: number) {
    super();
    this.W_q = new Linear(queryDim, hidden, { bias: false });
    this.W_k = new Linear(keyDim, hidden, { bias: false });
    this.w_v = new Linear(hidden, 1, { bias: false });
  }
  /** q [B, L, Dq], k [B, S, Dk], v [B, S, Dv] → [y [B, L, Dv], weights [B, L, S]]. */
  forward(q: Tensor, k: Tensor, v: Tensor, keyPaddingMask?: Tensor): [Tensor, Tensor] {
    const feats = this.W_q.call(q).unsqueeze(2).add(this.W_k.call(k).unsqueeze(1)).tanh(); // [B, L, S, h]
    let score = this.w_v.call(feats).squeeze(-1);
    if (keyPaddingMask) score = F.whereOp(keyPaddingMask.unsqueeze(1), -Infinity, score);
    const w = score.softmax(-1);
    return [w.matmul(v), w];
  }
}

/** "Attention Is All You Need" sinusoidal encoding, [maxLen, d] as a constant. */
export function sinusoidalPositionalEncoding(maxLen: number, d: number): Tensor {
  positiveInt('sinusoidalPositionalEncoding', 'maxLen', maxLen); positiveInt('sinusoidalPositionalEncoding', 'd', d);
  const pe = new Float32Array(maxLen * d);
  for (let p = 0; p < maxLen; p++) for (let i = 0; i < d; i += 2) {
    const angle = p / Math.pow(10000, i / d);
    pe[p * d + i] = Math.sin(angle);
    if (i + 1 < d) pe[p * d + i + 1] = Math.cos(angle);
  }
  return constant(pe, [maxLen, d], 'f32', 'positional encoding');
}
