// The tiny GPT the runtime's misuse tests load (tests/runtime-guards.test.ts, api-misuse-gaps.test.ts):
// its outputs at load, and a check that a refused call left a model exactly as it was.
import { expect } from 'vitest';
import { compileModel } from '../../compiler/driver/compile.ts';
import { defineGPT, GPT } from '../../compiler/dsl/index.ts';
import { loadModel, type Model } from '../../runtime/index.ts';
import { TEST_ISAS } from './isa.ts';

export const V = 13, CAP = 8, CHUNK = 4;
export const prompt = [1, 5, 2];
export const runFeeds = () => ({ tokens: Int32Array.of(3, 1, 4, 1, 5, 9, 2, 6) });

export interface TinyGpt {
  bytes: Uint8Array;
  gpt: Model;
  /** Logits after `prompt` from a fresh cache, and run()'s on runFeeds(). */
  wantLogits: Float32Array;
  wantRun: Float32Array;
  /** The model is intact: same outputs as at load, and the cache at `position`. */
  intact(m: Model, position?: number): void;
}

/** Compiles and loads the tiny GPT (its cache reset). */
export async function tinyGpt(): Promise<TinyGpt> {
  const module = new GPT({ vocab: V, context: CAP, dModel: 8, nhead: 2, layers: 1, dimFeedforward: 16 });
  const bytes = (await compileModel(defineGPT({ name: 'tinygpt', module, tokens: [1, CAP], capacity: CAP, chunk: CHUNK }), { isas: TEST_ISAS })).bytes;
  const gpt = await loadModel(bytes);
  const wantLogits = gpt.prefill(prompt), wantRun = gpt.run(runFeeds()).logits as Float32Array;
  gpt.reset();
  const intact = (m: Model, position = 0) => {
    expect(m.position).toBe(position);
    expect(m.run(runFeeds()).logits).toEqual(wantRun);
    const saved = m.state();
    m.reset();
    expect(m.prefill(prompt)).toEqual(wantLogits);
    m.setState(saved);
    expect(m.position).toBe(position);
  };
  return { bytes, gpt, wantLogits, wantRun, intact };
}
