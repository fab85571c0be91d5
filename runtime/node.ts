// Node conveniences: load an artifact from a file path.
import { readFile } from 'node:fs/promises';
import { describe } from './format.ts';
import { loadModelBytes, type LoadOptions, type Model } from './model.ts';

export async function loadModelFile(path: string | URL, opts: LoadOptions = {}): Promise<Model> {
  if (typeof path !== 'string' && !(path instanceof URL)) throw new Error(`loadModelFile(): expected a file path (a string or a file: URL), got ${describe(path)}`);
  let bytes: Uint8Array;
  try { bytes = new Uint8Array(await readFile(path)); } catch (e) {
    throw new Error(`could not read simdflow artifact ${String(path).slice(0, 200)}: ${String((e as Error)?.message ?? e).slice(0, 200)}`);
  }
  return loadModelBytes(bytes, opts);
}
export * from './index.ts';
