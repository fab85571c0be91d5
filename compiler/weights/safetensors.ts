// safetensors: u64 LE header length N, N bytes of JSON {name: {dtype, shape, data_offsets}}
// (plus an optional "__metadata__" string map), then raw little-endian tensor bytes; offsets are
// relative to the end of the header. The reader enforces the format's rules before touching any
// data: offsets are integers inside the data region, ranges neither overlap nor leave holes and
// cover it exactly, shapes are non-negative integers matching each tensor's byte length.

import { typedKind, type AnyTensorData } from '../ir/types.ts';

export type SafeDType = 'F32' | 'I32' | 'I64' | 'BOOL' | 'U8' | 'F64' | 'F16' | 'BF16';
/** `stored`: the file's dtype when it was read as another (I64 as I32; F64, F16 and BF16 as F32). */
export interface SafeTensor { dtype: SafeDType; shape: number[]; data: AnyTensorData; stored?: SafeDType }

const CTORS = { F32: Float32Array, I32: Int32Array, BOOL: Uint8Array, U8: Uint8Array } as const;
/** Every dtype of the format, with its size in bytes (simdflow reads the SafeDType ones). */
const DTYPE_SIZE: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8,
};
/**
 * The typed array whose bytes are a dtype's values. F16, BF16 and F8 have no JavaScript array:
 * their raw bits (Uint16Array, Uint8Array).
 */
const ARRAY_FOR: Record<string, string> = {
  BOOL: 'Uint8Array', U8: 'Uint8Array', I8: 'Int8Array', F8_E5M2: 'Uint8Array', F8_E4M3: 'Uint8Array',
  I16: 'Int16Array', U16: 'Uint16Array', F16: 'Uint16Array', BF16: 'Uint16Array',
  I32: 'Int32Array', U32: 'Uint32Array', F32: 'Float32Array', I64: 'BigInt64Array', U64: 'BigUint64Array', F64: 'Float64Array',
};
/** The format's own limit on the header, which also tells a foreign file from a truncated one. */
const MAX_HEADER = 100_000_000;

/** A value for an error message, never longer than a line. */
function show(v: unknown): string {
  let s: string;
  try { s = JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

interface Entry { name: string; dtype: string; shape: number[]; begin: number; end: number }

/** The header, checked against the format: entries sorted by their data offsets. */
function readHeader(bytes: Uint8Array, where: string): { entries: Entry[]; base: number } {
  const fail = (msg: string): never => { throw new Error(`${where}: ${msg}`); };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for a safetensors header`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER) || (8n + n > BigInt(bytes.length) && bytes[8] !== 0x7b)) {
    fail(`not a safetensors file (it should start with an 8-byte header length and a JSON header '{'; found length ${n}${bytes.length > 8 ? ` and byte 0x${bytes[8]!.toString(16).padStart(2, '0')}` : ''} in a file of ${bytes.length} bytes)`);
  }
  const len = Number(n), base = 8 + len;
  if (base > bytes.length) fail(`truncated: the header is ${len} bytes, the file ends ${bytes.length - 8} bytes into it`);
  let header: unknown;
  try { header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, base))); } catch (e) {
    fail(`the header is not valid JSON (${show((e as Error).message)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail(`the header must be a JSON object, found ${header === null ? 'null' : Array.isArray(header) ? 'an array' : `a ${typeof header}`}`);
  }
  const entries: Entry[] = [];
  for (const [name, t] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof t !== 'object' || t === null || Array.isArray(t)) fail(`__metadata__ must map strings to strings, found ${show(t)}`);
      for (const [k, v] of Object.entries(t as object)) if (typeof v !== 'string') fail(`__metadata__ must map strings to strings (${show(k).replace(/^"|"$/g, "'")} is ${show(v)})`);
      continue;
    }
    const at = `tensor '${show(name).slice(1, -1)}'`;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) fail(`${at}: expected an object {dtype, shape, data_offsets}, found ${show(t)}`);
    const { dtype, shape, data_offsets: offs } = t as Record<string, unknown>;
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_SIZE, dtype)) fail(`${at}: dtype ${typeof dtype === 'string' ? `'${show(dtype).slice(1, -1)}'` : show(dtype)} is not a safetensors dtype (${Object.keys(DTYPE_SIZE).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every(isCount)) fail(`${at}: shape ${show(shape)} must be a list of non-negative integers`);
    if (offs === undefined) fail(`${at}: data_offsets is missing`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isCount)) fail(`${at}: data_offsets ${fmtOffsets(offs)} must be two non-negative integers`);
    const [begin, end] = offs as [number, number];
    if (end < begin) fail(`${at}: data_offsets [${begin}, ${end}] end before they begin`);
    const need = (shape as number[]).reduce((a, c) => a * c, 1) * DTYPE_SIZE[dtype as string]!;
    if (need !== end - begin) fail(`${at}: ${dtype} [${(shape as number[]).join(', ')}] needs ${need} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`);
    entries.push({ name, dtype: dtype as string, shape: shape as number[], begin, end });
  }
  const dataBytes = bytes.length - base;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0, last: Entry | undefined;
  for (const e of entries) {
    if (e.end > dataBytes) fail(`truncated: tensor '${show(e.name).slice(1, -1)}' ends at byte ${e.end} of the data, which has ${dataBytes} bytes`);
  }
  for (const e of entries) {
    if (e.begin < covered) fail(`tensor '${show(e.name).slice(1, -1)}' (bytes ${e.begin}..${e.end}) overlaps tensor '${show(last!.name).slice(1, -1)}' (bytes ${last!.begin}..${last!.end})`);
    if (e.begin > covered) fail(`bytes ${covered}..${e.begin} of the data belong to no tensor (before tensor '${show(e.name).slice(1, -1)}')`);
    if (e.end > e.begin) last = e;
    covered = Math.max(covered, e.end);
  }
  if (covered !== dataBytes) fail(`the data region has ${dataBytes} bytes but the tensors cover ${covered}`);
  return { entries, base };
}

const fmtOffsets = (o: unknown) => (Array.isArray(o) && o.every((v) => typeof v === 'number') ? `[${o.join(', ')}]` : show(o));

export function readSafetensors(bytes: Uint8Array | ArrayBuffer, where = 'safetensors'): Map<string, SafeTensor> {
  if (typeof where !== 'string') throw new Error(`readSafetensors(): the second argument names the file for error messages and must be a string, got ${typeof where}`);
  // A transferred (detached) ArrayBuffer cannot be viewed (a raw TypeError): it is read as the 0 bytes it holds.
  // By kind, not instanceof: bytes from another realm (vm, jsdom, an iframe) were refused as "got Uint8Array".
  if (Object.prototype.toString.call(bytes) === '[object ArrayBuffer]') bytes = new Uint8Array((bytes as ArrayBuffer).byteLength ? bytes as ArrayBuffer : []);
  if (typedKind.call(bytes) !== 'Uint8Array') {
    const found = typeof bytes === 'string' ? 'a string (a path? pass readFileSync(path), and the path as the second argument)' : bytes === null || typeof bytes !== 'object' ? String(bytes) : ((bytes as object).constructor?.name ?? 'an object');
    throw new Error(`readSafetensors(): expected the file's bytes as a Uint8Array (e.g. readFileSync(path)), got ${found}`);
  }
  const file = bytes as Uint8Array; // (its kind checked above)
  const { entries, base } = readHeader(file, where);
  const out = new Map<string, SafeTensor>();
  for (const { name, dtype, shape, begin, end } of entries) {
    const at = `tensor '${show(name).slice(1, -1)}'`;
    // Uint8Array.prototype.slice copies (Buffer#slice would not): aligned and independent of the file.
    const raw = Uint8Array.prototype.slice.call(file, base + begin, base + end);
    let data: AnyTensorData;
    if (dtype === 'I64') {
      // Token ids saved as int64 by PyTorch: narrow to i32, refusing values that do not fit.
      const big = new BigInt64Array(raw.buffer);
      data = Int32Array.from(big, (v, i) => {
        if (v > 2147483647n || v < -2147483648n) throw new Error(`${where}: ${at} holds ${v} at index ${i}, outside i32`);
        return Number(v);
      });
    } else if (dtype === 'F64') {
      // A finite value past f32's range would become ±Infinity silently (as I64 past i32 is refused, so is this).
      data = Float32Array.from(new Float64Array(raw.buffer), (v, i) => {
        if (Number.isFinite(v) && !Number.isFinite(Math.fround(v))) throw new Error(`${where}: ${at} holds ${v} at index ${i}, outside f32`);
        return v;
      });
    } else if (dtype === 'F16' || dtype === 'BF16') {
      // Half-precision checkpoints are widened to f32 exactly (every f16/bf16 value is an f32).
      const h = new Uint16Array(raw.buffer);
      data = dtype === 'BF16' ? new Float32Array(new Uint32Array(Array.from(h, (v) => v << 16)).buffer) : Float32Array.from(h, f16ToF32);
    } else {
      const C = CTORS[dtype as keyof typeof CTORS];
      if (!C) throw new Error(`${where}: ${at} has dtype ${dtype}, which simdflow does not read (F32, F64, F16, BF16, I32, I64, BOOL, U8)`);
      data = new C(raw.buffer);
    }
    const widened: Record<string, SafeDType> = { I64: 'I32', F64: 'F32', F16: 'F32', BF16: 'F32' };
    out.set(name, { dtype: widened[dtype] ?? (dtype as SafeDType), shape, data, ...(widened[dtype] ? { stored: dtype as SafeDType } : {}) });
  }
  return out;
}

/** IEEE 754 binary16 → number (subnormals, infinities and NaN included). */
function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export function writeSafetensors(tensors: Record<string, SafeTensor> | Map<string, SafeTensor>): Uint8Array {
  if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors)) throw new Error(`writeSafetensors(): expected an object of tensors by name, { name: { dtype, shape, data } }, got ${show(tensors)}`);
  // Read once (a Map, as readSafetensors returns, or an object): what is checked is what is written.
  const list = (tensors instanceof Map ? [...tensors] : Object.entries(tensors)).map(([name, t]) => {
    const where = `writeSafetensors(): tensor '${String(name).slice(0, 60)}'`;
    if (typeof name !== 'string') throw new Error(`${where}: a tensor's name must be a string, got ${typeof name}`);
    if (name === '__metadata__') throw new Error(`${where}: the name is the format's metadata key`);
    if (typeof t !== 'object' || t === null) throw new Error(`${where}: expected { dtype, shape, data }, got ${show(t)}`);
    const { dtype, shape, data } = t;
    if (!Object.hasOwn(DTYPE_SIZE, dtype)) throw new Error(`${where}: unknown dtype ${show(dtype)} (known: ${Object.keys(DTYPE_SIZE).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every(isCount)) throw new Error(`${where}: shape must be an array of non-negative integers, got ${show(shape)}`);
    if (!ArrayBuffer.isView(data) || data instanceof DataView) throw new Error(`${where}: data must be a typed array, got ${show(data)}`);
    const bytes = shape.reduce((a, d) => a * d, 1) * DTYPE_SIZE[dtype]!;
    if (data.byteLength !== bytes) throw new Error(`${where}: ${dtype} ${show(shape)} takes ${bytes} bytes, its data has ${data.byteLength}`);
    // The bytes are written as they are: a Float32Array saved as I32 (or an Int32Array as F32) would be read back as other numbers.
    const kind = typedKind.call(data);
    if (kind !== ARRAY_FOR[dtype]) throw new Error(`${where}: ${dtype} data must be a${/^I/.test(ARRAY_FOR[dtype]!) ? 'n' : ''} ${ARRAY_FOR[dtype]} (its bytes are written as they are), got ${kind}(${data.byteLength / (data as Uint8Array).BYTES_PER_ELEMENT})`);
    return { name, dtype, shape: [...shape], data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  });
  // No prototype: a tensor named __proto__ is a key like any other (on {} it would set the prototype and vanish from the header).
  const header: Record<string, unknown> = Object.create(null);
  let off = 0;
  for (const t of list) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  // Padded with spaces to a multiple of 8 bytes (of UTF-8, not characters), so the data stays aligned.
  const json = JSON.stringify(header), n = new TextEncoder().encode(json).length;
  const hb = new TextEncoder().encode(json + ' '.repeat((8 - (n % 8)) % 8));
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let at = 8 + hb.length;
  for (const t of list) { out.set(t.data, at); at += t.data.byteLength; }
  return out;
}

/**
 * The tensors of a state_dict, in the form Module.loadStateDict takes. Integer tensors keep
 * their data and name their file's dtype: a module accepts them only where PyTorch keeps a
 * counter (BatchNorm's num_batches_tracked, I64), and refuses them as parameters.
 */
export function stateDictFrom(tensors: Map<string, SafeTensor>): Map<string, { shape: number[]; data: AnyTensorData; dtype: SafeDType }> {
  if (!(tensors instanceof Map)) throw new Error(`stateDictFrom(): expected the Map that readSafetensors(bytes) returns, got ${tensors === null || typeof tensors !== 'object' ? String(tensors) : ((tensors as object).constructor?.name ?? 'an object')}`);
  const out = new Map<string, { shape: number[]; data: AnyTensorData; dtype: SafeDType }>();
  for (const [k, t] of tensors) out.set(k, { shape: t.shape, data: t.data, dtype: t.stored ?? t.dtype });
  return out;
}
