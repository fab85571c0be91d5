// nn.MultiheadAttention's addBiasKv and addZeroAttn against PyTorch 1.13
// (tests/fixtures/torch-extra/mha_extra_kv, made by make_mha_extra_kv.py): self- and cross-attention,
// key_padding_mask, float and bool attn_mask (the fused kernel's path), per-head and averaged
// weights, unbatched; compiled (every test ISA, and 2 threads) and in the reference; misuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineModel, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { expectTorchCase } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'mha_extra_kv');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `mha_extra_kv/${f}`);

class Net extends Module {
  bkv = new nn.MultiheadAttention(8, 2, { addBiasKv: true });
  zero = new nn.MultiheadAttention(8, 2, { addZeroAttn: true, batchFirst: true, kdim: 6, vdim: 5 });
  both = new nn.MultiheadAttention(8, 4, { addBiasKv: true, addZeroAttn: true, batchFirst: true });
  forward(): never { throw new Error('unused'); }
}

test('MultiheadAttention addBiasKv / addZeroAttn match PyTorch (masks, weights, fused path, unbatched)', async () => {
  const net = new Net().loadStateDict(stateDictFrom(read('weights.safetensors')));
  const def = defineModel({
    name: 'mha', module: net,
    inputs: { x: [5, 2, 8], kpm: { shape: [2, 5], dtype: 'bool' }, xb: [2, 4, 8], kv6: [2, 3, 6], kv5: [2, 3, 5], fmask: [4, 3], bmask: { shape: [4, 4], dtype: 'bool' } },
    forward: (m: Net, { x, kpm, xb, kv6, kv5, fmask, bmask }: Record<string, Tensor>) => {
      const [y_bkv, w_bkv] = m.bkv.call(x!, x!, x!, { keyPaddingMask: kpm });
      const [y_zero, w_zero] = m.zero.call(xb!, kv6!, kv5!, { attnMask: fmask, averageAttnWeights: false });
      const [y_both] = m.both.call(xb!, xb!, xb!, { attnMask: bmask, needWeights: false });
      const x0 = xb!.select(0, 0), [y_unbatched, w_unbatched] = m.both.call(x0, x0, x0);
      return { y_bkv, w_bkv: w_bkv!, y_zero, w_zero: w_zero!, y_both, y_unbatched, w_unbatched: w_unbatched! };
    },
  });
  expect(await expectTorchCase(def, read('io.safetensors'), { threads: 2 })).toHaveLength(7);
});

test('MultiheadAttention addBiasKv / addZeroAttn: misuse', () => {
  expect(() => new nn.MultiheadAttention(8, 2, { addBiasKv: 1 as never })).toThrow('MultiheadAttention: option addBiasKv must be true or false, got 1');
  expect(() => new nn.MultiheadAttention(8, 2, { add_zero_attn: true } as never)).toThrow("MultiheadAttention: unknown option 'add_zero_attn'");
  expect([...new nn.MultiheadAttention(8, 2, { addBiasKv: true }).stateDict().keys()]).toEqual(['in_proj_weight', 'in_proj_bias', 'bias_k', 'bias_v', 'out_proj.weight', 'out_proj.bias']);
  const tr = (m: nn.MultiheadAttention) => traceModel(defineModel({
    name: 't', module: m, inputs: { x: [2, 3, 8] },
    forward: (a: nn.MultiheadAttention, i: Record<string, Tensor>) => a.call(i.x!, i.x!, i.x!, { isCausal: true, needWeights: false })[0],
  }));
  expect(() => tr(new nn.MultiheadAttention(8, 2, { addZeroAttn: true }))).toThrow(/MultiheadAttention\(8, 2\): isCausal is not supported with addBiasKv or addZeroAttn/);
  const cached = traceModel.bind(null, defineModel({
    name: 'kv', module: new nn.MultiheadAttention(8, 2, { addBiasKv: true, batchFirst: true }),
    inputs: { x: [1, 1, 8], pos: { shape: [], dtype: 'i32' }, k: [1, 4, 8], v: [1, 4, 8] },
    forward: (a: nn.MultiheadAttention, i: Record<string, Tensor>) => a.call(i.x!, i.x!, i.x!, { needWeights: false, cache: { k: i.k!, v: i.v!, pos: i.pos! } })[0],
  }));
  expect(cached).toThrow(/MultiheadAttention\(8, 2\): a KV cache is not supported with addBiasKv or addZeroAttn/);
});
