// The simdflow runtime: load an artifact (bytes, Response or URL) and run it.
// Browser-safe: no Node-only imports (see ./node.ts for loading from a file path).

import { loadModelBytes, type LoadOptions, type Model } from './model.ts';

export type Source = Uint8Array | ArrayBuffer | Response | URL | string;

export async function loadModel(src: Source, opts: LoadOptions = {}): Promise<Model> {
  if (src instanceof Uint8Array) return loadModelBytes(src, opts);
  if (src instanceof ArrayBuffer) return loadModelBytes(new Uint8Array(src), opts);
  const res = src instanceof Response ? src : await fetch(src);
  if (!res.ok) throw new Error(`could not fetch simdflow artifact ${res.url}: HTTP ${res.status}`);
  return loadModelBytes(new Uint8Array(await res.arrayBuffer()), opts);
}

export { Model, chooseIsa, type LoadOptions, type Feeds, type Feed, type Outputs, type TensorData } from './model.ts';
export type { Manifest, TensorInfo, EntryInfo, Isa } from './format.ts';
