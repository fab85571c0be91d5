import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import { readSafetensors, stateDictFrom, writeSafetensors } from '../compiler/weights/safetensors.ts';

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
    // Infinity and NaN stay; a finite f64 past f32's range was read as Infinity.
    expect(Array.from(readSafetensors(raw('F64', [3], new Uint8Array(Float64Array.of(-Infinity, NaN, 3.4e38).buffer))).get('t')!.data)).toEqual([-Infinity, NaN, Math.fround(3.4e38)]);
    expect(() => readSafetensors(raw('F64', [2], new Uint8Array(Float64Array.of(1, -1e300).buffer)))).toThrow("tensor 't' holds -1e+300 at index 1, outside f32");
    const i64 = readSafetensors(raw('I64', [2], new Uint8Array(BigInt64Array.of(5n, -1n).buffer))).get('t')!;
    expect(i64.data).toBeInstanceOf(Int32Array);
    expect(Array.from(i64.data)).toEqual([5, -1]);
  });

  test('bad files are clear errors', () => {
    expect(() => readSafetensors(new Uint8Array(4), 'w.safetensors')).toThrow('w.safetensors: file is 4 bytes, too short for a safetensors header');
    expect(() => readSafetensors(raw('I64', [1], new Uint8Array(BigInt64Array.of(2n ** 40n).buffer)), 'ids')).toThrow("ids: tensor 't' holds 1099511627776 at index 0, outside i32");
    expect(() => readSafetensors(raw('C64', [1], new Uint8Array(8)))).toThrow("tensor 't': dtype 'C64' is not a safetensors dtype");
    expect(() => readSafetensors(raw('F32', [3], new Uint8Array(8)))).toThrow("tensor 't': F32 [3] needs 12 bytes, data_offsets [0, 8] hold 8");
  });
});

/** A file from a header given as JSON text (or an object) and the data region's bytes. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0), headerLength?: number): Uint8Array {
  const hb = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? hb.length), true);
  out.set(hb, 8); out.set(data, 8 + hb.length);
  return out;
}
const t = (dtype: string, shape: unknown, data_offsets: unknown) => ({ dtype, shape, data_offsets });
const read = (bytes: Uint8Array) => () => readSafetensors(bytes, 'w.safetensors');

describe('safetensors: the format is enforced, every error names the file and the tensor', () => {
  test('offsets must be non-negative integers inside the data region', () => {
    // A negative begin would read the header's own bytes as data.
    expect(read(file({ a: t('F32', [1], [-4, 0]) }, new Uint8Array(0)))).toThrow("w.safetensors: tensor 'a': data_offsets [-4, 0] must be two non-negative integers");
    expect(read(file({ a: t('F32', [1], [0.5, 4.5]) }, new Uint8Array(8)))).toThrow("w.safetensors: tensor 'a': data_offsets [0.5, 4.5] must be two non-negative integers");
    expect(read(file({ a: t('F32', [1], [4, 0]) }, new Uint8Array(4)))).toThrow("w.safetensors: tensor 'a': data_offsets [4, 0] end before they begin");
    expect(read(file({ a: t('F32', [1], [0]) }, new Uint8Array(4)))).toThrow("w.safetensors: tensor 'a': data_offsets [0] must be two non-negative integers");
    expect(read(file({ a: { dtype: 'F32', shape: [1] } }, new Uint8Array(4)))).toThrow("w.safetensors: tensor 'a': data_offsets is missing");
  });

  test('an end past the data region is a truncated file', () => {
    expect(read(file({ a: t('F32', [2 ** 50], [0, 2 ** 52]) }, new Uint8Array(16)))).toThrow("w.safetensors: truncated: tensor 'a' ends at byte 4503599627370496 of the data, which has 16 bytes");
    expect(read(file({ a: t('F32', [2 ** 51], [0, 2 ** 53]) }, new Uint8Array(16)))).toThrow("w.safetensors: tensor 'a': data_offsets [0, 9007199254740992] must be two non-negative integers");
    // A real file cut short.
    const whole = writeSafetensors({ w: { dtype: 'F32', shape: [256, 784], data: new Float32Array(256 * 784) } });
    expect(read(whole.subarray(0, 4600))).toThrow(/^w\.safetensors: truncated: tensor 'w' ends at byte 802816 of the data, which has \d+ bytes/);
    expect(read(whole.subarray(0, 40))).toThrow(/^w\.safetensors: truncated: the header is \d+ bytes, the file ends 32 bytes into it/);
  });

  test('ranges may neither overlap nor leave holes, and must cover the data exactly', () => {
    expect(read(file({ a: t('F32', [2], [0, 8]), b: t('F32', [2], [4, 12]) }, new Uint8Array(12)))).toThrow("w.safetensors: tensor 'b' (bytes 4..12) overlaps tensor 'a' (bytes 0..8)");
    expect(read(file({ a: t('F32', [1], [0, 4]), b: t('F32', [1], [8, 12]) }, new Uint8Array(12)))).toThrow("w.safetensors: bytes 4..8 of the data belong to no tensor (before tensor 'b')");
    expect(read(file({ a: t('F32', [1], [0, 4]) }, new Uint8Array(12)))).toThrow('w.safetensors: the data region has 12 bytes but the tensors cover 4');
  });

  test('shapes are non-negative integers whose product times the dtype size is the byte length', () => {
    expect(read(file({ a: t('F32', [-1, -1], [0, 4]) }, new Uint8Array(4)))).toThrow("w.safetensors: tensor 'a': shape [-1,-1] must be a list of non-negative integers");
    expect(read(file({ a: t('F32', [1.5], [0, 4]) }, new Uint8Array(4)))).toThrow("w.safetensors: tensor 'a': shape [1.5] must be a list of non-negative integers");
    expect(read(file({ a: t('F32', '3', [0, 4]) }, new Uint8Array(4)))).toThrow("w.safetensors: tensor 'a': shape \"3\" must be a list of non-negative integers");
    expect(read(file({ a: t('F32', [3], [0, 8]) }, new Uint8Array(8)))).toThrow("w.safetensors: tensor 'a': F32 [3] needs 12 bytes, data_offsets [0, 8] hold 8");
    // Zero-sized tensors are legal (begin = end).
    const z = readSafetensors(file({ e: t('F32', [0, 3], [0, 0]), a: t('F32', [1], [0, 4]) }, new Uint8Array(4)));
    expect(z.get('e')!.shape).toEqual([0, 3]);
    expect(z.get('e')!.data.length).toBe(0);
  });

  test('the header must be a JSON object of tensor entries, with string metadata', () => {
    expect(read(file('5', new Uint8Array(0)))).toThrow('w.safetensors: the header must be a JSON object, found a number');
    expect(read(file('[1]', new Uint8Array(0)))).toThrow('w.safetensors: the header must be a JSON object, found an array');
    expect(read(file('{"a": ', new Uint8Array(0)))).toThrow(/^w\.safetensors: the header is not valid JSON \(/);
    expect(read(file({ a: 5 }))).toThrow("w.safetensors: tensor 'a': expected an object {dtype, shape, data_offsets}, found 5");
    expect(read(file({ a: t('F32', [1], [0, 4]), __metadata__: { format: 'pt', n: 3 } }, new Uint8Array(4)))).toThrow("w.safetensors: __metadata__ must map strings to strings ('n' is 3)");
    expect(read(file({ a: t('Q7', [1], [0, 4]) }, new Uint8Array(4)))).toThrow("w.safetensors: tensor 'a': dtype 'Q7' is not a safetensors dtype");
    expect(read(file({ a: t('I8', [4], [0, 4]) }, new Uint8Array(4)))).toThrow("w.safetensors: tensor 'a' has dtype I8, which simdflow does not read (F32, F64, F16, BF16, I32, I64, BOOL, U8)");
    const ok = readSafetensors(file({ __metadata__: { format: 'pt' }, a: t('F32', [1], [0, 4]) }, new Uint8Array(4)), 'w');
    expect([...ok.keys()]).toEqual(['a']);
  });

  test('a file that is not safetensors says so', () => {
    const text = new TextEncoder().encode('PK\u0003\u0004 this is a zip file, not safetensors at all');
    expect(read(text)).toThrow(/^w\.safetensors: not a safetensors file \(it should start with an 8-byte header length and a JSON header '\{'/);
    expect(read(file('{}', new Uint8Array(0), 2 ** 40))).toThrow(/^w\.safetensors: not a safetensors file/);
  });
});

describe('safetensors: API misuse', () => {
  test('readSafetensors and stateDictFrom say what they take (were raw TypeErrors)', () => {
    expect(() => readSafetensors(undefined as never)).toThrow("readSafetensors(): expected the file's bytes as a Uint8Array (e.g. readFileSync(path)), got undefined");
    expect(() => readSafetensors('mlp.safetensors' as never)).toThrow('got a string (a path? pass readFileSync(path), and the path as the second argument)');
    expect(() => readSafetensors(new Float32Array(4) as never)).toThrow('got Float32Array');
    expect(() => readSafetensors(new Uint8Array(8), 5 as never)).toThrow('readSafetensors(): the second argument names the file for error messages and must be a string, got number');
    const bytes = writeSafetensors({ w: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) } });
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    expect(Array.from(readSafetensors(copy as ArrayBuffer).get('w')!.data)).toEqual([1, 2]);
    // A transferred (detached) ArrayBuffer threw a raw TypeError ('Cannot perform Construct on a detached ArrayBuffer').
    structuredClone(copy, { transfer: [copy] });
    expect(() => readSafetensors(copy as ArrayBuffer)).toThrow('safetensors: file is 0 bytes, too short for a safetensors header');
    expect(Array.from(readSafetensors(bytes).get('w')!.data)).toEqual([1, 2]);
    for (const bad of [null, undefined, {}, [['w', {}]]]) expect(() => stateDictFrom(bad as never)).toThrow(/^stateDictFrom\(\): expected the Map that readSafetensors\(bytes\) returns, got /);
  });

  test('bytes from another realm (vm, jsdom, an iframe) are read as same-realm ones (were refused: "expected … a Uint8Array, got Uint8Array")', () => {
    const bytes = writeSafetensors({ w: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) }, i: { dtype: 'I64', shape: [1], data: BigInt64Array.of(-3n) as never } });
    const foreign = runInNewContext(`new Uint8Array(${bytes.length})`) as Uint8Array;
    foreign.set(bytes);
    expect(foreign instanceof Uint8Array).toBe(false);
    for (const b of [foreign, foreign.buffer as ArrayBuffer]) {
      const t = readSafetensors(b);
      expect(Array.from(t.get('w')!.data)).toEqual([1, 2]);
      expect(t.get('i')!.data).toEqual(Int32Array.of(-3));
    }
    expect(() => readSafetensors(runInNewContext('new Float32Array(4)') as never)).toThrow("readSafetensors(): expected the file's bytes as a Uint8Array (e.g. readFileSync(path)), got Float32Array");
  });

  test('writeSafetensors checks every tensor before it writes (were raw TypeErrors or a malformed file)', () => {
    const w = (t: unknown) => () => writeSafetensors(t as never);
    for (const bad of [null, undefined, 5, [1]]) expect(w(bad)).toThrow(/^writeSafetensors\(\): expected an object of tensors by name, \{ name: \{ dtype, shape, data \} \}, got /);
    expect(w({ a: 5 })).toThrow("writeSafetensors(): tensor 'a': expected { dtype, shape, data }, got 5");
    expect(w({ a: { dtype: 'F33', shape: [1], data: new Float32Array(1) } })).toThrow(`tensor 'a': unknown dtype "F33" (known: BOOL, U8,`);
    expect(w({ a: { dtype: 'F32', shape: [2, -1], data: new Float32Array(2) } })).toThrow("tensor 'a': shape must be an array of non-negative integers, got [2,-1]");
    expect(w({ a: { dtype: 'F32', shape: [2], data: [1, 2] } })).toThrow("tensor 'a': data must be a typed array, got [1,2]");
    expect(w({ a: { dtype: 'F32', shape: [2, 3], data: new Float32Array(5) } })).toThrow("tensor 'a': F32 [2,3] takes 24 bytes, its data has 20");
    expect(w({ a: { dtype: 'I64', shape: [2], data: new Int32Array(2) } })).toThrow("tensor 'a': I64 [2] takes 16 bytes, its data has 8");
    expect(w({ __metadata__: { dtype: 'F32', shape: [1], data: new Float32Array(1) } })).toThrow("tensor '__metadata__': the name is the format's metadata key");
    // The bytes are written as they are: a Float32Array saved as I32 was read back as other numbers (1.5 as 1069547520).
    expect(w({ a: { dtype: 'I32', shape: [1], data: Float32Array.of(1.5) } })).toThrow("writeSafetensors(): tensor 'a': I32 data must be an Int32Array (its bytes are written as they are), got Float32Array(1)");
    expect(w({ a: { dtype: 'F32', shape: [2], data: Int32Array.of(1, 2) } })).toThrow("tensor 'a': F32 data must be a Float32Array (its bytes are written as they are), got Int32Array(2)");
    expect(w({ a: { dtype: 'BOOL', shape: [1], data: Int8Array.of(1) } })).toThrow("tensor 'a': BOOL data must be a Uint8Array (its bytes are written as they are), got Int8Array(1)");
    // Kinds, not constructors: a Buffer is a Uint8Array, an array from another realm is still a Float32Array; F16 is written as its bits.
    const ok = writeSafetensors({ b: { dtype: 'U8', shape: [2], data: Buffer.from([3, 4]) }, f: { dtype: 'F32', shape: [1], data: runInNewContext('Float32Array.of(2.5)') }, h: { dtype: 'F16', shape: [1], data: Uint16Array.of(0x3e00) as never } });
    expect([...readSafetensors(ok)].map(([k, t]) => [k, Array.from(t.data)])).toEqual([['b', [3, 4]], ['f', [2.5]], ['h', [1.5]]]);
  });

  test('writeSafetensors takes the Map readSafetensors returns, a tensor named __proto__, and reads each tensor once (a Map was written as an empty file)', () => {
    const bytes = writeSafetensors({ a: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) }, b: { dtype: 'I32', shape: [1], data: Int32Array.of(7) } });
    const again = writeSafetensors(readSafetensors(bytes));
    expect([...readSafetensors(again)].map(([k, t]) => [k, t.dtype, Array.from(t.data)])).toEqual([['a', 'F32', [1, 2]], ['b', 'I32', [7]]]);
    // A __proto__ key (from JSON.parse, or defined) set the header's prototype: the file had data of no tensor.
    const proto: Record<string, unknown> = {};
    Object.defineProperty(proto, '__proto__', { value: { dtype: 'F32', shape: [1], data: Float32Array.of(3) }, enumerable: true });
    expect(Array.from(readSafetensors(writeSafetensors(proto as never)).get('__proto__')!.data)).toEqual([3]);
    // A getter that answers differently the second time: what was checked is what is written.
    let n = 0;
    const flip = { get a() { return n++ ? { dtype: 'F33', shape: [1], data: new Float32Array(1) } : { dtype: 'F32', shape: [1], data: Float32Array.of(5) }; } };
    expect(Array.from(readSafetensors(writeSafetensors(flip as never)).get('a')!.data)).toEqual([5]);
    expect(() => writeSafetensors(new Map([['a', 5]]) as never)).toThrow("writeSafetensors(): tensor 'a': expected { dtype, shape, data }, got 5");
  });

  test('writeSafetensors pads the header to 8 bytes of UTF-8, so data after a non-ASCII name stays aligned', () => {
    for (const name of ['é', 'poids.é', '重み', '😀x']) {
      const bytes = writeSafetensors({ [name]: { dtype: 'F32', shape: [1], data: Float32Array.of(1) } });
      const headerBytes = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect((8 + headerBytes) % 8, name).toBe(0);
      expect(Array.from(readSafetensors(bytes).get(name)!.data)).toEqual([1]);
    }
  });
});
