// Node conveniences: load an artifact from a file path.
import { readFile } from 'node:fs/promises';
import { loadModelBytes, type LoadOptions, type Model } from './model.ts';

export async function loadModelFile(path: string, opts: LoadOptions = {}): Promise<Model> {
  return loadModelBytes(new Uint8Array(await readFile(path)), opts);
}
export * from './index.ts';
