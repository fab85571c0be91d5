// A decoder-only GPT (4 layers, d_model 256, 4 heads, vocabulary 1000, context 128) with a
// KV cache of 128 positions in wasm memory: run() is the full forward; prefill()/decode()/
// generate() in the runtime use the cached entries.
import { defineGPT, GPT } from 'simdflow';

export default defineGPT({
  name: 'gpt',
  description: 'GPT 4×256, 4 heads, vocab 1000, context 128; KV-cache prefill (chunks of 128) and decode',
  module: new GPT({ vocab: 1000, context: 128, dModel: 256, nhead: 4, layers: 4, dimFeedforward: 1024 }),
  tokens: [1, 128],
  capacity: 128,
  chunk: 128,
});
