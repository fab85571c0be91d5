// Token-by-token generation with a KV cache: compile a small GPT, load it, stream tokens.
// Run: npx tsx examples/generate.ts [path/to/state_dict.safetensors]
// Without weights the model is randomly initialised (deterministically), so the tokens are
// meaningless, but every step runs exactly as it would with trained weights.
import { readFileSync } from 'node:fs';
import { compileModel, defineGPT, GPT, readSafetensors, stateDictFrom } from 'simdflow';
import { loadModel } from 'simdflow/runtime';

const gpt = new GPT({ vocab: 1000, context: 128, dModel: 256, nhead: 4, layers: 4, dimFeedforward: 1024 });
const weights = process.argv[2];
if (weights) gpt.loadStateDict(stateDictFrom(readSafetensors(readFileSync(weights), weights))); // tok_emb.weight, blocks.0.…

const t0 = performance.now();
const { bytes, manifest } = await compileModel(defineGPT({ name: 'gpt', module: gpt, tokens: [1, 128], capacity: 128, chunk: 32 }));
console.log(`compiled in ${(performance.now() - t0).toFixed(0)} ms: ${bytes.length} bytes, code ${JSON.stringify(manifest.stats.codeBytes)}`);

const model = await loadModel(bytes);
const prompt = [17, 4, 256, 99, 3];
const t1 = performance.now();
const out = model.generate(prompt, {
  maxNewTokens: 40,
  onToken: (token, i) => process.stdout.write(`${i === 0 ? 'generated:' : ''} ${token}`),
});
const ms = performance.now() - t1;
console.log(`\n${out.length - prompt.length} tokens in ${ms.toFixed(1)} ms (${((out.length - prompt.length) / ms * 1000).toFixed(0)} tokens/s), KV cache at position ${model.position} of 128`);
