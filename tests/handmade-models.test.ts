// Models written by hand in the DSL as a user ports them from PyTorch (not through the zoo), with
// unusual but legal combinations, against PyTorch 1.13 (tests/fixtures/torch-extra/handmade_*,
// made by make_handmade.py): compiled (every test ISA, and 2 threads) and in the reference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { cat, defineModel, F, interpret, Module, nn, Parameter, readSafetensors, stack, stateDictFrom, traceModel, zerosLike, type InputSpec, type Tensor } from '../compiler/index.ts';
import { inferType } from '../compiler/ir/ops.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra');
const read = (c: string, f: string) => readSafetensors(readFileSync(join(FIX, c, f)), `${c}/${f}`);
const weights = (c: string) => stateDictFrom(read(c, 'weights.safetensors'));

export class ConvNet extends Module {
  seq1 = new nn.Sequential(
    new nn.Conv1d(4, 6, 3, { groups: 2, dilation: 2, padding: 2, paddingMode: 'reflect', bias: false }),
    new nn.BatchNorm1d(6, 1e-3),
    new nn.ReLU(),
    new nn.Conv1d(6, 6, 3, { groups: 6, padding: 1, paddingMode: 'circular' }),
    new nn.Conv1d(6, 4, 2, { stride: 2, padding: 1, paddingMode: 'replicate' }),
    new nn.Flatten(1),
    new nn.Linear(20, 5),
  );
  seq2 = new nn.Sequential(
    new nn.Conv2d(3, 6, [3, 2], { stride: [1, 2], padding: [2, 1], dilation: [2, 1], groups: 3, paddingMode: 'reflect' }),
    new nn.BatchNorm2d(6, 1e-5, 0.1, { affine: false }),
    new nn.Conv2d(6, 4, 3, { padding: 'same', paddingMode: 'replicate', bias: false, dilation: 2 }),
    new nn.Conv2d(4, 4, 3, { padding: 1, paddingMode: 'circular', groups: 2, stride: 2 }),
    new nn.Flatten(2),
    new nn.Linear(6, 3),
  );
  same_even = new nn.Conv1d(4, 4, 4, { padding: 'same', paddingMode: 'reflect', groups: 4 });
  same_even2 = new nn.Conv2d(3, 2, [2, 4], { padding: 'same', paddingMode: 'circular', dilation: [1, 2] });
  same_even_zero = new nn.Conv1d(4, 2, 4, { padding: 'same', dilation: 1 });
  flat_mid = new nn.Flatten(1, 2);
  forward(s: Tensor, img: Tensor): Record<string, Tensor> {
    let h2 = img;
    for (const l of this.seq2.layers.slice(0, 4)) h2 = (l as nn.Conv2d).call(h2);
    return {
      seq1: this.seq1.call(s), seq2: this.seq2.call(img), flat_mid: this.flat_mid.call(h2),
      same_even: this.same_even.call(s), same_even2: this.same_even2.call(img), same_even_zero: this.same_even_zero.call(s),
    };
  }
}

test('hand-written conv stacks (groups, dilation, padding modes, odd BatchNorm stats, Flatten + Linear) match PyTorch', async () => {
  const def = defineModel({ name: 'conv', module: new ConvNet().loadStateDict(weights('handmade_conv')), inputs: { s: [2, 4, 9], img: [2, 3, 6, 7] } });
  expect(await expectTorchCase(def, read('handmade_conv', 'io.safetensors'), { threads: 2 })).toHaveLength(6);
});

export class RNNNet extends Module {
  lstm = new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true });
  gru = new nn.GRU(3, 3, { numLayers: 3, batchFirst: true, bidirectional: true, dropout: 0 });
  head = new nn.Linear(6, 3);
  rnn = new nn.RNN(3, 3, { numLayers: 2, nonlinearity: 'relu', bias: false, batchFirst: true });
  lstmp = new nn.LSTM(3, 4, { numLayers: 2, projSize: 2, bidirectional: true, batchFirst: true });
  enc = new nn.GRU(3, 4, { batchFirst: true });
  dec = new nn.LSTM(3, 4, { numLayers: 2, batchFirst: true });
  out = new nn.Linear(4, 3);
  forward(x: Tensor, xb: Tensor, h0: Tensor, c0: Tensor, hg: Tensor, hp: Tensor, cp: Tensor): Record<string, Tensor> {
    const [y, [hn, cn]] = this.lstm.call(x, [h0, c0]);
    const [yg, hgn] = this.gru.call(xb, hg);
    const logits = this.head.call(cat([hgn.select(0, -2), hgn.select(0, -1)], 1));
    const [yr, hr] = this.rnn.call(xb);
    const [yp, [hpn, cpn]] = this.lstmp.call(xb, [hp, cp]);
    const [yu, [hu, cu]] = this.lstm.call(x.select(1, 0));
    const [, he] = this.enc.call(xb);
    let h = cat([he, he.flip(-1)], 0), c = zerosLike(h), inp = zerosLike(xb.slice(1, 0, 1).slice(2, 0, 3));
    const outs: Tensor[] = [];
    for (let i = 0; i < 4; i++) {
      const [o, [h2, c2]] = this.dec.call(inp, [h, c]);
      h = h2; c = c2;
      inp = this.out.call(o).tanh();
      outs.push(inp);
    }
    return {
      lstm_y: y, lstm_h: hn, lstm_c: cn, gru_y: yg, gru_h: hgn, logits, rnn_y: yr, rnn_h: hr,
      lstmp_y: yp, lstmp_h: hpn, lstmp_c: cpn, unb_y: yu, unb_h: hu, unb_c: cu, decoded: cat(outs, 1),
    };
  }
}

test('hand-written recurrent models (stacked, bidirectional, states, proj_size, unbatched, N:1 and 1:N) match PyTorch', async () => {
  const def = defineModel({
    name: 'rnn', module: new RNNNet().loadStateDict(weights('handmade_rnn')),
    inputs: { x: [5, 2, 3], xb: [2, 5, 3], h0: [4, 2, 4], c0: [4, 2, 4], hg: [6, 2, 3], hp: [4, 2, 2], cp: [4, 2, 4] },
  });
  expect(await expectTorchCase(def, read('handmade_rnn', 'io.safetensors'), { threads: 2 })).toHaveLength(15);
});

export class AttnNet extends Module {
  cross = new nn.MultiheadAttention(4, 2, { kdim: 5, vdim: 3, batchFirst: true });
  nobias = new nn.MultiheadAttention(4, 4, { bias: false, addBiasKv: true });
  selfa = new nn.MultiheadAttention(4, 2);
  enc = new nn.TransformerEncoder(
    new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, activation: 'gelu', batchFirst: true, normFirst: true, layerNormEps: 1e-3 }),
    2, new nn.LayerNorm(4));
  dec = new nn.TransformerDecoder(new nn.TransformerDecoderLayer(4, 2, { dimFeedforward: 5, dropout: 0, activation: 'gelu' }), 2);
  forward(...a: Tensor[]): Record<string, Tensor> {
    const [q, k5, v3, kpm, fmask, xs, bmask3, fkpm, src, srcmask, srckpm, tgt, tgtkpm, memkpm] = a as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
    const [y1, w1] = this.cross.call(q, k5, v3, { keyPaddingMask: kpm, attnMask: fmask, averageAttnWeights: false });
    const [y2, w2] = this.nobias.call(xs, xs, xs, { keyPaddingMask: fkpm });
    const [y2b, w2b] = this.nobias.call(xs, xs, xs, { keyPaddingMask: kpm.slice(1, 0, 4), attnMask: bmask3, averageAttnWeights: false });
    const causal = F.causalMask(4);
    const [y3, w3] = this.selfa.call(xs, xs, xs, { attnMask: causal, keyPaddingMask: kpm.slice(1, 0, 4) });
    const e = this.enc.call(src, { mask: srcmask, srcKeyPaddingMask: srckpm });
    const d = this.dec.call(tgt, e.transpose(0, 1), { tgtMask: causal.slice(0, 0, 3).slice(1, 0, 3), tgtKeyPaddingMask: tgtkpm, memoryKeyPaddingMask: memkpm });
    return { cross_y: y1, cross_w: w1!, nobias_y: y2, nobias_w: w2!, mask3_y: y2b, mask3_w: w2b!, self_y: y3, self_w: w3!, enc: e, dec: d };
  }
}

test('hand-written attention (kdim/vdim, bias false + add_bias_kv, float key padding, 3-D masks, encoder/decoder stacks) matches PyTorch', async () => {
  const b = (shape: number[]) => ({ shape, dtype: 'bool' as const });
  const def = defineModel({
    name: 'attn', module: new AttnNet().loadStateDict(weights('handmade_attn')),
    inputs: {
      q: [2, 3, 4], k5: [2, 6, 5], v3: [2, 6, 3], kpm: b([2, 6]), fmask: [3, 6], xs: [4, 2, 4], bmask3: b([8, 4, 4]), fkpm: [2, 4],
      src: [2, 5, 4], srcmask: [5, 5], srckpm: b([2, 5]), tgt: [3, 2, 4], tgtkpm: b([2, 3]), memkpm: b([2, 5]),
    },
  });
  expect(await expectTorchCase(def, read('handmade_attn', 'io.safetensors'), { threads: 2 })).toHaveLength(10);
});

export class FnNet extends Module {
  ln_w = this.param('ln_w', [4, 5]);
  ln_b = this.param('ln_b', [4, 5]);
  forward(x: Tensor, q: Tensor, k: Tensor, v: Tensor, m: Tensor, c: Tensor): Record<string, Tensor> {
    const [a, b, cc] = x.chunk(3, 1) as [Tensor, Tensor, Tensor];
    const ch4 = x.slice(1, 0, 6).chunk(4, 1);
    const [s1, s2] = x.split([2, 5], 1) as [Tensor, Tensor];
    return {
      softmax_m2: F.softmax(x, -2), logsoftmax_0: F.logSoftmax(x, 0),
      ln2: F.layerNorm(x.transpose(1, 2).slice(2, 1, 5).reshape(2, 4, 5), [4, 5], this.ln_w.t, this.ln_b.t, 1e-3),
      chunk: a.mul(2).add(b).sub(cc), chunk4: ch4[0]!.sub(ch4[2]!).add(ch4[1]!.mul(ch4.length)), split: s1.sum(1, true).mul(s2),
      perm: x.permute(2, 0, 1).reshape(5, -1), tview: x.transpose(0, 2).contiguous().view(-1, 7), flip: x.flip(-1).slice(1, 1, undefined, 2),
      neg_slice: x.slice(1, -3).slice(2, 0, undefined, 3), none_idx: x.select(1, 2).unsqueeze(1),
      masked: x.maskedFill(x.slice(0, 0, 1).slice(2, 0, 1).gt(0), -1.5),
      where_b: F.where(x.slice(1, 0, 1).gt(x.slice(0, 0, 1).slice(2, 2, 3)), x, x.select(0, 0).select(0, 0)),
      where_s: F.where(x.gt(0), x, 0.5),
      ein_bmm: F.einsum('bij,bjk->bik', x, x.transpose(1, 2)), ein_diag: F.einsum('ii->i', x.select(0, 0).slice(0, 0, 5)),
      ein_outer: F.einsum('i,j->ij', x.select(0, 0).select(0, 0), x.select(0, 1).select(0, 1)), ein_ell: F.einsum('...ij->...ji', x),
      ein_sum: F.einsum('bij->j', x), ein_heads: F.einsum('bhqd,bhkd->bhqk', q, k),
      sdpa_causal: F.scaledDotProductAttention(q, k, v, { isCausal: true }),
      sdpa_bool: F.scaledDotProductAttention(q, k, v, { attnMask: m }),
      sdpa_scale: F.scaledDotProductAttention(q, k, v, { attnMask: c, scale: 0.3 }),
      max_v: x.max(1), max_i: x.argmax(1), argmax_k: x.argmax(-1, true),
      std2: x.std([0, 2], { unbiased: false }), cumsum: x.cumsum(-2),
      // narrow(1, -2, 2) ends at the end: it was slice(-2, 0), refused as the range 5:0.
      // A 0-d tensor flattens to [1] (was 'dim 0 is out of range … [0, -1]').
      flat0: x.sum().flatten(),
      narrow_end: x.narrow(1, -2, 2), narrow_neg: x.narrow(-1, -3, 2),
      // x2 [1, 7, 5] broadcast along dim 0: its norm counts both copies (it summed the one row).
      // k and v of one head (multi-query) or one batch row: broadcast as torch's matmul does (was a raw reshape error).
      sdpa_mqa: F.scaledDotProductAttention(q, k.slice(1, 0, 1), v.slice(1, 0, 1), { isCausal: true }),
      sdpa_b1: F.scaledDotProductAttention(q, k.slice(0, 0, 1), v.slice(0, 0, 1), { attnMask: m.select(0, 0).select(0, 0) }),
      // A bool mask in arithmetic takes the other operand's type (x·mask, masked mean pooling); two
      // bools stay bool (m + m2 is or: it was a bool 2). ~, &, |, ^ are logicalNot/And/Or/Xor.
      bool_pool: x.mul(x.slice(-1, 0, 1).gt(0)).sum(1).div(x.select(-1, 0).gt(0).sum(1, true)), bool_or: m.add(q.gt(0)).float(),
      bool_ops: stack([m.logicalNot(), m.logicalAnd(q.gt(0)), m.logicalOr(q.gt(0)), m.logicalXor(q.gt(0)), m.eq(q.gt(0))]).float(),
      bool_cmp: stack([x.gt(0).lt(x.gt(1)), x.eq(x.gt(0)), x.gt(0).ge(1)]).float(),
      bool_num: m.add(1).float().add(m.mul(2.5)), bool_where: F.where(m, m, 2.5),
      logical_f: q.logicalOr(m.logicalNot()).float().add(q.round().logicalNot().float()),
      cos_b0: F.cosineSimilarity(x, x.slice(0, 0, 1).flip(-1), 0), cos_b1: new nn.CosineSimilarity(1, 1e-3).call(x.slice(1, 0, 1), x),
    };
  }
}

test('hand-written functional code (softmax dims, 2-D layer_norm, uneven chunk/split, views, einsum, SDPA masks and broadcast heads, narrow, broadcast cosine_similarity, bool masks in arithmetic) matches PyTorch', async () => {
  const def = defineModel({
    name: 'fn', module: new FnNet().loadStateDict(weights('handmade_fn')),
    inputs: { x: [2, 7, 5], q: [2, 2, 3, 4], k: [2, 2, 4, 4], v: [2, 2, 4, 3], m: { shape: [2, 2, 3, 4], dtype: 'bool' }, c: [3, 4] },
  });
  expect(await expectTorchCase(def, read('handmade_fn', 'io.safetensors'), { threads: 2 })).toHaveLength(42);
});

test('narrow: a window outside the dim is refused as torch raises (slice clamped it to fewer rows)', () => {
  const tr = (f: (x: Tensor) => Tensor, x: InputSpec | number[] = [2, 7]) => traceModel(defineModel({ name: 'n', module: new nn.Identity(), inputs: { x }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(() => tr((x) => x.narrow(1, 5, 4))).toThrow(/narrow: start 5 \+ length 4 is outside dim 1 of \[2, 7\]/);
  expect(() => tr((x) => x.narrow(1, -8, 1))).toThrow(/narrow: start -8 \+ length 1 is outside dim 1 of \[2, 7\]/);
  expect(() => tr((x) => x.narrow(1, -2, 3))).toThrow(/narrow: start -2 \+ length 3 is outside dim 1/);
  expect(() => tr((x) => x.narrow(1, 1.5, 3))).toThrow(/narrow: start must be an integer, got 1.5/);
  // Over a length chosen at run time a negative start counts from the actual end.
  const g = tr((x) => x.narrow(1, -2, 2), { shape: [1, 'T'], max: { T: 9 }, min: { T: 2 } });
  for (const T of [2, 5]) expect(Array.from(interpret(g, { x: Float32Array.from({ length: T }, (_, i) => i) }, undefined, { T }).y as Float32Array)).toEqual([T - 2, T - 1]);
  expect(() => tr((x) => x.narrow(1, -2, 3), { shape: [1, 'T'], max: { T: 9 } })).toThrow(/narrow: start -2 \+ length 3 is outside dim 1 of \[1, T\]/);
});

test('scaled_dot_product_attention: q, k, v whose batch or heads neither agree nor are 1, and attnMask with isCausal, are refused by name', () => {
  const tr = (f: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 's', module: new nn.Identity(), inputs: { x: [2, 3, 5, 4] }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(() => tr((x) => F.scaledDotProductAttention(x, x.slice(1, 0, 2), x.slice(1, 0, 2)))).toThrow(/scaled_dot_product_attention: q \[2, 3, 5, 4\], k \[2, 2, 5, 4\] and v \[2, 2, 5, 4\] must agree in their heads \(dim 1\) or have 1 there/);
  expect(() => tr((x) => F.scaledDotProductAttention(x.select(1, 0), x.select(1, 0), x.select(0, 0)))).toThrow(/must agree in their batch \(dim 0\) or have 1 there/);
  // PyTorch 2: 'Explicit attn_mask should not be set when is_causal=True' (both were applied here).
  expect(() => tr((x) => F.scaledDotProductAttention(x, x, x, { attnMask: x.select(3, 0).unsqueeze(3).gt(0), isCausal: true }))).toThrow(/scaled_dot_product_attention: attnMask must not be given with isCausal: true/);
});

test('a field holding new Parameter(…) (a port of self.w = nn.Parameter(…)) is named when loading its weights fails', () => {
  class Ported extends Module { ln_w = new Parameter([4, 5]); lin = new nn.Linear(5, 2); forward(x: Tensor) { return this.lin.call(x.mul(this.ln_w.t)); } }
  const sd = new Map([...weights('handmade_fn')].filter(([k]) => k === 'ln_w'));
  sd.set('lin.weight', { shape: [2, 5], data: new Float32Array(10), dtype: 'F32' }); sd.set('lin.bias', { shape: [2], data: new Float32Array(2), dtype: 'F32' });
  expect(() => new Ported().loadStateDict(sd)).toThrow("loadStateDict into Ported: unexpected: ln_w (field 'ln_w' holds a new Parameter(…), which has no state_dict entry: create it with this.param('ln_w', [4, 5]); PyTorch registers an nn.Parameter attribute, simdflow only what this.param makes)");
});

test('refusals that name the fix: subtracting bools (as torch refuses it), a bool base to a negative power, a dim of a 0-d tensor', () => {
  const tr = (f: (m: Tensor) => Tensor) => traceModel(defineModel({ name: 'b', module: new nn.Identity(), inputs: { m: { shape: [4], dtype: 'bool' } }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.m!) }));
  expect(() => tr((m) => m.sub(1))).toThrow('sub: torch does not subtract bool tensors (bool[4] − f32[]); to invert a mask use m.logicalNot()');
  expect(() => tr((m) => m.float().sum().softmax(0))).toThrow('dim 0 is out of range for a tensor of rank 0 (a 0-d tensor has no dims: unsqueeze(0) or reshape(1) it first)');
  expect(() => tr((m) => m.pow(-1))).toThrow('pow: integers to negative integer powers are not allowed (torch raises), got bool[4] to -1; cast first: x.float().pow(-1)');
  expect(() => tr((m) => m.int().sub(m))).toThrow(/sub: torch does not subtract bool tensors \(i32\[4\] − bool\[4\]\)/);
  // The IR's add, sub, div and pow refuse bools (0/1 bytes) from any front end; mul, maximum and minimum keep them 0/1.
  const b = { dtype: 'bool' as const, shape: [4] };
  expect(() => inferType('add', [b, b], {})).toThrow('add: bool operands bool[4] and bool[4]: cast them to i32 or f32 first');
  expect(inferType('mul', [b, b], {})).toEqual(b);
});
