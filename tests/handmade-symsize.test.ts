// Well-known PyTorch code ported as its source spells the sizes: read with x.size() / x.shape and
// passed on (B, T, C = x.size(); k.view(B, T, nh, C // nh); zeros(L, x.size(0), H); arange(T) < lengths),
// so that over sizes chosen at run time each SymSize stands for the size (torch's SymInt). Against
// PyTorch 1.13 (tests/fixtures/torch-extra/symsize_ports_*, made by make_symsize_ports.py): the same
// module traced at a fixed size (expectTorchCase), then one artifact over run-time sizes
// (expectTorchRunTime: the fixture's size, the least sizes, 1 where the model allows, and the bounds).
// Where the torch spelling is JavaScript arithmetic or comparison on a run-time size (nanoGPT's
// assert t <= block_size, HF's seq_length + past_key_values_length), the port writes what the
// SymSize error suggests, noted at the line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { arange, cat, defineModel, F, fullLike, Module, nn, ones, readSafetensors, stateDictFrom, zeros, zerosLike, type InputSpec, type Tensor } from '../compiler/index.ts';
import { expectTorchCase, expectTorchRunTime } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra');
const read = (c: string, f: string) => readSafetensors(readFileSync(join(FIX, `symsize_ports_${c}`, f)), `symsize_ports_${c}/${f}`);
const weights = (c: string) => stateDictFrom(read(c, 'weights.safetensors'));
type Fwd<M> = (m: M, i: Record<string, Tensor>) => Record<string, Tensor>;

/** The port at the fixture's fixed size, then over run-time sizes: every output against PyTorch. */
async function fixedAndRunTime<M extends Module>(c: string, module: M, fixed: Record<string, InputSpec>, runTime: Record<string, InputSpec>, forward: Fwd<M>): Promise<Record<string, unknown>> {
  const io = read(c, 'io.safetensors');
  const names = await expectTorchCase(defineModel({ name: c, module, inputs: fixed, forward }), io);
  expect(names.length).toBeGreaterThan(0);
  return expectTorchRunTime(defineModel({ name: `${c}_rt`, module, inputs: runTime, forward }), io);
}
const i32 = (shape: Array<number | string>, max?: Record<string, number>): InputSpec => ({ shape, dtype: 'i32', ...(max ? { max } : {}) });

// --- nanoGPT (karpathy/nanoGPT model.py) -----------------------------------------------------------

class NanoLayerNorm extends Module {
  weight: nn.Parameter; bias: nn.Parameter;
  constructor(ndim: number) { super(); this.weight = this.param('weight', [ndim]); this.bias = this.param('bias', [ndim]); }
  forward(input: Tensor): Tensor { return F.layerNorm(input, this.weight.shape, this.weight.t, this.bias.t, 1e-5); }
}

class CausalSelfAttention extends Module {
  c_attn = new nn.Linear(8, 24);
  c_proj = new nn.Linear(8, 8);
  n_head = 2; n_embd = 8;
  bias = this.param('bias', [1, 1, 8, 8]); // register_buffer('bias', tril(ones(8, 8)).view(1, 1, 8, 8))
  forward(x: Tensor): Tensor {
    const [B, T, C] = x.size() as [number, number, number];
    let [q, k, v] = this.c_attn.call(x).split(this.n_embd, 2) as [Tensor, Tensor, Tensor];
    k = k.view(B, T, this.n_head, Math.floor(C / this.n_head)).transpose(1, 2);
    q = q.view(B, T, this.n_head, Math.floor(C / this.n_head)).transpose(1, 2);
    v = v.view(B, T, this.n_head, Math.floor(C / this.n_head)).transpose(1, 2);
    let att = q.matmul(k.transpose(-2, -1)).mul(1.0 / Math.sqrt(k.size(-1)));
    att = att.maskedFill(this.bias.t.slice(2, 0, T).slice(3, 0, T).eq(0), -Infinity); // bias[:, :, :T, :T] == 0
    att = F.softmax(att, -1);
    const y = att.matmul(v).transpose(1, 2).contiguous().view(B, T, C);
    return this.c_proj.call(y);
  }
}

class MLP extends Module {
  c_fc = new nn.Linear(8, 32);
  gelu = new nn.GELU();
  c_proj = new nn.Linear(32, 8);
  forward(x: Tensor): Tensor { return this.c_proj.call(this.gelu.call(this.c_fc.call(x))); }
}

class NanoBlock extends Module {
  ln_1 = new NanoLayerNorm(8); attn = new CausalSelfAttention(); ln_2 = new NanoLayerNorm(8); mlp = new MLP();
  forward(x: Tensor): Tensor {
    x = x.add(this.attn.call(this.ln_1.call(x)));
    return x.add(this.mlp.call(this.ln_2.call(x)));
  }
}

class GPT extends Module {
  blockSize = 8;
  transformer = new nn.ModuleDict({ wte: new nn.Embedding(13, 8), wpe: new nn.Embedding(8, 8), h: new nn.ModuleList([new NanoBlock(), new NanoBlock()]), ln_f: new NanoLayerNorm(8) });
  lm_head = new nn.Linear(8, 13, { bias: false });
  constructor() {
    super();
    (this.transformer.get<nn.Embedding>('wte') as { weight: nn.Parameter }).weight = this.lm_head.weight; // self.transformer.wte.weight = self.lm_head.weight
  }
  forward(idx: Tensor, targets?: Tensor): [Tensor, Tensor | undefined] {
    const [, t] = idx.size() as [number, number];
    // assert t <= self.block_size: a comparison on a run-time size throws; its bound is checked instead.
    if (idx.maxSize(1) > this.blockSize) throw new Error(`Cannot forward sequence of length ${t}, block size is only ${this.blockSize}`);
    const pos = arange(0, t);
    let x = this.transformer.get<nn.Embedding>('wte').call(idx).add(this.transformer.get<nn.Embedding>('wpe').call(pos));
    for (const block of this.transformer.get<nn.ModuleList<NanoBlock>>('h')) x = block.call(x);
    x = this.transformer.get<NanoLayerNorm>('ln_f').call(x);
    if (targets !== undefined) {
      const logits = this.lm_head.call(x);
      const loss = F.crossEntropy(logits.view(-1, logits.size(-1)), targets.view(-1), { ignoreIndex: -1 });
      return [logits, loss];
    }
    return [this.lm_head.call(x.slice(1, -1)), undefined]; // x[:, [-1], :]
  }
}

test("nanoGPT's GPT as its source spells it (B, T, C = x.size(), view(B, T, nh, C // nh), bias[:, :, :T, :T], arange(0, t), the loss of logits.view(-1, logits.size(-1))) over a run-time batch and length matches PyTorch", async () => {
  const net = new GPT().loadStateDict(weights('nanogpt'));
  const dims = await fixedAndRunTime('nanogpt', net, { idx: i32([2, 6]), targets: i32([2, 6]) }, { idx: i32(['B', 'T'], { B: 3, T: 8 }), targets: i32(['B', 'T']) }, (m, i) => {
    const [logits, loss] = m.call(i.idx!, i.targets!);
    return { logits, loss: loss!, last: m.call(i.idx!)[0] };
  });
  expect(dims).toEqual({ logits: ['B', 'T', 13], loss: undefined, last: ['B', 1, 13] });
}, 60_000);

// --- nn.Transformer seq2seq (the PyTorch translation tutorial's Seq2SeqTransformer, batch first) ---

class PositionalEncoding extends Module {
  pos_embedding = this.param('pos_embedding', [1, 16, 8]); // a register_buffer of sinusoids
  forward(tokenEmbedding: Tensor): Tensor { return tokenEmbedding.add(this.pos_embedding.t.slice(1, 0, tokenEmbedding.size(1))); } // pos_embedding[:, :token_embedding.size(1), :]
}

class Seq2SeqTransformer extends Module {
  pad = 0; embSize = 8;
  transformer = new nn.Transformer(8, 2, { numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 16, dropout: 0, batchFirst: true });
  src_tok_emb = new nn.Embedding(11, 8);
  tgt_tok_emb = new nn.Embedding(11, 8);
  positional_encoding = new PositionalEncoding();
  generator = new nn.Linear(8, 11);
  forward(src: Tensor, tgt: Tensor): Record<string, Tensor> {
    const tgtMask = nn.Transformer.generateSquareSubsequentMask(tgt.size(1));
    const srcPaddingMask = src.eq(this.pad), tgtPaddingMask = tgt.eq(this.pad);
    const srcEmb = this.positional_encoding.call(this.src_tok_emb.call(src).mul(Math.sqrt(this.embSize)));
    const tgtEmb = this.positional_encoding.call(this.tgt_tok_emb.call(tgt).mul(Math.sqrt(this.embSize)));
    const outs = this.transformer.call(srcEmb, tgtEmb, { tgtMask, srcKeyPaddingMask: srcPaddingMask, tgtKeyPaddingMask: tgtPaddingMask, memoryKeyPaddingMask: srcPaddingMask });
    return { logits: this.generator.call(outs), tgt_mask: tgtMask };
  }
}

test("the translation tutorial's nn.Transformer seq2seq (generate_square_subsequent_mask(tgt.size(1)), padding masks, pos_embedding[:, :x.size(1)]) over a run-time batch, source and target length matches PyTorch", async () => {
  const net = new Seq2SeqTransformer().loadStateDict(weights('s2s'));
  const dims = await fixedAndRunTime('s2s', net, { src: i32([2, 5]), tgt: i32([2, 4]) }, { src: i32(['B', 'S'], { B: 3, S: 6 }), tgt: i32(['B', 'T'], { T: 6 }) }, (m, i) => m.call(i.src!, i.tgt!));
  expect(dims).toEqual({ logits: ['B', 'T', 11], tgt_mask: ['T', 'T'] });
}, 60_000);

// --- Hugging Face BERT (transformers 4.x BertEmbeddings, BertSelfAttention, get_extended_attention_mask) ---

const FINFO_MIN = -3.4028234663852886e38; // torch.finfo(torch.float32).min

class BertEmbeddings extends Module {
  word_embeddings = new nn.Embedding(17, 8, { paddingIdx: 0 });
  position_embeddings = new nn.Embedding(8, 8);
  token_type_embeddings = new nn.Embedding(2, 8);
  LayerNorm = new nn.LayerNorm(8, 1e-12);
  // register_buffer(…, persistent=False): in no state_dict, made here
  get position_ids(): Tensor { return arange(8).expand(1, -1); }
  get token_type_ids(): Tensor { return zeros(this.position_ids.size()).long(); }
  forward(inputIds: Tensor, pastKeyValuesLength = 0): Tensor {
    const inputShape = inputIds.size();
    const seqLength = inputShape[1]!;
    // position_ids[:, past : seq_length + past]: seq_length + past is JavaScript arithmetic on a
    // run-time size (it throws); with past = 0, the end is seq_length.
    const positionIds = this.position_ids.slice(1, pastKeyValuesLength, seqLength);
    const bufferedTokenTypeIds = this.token_type_ids.slice(1, 0, seqLength);
    const tokenTypeIds = bufferedTokenTypeIds.expand(inputShape[0]!, seqLength);
    let embeddings = this.word_embeddings.call(inputIds).add(this.token_type_embeddings.call(tokenTypeIds));
    embeddings = embeddings.add(this.position_embeddings.call(positionIds));
    return this.LayerNorm.call(embeddings);
  }
}

class BertSelfAttention extends Module {
  num_attention_heads = 2; attention_head_size = 4; all_head_size = 8;
  query = new nn.Linear(8, 8); key = new nn.Linear(8, 8); value = new nn.Linear(8, 8);
  transposeForScores(x: Tensor): Tensor {
    const newXShape = [...x.size().slice(0, -1), this.num_attention_heads, this.attention_head_size]; // x.size()[:-1] + (heads, size)
    return x.view(newXShape).permute(0, 2, 1, 3);
  }
  forward(hiddenStates: Tensor, attentionMask: Tensor): Tensor {
    const queryLayer = this.transposeForScores(this.query.call(hiddenStates));
    const keyLayer = this.transposeForScores(this.key.call(hiddenStates));
    const valueLayer = this.transposeForScores(this.value.call(hiddenStates));
    let attentionScores = queryLayer.matmul(keyLayer.transpose(-1, -2));
    attentionScores = attentionScores.div(Math.sqrt(this.attention_head_size)).add(attentionMask);
    const attentionProbs = F.softmax(attentionScores, -1);
    const contextLayer = attentionProbs.matmul(valueLayer).permute(0, 2, 1, 3).contiguous();
    const newContextLayerShape = [...contextLayer.size().slice(0, -2), this.all_head_size]; // size()[:-2] + (all_head_size,)
    return contextLayer.view(newContextLayerShape);
  }
}

class BertLayer extends Module {
  attention = new BertSelfAttention();
  attn_dense = new nn.Linear(8, 8); attn_norm = new nn.LayerNorm(8, 1e-12);
  intermediate = new nn.Linear(8, 16); output = new nn.Linear(16, 8);
  out_norm = new nn.LayerNorm(8, 1e-12);
  forward(x: Tensor, mask: Tensor): Tensor {
    x = this.attn_norm.call(this.attn_dense.call(this.attention.call(x, mask)).add(x));
    return this.out_norm.call(this.output.call(F.gelu(this.intermediate.call(x))).add(x));
  }
}

/** ModuleUtilsMixin.get_extended_attention_mask of a 2-D mask (with create_extended_attention_mask_for_decoder). */
function getExtendedAttentionMask(attentionMask: Tensor, inputShape: readonly number[], isDecoder: boolean): Tensor {
  let extendedAttentionMask: Tensor;
  if (isDecoder) {
    const [batchSize, seqLength] = inputShape as [number, number];
    const seqIds = arange(seqLength);
    let causalMask = seqIds.unsqueeze(0).unsqueeze(0).repeat(batchSize, seqLength, 1).le(seqIds.unsqueeze(0).unsqueeze(2)); // seq_ids[None, None, :].repeat(…) <= seq_ids[None, :, None]
    causalMask = causalMask.cast(attentionMask.dtype);
    // (HF then pads the causal mask when causal_mask.shape[1] < attention_mask.shape[1], a prefix of
    // past keys: a comparison of run-time sizes, which throws here; without a cache they are equal.)
    extendedAttentionMask = causalMask.unsqueeze(1).mul(attentionMask.unsqueeze(1).unsqueeze(1));
  } else extendedAttentionMask = attentionMask.unsqueeze(1).unsqueeze(1); // attention_mask[:, None, None, :]
  extendedAttentionMask = extendedAttentionMask.float();
  return extendedAttentionMask.neg().add(1.0).mul(FINFO_MIN); // (1.0 - mask) * finfo.min
}

class Bert extends Module {
  embeddings = new BertEmbeddings();
  layer = new BertLayer();
  pooler = new nn.Linear(8, 8);
  forward(inputIds: Tensor, attentionMask: Tensor): Record<string, Tensor> {
    const inputShape = inputIds.size();
    const x = this.embeddings.call(inputIds.long());
    const ext = getExtendedAttentionMask(attentionMask.long(), inputShape, false);
    const dec = getExtendedAttentionMask(attentionMask.long(), inputShape, true);
    const h = this.layer.call(x, ext);
    // sentence-transformers' mean pooling
    const inputMaskExpanded = attentionMask.unsqueeze(-1).expand(h.size()).float();
    const mean = h.mul(inputMaskExpanded).sum(1).div(inputMaskExpanded.sum(1).clamp(1e-9));
    return { hidden: h, pooled: this.pooler.call(h.select(1, 0)).tanh(), mean_pooled: mean, plain_mean: h.sum(1).div(h.size(1)), ext, dec_hidden: this.layer.call(x, dec) };
  }
}

test("Hugging Face BERT as its source spells it (input_ids.size(), buffers sliced to seq_length and expanded to (input_shape[0], seq_length), view(x.size()[:-1] + (h, d)), encoder and decoder extended masks, sentence-transformers' mean pooling by expand(h.size()), h.sum(1) / h.size(1)) over a run-time batch and length matches PyTorch", async () => {
  const net = new Bert().loadStateDict(weights('bert'));
  const dims = await fixedAndRunTime('bert', net, { input_ids: i32([2, 6]), attention_mask: i32([2, 6]) }, { input_ids: i32(['B', 'T'], { B: 3, T: 8 }), attention_mask: i32(['B', 'T']) }, (m, i) => m.call(i.input_ids!, i.attention_mask!));
  expect(dims).toEqual({ hidden: ['B', 'T', 8], pooled: ['B', 8], mean_pooled: ['B', 8], plain_mean: ['B', 8], ext: ['B', 1, 1, 'T'], dec_hidden: ['B', 'T', 8] });
}, 60_000);

// --- an LSTM classifier (yunjey's pytorch-tutorial RNN, with lengths) --------------------------------

class RNN extends Module {
  hidden_size = 5; num_layers = 2;
  lstm = new nn.LSTM(3, 5, { numLayers: 2, batchFirst: true });
  fc = new nn.Linear(5, 4);
  forward(x: Tensor, lengths: Tensor): Record<string, Tensor> {
    const h0 = zeros([this.num_layers, x.size(0), this.hidden_size]);
    const c0 = zeros([this.num_layers, x.size(0), this.hidden_size]);
    const [out] = this.lstm.call(x, [h0, c0]);
    const T = x.size(1);
    const mask = arange(T).unsqueeze(0).lt(lengths.unsqueeze(1)); // arange(T)[None, :] < lengths[:, None]
    const m = mask.unsqueeze(-1).float();
    const maskedMean = out.mul(m).sum(1).div(m.sum(1));
    const last = out.gather(1, lengths.sub(1).view(-1, 1, 1).expand(-1, 1, out.size(2))).squeeze(1);
    // PyTorch's packed_last is h_n of pack_padded_sequence(x, lengths): the same step, found by gather here.
    // Without lengths, every sequence full (ESPnet's x.new_full((B,), T)), through the same mask.
    const full = x.newFull([x.size(0)], x.size(1)).long();
    const fm = arange(T).unsqueeze(0).lt(full.unsqueeze(1)).unsqueeze(-1).float();
    // A head on every step, TimeDistributed style.
    const perStep = this.fc.call(out.flatten(0, 1)).unflatten(0, [x.size(0), x.size(1)]);
    return {
      tutorial: this.fc.call(out.select(1, -1)), masked_mean: maskedMean, plain_mean: out.sum(1).div(out.size(1)), last: this.fc.call(last), packed_last: this.fc.call(last), mask,
      full_lengths: full, unpadded_mean: out.mul(fm).sum(1).div(fm.sum(1)), per_step: perStep,
    };
  }
}

test('an LSTM classifier as tutorials spell it (h0 = zeros(num_layers, x.size(0), hidden_size), out[:, -1, :], arange(x.size(1))[None, :] < lengths[:, None], a masked mean, out.sum(1) / out.size(1), the last valid step as packing gives it, x.new_full((B,), x.size(1)) lengths, unflatten(0, (x.size(0), x.size(1)))) over a run-time batch and length matches PyTorch', async () => {
  const net = new RNN().loadStateDict(weights('rnn'));
  const dims = await fixedAndRunTime('rnn', net, { x: { shape: [2, 5, 3] }, lengths: i32([2]) }, { x: { shape: ['B', 'T', 3], max: { B: 3, T: 7 } }, lengths: i32(['B']) }, (m, i) => m.call(i.x!, i.lengths!));
  expect(dims).toEqual({ tutorial: ['B', 4], masked_mean: ['B', 5], plain_mean: ['B', 5], last: ['B', 4], packed_last: ['B', 4], mask: ['B', 'T'], full_lengths: ['B'], unpadded_mean: ['B', 5], per_step: ['B', 'T', 4] });
}, 60_000);

// --- a ViLT-style single-stream fusion (dandelin/ViLT vilt_module.infer) ------------------------------

class ViLTBlock extends Module {
  norm1 = new nn.LayerNorm(8, 1e-6); norm2 = new nn.LayerNorm(8, 1e-6);
  attn = new nn.MultiheadAttention(8, 2, { batchFirst: true });
  fc1 = new nn.Linear(8, 16); fc2 = new nn.Linear(16, 8);
  forward(x: Tensor, mask: Tensor): Tensor {
    const h = this.norm1.call(x);
    x = x.add(this.attn.call(h, h, h, { keyPaddingMask: mask.bool().logicalNot(), needWeights: false })[0]);
    return x.add(this.fc2.call(F.gelu(this.fc1.call(this.norm2.call(x)))));
  }
}

class ViLT extends Module {
  word_embeddings = new nn.Embedding(15, 8);
  patch_proj = new nn.Linear(6, 8);
  token_type_embeddings = new nn.Embedding(2, 8);
  blocks = new nn.ModuleList([new ViLTBlock(), new ViLTBlock()]);
  norm = new nn.LayerNorm(8, 1e-6);
  pooler = new nn.Linear(8, 8);
  forward(textIds: Tensor, textMasks: Tensor, imageFeats: Tensor, imageTokenTypeIdx = 1): Record<string, Tensor> {
    let textEmbeds = this.word_embeddings.call(textIds.long());
    let imageEmbeds = this.patch_proj.call(imageFeats);
    const imageMasks = ones([imageEmbeds.size(0), imageEmbeds.size(1)]).long();
    [textEmbeds, imageEmbeds] = [
      textEmbeds.add(this.token_type_embeddings.call(zerosLike(textMasks))),
      imageEmbeds.add(this.token_type_embeddings.call(fullLike(imageMasks, imageTokenTypeIdx))),
    ];
    const coEmbeds = cat([textEmbeds, imageEmbeds], 1);
    const coMasks = cat([textMasks.long(), imageMasks], 1);
    let x = coEmbeds;
    for (const blk of this.blocks) x = blk.call(x, coMasks);
    x = this.norm.call(x);
    const [textFeats, imageFeatsOut] = [x.slice(1, 0, textEmbeds.shape[1]), x.slice(1, textEmbeds.shape[1]!)]; // x[:, :text_embeds.shape[1]], x[:, text_embeds.shape[1]:]
    const [splitText, splitImage] = x.split([textEmbeds.size(1), imageEmbeds.size(1)], 1) as [Tensor, Tensor];
    return {
      text_feats: textFeats, image_feats: imageFeatsOut, cls_feats: this.pooler.call(x.select(1, 0)).tanh(),
      split_text_mean: splitText.mean(1), split_image_mean: splitImage.sum(1).div(splitImage.size(1)),
    };
  }
}

test("ViLT's fusion of text and image tokens as its source spells it (ones(image_embeds.size(0), image_embeds.size(1)), zeros_like / full_like token types, cat, x[:, :text_embeds.shape[1]] and x[:, text_embeds.shape[1]:], torch.split by [text.size(1), image.size(1)]) over a run-time batch, text length and image tokens matches PyTorch", async () => {
  const net = new ViLT().loadStateDict(weights('vilt'));
  const dims = await fixedAndRunTime('vilt', net, { text_ids: i32([2, 5]), text_masks: i32([2, 5]), image_feats: { shape: [2, 3, 6] } },
    { text_ids: i32(['B', 'T'], { B: 3, T: 6 }), text_masks: i32(['B', 'T']), image_feats: { shape: ['B', 'N', 6], max: { N: 4 } } }, (m, i) => m.call(i.text_ids!, i.text_masks!, i.image_feats!));
  expect(dims).toEqual({ text_feats: ['B', 'T', 8], image_feats: ['B', 'N', 8], cls_feats: ['B', 8], split_text_mean: ['B', 8], split_image_mean: ['B', 8] });
}, 60_000);

// --- torchvision's FeaturePyramidNetwork top-down path and a segmentation head's upsample ------------

class FPNSeg extends Module {
  stage1 = new nn.Conv2d(3, 4, 3, { stride: 2, padding: 1 });
  stage2 = new nn.Conv2d(4, 8, 3, { stride: 2, padding: 1 });
  inner_blocks = new nn.ModuleList([new nn.Conv2d(4, 4, 1), new nn.Conv2d(8, 4, 1)]);
  layer_blocks = new nn.ModuleList([new nn.Conv2d(4, 4, 3, { padding: 1 }), new nn.Conv2d(4, 4, 3, { padding: 1 })]);
  classifier = new nn.Conv2d(4, 2, 1);
  forward(x: Tensor): Record<string, Tensor> {
    const inputShape = x.shape.slice(-2);
    const c1 = F.relu(this.stage1.call(x)), c2 = F.relu(this.stage2.call(c1));
    const feats = [c1, c2];
    let lastInner = this.inner_blocks.get(-1).call(feats[1]!);
    const results = [this.layer_blocks.get(-1).call(lastInner)];
    for (let idx = feats.length - 2; idx >= 0; idx--) {
      const innerLateral = this.inner_blocks.get(idx).call(feats[idx]!);
      const featShape = innerLateral.shape.slice(-2);
      const innerTopDown = F.interpolate(lastInner, { size: featShape, mode: 'nearest' });
      lastInner = innerLateral.add(innerTopDown);
      results.unshift(this.layer_blocks.get(idx).call(lastInner));
    }
    const out = F.interpolate(this.classifier.call(results[0]!), { size: inputShape, mode: 'bilinear', alignCorners: false });
    return { p1: results[0]!, p2: results[1]!, seg: out };
  }
}

test("torchvision's FPN top-down path (F.interpolate(last_inner, size=inner_lateral.shape[-2:])) and segmentation upsample (size=x.shape[-2:], bilinear) over sides 4·H × 4·W chosen at run time match PyTorch", async () => {
  const net = new FPNSeg().loadStateDict(weights('fpn'));
  const dims = await fixedAndRunTime('fpn', net, { x: { shape: [2, 3, 8, 12] } }, { x: { shape: ['B', 3, '4*H', '4*W'], max: { B: 2, H: 3, W: 3 } } }, (m, i) => m.call(i.x!));
  expect(dims).toEqual({ p1: ['B', 4, '2*H', '2*W'], p2: ['B', 4, 'H', 'W'], seg: ['B', 2, '4*H', '4*W'] });
}, 60_000);
