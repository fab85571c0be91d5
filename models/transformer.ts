// The "Attention Is All You Need" translation model, small: 2+2 layers, d_model 128,
// 4 heads; teacher-forced logits and 16 greedy tokens decoded inside wasm.
import { defineModel, Seq2SeqTransformer } from 'simdflow';

export default defineModel({
  name: 'transformer',
  description: 'Seq2SeqTransformer (vocab 1000, d 128, 4 heads, 2+2 layers, ff 256): logits and 16 greedy tokens',
  module: new Seq2SeqTransformer(1000, 128, 4, 2, 256, 1, 16),
  inputs: {
    src: { shape: [1, 24], dtype: 'i32' },
    pad: { shape: [1, 24], dtype: 'bool' },
    tgt_in: { shape: [1, 16], dtype: 'i32' },
  },
});
