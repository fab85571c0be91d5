// The simdflow runtime: load an artifact (bytes, Response or URL) and run it.
// Browser-safe: no Node-only imports (see ./node.ts for loading from a file path).
// An artifact is code: load it only from a source you trust.

import { describe, typedKind } from './format.ts';
import { checkOptions, loadModelBytes, type LoadOptions, type Model } from './model.ts';

export type Source = Uint8Array | ArrayBuffer | Response | URL | string;

export async function loadModel(src: Source, opts: LoadOptions = {}): Promise<Model> {
  checkOptions(opts); // before a download
  if (typedKind.call(src) === 'Uint8Array') return loadModelBytes(src as Uint8Array, opts); // (also one from another realm)
  // (A detached one cannot be viewed; one from another realm is refused by instanceof.)
  if (Object.prototype.toString.call(src) === '[object ArrayBuffer]') return loadModelBytes(new Uint8Array((src as ArrayBuffer).byteLength ? src as ArrayBuffer : []), opts);
  if (!(src instanceof Response || src instanceof URL || typeof src === 'string')) {
    throw new Error(`loadModel(): expected the artifact as a Uint8Array or ArrayBuffer, a Response or a URL; got ${describe(src)}`);
  }
  let res: Response;
  try { res = src instanceof Response ? src : await fetch(src); } catch (e) {
    // Node's fetch takes neither relative paths nor file: URLs: point at the file loader.
    const hint = /^(https?|data|blob):/.test(String(src)) ? '' : ' (in Node, load a file with loadModelFile from simdflow-runtime/node)';
    throw new Error(`could not fetch simdflow artifact ${String(src).slice(0, 200)}: ${String((e as Error)?.message ?? e).slice(0, 150)}${hint}`);
  }
  if (!res.ok) throw new Error(`could not fetch simdflow artifact ${(res.url || (src instanceof Response ? 'from the Response given' : String(src))).slice(0, 200)}: HTTP ${res.status}`);
  const from = () => (res.url || (src instanceof Response ? 'from the Response given' : String(src))).slice(0, 200);
  if (res.bodyUsed) throw new Error(`could not read simdflow artifact ${from()}: its body was already read (pass a fresh Response, or the bytes)`);
  let bytes: ArrayBuffer;
  try { bytes = await res.arrayBuffer(); } catch (e) {
    throw new Error(`could not read simdflow artifact ${from()}: ${String((e as Error)?.message ?? e).slice(0, 150)}`);
  }
  return loadModelBytes(new Uint8Array(bytes), opts);
}

export { Model, type GenerateOptions, type LoadOptions, type Feeds, type Feed, type Outputs, type TensorData } from './model.ts';
export { sampleToken, uniform, type Sampling } from './sample.ts';
export type { Manifest, TensorInfo, EntryInfo, Isa } from './format.ts';
