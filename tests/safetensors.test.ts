import { describe, expect, test } from 'vitest';
import { readSafetensors, writeSafetensors } from '../compiler/weights/safetensors.ts';

/** A safetensors file with raw bytes for one tensor of the given dtype. */
function raw(dtype: string, shape: number[], bytes: Uint8Array): Uint8Array {
  const header = JSON.stringify({ t: { dtype, shape, data_offsets: [0, bytes.length] } });
  const hb = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + hb.length + bytes.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8); out.set(bytes, 8 + hb.length);
  return out;
}

describe('safetensors', () => {
  test('round-trips F32, I32 and BOOL with names and shapes', () => {
    const bytes = writeSafetensors({
      'a.weight': { dtype: 'F32', shape: [2, 2], data: Float32Array.of(1, -2, 3.5, 4) },
      ids: { dtype: 'I32', shape: [3], data: Int32Array.of(7, 8, 9) },
      mask: { dtype: 'BOOL', shape: [2], data: Uint8Array.of(1, 0) },
    });
    const t = readSafetensors(bytes);
    expect(Array.from(t.get('a.weight')!.data)).toEqual([1, -2, 3.5, 4]);
    expect(t.get('a.weight')!.shape).toEqual([2, 2]);
    expect(t.get('ids')!.data).toBeInstanceOf(Int32Array);
    expect(Array.from(t.get('mask')!.data)).toEqual([1, 0]);
  });

  test('widens F16, BF16, F64 and I64 checkpoints exactly', () => {
    // f16: 1.0 = 0x3c00, -2.5 = 0xc100, 65504 = 0x7bff, smallest subnormal 2^-24 = 0x0001, inf = 0x7c00
    const f16 = readSafetensors(raw('F16', [5], new Uint8Array(Uint16Array.of(0x3c00, 0xc100, 0x7bff, 0x0001, 0x7c00).buffer))).get('t')!;
    expect(f16.dtype).toBe('F32');
    expect(Array.from(f16.data)).toEqual([1, -2.5, 65504, 2 ** -24, Infinity]);
    // bf16 is the top half of an f32: 1.0 = 0x3f80, -3.0 = 0xc040
    expect(Array.from(readSafetensors(raw('BF16', [2], new Uint8Array(Uint16Array.of(0x3f80, 0xc040).buffer))).get('t')!.data)).toEqual([1, -3]);
    expect(Array.from(readSafetensors(raw('F64', [2], new Uint8Array(Float64Array.of(0.5, -8).buffer))).get('t')!.data)).toEqual([0.5, -8]);
    const i64 = readSafetensors(raw('I64', [2], new Uint8Array(BigInt64Array.of(5n, -1n).buffer))).get('t')!;
    expect(i64.data).toBeInstanceOf(Int32Array);
    expect(Array.from(i64.data)).toEqual([5, -1]);
  });

  test('bad files are clear errors', () => {
    expect(() => readSafetensors(new Uint8Array(4), 'w.safetensors')).toThrow('w.safetensors: file is 4 bytes, too short for a safetensors header');
    expect(() => readSafetensors(raw('I64', [1], new Uint8Array(BigInt64Array.of(2n ** 40n).buffer)), 'ids')).toThrow('ids: t holds 1099511627776, outside i32');
    expect(() => readSafetensors(raw('C64', [1], new Uint8Array(8)))).toThrow('tensor t has dtype C64, which simdflow does not read');
    expect(() => readSafetensors(raw('F32', [3], new Uint8Array(8)))).toThrow('t has 2 values for shape [3]');
  });
});
