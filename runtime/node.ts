// Node conveniences: load an artifact from a file path, and worker_threads for `threads`.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe } from './format.ts';
import { checkOptions, loadModelBytes, type LoadOptions, type Model } from './model.ts';
import { setThreadHost } from './threads.ts';

setThreadHost({
  cores: () => availableParallelism(),
  spawn: (source) => {
    // Eval'd code is CommonJS, or ESM when the process runs with --input-type=module.
    const w = new Worker(`globalThis.self = (typeof require === 'function' ? require('node:worker_threads') : process.getBuiltinModule('node:worker_threads')).parentPort;\n${source}`, { eval: true });
    return {
      post: (m) => w.postMessage(m),
      listen: (onMessage, onError) => { w.on('message', onMessage); w.on('error', (e) => onError(String(e?.message ?? e))); },
      // An idle model's workers do not keep the process alive (dispose() ends them, or the model's collection).
      ref: (yes) => (yes ? w.ref() : w.unref()),
      terminate: () => { void w.terminate(); },
    };
  },
});

export async function loadModelFile(path: string | URL, opts: LoadOptions = {}): Promise<Model> {
  if (typeof path !== 'string' && !(path instanceof URL)) throw new Error(`loadModelFile(): expected a file path (a string or a file: URL), got ${describe(path)}`);
  checkOptions(opts);
  let bytes: Uint8Array;
  try { bytes = new Uint8Array(await readFile(path)); } catch (e) {
    throw new Error(`could not read simdflow artifact ${String(path).slice(0, 200)}: ${String((e as Error)?.message ?? e).slice(0, 200)}`);
  }
  return loadModelBytes(bytes, opts);
}
export * from './index.ts';
