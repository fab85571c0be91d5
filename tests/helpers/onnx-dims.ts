// Rewrites the declared types of an ONNX file's graph inputs (ModelProto wire format, everything
// else kept byte for byte): e.g. a node test's input [3, 4, 5] as ['batch', 4, 5], so the
// importer's symbolic sizes can be tried on any ONNX file. Field numbers are onnx.proto3's:
// ModelProto.graph (7), GraphProto.input (11), ValueInfoProto.name (1); bench/onnx.ts writes
// the new ValueInfoProto.
import { Pb } from '../../bench/onnx.ts';

interface Field { no: number; start: number; end: number; body?: [number, number] }

function varint(b: Uint8Array, p: number): [bigint, number] {
  let x = 0n, s = 0n;
  for (;;) { const c = b[p++]!; x |= BigInt(c & 0x7f) << s; s += 7n; if (!(c & 0x80)) return [x, p]; }
}
/** The top-level fields of a message: where each starts and ends, and a length-delimited one's body. */
function fields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  for (let p = 0; p < b.length;) {
    const start = p;
    const [tag, q] = varint(b, p);
    const no = Number(tag >> 3n), wire = Number(tag & 7n);
    if (wire === 0) p = varint(b, q)[1];
    else if (wire === 1) p = q + 8;
    else if (wire === 5) p = q + 4;
    else if (wire === 2) { const [len, r] = varint(b, q); p = r + Number(len); out.push({ no, start, end: p, body: [r, p] }); continue; }
    else throw new Error(`onnx-dims: wire type ${wire} at byte ${start}`);
    out.push({ no, start, end: p });
  }
  return out;
}
const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of parts) { out.set(x, at); at += x.length; }
  return out;
};

/** `bytes` with each graph input named in `inputs` declared with those dims (numbers or dim_params) and element type. */
export function setInputDims(bytes: Uint8Array, inputs: Record<string, { dims: ReadonlyArray<number | string>; dtype: number }>): Uint8Array {
  return concat(fields(bytes).map((f) => {
    if (f.no !== 7 || !f.body) return bytes.subarray(f.start, f.end);
    const g = bytes.subarray(...f.body);
    return new Pb().bytes(7, concat(fields(g).map((h) => {
      const vi = h.no === 11 && h.body ? g.subarray(...h.body) : undefined;
      const nameField = vi && fields(vi).find((x) => x.no === 1 && x.body);
      const name = nameField && new TextDecoder().decode(vi!.subarray(...nameField.body!));
      const want = name === undefined ? undefined : inputs[name];
      if (!want) return g.subarray(h.start, h.end);
      const shape = new Pb();
      for (const d of want.dims) shape.message(1, typeof d === 'string' ? new Pb().string(2, d) : new Pb().int(1, d));
      return new Pb().message(11, new Pb().string(1, name!).message(2, new Pb().message(1, new Pb().int(1, want.dtype).message(2, shape)))).finish();
    }))).finish();
  }));
}
