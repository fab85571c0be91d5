// The demo's word inventor: a character-level GPT trained on the wamerican word list by
// examples/train/words_gpt.py (tokens: 0 = word boundary '.', 1..26 = 'a'..'z'). run() is the
// full forward over 32 tokens; prefill/decode stream tokens against a 32-position KV cache.
import { defineGPT, GPT } from 'simdflow';

export default defineGPT({
  name: 'words',
  description: 'character-level GPT 2×64, 4 heads, vocab 27, context 32, trained on /usr/share/dict/words',
  module: new GPT({ vocab: 27, context: 32, dModel: 64, nhead: 4, layers: 2, dimFeedforward: 256 }),
  tokens: [1, 32],
  capacity: 32,
  chunk: 8,
  weights: './words.safetensors',
});
