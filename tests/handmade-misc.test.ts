// Architectures of other domains written by hand in the DSL as a user ports them from PyTorch
// (a Mixture-of-Experts layer, a DLRM recommender, graph networks, a VAE and a DCGAN, N-BEATS and
// PatchTST, a log-mel front end, a Siamese pair), against PyTorch 1.13
// (tests/fixtures/torch-extra/handmade_misc_*, made by make_handmade_misc.py): compiled (every
// test ISA, and 2 threads) and in the reference interpreter.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { arange, blackmanWindow, cat, cdist, compileModel, hammingWindow, hannWindow, stft, defineModel, eye, F, interpret, ints, Module, nn, ones, Parameter, readSafetensors, stack, stateDictFrom, traceModel, triuIndices, trilIndices, zeros, zerosLike, type InputSpec, type Tensor } from '../compiler/index.ts';
import type { Dim } from '../compiler/ir/dims.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch, expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra');
const read = (c: string, f: string) => readSafetensors(readFileSync(join(FIX, c, f)), `${c}/${f}`);
const weights = (c: string) => stateDictFrom(read(c, 'weights.safetensors'));
const i32 = (shape: number[]) => ({ shape, dtype: 'i32' as const });

class Expert extends nn.Sequential { constructor() { super(new nn.Linear(6, 8), new nn.GELU(), new nn.Linear(8, 6)); } }

class MoE extends Module {
  gate = new nn.Linear(6, 4, { bias: false });
  experts = new nn.ModuleList([new Expert(), new Expert(), new Expert(), new Expert()]);
  forward(x: Tensor): Record<string, Tensor> {
    const [b, t] = x.dims, d = x.size(2);   // (dims: the batch may be a size chosen at run time)
    const h = x.reshape(-1, d);
    const logits = this.gate.call(h);
    const [topV, topI] = logits.topk(2, -1);
    const w = topV.softmax(-1);
    const ex = [...this.experts];
    const outs = stack(ex.map((e) => e.call(h)), 1);
    const picked = outs.gather(1, topI.unsqueeze(-1).expand(-1, -1, d));
    const dense = F.oneHot(topI, 4).float().mul(w.unsqueeze(-1)).sum(1);
    const denseS = zerosLike(logits).scatter(1, topI, w);
    let yLoop = zerosLike(h);
    ex.forEach((e, j) => { yLoop = yLoop.add(w.mul(topI.eq(j)).sum(-1, true).mul(e.call(h))); });
    return {
      gather: picked.mul(w.unsqueeze(-1)).sum(1).reshape(b, t, d),
      onehot: F.einsum('ne,ned->nd', dense, outs).reshape(b, t, d),
      scatter: denseS.unsqueeze(1).bmm(outs).squeeze(1).reshape(b, t, d),
      loop: yLoop.reshape(b, t, d), idx: topI, w, dense: denseS,
    };
  }
}

test('a Mixture-of-Experts layer (top-2 gate, softmax over the chosen logits; gather, one-hot einsum, scatter + bmm, a per-expert loop) matches PyTorch', async () => {
  const def = defineModel({ name: 'moe', module: new MoE().loadStateDict(weights('handmade_misc_moe')), inputs: { x: [2, 5, 6] } });
  expect(await expectTorchCase(def, read('handmade_misc_moe', 'io.safetensors'), { threads: 2 })).toHaveLength(7);
});

class DLRM extends Module {
  emb_sum = new nn.EmbeddingBag(10, 4, { mode: 'sum' });
  emb_mean = new nn.EmbeddingBag(7, 4, { mode: 'mean' });
  emb = new nn.Embedding(5, 4);
  bot = new nn.Sequential(new nn.Linear(3, 8), new nn.ReLU(), new nn.Linear(8, 4), new nn.ReLU());
  top = new nn.Sequential(new nn.Linear(10, 8), new nn.ReLU(), new nn.Linear(8, 1));
  forward(dense: Tensor, idxA: Tensor, offA: Tensor, idxB: Tensor, catC: Tensor): Record<string, Tensor> {
    const x = this.bot.call(dense);
    const T = stack([x, this.emb_sum.call(idxA, offA), this.emb_mean.call(idxB), this.emb.call(catC)], 1);
    const Z = T.bmm(T.transpose(1, 2));
    // torch's Z[:, li, lj] with li, lj = triu_indices(4, 4, 1): one index into the flattened pairs
    const ij = triuIndices(4, 4, 1), z = Z.flatten(1).indexSelect(1, ij.select(0, 0).mul(4).add(ij.select(0, 1)));
    // torch's Z[:, mask] (a bool mask: its size depends on the mask, so the DSL has no such
    // indexing): the positions where the constant mask is true, listed
    const at = Array.from({ length: 16 }, (_, k) => k).filter((k) => Math.floor(k / 4) < k % 4);
    return { p: this.top.call(cat([x, z], 1)).sigmoid(), z, zmask: Z.flatten(1).indexSelect(1, ints(at)) };
  }
}

test('the Mixture-of-Experts layer over a batch chosen at run time (B = 2, 1 of at most 3): its tokens match the PyTorch outputs', async () => {
  const io = read('handmade_misc_moe', 'io.safetensors');
  const def = defineModel({ name: 'moe_rt', module: new MoE().loadStateDict(weights('handmade_misc_moe')), inputs: { x: { shape: ['B', 5, 6], max: { B: 3 } } } });
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes, { threads: 2, threadPolicy: 'always' });
  const g = traceModel(def), x = io.get('input.x')!.data as Float32Array;
  for (const B of [2, 1]) {
    const feeds = { x: { data: x.slice(0, B * 30), shape: [B, 5, 6] } };
    for (const [where, out] of [['compiled', m.run(feeds)], ['reference', interpret(g, feeds)]] as const) {
      for (const k of ['gather', 'onehot', 'scatter', 'loop', 'idx', 'w', 'dense']) {
        // Tokens are independent: batch row 0's are the first half of every output (idx as f32 for the comparison).
        const want = io.get(`output.${k}`)!.data as Float32Array | Int32Array, rows = want.slice(0, (want.length / 2) * B);
        expectTorch(Float32Array.from(out[k] as Float32Array), Float32Array.from(rows), `${where} ${k} at B = ${B}`);
      }
    }
  }
  m.dispose();
});

test('a DLRM recommender (EmbeddingBag sum with offsets and an empty bag, mean over 2-D bags, bmm interactions, the upper triangle, top MLP) matches PyTorch', async () => {
  const def = defineModel({
    name: 'dlrm', module: new DLRM().loadStateDict(weights('handmade_misc_dlrm')),
    inputs: { dense: [4, 3], idx_a: i32([8]), off_a: i32([4]), idx_b: i32([4, 3]), cat_c: i32([4]) },
  });
  const io = new Map([...read('handmade_misc_dlrm', 'io.safetensors')].filter(([k]) => !k.startsWith('output.small_')));
  expect(await expectTorchCase(def, io, { threads: 2 })).toHaveLength(3);
});

test('the DLRM over a batch and a number of lookups chosen at run time (EmbeddingBag offsets [B]; 4 bags of 8 lookups, 2 of 3) matches PyTorch; bad offsets raise as torch', async () => {
  const io = read('handmade_misc_dlrm', 'io.safetensors'), get = (k: string) => io.get(`input.${k}`)!.data as Float32Array | Int32Array;
  const def = defineModel({
    name: 'dlrm_rt', module: new DLRM().loadStateDict(weights('handmade_misc_dlrm')),
    inputs: { dense: { shape: ['B', 3], max: { B: 4 } }, idx_a: { shape: ['L'], dtype: 'i32', max: { L: 12 } }, off_a: { shape: ['B'], dtype: 'i32' }, idx_b: { shape: ['B', 3], dtype: 'i32' }, cat_c: { shape: ['B'], dtype: 'i32' } },
  });
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes, { threads: 2, threadPolicy: 'always' });
  const g = traceModel(def);
  const full = { dense: { data: get('dense'), shape: [4, 3] }, idx_a: { data: get('idx_a'), shape: [8] }, off_a: { data: get('off_a'), shape: [4] }, idx_b: { data: get('idx_b'), shape: [4, 3] }, cat_c: { data: get('cat_c'), shape: [4] } };
  const small = { dense: { data: get('dense').slice(0, 6), shape: [2, 3] }, idx_a: { data: Int32Array.of(3, 1, 4), shape: [3] }, off_a: { data: Int32Array.of(0, 3), shape: [2] }, idx_b: { data: get('idx_b').slice(0, 6), shape: [2, 3] }, cat_c: { data: get('cat_c').slice(0, 2), shape: [2] } };
  for (const [feeds, pre] of [[full, ''], [small, 'small_']] as const) {
    for (const [where, out] of [['compiled', m.run(feeds)], ['reference', interpret(g, feeds)]] as const) {
      for (const k of ['p', 'z', 'zmask']) expectTorch(out[k] as Float32Array, io.get(`output.${pre}${k}`)!.data as Float32Array, `${where} ${pre}${k}`);
    }
  }
  for (const [off, msg] of [[Int32Array.of(0, 4), /offsets\[1\] = 4 is past the end of the indices \(L of this call\)/], [Int32Array.of(1, 2), /offsets\[0\] must be 0/], [Int32Array.of(0, 3, 2), /offsets must not decrease, got offsets\[2\] = 2/]] as const) {
    const bad = { ...small, off_a: { data: off, shape: [off.length] }, ...(off.length === 3 ? { dense: { data: get('dense').slice(0, 9), shape: [3, 3] }, idx_b: { data: get('idx_b').slice(0, 9), shape: [3, 3] }, cat_c: { data: get('cat_c').slice(0, 3), shape: [3] } } : {}) };
    expect(() => interpret(g, bad)).toThrow(msg);
    expect(() => m.run(bad)).toThrow(msg);
  }
  m.dispose();
  // includeLastOffset's offsets hold bags + 1: their count stays fixed.
  const last = defineModel({
    name: 'bag', module: new nn.EmbeddingBag(10, 4, { mode: 'sum', includeLastOffset: true }), forward: (b: nn.EmbeddingBag, i: Record<string, Tensor>) => b.call(i.idx!, i.off!),
    inputs: { idx: { shape: ['L'], dtype: 'i32', max: { L: 8 } }, off: { shape: ['B'], dtype: 'i32', max: { B: 4 } } },
  });
  expect(() => traceModel(last)).toThrow(/embedding_bag: offsets must be i32 \[bags \+ 1\] of a fixed size, got i32 \[B\]/);
});

class Graph extends Module {
  g1 = new nn.Linear(5, 8, { bias: false });
  g2 = new nn.Linear(8, 3);
  sage_l = new nn.Linear(5, 6);
  sage_r = new nn.Linear(5, 6, { bias: false });
  forward(x: Tensor, adj: Tensor, edgeIndex: Tensor): Record<string, Tensor> {
    const n = adj.dim(-1);   // (dim: the nodes may be a size chosen at run time)
    const a = adj.add(eye(n));
    const d = a.sum(-1).pow(-0.5);
    const aHat = d.unsqueeze(-1).mul(a).mul(d.unsqueeze(-2));
    const h = aHat.matmul(this.g1.call(x)).relu();
    const gcn = aHat.matmul(this.g2.call(h)).logSoftmax(-1);
    const xs = x.select(0, 0), src = edgeIndex.select(0, 0), dst = edgeIndex.select(0, 1);
    const msg = xs.indexSelect(0, src);
    const agg = zeros([n, 5]).indexAdd(0, dst, msg);
    const deg = zeros([n]).indexAdd(0, dst, ones([src.size(0)]));
    const mean = (g: Tensor) => g.div(deg.clamp(1).unsqueeze(-1));
    const sage = this.sage_l.call(mean(agg)).add(this.sage_r.call(xs));
    const agg2 = zeros([n, 5]).scatterAdd(0, dst.unsqueeze(-1).expand(-1, 5), msg);
    const amax = zeros([n, 5]).scatterReduce(0, dst.unsqueeze(-1).expand(-1, 5), msg, 'amax', { includeSelf: false });
    return { gcn, sage: F.normalize(sage, 2, -1), sage_scatter: this.sage_l.call(mean(agg2)).add(this.sage_r.call(xs)), deg, amax };
  }
}

test('graph networks: a dense GCN and GraphSAGE mean aggregation over an edge list (index_add, scatter_add, scatter_reduce amax, a node with no edges) match PyTorch', async () => {
  const def = defineModel({
    name: 'graph', module: new Graph().loadStateDict(weights('handmade_misc_graph')),
    inputs: { x: [1, 6, 5], adj: [1, 6, 6], edge_index: i32([2, 9]) },
  });
  const io = new Map([...read('handmade_misc_graph', 'io.safetensors')].filter(([k]) => !k.startsWith('output.small_')));
  expect(await expectTorchCase(def, io, { threads: 2 })).toHaveLength(5);
});

class GCN extends Graph {
  override forward(x: Tensor, adj: Tensor): Record<string, Tensor> {
    const a = adj.add(eye(adj.dim(-1))), d = a.sum(-1).pow(-0.5), aHat = d.unsqueeze(-1).mul(a).mul(d.unsqueeze(-2));
    return { gcn: aHat.matmul(this.g2.call(aHat.matmul(this.g1.call(x)).relu())).logSoftmax(-1) };
  }
}

test('the dense GCN over nodes chosen at run time (eye of a run-time size) at 6 and 5 nodes matches PyTorch', async () => {
  const io = read('handmade_misc_graph', 'io.safetensors'), x = io.get('input.x')!.data as Float32Array, adj = io.get('input.adj')!.data as Float32Array;
  const def = defineModel({ name: 'gcn', module: new GCN().loadStateDict(weights('handmade_misc_graph')), forward: (m: GCN, i: Record<string, Tensor>) => m.call(i.x!, i.adj!), inputs: { x: { shape: [1, 'N', 5], max: { N: 8 } }, adj: { shape: [1, 'N', 'N'] } } });
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const g = traceModel(def), adj5 = Float32Array.from({ length: 25 }, (_, k) => adj[Math.floor(k / 5) * 6 + (k % 5)]!);
  for (const [feeds, pre] of [[{ x: { data: x, shape: [1, 6, 5] }, adj: { data: adj, shape: [1, 6, 6] } }, ''], [{ x: { data: x.slice(0, 25), shape: [1, 5, 5] }, adj: { data: adj5, shape: [1, 5, 5] } }, 'small_']] as const) {
    for (const [where, out] of [['compiled', m.run(feeds)], ['reference', interpret(g, feeds)]] as const) expectTorch(out.gcn as Float32Array, io.get(`output.${pre}gcn`)!.data as Float32Array, `${where} gcn at ${feeds.x.shape[1]} nodes`);
  }
  m.dispose();
  expect(() => traceModel(defineModel({ name: 'e', module: new nn.Identity(), inputs: { x: [2] }, forward: () => eye('K') }))).toThrow(/eye: sizes must be positive integers or sizes of the model's inputs, got "K" and "K"/);
});

class Sage extends Graph {
  override forward(xs: Tensor, edgeIndex: Tensor): Record<string, Tensor> {
    const src = edgeIndex.select(0, 0), dst = edgeIndex.select(0, 1), n = xs.dim(0), b = { ...xs.bounds, ...edgeIndex.bounds };
    const msg = xs.indexSelect(0, src);
    const deg = zeros([n], b).indexAdd(0, dst, ones([src.dim(0)], b));
    const mean = (g: Tensor) => g.div(deg.clamp(1).unsqueeze(-1));
    const idx = dst.unsqueeze(-1).expand(-1, 5);
    return {
      sage: F.normalize(this.sage_l.call(mean(zeros([n, 5], b).indexAdd(0, dst, msg))).add(this.sage_r.call(xs)), 2, -1),
      sage_scatter: this.sage_l.call(mean(zeros([n, 5], b).scatterAdd(0, idx, msg))).add(this.sage_r.call(xs)), deg,
      amax: zeros([n, 5], b).scatterReduce(0, idx, msg, 'amax', { includeSelf: false }),
    };
  }
}

test('GraphSAGE over nodes and edges chosen at run time (6 and 9, 5 and 8) matches PyTorch', async () => {
  const io = read('handmade_misc_graph', 'io.safetensors');
  const def = defineModel({
    name: 'sage', module: new Sage().loadStateDict(weights('handmade_misc_graph')), forward: (m: Sage, i: Record<string, Tensor>) => m.call(i.x!, i.ei!),
    inputs: { x: { shape: ['N', 5], max: { N: 8 } }, ei: { shape: [2, 'E'], dtype: 'i32', max: { E: 12 } } },
  });
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes, { threads: 2, threadPolicy: 'always' });
  const g = traceModel(def), x = io.get('input.x')!.data as Float32Array, ei = io.get('input.edge_index')!.data as Int32Array;
  const cut = (N: number, E: number) => ({ x: { data: x.slice(0, N * 5), shape: [N, 5] }, ei: { data: Int32Array.from([...ei.slice(0, E), ...ei.slice(9, 9 + E)]), shape: [2, E] } });
  for (const [N, E, pre] of [[6, 9, ''], [5, 8, 'small_']] as const) {
    for (const [where, out] of [['compiled', m.run(cut(N, E))], ['reference', interpret(g, cut(N, E))]] as const) {
      for (const k of ['sage', 'sage_scatter', 'deg', 'amax']) expectTorch(out[k] as Float32Array, io.get(`output.${pre}${k}`)!.data as Float32Array, `${where} ${k} at ${N} nodes, ${E} edges`);
    }
  }
  m.dispose();
});

class Gen extends Module {
  enc = new nn.Sequential(new nn.Linear(12, 16), new nn.ReLU());
  mu = new nn.Linear(16, 3);
  logvar = new nn.Linear(16, 3);
  dec = new nn.Sequential(new nn.Linear(3, 16), new nn.ReLU(), new nn.Linear(16, 12), new nn.Sigmoid());
  G = new nn.Sequential(
    new nn.ConvTranspose2d(6, 8, 4, { stride: 1, padding: 0, bias: false }), new nn.BatchNorm2d(8), new nn.ReLU(),
    new nn.ConvTranspose2d(8, 4, 4, { stride: 2, padding: 1, bias: false }), new nn.BatchNorm2d(4), new nn.ReLU(),
    new nn.ConvTranspose2d(4, 3, 4, { stride: 2, padding: 1, bias: false }), new nn.Tanh());
  D = new nn.Sequential(
    new nn.Conv2d(3, 4, 4, { stride: 2, padding: 1, bias: false }), new nn.LeakyReLU(0.2),
    new nn.Conv2d(4, 8, 4, { stride: 2, padding: 1, bias: false }), new nn.BatchNorm2d(8), new nn.LeakyReLU(0.2),
    new nn.Conv2d(8, 1, 4, { stride: 1, padding: 0, bias: false }), new nn.Sigmoid());
  forward(v: Tensor, z: Tensor): Record<string, Tensor> {
    const h = this.enc.call(v);
    const mu = this.mu.call(h), logvar = this.logvar.call(h);
    const kl = logvar.add(1).sub(mu.pow(2)).sub(logvar.exp()).sum(1).mul(-0.5);
    const img = this.G.call(z);
    return { recon: this.dec.call(mu), mu, std: logvar.mul(0.5).exp(), kl, img, disc: this.D.call(img).view(-1, 1).squeeze(1) };
  }
}

test('a VAE (mu/logvar, decoder from mu, KL) and a DCGAN generator and discriminator match PyTorch', async () => {
  const def = defineModel({ name: 'gen', module: new Gen().loadStateDict(weights('handmade_misc_gen')), inputs: { v: [2, 12], z: [2, 6, 1, 1] } });
  expect(await expectTorchCase(def, read('handmade_misc_gen', 'io.safetensors'), { threads: 2 })).toHaveLength(6);
});

test('the VAE and DCGAN over a batch chosen at run time (B = 2, 1 of at most 4): their rows match the PyTorch outputs', async () => {
  const io = read('handmade_misc_gen', 'io.safetensors');
  const def = defineModel({ name: 'gen_rt', module: new Gen().loadStateDict(weights('handmade_misc_gen')), inputs: { v: { shape: ['B', 12], max: { B: 4 } }, z: { shape: ['B', 6, 1, 1] } } });
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes, { threads: 2, threadPolicy: 'always' });
  const g = traceModel(def), v = io.get('input.v')!.data as Float32Array, z = io.get('input.z')!.data as Float32Array;
  for (const B of [2, 1]) {
    const feeds = { v: { data: v.slice(0, B * 12), shape: [B, 12] }, z: { data: z.slice(0, B * 6), shape: [B, 6, 1, 1] } };
    for (const [where, out] of [['compiled', m.run(feeds)], ['reference', interpret(g, feeds)]] as const) {
      for (const k of ['recon', 'mu', 'std', 'kl', 'img', 'disc']) {
        const want = io.get(`output.${k}`)!.data as Float32Array;
        expectTorch(out[k] as Float32Array, want.slice(0, (want.length / 2) * B), `${where} ${k} at B = ${B}`);
      }
    }
  }
  m.dispose();
});

class NBeatsBlock extends Module {
  fc = new nn.Sequential(new nn.Linear(12, 16), new nn.ReLU(), new nn.Linear(16, 16), new nn.ReLU());
  theta_b: nn.Linear; theta_f: nn.Linear;
  basis_b: Parameter; basis_f: Parameter;   // register_buffer's: loaded from the state_dict as parameters
  constructor(nb: number, nf: number) {
    super();
    this.theta_b = new nn.Linear(16, nb, { bias: false }); this.theta_f = new nn.Linear(16, nf, { bias: false });
    this.basis_b = this.param('basis_b', [nb, 12]); this.basis_f = this.param('basis_f', [nf, 4]);
  }
  forward(x: Tensor): [Tensor, Tensor] {
    const h = this.fc.call(x);
    return [this.theta_b.call(h).matmul(this.basis_b.t), this.theta_f.call(h).matmul(this.basis_f.t)];
  }
}

class TS extends Module {
  blocks = new nn.ModuleList([new NBeatsBlock(3, 3), new NBeatsBlock(5, 5), new NBeatsBlock(12, 12)]);
  patch = new nn.Linear(4, 8);
  pos = this.param('pos', [7, 8]);
  enc = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, batchFirst: true }), 1);
  head = new nn.Linear(56, 4);
  forward(x: Tensor, series: Tensor): Record<string, Tensor> {
    let res = x, fc: Tensor | undefined;
    for (const b of this.blocks) {
      const [bb, ff] = b.call(res);
      res = res.sub(bb); fc = fc ? fc.add(ff) : ff;
    }
    const [B, C] = series.dims as [Dim, number, number];   // (dims: B may be a size chosen at run time)
    const mean = series.mean(-1, true);
    const std = series.var(-1, { unbiased: false, keepdim: true }).add(1e-5).sqrt();
    const p = series.sub(mean).div(std).unfold(-1, 4, 2);
    const h = this.enc.call(this.patch.call(p).add(this.pos.t).reshape(-1, 7, 8));
    return { forecast: fc!, residual: res, patchtst: this.head.call(h.flatten(1)).reshape(B, C, 4).mul(std).add(mean), patches: p };
  }
}

test('N-BEATS blocks (bases as buffers, doubly residual) and PatchTST patching (unfold, a Transformer encoder) match PyTorch', async () => {
  const def = defineModel({ name: 'ts', module: new TS().loadStateDict(weights('handmade_misc_ts')), inputs: { x: [2, 12], series: [2, 3, 16] } });
  expect(await expectTorchCase(def, read('handmade_misc_ts', 'io.safetensors'), { threads: 2 })).toHaveLength(4);
});

test('N-BEATS and PatchTST over a batch chosen at run time (B = 2, 1 of at most 3): their rows match the PyTorch outputs', async () => {
  const io = read('handmade_misc_ts', 'io.safetensors'), x = io.get('input.x')!.data as Float32Array, series = io.get('input.series')!.data as Float32Array;
  const def = defineModel({ name: 'ts_rt', module: new TS().loadStateDict(weights('handmade_misc_ts')), inputs: { x: { shape: ['B', 12], max: { B: 3 } }, series: { shape: ['B', 3, 16] } } });
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes, { threads: 2, threadPolicy: 'always' });
  const g = traceModel(def);
  for (const B of [2, 1]) {
    const feeds = { x: { data: x.slice(0, B * 12), shape: [B, 12] }, series: { data: series.slice(0, B * 48), shape: [B, 3, 16] } };
    for (const [where, out] of [['compiled', m.run(feeds)], ['reference', interpret(g, feeds)]] as const) {
      for (const k of ['forecast', 'residual', 'patchtst', 'patches']) {
        const want = io.get(`output.${k}`)!.data as Float32Array;
        expectTorch(out[k] as Float32Array, want.slice(0, (want.length / 2) * B), `${where} ${k} at B = ${B}`);
      }
    }
  }
  m.dispose();
});

class LogMel extends Module {
  dft = this.param('dft', [18, 1, 16]);
  mel = this.param('mel', [9, 5]);
  proj = new nn.Conv1d(5, 3, 3, { padding: 1 });
  forward(wav: Tensor): Record<string, Tensor> {
    const x = F.pad(wav.unsqueeze(1), [8, 8], 'reflect');
    const spec = F.conv1d(x, this.dft.t, undefined, { stride: 4 });
    const re = spec.slice(1, 0, 9), im = spec.slice(1, 9);
    const mag = re.pow(2).add(im.pow(2)).sqrt();
    const logmel = mag.transpose(1, 2).matmul(this.mel.t).clamp(1e-5).log();
    const db = re.pow(2).add(im.pow(2)).transpose(1, 2).matmul(this.mel.t).clamp(1e-10).log10().mul(10);
    return { logmel, db, proj: this.proj.call(logmel.transpose(1, 2)) };
  }
}

test('a log-mel front end (reflect pad, a DFT kernel as a buffer in Conv1d, magnitude, mel matmul, log clamp, dB) matches PyTorch', async () => {
  const def = defineModel({ name: 'mel', module: new LogMel().loadStateDict(weights('handmade_misc_mel')), inputs: { wav: [2, 40] } });
  const io = new Map([...read('handmade_misc_mel', 'io.safetensors')].filter(([k]) => !k.startsWith('output.short_')));
  expect(await expectTorchCase(def, io, { threads: 2 })).toHaveLength(3);
});

test('the log-mel front end over a batch and a length chosen at run time (2 × 40 and 1 × 21 samples) matches PyTorch', async () => {
  const io = read('handmade_misc_mel', 'io.safetensors'), wav = io.get('input.wav')!.data as Float32Array;
  // (reflect padding by 8 needs more than 8 samples)
  const def = defineModel({ name: 'mel_rt', module: new LogMel().loadStateDict(weights('handmade_misc_mel')), inputs: { wav: { shape: ['B', 'T'], max: { B: 2, T: 48 }, min: { T: 9 } } } });
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes, { threads: 2, threadPolicy: 'always' });
  const g = traceModel(def);
  for (const [feeds, pre] of [[{ wav: { data: wav, shape: [2, 40] } }, ''], [{ wav: { data: wav.slice(0, 21), shape: [1, 21] } }, 'short_']] as const) {
    for (const [where, out] of [['compiled', m.run(feeds)], ['reference', interpret(g, feeds)]] as const) {
      for (const k of ['logmel', 'db', 'proj']) expectTorch(out[k] as Float32Array, io.get(`output.${pre}${k}`)!.data as Float32Array, `${where} ${pre}${k}`);
    }
  }
  m.dispose();
});

class Siamese extends Module {
  enc = new nn.Sequential(new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 4));
  forward(a: Tensor, b: Tensor): Record<string, Tensor> {
    const A = this.enc.call(a), Bv = this.enc.call(b);
    const ea = F.normalize(A, 2, -1), eb = F.normalize(Bv, 2, -1);
    const sim = ea.matmul(eb.t()).div(0.1);
    const nce = sim.logsumexp(1).sub(sim.diag());   // cross_entropy(sim, arange(n), reduction='none')
    return {
      cos: F.cosineSimilarity(A, Bv), sim, cdist: cdist(ea, eb), cdist1: cdist(A, Bv, 1),
      pdist: F.pairwiseDistance(A, Bv), nce, margin: F.relu(F.pairwiseDistance(ea, eb).neg().add(1)).pow(2),
    };
  }
}

test('a Siamese pair (shared encoder, normalize, cosine similarity, InfoNCE logits, cdist, pairwise_distance, a margin) matches PyTorch', async () => {
  const def = defineModel({ name: 'siam', module: new Siamese().loadStateDict(weights('handmade_misc_siamese')), inputs: { a: [4, 6], b: [4, 6] } });
  expect(await expectTorchCase(def, read('handmade_misc_siamese', 'io.safetensors'), { threads: 2 })).toHaveLength(7);
});

test('scatter, scatter_add, scatter_reduce and index_add: hand-computed values, a run-time index outside the dim (negative too) raises as torch does, misuse named', async () => {
  const def = defineModel({
    name: 'sc', module: new nn.Identity(), inputs: { x: [3, 2], i: i32([2, 2]), r: i32([3]) },
    forward: (_m: Module, { x, i, r }: Record<string, Tensor>) => ({
      s: x!.scatter(0, i!, ones([2, 2]).mul(7)), v: x!.scatter(0, i!.slice(0, 0, 1), 2.5), a: x!.scatterAdd(0, i!, ones([3, 2])),
      p: x!.scatterReduce(0, i!, x!.add(1), 'prod'), m: x!.scatterReduce(0, i!, x!.slice(0, 0, 2), 'mean'),
      mx: x!.scatterReduce(0, i!, x!.slice(0, 0, 2).neg(), 'amax', { includeSelf: false }), ix: x!.indexAdd(0, r!, x!.mul(10), { alpha: 2 }),
      ii: zeros([3, 2]).int().indexAdd(1, ints([1, 1]), ones([3, 2]).int()),
    }),
  });
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const feeds = { x: Float32Array.of(0, 1, 2, 3, 4, 5), i: Int32Array.of(1, 0, 1, 2), r: Int32Array.of(2, 0, 2) };
  // (torch 1.13's values for these calls)
  const want = {
    s: [0, 7, 7, 3, 4, 7], v: [0, 2.5, 2.5, 3, 4, 5], a: [0, 2, 4, 3, 4, 6], p: [0, 2, 6, 3, 4, 20],
    m: [0, 1, Math.fround(4 / 3), 3, 4, 4], mx: [0, -1, -0, 3, 4, -3], ix: [40, 61, 2, 3, 84, 125], ii: [0, 2, 0, 2, 0, 2],
  };
  for (const got of [m.run(feeds), interpret(traceModel(def), feeds)]) for (const [k, w] of Object.entries(want)) expect(Array.from(got[k] as Float32Array), k).toEqual(w);
  for (const bad of [Int32Array.of(1, 0, 3, 2), Int32Array.of(1, 0, -1, 2)]) {
    expect(() => m.run({ ...feeds, i: bad })).toThrow(/scatter_elements: index (3|-?\d+) is outside/);
    expect(() => interpret(traceModel(def), { ...feeds, i: bad })).toThrow(/scatter_elements: index (3|-?\d+) is outside/);
  }
  m.dispose();
  const tr = (f: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 'b', module: new nn.Identity(), inputs: { x: [3, 2] }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(() => tr((x) => x.scatter(0, ints([0, 3], [1, 2]), 1))).toThrow(/scatter: index 3 \(element 1 of the constant index\) is outside \[0, 3\) along dim 0 of \[3, 2\]/);
  expect(() => tr((x) => x.scatter(0, ints([0, -1], [1, 2]), 1))).toThrow(/scatter: index -1 \(element 1 of the constant index\) is outside \[0, 3\)/);
  expect(() => tr((x) => x.scatterAdd(0, ints([0, 1], [1, 2]), x.int()))).toThrow(/scatter_reduce: src i32\[3, 2\] must have the dtype of the tensor scattered into, f32\[3, 2\]/);
  expect(() => tr((x) => x.scatter(0, ints([0, 1, 2], [1, 3]), x))).toThrow(/scatter: index \[1, 3\] must have the rank of the input \[3, 2\] and of src \[3, 2\]/);
  expect(() => tr((x) => x.int().scatterReduce(0, ints([0, 1], [1, 2]), x.int(), 'mean'))).toThrow(/scatter_reduce: reduce 'mean' of i32 tensors is refused/);
  expect(() => tr((x) => x.scatterReduce(0, ints([0, 1], [1, 2]), x, 'max' as 'amax'))).toThrow(/scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax', 'amin', got "max"/);
  // Over sizes chosen at run time: a shared dim must be the same size, a constant index must fit the least size.
  const rt = (f: (x: Tensor, e: Tensor) => Tensor) => traceModel(defineModel({
    name: 'r', module: new nn.Identity(), inputs: { x: { shape: ['N', 2], max: { N: 6 }, min: { N: 2 } }, e: { shape: ['E', 2], dtype: 'i32', max: { E: 6 } } },
    forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!, i.e!),
  }));
  expect(() => rt((x, e) => x.scatterAdd(1, e, x))).toThrow(/scatter_reduce: index \[E, 2\] must have the rank of the input \[N, 2\] and of src \[N, 2\], .* \(a size chosen at run time must be the same size in each\)/);
  expect(() => rt((x) => x.scatter(0, ints([0, 2], [1, 2]), 1))).toThrow(/scatter: index 2 \(element 1 of the constant index\) is outside \[0, 2\) along dim 0 of \[N, 2\] at its least size \(declared minimum N ≥ 2\)/);
  expect(() => rt((x) => x.scatter(0, ints([0, 1], [1, 2]), 1))).not.toThrow();
  // torch's x.scatter(dim, index, src, reduce='add'): a fourth argument names the methods that do it.
  expect(() => tr((x) => (x.scatter as (...a: unknown[]) => Tensor)(0, ints([0, 1], [1, 2]), x, 'add'))).toThrow("scatter: takes dim, index and src (torch's reduce argument is scatterAdd or scatterReduce here), got 4 arguments");
  expect(() => tr((x) => x.indexAdd(0, ints([0, 1]), x))).toThrow(/index_add: source \[3, 2\] must be the input \[3, 2\] with dim 0 the index's length: \[2, 2\]/);
});

test('Tensor.unfold: windows along a middle dim become the last dim (torch 1.13 values); misuse named', () => {
  const tr = (f: (x: Tensor) => Tensor, x: number[] | InputSpec = [2, 5, 2]) => traceModel(defineModel({ name: 'u', module: new nn.Identity(), inputs: { x }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  const x = Float32Array.from({ length: 20 }, (_, k) => k);
  // torch.arange(20.).reshape(2, 5, 2).unfold(1, 3, 2): shape [2, 2, 2, 3]
  expect(Array.from(interpret(tr((t) => t.unfold(1, 3, 2)), { x }).y as Float32Array)).toEqual([0, 2, 4, 1, 3, 5, 4, 6, 8, 5, 7, 9, 10, 12, 14, 11, 13, 15, 14, 16, 18, 15, 17, 19]);
  expect(Array.from(interpret(tr((t) => t.unfold(-1, 1, 3)), { x }).y as Float32Array)).toEqual(Array.from(x.filter((_, k) => k % 2 === 0))); // [2, 5, 1, 1]
  expect(() => tr((t) => t.unfold(1, 6, 1))).toThrow(/unfold: size 6 is larger than dim 1 of \[2, 5, 2\]/);
  expect(() => tr((t) => t.unfold(1, 2, 0))).toThrow(/unfold: step must be a positive integer, got 0/);
  expect(() => tr((t) => t.unfold(1, 2, 1), { shape: [1, 'T'], max: { T: 8 } })).toThrow(/unfold: size 2 is larger than dim 1 of \[1, T\] at its least size 1 \(every size runs from 1 to its bound\); declare min: \{ T: 2 \} or more/);
});

test('Tensor.unfold over a length chosen at run time (T = 4, 7, 12 of at most 12): windows j·step + k, compiled on 2 threads and in the reference', async () => {
  const def = defineModel({
    name: 'unf', module: new nn.Identity(), inputs: { x: { shape: [2, 'T'], max: { T: 12 }, min: { T: 4 } } },
    forward: (_m: Module, i: Record<string, Tensor>) => ({ p: i.x!.unfold(-1, 4, 2), q: i.x!.unfold(1, 3, 3).mul(2) }),
  });
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes, { threads: 2, threadPolicy: 'always' });
  const g = traceModel(def);
  for (const T of [4, 7, 12]) {
    const x = Float32Array.from({ length: 2 * T }, (_, k) => k * 0.5 - 3), feeds = { x: { data: x, shape: [2, T] } };
    const windows = (size: number, step: number, scale: number) => [0, 1].flatMap((b) => Array.from({ length: Math.floor((T - size) / step) + 1 }, (_, j) => Array.from({ length: size }, (_, k) => x[b * T + j * step + k]! * scale)).flat());
    for (const [where, out] of [['compiled', m.run(feeds)], ['reference', interpret(g, feeds)]] as const) {
      expect(Array.from(out.p as Float32Array), `${where} p at T = ${T}`).toEqual(windows(4, 2, 1));
      expect(Array.from(out.q as Float32Array), `${where} q at T = ${T}`).toEqual(windows(3, 3, 2));
    }
    expect(m.outputShapes.p).toEqual([2, Math.floor((T - 4) / 2) + 1, 4]);
  }
  m.dispose();
});

test('log10, log2, log1p and expm1 match torch 1.13 (NaN, ±Inf, 0, −1, tiny values)', async () => {
  const x = Float32Array.of(0, 1e-3, 0.5, 1, 10, 1000, Infinity, NaN, -1, -0.5, 3e-8, -Infinity);
  const want: Record<string, number[]> = {
    log10: [-Infinity, -3.0, -0.3010300099849701, 0.0, 1.0, 3.0, Infinity, NaN, NaN, NaN, -7.522878646850586, NaN],
    log2: [-Infinity, -9.965784072875977, -1.0, 0.0, 3.321928024291992, 9.965784072875977, Infinity, NaN, NaN, NaN, -24.990463256835938, NaN],
    log1p: [0.0, 0.00099950039293617, 0.40546509623527527, 0.6931471824645996, 2.397895336151123, 6.908754825592041, Infinity, NaN, -Infinity, -0.6931471824645996, 2.999999892949745e-08, NaN],
    expm1: [0.0, 0.0010005001677200198, 0.6487212777137756, 1.718281865119934, 22025.46484375, Infinity, Infinity, NaN, -0.6321205496788025, -0.39346933364868164, 2.999999892949745e-08, -1.0],
  };
  const def = defineModel({
    name: 'logs', module: new nn.Identity(), inputs: { x: [12] },
    forward: (_m: Module, { x }: Record<string, Tensor>) => ({ log10: x!.log10(), log2: x!.log2(), log1p: x!.log1p(), expm1: x!.expm1() }),
  });
  const io = new Map([['input.x', { shape: [12], data: x }], ...Object.entries(want).map(([k, v]) => [`output.${k}`, { shape: [12], data: Float32Array.from(v) }] as const)]);
  expect(await expectTorchCase(def, io as unknown as Parameters<typeof expectTorchCase>[1])).toHaveLength(4);
});

test('log1p and expm1 keep the relative precision of tiny x (and −0) as torch\'s do, compiled on every ISA and in the reference, against Math.log1p/expm1', async () => {
  const x = Float32Array.of(1e-10, -1e-10, 1e-30, -0, 0, 3e-8, -3e-8, 1e-5, -1e-5, 2e-4, -7e-4, 0.1, -0.3, 0.99, 50, 88, -20, -110, 1e30, -0.999999);
  const def = defineModel({
    name: 'tiny', module: new nn.Identity(), inputs: { x: [x.length] },
    forward: (_m: Module, { x }: Record<string, Tensor>) => ({ log1p: x!.log1p(), expm1: x!.expm1() }),
  });
  const runs: Record<string, Record<string, unknown>> = { reference: interpret(traceModel(def), { x }) };
  const bytes = (await compileModel(def, { isas: TEST_ISAS })).bytes;
  for (const isa of TEST_ISAS) runs[isa] = (await loadModelBytes(bytes, { isa })).run({ x });
  for (const [how, out] of Object.entries(runs)) {
    for (const [k, f] of [['log1p', Math.log1p], ['expm1', Math.expm1]] as const) {
      const got = out[k] as Float32Array;
      x.forEach((v, i) => {
        const want = Math.fround(f(v)), at = `${how} ${k}(${Object.is(v, -0) ? '-0' : v}): ${got[i]} vs ${want}`;
        if (want === 0 || !Number.isFinite(want)) expect(Object.is(got[i], want), at).toBe(true);
        else expect(Math.abs(got[i]! - want) / Math.abs(want), at).toBeLessThan(3e-7);
      });
    }
  }
});

test('cdist: batch dims broadcast, p = 2, 1, 0, Infinity and 0.5 as torch 1.13 gives them; misuse named', () => {
  const def = defineModel({
    name: 'cd', module: new nn.Identity(), inputs: { a: [2, 2, 3], b: [3, 3] },
    forward: (_m: Module, { a, b }: Record<string, Tensor>) => Object.fromEntries([2, 1, 0, Infinity, 0.5].map((p, i) => [`p${i}`, cdist(a!, b!, p)])),
  });
  const got = interpret(traceModel(def), { a: Float32Array.of(0, 1, 2, 3, -1, 0.5, 1, 1, 1, 0, 0, 0), b: Float32Array.of(1, 1, 2, 0, 1, 2, -2, 0, 4) });
  const want = [
    [1.0, 0.0, 3.0, 3.2015621662139893, 3.9051249027252197, 6.184658527374268, 1.0, 1.4142135381698608, 4.358899116516113, 2.4494898319244385, 2.2360680103302, 4.4721360206604],
    [1.0, 0.0, 5.0, 5.5, 6.5, 9.5, 1.0, 2.0, 7.0, 4.0, 3.0, 6.0],
    [1.0, 0.0, 3.0, 3.0, 3.0, 3.0, 1.0, 2.0, 3.0, 3.0, 2.0, 2.0],
    [1.0, 0.0, 2.0, 2.0, 3.0, 5.0, 1.0, 1.0, 3.0, 2.0, 2.0, 4.0],
    [1.0, 0.0, 14.656855583190918, 16.428203582763672, 19.105722427368164, 26.08039665222168, 1.0, 4.0, 19.928205490112305, 11.656854629516602, 5.828427791595459, 11.656854629516602],
  ];
  want.forEach((w, i) => expectTorch(got[`p${i}`] as Float32Array, Float32Array.from(w), `p${i}`));
  const tr = (f: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 'c', module: new nn.Identity(), inputs: { x: [4, 3] }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(() => tr((x) => cdist(x, x.slice(1, 0, 2)))).toThrow(/cdist: x1 and x2 must be \[\.\.\., P, M\] and \[\.\.\., R, M\] with the same M, got \[4, 3\] and \[4, 2\]/);
  expect(() => tr((x) => cdist(x, x, -1))).toThrow(/cdist: p must be a number ≥ 0 or Infinity, got -1/);
});

test('ModuleList iterates (for … of), has a length and get(i) from either end, as a PyTorch ModuleList (for … of was a raw TypeError); Sequential iterates too', () => {
  const l = new nn.ModuleList([new nn.Linear(2, 3), new nn.Linear(3, 4)]);
  expect([...l].map((m) => m.outFeatures)).toEqual([3, 4]);
  expect([l.length, l.get(-1).outFeatures, l.get(0).outFeatures]).toEqual([2, 4, 3]);
  expect(() => l.get(2)).toThrow("ModuleList '<root>': index 2 is out of range for 2 modules");
  const seq = new nn.Sequential(new nn.ReLU(), new nn.Tanh());
  expect([[...seq].map((m) => m.constructor.name), seq.length]).toEqual([['ReLU', 'Tanh'], 2]);
});

test('triu_indices and tril_indices as torch 1.13 gives them (offsets, non-square); an empty triangle refused', () => {
  const g = traceModel(defineModel({
    name: 'ti', module: new nn.Identity(), inputs: { x: [1] },
    forward: () => ({ a: triuIndices(3, 4, 1), b: trilIndices(3, 4, -1), c: triuIndices(4, 3, -2), d: trilIndices(2, 5, 2) }),
  }));
  const r = interpret(g, { x: Float32Array.of(0) });
  expect(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.from(v as Int32Array)]))).toEqual({
    a: [0, 0, 0, 1, 1, 2, 1, 2, 3, 2, 3, 3], b: [1, 2, 2, 0, 0, 1],
    c: [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 0, 1, 2, 0, 1, 2, 0, 1, 2, 1, 2], d: [0, 0, 0, 1, 1, 1, 1, 0, 1, 2, 0, 1, 2, 3],
  });
  expect(() => triuIndices(2, 2, 2)).toThrow(/triu_indices\(2, 2, 2\) holds no elements/);
});

class SiamesePairs extends Siamese {
  override forward(a: Tensor, b: Tensor): Record<string, Tensor> {
    const ea = F.normalize(this.enc.call(a), 2, -1), eb = F.normalize(this.enc.call(b), 2, -1);
    return { sim: ea.matmul(eb.t()).div(0.1), cdist: cdist(ea, eb) };
  }
}

test('InfoNCE over a batch chosen at run time (sim.diag() of a run-time square; N = 4, 1) matches PyTorch; diag of a run-time vector keeps NaN off the diagonal out', async () => {
  const io = read('handmade_misc_siamese', 'io.safetensors'), a = io.get('input.a')!.data as Float32Array, b = io.get('input.b')!.data as Float32Array;
  const def = defineModel({
    name: 'nce_rt', module: new Siamese().loadStateDict(weights('handmade_misc_siamese')), inputs: { a: { shape: ['N', 6], max: { N: 6 } }, b: { shape: ['N', 6] }, v: { shape: ['N'] } },
    forward: (m: Siamese, i: Record<string, Tensor>) => {
      const ea = F.normalize(m.enc.call(i.a!), 2, -1), eb = F.normalize(m.enc.call(i.b!), 2, -1), sim = ea.matmul(eb.t()).div(0.1);
      return { nce: sim.logsumexp(1).sub(sim.diag()), dv: i.v!.diag() };
    },
  });
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const g = traceModel(def), nce = io.get('output.nce')!.data as Float32Array;
  for (const N of [4, 1]) {
    const feeds = { a: { data: a.slice(0, N * 6), shape: [N, 6] }, b: { data: b.slice(0, N * 6), shape: [N, 6] }, v: { data: Float32Array.from({ length: N }, (_, k) => (k === 0 ? NaN : k)), shape: [N] } };
    // At N = 1 the one similarity is its own logsumexp: the loss is 0 (up to rounding); PyTorch's at N = 4.
    const want = N === 4 ? nce : Float32Array.of(0);
    for (const [where, out] of [['compiled', m.run(feeds)], ['reference', interpret(g, feeds)]] as const) {
      expectTorch(out.nce as Float32Array, want, `${where} nce at N = ${N}`);
      expect(Array.from(out.dv as Float32Array), `${where} dv`).toEqual(Array.from({ length: N * N }, (_, k) => (k % (N + 1) ? 0 : k ? k / (N + 1) : NaN)));
    }
  }
  m.dispose();
});

test('the Siamese similarities over two sets of sizes chosen at run time (4 × 4 and 2 × 4 of at most 6) match PyTorch', async () => {
  const io = read('handmade_misc_siamese', 'io.safetensors'), a = io.get('input.a')!.data as Float32Array, b = io.get('input.b')!.data as Float32Array;
  const def = defineModel({ name: 'siam_rt', module: new SiamesePairs().loadStateDict(weights('handmade_misc_siamese')), inputs: { a: { shape: ['N', 6], max: { N: 6 } }, b: { shape: ['M', 6], max: { M: 6 } } } });
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes, { threads: 2, threadPolicy: 'always' });
  const g = traceModel(def);
  for (const N of [4, 2]) {
    const feeds = { a: { data: a.slice(0, N * 6), shape: [N, 6] }, b: { data: b, shape: [4, 6] } };
    for (const [where, out] of [['compiled', m.run(feeds)], ['reference', interpret(g, feeds)]] as const) {
      for (const k of ['sim', 'cdist']) expectTorch(out[k] as Float32Array, (io.get(`output.${k}`)!.data as Float32Array).slice(0, N * 4), `${where} ${k} at ${N} × 4`);
    }
  }
  m.dispose();
});

test('porting spellings: bmm, expandAs/viewAs/reshapeAs/typeAs, clip, diagonal (offsets, dims from the end), diag both ways, match torch 1.13; misuse named', async () => {
  const x = Float32Array.from({ length: 24 }, (_, k) => k), y = Float32Array.from({ length: 8 }, (_, k) => k - 3);
  const def = defineModel({
    name: 'port', module: new nn.Identity(), inputs: { x: [2, 3, 4], y: [2, 4, 1], d: [2] },
    forward: (_m: Module, { x, y, d }: Record<string, Tensor>) => ({
      bmm: x!.bmm(y!), ea: d!.view(2, 1, 1).expandAs(x!), va: x!.flatten().viewAs(x!), ra: y!.reshapeAs(y!.transpose(1, 2)), ta: x!.gt(10).typeAs(x!),
      clip: x!.clip(3, 9), dg: x!.diagonal(), dg1: x!.diagonal(1, 1, 2), dgm: x!.diagonal(-1, -1, -2), d1: d!.diag(1), d2: d!.int().diag(-2), dm: x!.select(0, 0).diag(-1),
    }),
  });
  const want: Record<string, number[]> = {
    bmm: [-4, -28, -52, 140, 180, 220], ea: Array.from({ length: 24 }, (_, k) => (k < 12 ? 1 : -2)), va: Array.from(x), ra: Array.from(y),
    ta: Array.from(x, (v) => (v > 10 ? 1 : 0)), clip: Array.from(x, (v) => Math.min(9, Math.max(3, v))),
    dg: [0, 16, 1, 17, 2, 18, 3, 19], dg1: [1, 6, 11, 13, 18, 23], dgm: [1, 6, 11, 13, 18, 23],
    d1: [0, 1, 0, 0, 0, -2, 0, 0, 0], d2: [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, -2, 0, 0], dm: [4, 9],
  };
  const io = new Map<string, { shape: number[]; data: Float32Array }>([['input.x', { shape: [2, 3, 4], data: x }], ['input.y', { shape: [2, 4, 1], data: y }], ['input.d', { shape: [2], data: Float32Array.of(1, -2) }]]);
  for (const [k, v] of Object.entries(want)) io.set(`output.${k}`, { shape: [v.length], data: Float32Array.from(v) });
  const seen = await expectTorchCase(def, io as unknown as Parameters<typeof expectTorchCase>[1], { exact: true });
  expect(seen).toHaveLength(12);
  const tr = (f: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 'p', module: new nn.Identity(), inputs: { x: [2, 3, 4] }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(() => tr((t) => t.bmm(t))).toThrow(/bmm: expected \[b, n, m\] and \[b, m, p\] tensors, got \[2, 3, 4\] and \[2, 3, 4\]/);
  expect(() => tr((t) => t.bmm(t.select(0, 0).t()))).toThrow(/bmm: expected .* got \[2, 3, 4\] and \[4, 3\]/);
  expect(() => tr((t) => t.diagonal(4, 1, 2))).toThrow(/diagonal: offset 4 leaves no elements of 3 × 4/);
  expect(() => tr((t) => t.diagonal(0, 1, -2))).toThrow(/diagonal: dim1 and dim2 must differ, both are 1/);
  expect(() => tr((t) => t.diag())).toThrow(/diag: expected a 1-D or 2-D tensor, got \[2, 3, 4\]/);
  expect(() => tr((t) => t.expandAs([2, 3] as never))).toThrow(/expand_as: expected a tensor, got/);
});

class Stft extends Module {
  win6 = this.param('win6', [6]);   // register_buffer's Hann windows
  win16 = this.param('win16', [16]);
  forward(x: Tensor): Record<string, Tensor> {
    const mag = stft(x, 16, { hopLength: 4, window: this.win16.t, returnComplex: false }).pow(2).sum(-1).sqrt();
    return {
      plain: stft(x, 8), win: stft(x, 8, { hopLength: 3, winLength: 6, window: this.win6.t, center: false, returnComplex: false }),
      two: stft(x.select(0, 0), 8, { onesided: false, normalized: true, padMode: 'constant', returnComplex: false }),
      rect: stft(x, 8, { hopLength: 2, winLength: 5, padMode: 'replicate' }), logmag: mag.clamp(1e-5).log(),
    };
  }
}

test('stft (defaults, a window shorter than n_fft with a hop, uncentered, two-sided normalized, padding modes, a magnitude) matches PyTorch; returnComplex: true refused by name', async () => {
  const def = defineModel({ name: 'stft', module: new Stft().loadStateDict(weights('handmade_misc_stft')), inputs: { x: [2, 30] } });
  expect(await expectTorchCase(def, read('handmade_misc_stft', 'io.safetensors'), { threads: 2 })).toHaveLength(5);
  const tr = (f: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 's', module: new nn.Identity(), inputs: { x: [2, 30] }, forward: (_m: Module, i: Record<string, Tensor>) => f(i.x!) }));
  expect(() => tr((x) => stft(x, 8, { returnComplex: true }))).toThrow(/stft: returnComplex: true is refused \(the DSL has no complex tensors\); give returnComplex: false/);
  expect(() => tr((x) => stft(x, 8, { winLength: 9 }))).toThrow(/stft: winLength must be an integer in \[1, n_fft = 8\], got 9/);
  expect(() => tr((x) => stft(x, 8, { window: x.select(0, 0) }))).toThrow(/stft: window must be an f32 tensor \[winLength = 8\], got f32\[30\]/);
});

test('stft over a batch and a length chosen at run time: PyTorch at 2 × 30, the fixed-size model at 1 × 17', async () => {
  const io = read('handmade_misc_stft', 'io.safetensors'), sd = weights('handmade_misc_stft'), x = io.get('input.x')!.data as Float32Array;
  const def = defineModel({ name: 'stft_rt', module: new Stft().loadStateDict(sd), inputs: { x: { shape: ['B', 'T'], max: { B: 2, T: 32 }, min: { T: 9 } } } }); // (n_fft 16 reflects 8)
  const m = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes, { threads: 2, threadPolicy: 'always' });
  const g = traceModel(def), short = x.slice(0, 17);
  const fixed = interpret(traceModel(defineModel({ name: 'stft17', module: new Stft().loadStateDict(sd), inputs: { x: [1, 17] } })), { x: short });
  for (const [feeds, want] of [[{ x: { data: x, shape: [2, 30] } }, (k: string) => io.get(`output.${k}`)!.data as Float32Array], [{ x: { data: short, shape: [1, 17] } }, (k: string) => fixed[k] as Float32Array]] as const) {
    for (const [where, out] of [['compiled', m.run(feeds)], ['reference', interpret(g, feeds)]] as const) {
      for (const k of ['plain', 'win', 'two', 'rect', 'logmag']) expectTorch(out[k] as Float32Array, want(k), `${where} ${k} at ${feeds.x.shape.join(' × ')}`);
    }
  }
  m.dispose();
});

test('scatter_reduce: every reduce with and without includeSelf (duplicate indices), and amax of i32, as torch 1.13 gives them', async () => {
  const want: Record<string, number[]> = {
    sum_t: [8.0, -3.0, 10.0, 4.0, 5.0, 9.0], sum_f: [7.0, -5.0, 7.0, 4.0, 5.0, 3.0], prod_t: [7.0, 8.0, 30.0, 4.0, 5.0, 18.0], prod_f: [7.0, 4.0, 10.0, 4.0, 5.0, 3.0],
    mean_t: [4.0, -1.0, 3.3333332538604736, 4.0, 5.0, 4.5], mean_f: [7.0, -2.5, 3.5, 4.0, 5.0, 3.0], amax_t: [7.0, 2.0, 5.0, 4.0, 5.0, 6.0], amax_f: [7.0, -1.0, 5.0, 4.0, 5.0, 3.0],
    amin_t: [1.0, -4.0, 2.0, 4.0, 5.0, 3.0], amin_f: [7.0, -4.0, 2.0, 4.0, 5.0, 3.0], int_amax_f: [7, -1, 5, 3, 4, 3],
  };
  const def = defineModel({
    name: 'sr', module: new nn.Identity(), inputs: { x: [3, 2], s: [3, 2] },
    forward: (_m: Module, { x, s }: Record<string, Tensor>) => {
      const i = ints([1, 0, 1, 2, 0, 0], [3, 2]), out: Record<string, Tensor> = {};
      for (const r of ['sum', 'prod', 'mean', 'amax', 'amin'] as const) for (const inc of [true, false]) out[`${r}_${inc ? 't' : 'f'}`] = x!.scatterReduce(0, i, s!, r, { includeSelf: inc });
      out.int_amax_f = x!.sub(1).int().scatterReduce(0, i, s!.int(), 'amax', { includeSelf: false });
      return out;
    },
  });
  const io = new Map<string, { shape: number[]; data: Float32Array }>([['input.x', { shape: [3, 2], data: Float32Array.of(1, 2, 3, 4, 5, 6) }], ['input.s', { shape: [3, 2], data: Float32Array.of(5, -1, 2, 3, 7, -4) }]]);
  for (const [k, v] of Object.entries(want)) io.set(`output.${k}`, { shape: [6], data: Float32Array.from(v) });
  expect(await expectTorchCase(def, io as unknown as Parameters<typeof expectTorchCase>[1], { exact: true })).toHaveLength(11);
});

const squash = (s: Tensor, dim = -1) => { const n2 = s.pow(2).sum(dim, true); return n2.div(n2.add(1)).mul(s).div(n2.add(1e-8).sqrt()); };
function sparsemax(z: Tensor, dim = -1): Tensor {
  const [zs] = z.sort(dim, true);
  const k = arange(1, z.size(dim) + 1).float(), cs = zs.cumsum(dim);
  const kMax = k.mul(zs).add(1).gt(cs).sum(dim, true);
  const tau = cs.gather(dim, kMax.sub(1)).sub(1).div(kMax.float());
  return z.sub(tau).clamp(0);
}

class Other extends Module {
  W = this.param('W', [1, 6, 3, 4, 5]);
  att = new nn.Linear(5, 7);
  latents = this.param('latents', [3, 8]);
  cross = new nn.MultiheadAttention(8, 2, { kdim: 5, vdim: 5, batchFirst: true });
  film = new nn.Linear(4, 16);
  forward(u: Tensor, feats: Tensor, cond: Tensor): Record<string, Tensor> {
    const B = u.dim(0);
    const uHat = this.W.t.matmul(u.unsqueeze(2).unsqueeze(-1)).squeeze(-1);   // [B, 6, 3, 4]
    let b = zeros([B, 6, 3], u.bounds), v: Tensor | undefined;
    for (let it = 0; it < 3; it++) {
      const c = b.softmax(2);
      v = squash(c.unsqueeze(-1).mul(uHat).sum(1));
      b = b.add(uHat.mul(v.unsqueeze(1)).sum(-1));
    }
    const [h, w] = this.cross.call(this.latents.t.unsqueeze(0).expand(B, -1, -1), u, u);
    const [gamma, beta] = this.film.call(cond).chunk(2, -1) as [Tensor, Tensor];
    return { caps: v!, lengths: v!.norm(2, -1), sparsemax: sparsemax(this.att.call(feats)), perceiver: h.mul(gamma.unsqueeze(1)).add(beta.unsqueeze(1)), attn: w! };
  }
}

test('capsule routing, sparsemax (sort, cumsum, gather) and a Perceiver latent cross-attention with FiLM match PyTorch, also over a run-time batch', async () => {
  const io = read('handmade_misc_other', 'io.safetensors'), sd = weights('handmade_misc_other');
  const def = defineModel({ name: 'other', module: new Other().loadStateDict(sd), inputs: { u: [2, 6, 5], feats: [2, 5], cond: [2, 4] } });
  expect(await expectTorchCase(def, io, { threads: 2 })).toHaveLength(5);
  const rt = defineModel({ name: 'other_rt', module: new Other().loadStateDict(sd), inputs: { u: { shape: ['B', 6, 5], max: { B: 3 } }, feats: { shape: ['B', 5] }, cond: { shape: ['B', 4] } } });
  const m = await loadModelBytes((await compileModel(rt, { isas: TEST_ISAS })).bytes);
  const g = traceModel(rt), get = (k: string) => io.get(`input.${k}`)!.data as Float32Array;
  const feeds = { u: { data: get('u').slice(0, 30), shape: [1, 6, 5] }, feats: { data: get('feats').slice(0, 5), shape: [1, 5] }, cond: { data: get('cond').slice(0, 4), shape: [1, 4] } };
  for (const [where, out] of [['compiled', m.run(feeds)], ['reference', interpret(g, feeds)]] as const) {
    for (const k of ['caps', 'lengths', 'sparsemax', 'perceiver', 'attn']) {
      const want = io.get(`output.${k}`)!.data as Float32Array;
      expectTorch(out[k] as Float32Array, want.slice(0, want.length / 2), `${where} ${k} at B = 1`);
    }
  }
  m.dispose();
});

test('hannWindow, hammingWindow and blackmanWindow as torch 1.13 gives them (periodic and symmetric, a window of one); misuse named', () => {
  const g = traceModel(defineModel({
    name: 'w', module: new nn.Identity(), inputs: { x: [1] },
    forward: () => ({ h: hannWindow(5), hs: hannWindow(5, false), m: hammingWindow(6), one: hannWindow(1), m1: hammingWindow(1), b: blackmanWindow(5) }),
  }));
  const r = interpret(g, { x: Float32Array.of(0) });
  const want: Record<string, number[]> = {
    h: [0.0, 0.34549152851104736, 0.9045085310935974, 0.9045084714889526, 0.3454914391040802], hs: [0.0, 0.5, 1.0, 0.5, 0.0],
    m: [0.08000001311302185, 0.3100000321865082, 0.7700000405311584, 1.0, 0.7699999809265137, 0.31000006198883057], one: [1], m1: [1],
    b: [-2.9802322387695312e-08, 0.20077013969421387, 0.8492299318313599, 0.8492298126220703, 0.2007700800895691],
  };
  for (const [k, v] of Object.entries(want)) expectTorch(r[k] as Float32Array, Float32Array.from(v), k);
  expect(() => hannWindow(0)).toThrow(/hann_window: window_length must be an integer in \[1, 2\^20\], got 0/);
});
