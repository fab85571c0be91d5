// The artifact container: one self-describing file.
//
//   bytes 0..3   "SFLW"
//   bytes 4..7   u32 LE container version (1)
//   bytes 8..11  u32 LE manifest length M
//   bytes 12..   M bytes of UTF-8 JSON (the Manifest below), zero-padded to a 16-byte boundary
//   then         the blob area: wasm code modules and the weight bytes, at the offsets the
//                manifest gives relative to the start of the blob area (16-byte aligned)
//
// Each code module is a complete wasm module (one per instruction set) that exports its
// memory and one function per entry. Weights are not in the code: the loader copies them
// into memory at `memory.weights.offset` once, at load time.

export const MAGIC = 'SFLW';
export const CONTAINER_VERSION = 1;

export type DType = 'f32' | 'i32' | 'bool';
export type Isa = 'wasmsimd' | 'wasmrelaxedsimd';

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** Byte address in wasm memory. */
  offset: number;
  /** For integer inputs used as indices: the valid range [lo, hi). */
  range?: [number, number];
}

export interface EntryInfo {
  /** The wasm export that runs this entry. */
  export: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
}

export interface GenerationInfo {
  /** Entry taking up to `chunk` tokens ([1, chunk] i32 `tokens` and i32[] `count`). */
  prefill: string;
  /** Entry taking one token ([1, 1] i32 `tokens`). */
  decode: string;
  chunk: number;
  /** KV-cache positions, fixed at compile time. */
  capacity: number;
  vocab: number;
  tokens: string;
  count: string;
  /** Output: logits [1, vocab] of the chunk's last token. */
  logits: string;
  /** The i32[] state tensor holding the next position. */
  position: string;
}

export interface BlobRef { offset: number; length: number }

export interface Manifest {
  format: 'simdflow';
  /** simdflow version that compiled the artifact. */
  version: string;
  name: string;
  entries: Record<string, EntryInfo>;
  /** Tensors that persist across calls (recurrent state, KV caches). */
  state: TensorInfo[];
  memory: {
    /** Initial wasm memory in 64 KiB pages. */
    pages: number;
    weights: { offset: number; bytes: number };
    state: { offset: number; bytes: number };
    arena: { offset: number; bytes: number };
  };
  /** For language models: which entries and tensors prefill/decode/generate use. */
  generation?: GenerationInfo;
  code: Partial<Record<Isa, BlobRef>>;
  weights: BlobRef;
  stats: { compileMs: number; codeBytes: Partial<Record<Isa, number>>; weightBytes: number; peakArenaBytes: number };
}

export const DTYPE_BYTES: Record<DType, number> = { f32: 4, i32: 4, bool: 1 };
export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function readContainer(bytes: Uint8Array): { manifest: Manifest; blob(ref: BlobRef): Uint8Array } {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < 12 || magic !== MAGIC) throw new Error(`not a simdflow artifact: expected magic "${MAGIC}", found "${magic}"`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(4, true);
  if (version !== CONTAINER_VERSION) throw new Error(`simdflow artifact container version ${version} is not supported (this runtime reads ${CONTAINER_VERSION})`);
  const m = dv.getUint32(8, true);
  if (12 + m > bytes.length) throw new Error(`truncated simdflow artifact: manifest of ${m} bytes past the end (${bytes.length} bytes)`);
  const manifest = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + m))) as Manifest;
  const base = Math.ceil((12 + m) / 16) * 16;
  return {
    manifest,
    blob: (ref) => {
      if (base + ref.offset + ref.length > bytes.length) throw new Error(`truncated simdflow artifact: blob at ${ref.offset}+${ref.length} is past the end`);
      return bytes.subarray(base + ref.offset, base + ref.offset + ref.length);
    },
  };
}

export function writeContainer(manifest: Omit<Manifest, 'code' | 'weights'>, code: Partial<Record<Isa, Uint8Array>>, weights: Uint8Array): Uint8Array {
  const blobs: Uint8Array[] = [];
  let at = 0;
  const add = (b: Uint8Array): BlobRef => { const ref = { offset: at, length: b.length }; blobs.push(b); at = Math.ceil((at + b.length) / 16) * 16; return ref; };
  const codeRefs: Partial<Record<Isa, BlobRef>> = {};
  for (const [isa, b] of Object.entries(code) as Array<[Isa, Uint8Array]>) codeRefs[isa] = add(b);
  const full: Manifest = { ...manifest, code: codeRefs, weights: add(weights) };
  const json = new TextEncoder().encode(JSON.stringify(full));
  const base = Math.ceil((12 + json.length) / 16) * 16;
  const out = new Uint8Array(base + at);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, CONTAINER_VERSION, true);
  dv.setUint32(8, json.length, true);
  out.set(json, 12);
  let off = base;
  for (const b of blobs) { out.set(b, off); off = base + Math.ceil((off - base + b.length) / 16) * 16; }
  return out;
}
