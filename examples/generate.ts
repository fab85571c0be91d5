// Token-by-token generation with a KV cache: compile a small GPT, load it, stream sampled tokens.
// Run: npx tsx examples/generate.ts [path/to/state_dict.safetensors] [--seed N]
// Without weights the model is randomly initialised (deterministically), so the tokens are
// meaningless, but every step runs exactly as it would with trained weights. The same seed gives
// the same tokens on every machine; without --seed one is picked and printed.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { compileModel, defineGPT, GPT, readSafetensors, stateDictFrom } from 'simdflow';
import { loadModel } from 'simdflow/runtime';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { seed: { type: 'string' } } });
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed); // generate() checks it

const gpt = new GPT({ vocab: 1000, context: 128, dModel: 256, nhead: 4, layers: 4, dimFeedforward: 1024 });
const weights = positionals[0];
if (weights) gpt.loadStateDict(stateDictFrom(readSafetensors(readFileSync(weights), weights))); // tok_emb.weight, blocks.0.…

const t0 = performance.now();
const { bytes, manifest } = await compileModel(defineGPT({ name: 'gpt', module: gpt, tokens: [1, 128], capacity: 128, chunk: 32 }));
console.log(`compiled in ${(performance.now() - t0).toFixed(0)} ms: ${bytes.length} bytes, code ${JSON.stringify(manifest.stats.codeBytes)}`);

const model = await loadModel(bytes);
const prompt = [17, 4, 256, 99, 3];
const t1 = performance.now();
// Sampled: softmax(logits / 0.8) over the 40 most likely tokens; token 0 (say, end of text) ends
// the generation early and is kept. Leave out temperature (and topK, seed) for greedy decoding.
const out = model.generate(prompt, {
  maxNewTokens: 40, temperature: 0.8, topK: 40, seed, eosTokenId: 0,
  onToken: (token, i) => process.stdout.write(`${i === 0 ? 'generated:' : ''} ${token}`),
});
const ms = performance.now() - t1;
console.log(`\n${out.length - prompt.length} tokens in ${ms.toFixed(1)} ms (${((out.length - prompt.length) / ms * 1000).toFixed(0)} tokens/s), seed ${seed}, KV cache at position ${model.position} of 128`);
