// Writes ONNX models (ModelProto, protobuf wire format) from TypeScript, for the ONNX Runtime
// peer: a wire-format writer (varints, length-delimited fields, fixed32) and a small graph
// builder. Field numbers are those of onnx.proto3; only what the benchmark's graphs use.

/** Protobuf wire-format writer: each method appends one field (tag, then value). */
export class Pb {
  private chunks: Uint8Array[] = [];
  private cur: number[] = [];

  private flush(): void { if (this.cur.length) { this.chunks.push(Uint8Array.from(this.cur)); this.cur = []; } }
  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) { this.cur.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
    this.cur.push(Number(x));
  }
  private tag(field: number, wire: 0 | 2 | 5): void { this.varint((field << 3) | wire); }

  int(field: number, v: number | bigint): this { this.tag(field, 0); this.varint(v); return this; }
  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4); new DataView(b.buffer).setFloat32(0, v, true);
    this.cur.push(...b);
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2); this.varint(b.length); this.flush(); this.chunks.push(b);
    return this;
  }
  string(field: number, s: string): this { return this.bytes(field, new TextEncoder().encode(s)); }
  message(field: number, m: Pb): this { return this.bytes(field, m.finish()); }
  /** A packed repeated varint field. */
  packedInts(field: number, vs: readonly number[]): this {
    const p = new Pb(); for (const v of vs) p.varint(v);
    return this.bytes(field, p.finish());
  }
  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.chunks.reduce((s, c) => s + c.length, 0));
    let o = 0;
    for (const c of this.chunks) { out.set(c, o); o += c.length; }
    return out;
  }
}

export const DT = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;
type Attr = number | number[] | string | { floats: number[] } | { f: number } | { strings: string[] };

/** TensorProto: dims (1), data_type (2), name (8), raw_data (9, little-endian). */
function tensorProto(name: string, dims: readonly number[], dtype: number, raw: Uint8Array): Pb {
  const t = new Pb();
  for (const d of dims) t.int(1, d);
  return t.int(2, dtype).string(8, name).bytes(9, raw);
}

/** ValueInfoProto with a tensor type: name (1), type (2) → tensor_type (1) → elem_type (1), shape (2) → dim (1) → dim_value (1) or dim_param (2). */
function valueInfo(name: string, dims: readonly (number | string)[], dtype: number): Pb {
  const shape = new Pb();
  for (const d of dims) shape.message(1, typeof d === 'string' ? new Pb().string(2, d) : new Pb().int(1, d));
  return new Pb().string(1, name).message(2, new Pb().message(1, new Pb().int(1, dtype).message(2, shape)));
}

/** AttributeProto: name (1), f (2), i (3), s (4), floats (7), ints (8), strings (9), type (20). */
function attribute(name: string, v: Attr): Pb {
  const a = new Pb().string(1, name);
  if (typeof v === 'number') return a.int(3, v).int(20, 2);
  if (typeof v === 'string') return a.string(4, v).int(20, 3);
  if (Array.isArray(v)) { for (const x of v) a.int(8, x); return a.int(20, 7); }
  if ('f' in v) return a.float(2, v.f).int(20, 1);
  if ('strings' in v) { for (const x of v.strings) a.string(9, x); return a.int(20, 8); }
  for (const x of v.floats) a.float(7, x);
  return a.int(20, 6);
}

/** Builds one graph; `finish` returns the serialized ModelProto. */
export class OnnxGraph {
  private nodes: Pb[] = [];
  private inits: Pb[] = [];
  private inputs: Pb[] = [];
  private outputs: Pb[] = [];
  private n = 0;

  /** A graph input; a string dim is a symbolic dimension (dim_param). */
  input(name: string, dims: readonly (number | string)[], dtype: number = DT.FLOAT): string { this.inputs.push(valueInfo(name, dims, dtype)); return name; }
  output(name: string, dims: readonly (number | string)[], dtype: number = DT.FLOAT): void { this.outputs.push(valueInfo(name, dims, dtype)); }

  /** A float initializer (a constant tensor). */
  init(name: string, dims: readonly number[], data: Float32Array): string {
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`onnx init '${name}': ${data.length} floats for dims [${dims}]`);
    this.inits.push(tensorProto(name, dims, DT.FLOAT, new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))));
    return name;
  }
  /** An int64 initializer (shapes, axes, split sizes, indices). */
  ints(name: string, dims: readonly number[], data: readonly number[]): string {
    const raw = new Uint8Array(data.length * 8), dv = new DataView(raw.buffer);
    data.forEach((x, i) => dv.setBigInt64(i * 8, BigInt(x), true));
    this.inits.push(tensorProto(name, dims, DT.INT64, raw));
    return name;
  }

  /** NodeProto: input (1), output (2), name (3), op_type (4), attribute (5), domain (7). Returns the outputs' names. */
  op(type: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, nOut = 1, domain = ''): string[] {
    const id = this.n++;
    const outs = Array.from({ length: nOut }, (_, i) => `${type.toLowerCase()}${id}_${i}`);
    const node = new Pb();
    for (const i of inputs) node.string(1, i);
    for (const o of outs) node.string(2, o);
    node.string(3, `${type}_${id}`).string(4, type);
    for (const [k, v] of Object.entries(attrs)) node.message(5, attribute(k, v));
    if (domain) node.string(7, domain);
    this.nodes.push(node);
    return outs;
  }
  /** One-output op. */
  op1(type: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string { return this.op(type, inputs, attrs)[0]!; }
  /** Renames a value to a graph output name via Identity. */
  name(value: string, as: string): string {
    const node = new Pb().string(1, value).string(2, as).string(3, `Identity_${this.n++}`).string(4, 'Identity');
    this.nodes.push(node);
    return as;
  }

  /** ModelProto: ir_version (1), producer_name (2), graph (7), opset_import (8: domain 1, version 2). */
  finish(name: string, opset = 17): Uint8Array {
    const g = new Pb();
    for (const n of this.nodes) g.message(1, n);
    g.string(2, name);
    for (const t of this.inits) g.message(5, t);
    for (const i of this.inputs) g.message(11, i);
    for (const o of this.outputs) g.message(12, o);
    return new Pb().int(1, 8).string(2, 'simdflow-bench').message(7, g).message(8, new Pb().string(1, '').int(2, opset)).finish();
  }
}
