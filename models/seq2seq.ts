// An LSTM encoder-decoder: teacher-forced logits and 12 greedy tokens decoded inside wasm.
import { defineModel, Seq2SeqLSTM } from 'simdflow';

export default defineModel({
  name: 'seq2seq',
  description: 'LSTM seq2seq (vocab 500/600, emb 64, hidden 128): logits and 12 greedy tokens',
  module: new Seq2SeqLSTM(500, 600, 64, 128, 1, 12),
  inputs: { src: { shape: [1, 20], dtype: 'i32' }, tgt_in: { shape: [1, 12], dtype: 'i32' } },
});
