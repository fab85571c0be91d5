// The artifact container: one self-describing file.
//
//   bytes 0..3    "SFLW"
//   bytes 4..7    u32 LE container version (2)
//   bytes 8..11   u32 LE manifest length M
//   bytes 12..27  checksum of the manifest bytes (16 bytes, see ./checksum.ts)
//   bytes 28..    M bytes of UTF-8 JSON (the Manifest below), zero-padded to a 16-byte boundary
//   then          the blob area: wasm code modules and the weight bytes, at the offsets the
//                 manifest gives relative to the start of the blob area (16-byte aligned), each
//                 with its checksum in the manifest
//
// Each code module is a complete wasm module (one per instruction set) that imports its memory
// (env.memory, shared, `memory.pages` pages; the loader clears the shared flag to run it on one
// thread without shared memory) and exports one function (tid, nt) per entry. Weights are not in the code: the loader copies them
// into memory at `memory.weights.offset` once, at load time. The loader checks every field
// (./validate.ts) and every checksum before it instantiates anything.

import { checksum } from './checksum.ts';
import { validateManifest } from './validate.ts';

export const MAGIC = 'SFLW';
export const CONTAINER_VERSION = 2;
const HEADER = 28;

export type DType = 'f32' | 'i32' | 'bool';
export type Isa = 'wasmsimd' | 'wasmrelaxedsimd';
export const ISAS: readonly Isa[] = ['wasmsimd', 'wasmrelaxedsimd'];
/** The longest name (model, entry, tensor, size) a manifest holds. */
export const MAX_NAME = 200;

export interface TensorInfo {
  name: string;
  dtype: DType;
  /** The shape; for a tensor with named sizes, its shape at the entry's bounds. */
  shape: number[];
  /** The shape with named sizes ('B', 'B*T', …; see ./dims.ts) when some dim is chosen at run time. */
  dims?: Array<number | string>;
  /** Byte address in wasm memory. */
  offset: number;
  /** For integer inputs used as indices: the valid range [lo, hi). */
  range?: [number, number];
  /** An output that is a constant of the model: it lives among the weights. */
  constant?: true;
}

export interface EntryInfo {
  /** The wasm export that runs this entry. */
  export: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /**
   * The bound of each named size the inputs' dims use. The export takes the actual sizes as
   * i32 arguments, in the order of the names sorted; every size is in [min, bound].
   */
  sizes?: Record<string, number>;
  /** The least value of the named sizes declared above 1 (a size not listed runs from 1). */
  min?: Record<string, number>;
  /** Present when the entry splits work across threads: its id in the module's __threads_call. */
  parallel?: number;
  /**
   * State tensors the entry writes while it runs (a KV cache's rows), not at its end: a call that
   * traps after such a write leaves them partly written (the runtime then refuses calls until
   * they are reset or set).
   */
  stateInPlace?: string[];
}

export interface GenerationInfo {
  /** Entry taking up to `chunk` tokens ([1, chunk] i32 `tokens` and i32[] `count`; with batch > 1 also i32[] `sequence`). */
  prefill: string;
  /** Entry taking one token per sequence ([batch, 1] i32 `tokens`). */
  decode: string;
  chunk: number;
  /** KV-cache positions, fixed at compile time. */
  capacity: number;
  vocab: number;
  tokens: string;
  count: string;
  /** Output: logits [1, vocab] of the chunk's last token (decode: [batch, vocab]). */
  logits: string;
  /** The i32[] (batch > 1: i32[batch]) state tensor holding each sequence's next position. */
  position: string;
  /** Sequences the KV cache holds (absent: 1). */
  batch?: number;
  /** With batch > 1: the prefill input naming the sequence it fills. */
  sequence?: string;
}

export interface BlobRef { offset: number; length: number; checksum: string }
export interface Region { offset: number; bytes: number }

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
    weights: Region;
    state: Region;
    arena: Region;
  };
  /** For language models: which entries and tensors prefill/decode/generate use. */
  generation?: GenerationInfo;
  /**
   * Present when some entry splits work across threads (runtime/threads.ts): the region of the
   * threads' shared words, and the most threads the code supports.
   */
  threads?: { sync: Region; max: number };
  code: Partial<Record<Isa, BlobRef>>;
  weights: BlobRef;
  stats: { codeBytes: Partial<Record<Isa, number>>; weightBytes: number; peakArenaBytes: number };
}

/** The threads' sync region (assembly/threads.ts): its size, and where a call's named sizes go in it. */
export const SYNC_BYTES = 1536, SYNC_SIZES = 448, SYNC_MAX_SIZES = 16;

export const DTYPE_BYTES: Record<DType, number> = { f32: 4, i32: 4, bool: 1 };
export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const typedGetter = (k: PropertyKey) => Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), k)!.get!;
/** A typed array's own element count (a subclass or a Proxy cannot fake it). */
export const typedLength = typedGetter('length') as (this: unknown) => number;
/** A typed array's kind, 'Float32Array', also for one from another realm (jsdom, vm, an iframe), which instanceof refuses; else undefined. */
export const typedKind = typedGetter(Symbol.toStringTag) as (this: unknown) => string | undefined;

/** The manifest, unchecked, and the blob area: for tools that rewrite artifacts (and tests). */
export function unpackContainer(bytes: Uint8Array): { manifest: unknown; blobs: Uint8Array } {
  if (typedKind.call(bytes) !== 'Uint8Array') throw new Error(`a simdflow artifact is bytes (Uint8Array), got ${describe(bytes)}`);
  // A transferred (detached) buffer reads as 0 bytes; any access to it throws a raw TypeError.
  if (!bytes.length) throw new Error('not a simdflow artifact: 0 bytes (empty, or transferred)');
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== MAGIC) throw new Error(`not a simdflow artifact: expected magic "${MAGIC}", found ${JSON.stringify(magic)} (${bytes.length} bytes)`);
  if (bytes.length < HEADER) throw new Error(`truncated simdflow artifact: the header needs ${HEADER} bytes, the file has ${bytes.length}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(4, true);
  if (version !== CONTAINER_VERSION) throw new Error(`simdflow artifact container version ${version} is not supported (this runtime reads ${CONTAINER_VERSION}; recompile the model)`);
  const m = dv.getUint32(8, true);
  if (HEADER + m > bytes.length) throw new Error(`truncated simdflow artifact: the manifest of ${m} bytes runs past the end of the file (${bytes.length} bytes)`);
  const json = bytes.subarray(HEADER, HEADER + m);
  const want = Array.from(bytes.subarray(12, 28), (b) => b.toString(16).padStart(2, '0')).join('');
  if (checksum(json) !== want) throw new Error('corrupt simdflow artifact: checksum mismatch in the manifest (the file was damaged)');
  let manifest: unknown;
  try { manifest = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json)); } catch (e) {
    throw new Error(`invalid simdflow artifact: the manifest is not JSON (${String((e as Error).message).slice(0, 100)})`);
  }
  return { manifest, blobs: bytes.subarray(Math.ceil((HEADER + m) / 16) * 16) };
}

/** Header, manifest and blob area as one file (the manifest's checksum computed here). */
export function packContainer(manifest: unknown, blobs: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(manifest));
  const base = Math.ceil((HEADER + json.length) / 16) * 16;
  const out = new Uint8Array(base + blobs.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, CONTAINER_VERSION, true);
  dv.setUint32(8, json.length, true);
  out.set(checksum(json).match(/../g)!.map((h) => parseInt(h, 16)), 12);
  out.set(json, HEADER);
  out.set(blobs, base);
  return out;
}

/**
 * Reads and checks an artifact: the manifest's fields and every blob's bounds and checksum (the
 * weights' left to the caller with `checkWeights` false: loadModel checks them once, as written).
 */
export function readContainer(bytes: Uint8Array, checkWeights = true): { manifest: Manifest; blob(ref: BlobRef): Uint8Array } {
  const { manifest: raw, blobs } = unpackContainer(bytes);
  const manifest = validateManifest(raw);
  const blob = (ref: BlobRef, what: string, check = true): Uint8Array => {
    if (ref.offset + ref.length > blobs.length) throw new Error(`truncated simdflow artifact: ${what} (bytes ${ref.offset}..${ref.offset + ref.length} of the blob area) runs past the end of the file`);
    const b = blobs.subarray(ref.offset, ref.offset + ref.length);
    if (check && checksum(b) !== ref.checksum) throw new Error(`corrupt simdflow artifact: checksum mismatch in ${what} (the file was damaged)`);
    return b;
  };
  const checked = new Map<BlobRef, Uint8Array>();
  for (const [isa, ref] of Object.entries(manifest.code) as Array<[Isa, BlobRef]>) checked.set(ref, blob(ref, `the ${isa} code`));
  checked.set(manifest.weights, blob(manifest.weights, 'the weights', checkWeights));
  return { manifest, blob: (ref) => checked.get(ref) ?? blob(ref, 'a blob') };
}

export function writeContainer(manifest: Omit<Manifest, 'code' | 'weights'>, code: Partial<Record<Isa, Uint8Array>>, weights: Uint8Array): Uint8Array {
  const parts: Array<{ at: number; bytes: Uint8Array }> = [];
  let at = 0;
  const add = (b: Uint8Array): BlobRef => {
    parts.push({ at, bytes: b });
    const ref = { offset: at, length: b.length, checksum: checksum(b) };
    at = Math.ceil((at + b.length) / 16) * 16;
    return ref;
  };
  const codeRefs: Partial<Record<Isa, BlobRef>> = {};
  for (const isa of ISAS) if (code[isa]) codeRefs[isa] = add(code[isa]);
  const full: Manifest = { ...manifest, code: codeRefs, weights: add(weights) };
  const blobs = new Uint8Array(at);
  for (const p of parts) blobs.set(p.bytes, p.at);
  return packContainer(full, blobs);
}

/** What a value is, in a few words (never the value itself: it may be 77 MB). */
export function describe(v: unknown): string {
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return `the bigint ${v}n`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as { length?: number }).length ?? v.byteLength})`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'object') return `${(v as object).constructor?.name ?? 'an object'}`;
  return `${typeof v} ${String(v).slice(0, 40)}`;
}

/** `opts` is an object of options (not an array) whose names are all in `allowed`: an option nothing reads must not pass silently. */
export function knownOptions(where: string, opts: unknown, allowed: readonly string[], note = ''): asserts opts is object {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts) || ArrayBuffer.isView(opts)) {
    throw new Error(`${where}: expected an object of options (${allowed.join(', ')}), got ${describe(opts)}`);
  }
  const k = Object.keys(opts).find((x) => !allowed.includes(x));
  if (k !== undefined) throw new Error(`${where}: unknown option '${k.slice(0, 60)}' (allowed: ${allowed.join(', ')}${note})`);
}
