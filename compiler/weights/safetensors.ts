// safetensors: u64 LE header length N, N bytes of JSON {name: {dtype, shape, data_offsets}},
// then raw little-endian tensor bytes (offsets relative to the end of the header).

import type { AnyTensorData } from '../ir/types.ts';

export type SafeDType = 'F32' | 'I32' | 'I64' | 'BOOL' | 'U8' | 'F64' | 'F16' | 'BF16';
export interface SafeTensor { dtype: SafeDType; shape: number[]; data: AnyTensorData }

const CTORS = { F32: Float32Array, I32: Int32Array, BOOL: Uint8Array, U8: Uint8Array } as const;

export function readSafetensors(bytes: Uint8Array, where = 'safetensors'): Map<string, SafeTensor> {
  if (bytes.length < 8) throw new Error(`${where}: file is ${bytes.length} bytes, too short for a safetensors header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (8 + n > bytes.length) throw new Error(`${where}: header length ${n} runs past the end of the file (${bytes.length} bytes)`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const base = 8 + n;
  const out = new Map<string, SafeTensor>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, e] = t.data_offsets;
    // Uint8Array.prototype.slice copies (Buffer#slice would not): aligned and independent of the file.
    const raw = Uint8Array.prototype.slice.call(bytes, base + b, base + e);
    let data: AnyTensorData;
    if (t.dtype === 'I64') {
      // Token ids saved as int64 by PyTorch: narrow to i32, refusing values that do not fit.
      const big = new BigInt64Array(raw.buffer);
      data = Int32Array.from(big, (v) => {
        if (v > 2147483647n || v < -2147483648n) throw new Error(`${where}: ${name} holds ${v}, outside i32`);
        return Number(v);
      });
    } else if (t.dtype === 'F64') {
      data = Float32Array.from(new Float64Array(raw.buffer));
    } else if (t.dtype === 'F16' || t.dtype === 'BF16') {
      // Half-precision checkpoints are widened to f32 exactly (every f16/bf16 value is an f32).
      const h = new Uint16Array(raw.buffer);
      data = t.dtype === 'BF16' ? new Float32Array(new Uint32Array(Array.from(h, (v) => v << 16)).buffer) : Float32Array.from(h, f16ToF32);
    } else {
      const C = CTORS[t.dtype as keyof typeof CTORS];
      if (!C) throw new Error(`${where}: tensor ${name} has dtype ${t.dtype}, which simdflow does not read (F32, F64, F16, BF16, I32, I64, BOOL, U8)`);
      data = new C(raw.buffer);
    }
    const count = t.shape.reduce((a, c) => a * c, 1);
    if (data.length !== count) throw new Error(`${where}: ${name} has ${data.length} values for shape [${t.shape}]`);
    const widened: Record<string, SafeDType> = { I64: 'I32', F64: 'F32', F16: 'F32', BF16: 'F32' };
    out.set(name, { dtype: widened[t.dtype] ?? (t.dtype as SafeDType), shape: t.shape, data });
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

export function writeSafetensors(tensors: Record<string, SafeTensor>): Uint8Array {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += ' ';
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let at = 8 + hb.length;
  for (const t of Object.values(tensors)) { out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at); at += t.data.byteLength; }
  return out;
}

/** The float tensors of a state_dict, in the form Module.loadStateDict takes. */
export function stateDictFrom(tensors: Map<string, SafeTensor>): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, t] of tensors) {
    if (!(t.data instanceof Float32Array)) throw new Error(`state_dict tensor ${k} is ${t.dtype}; parameters must be F32`);
    out.set(k, { shape: t.shape, data: t.data });
  }
  return out;
}
