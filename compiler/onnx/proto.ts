// Reads ONNX files: ModelProto and TensorProto (protobuf) into plain objects, with protobufjs
// (reflection over the vendored schema, schema.ts) doing the wire format: packed and unpacked
// repeated fields, raw_data as a view, int64 as exact 64-bit values (Long) that we convert to
// numbers here, checking each is a safe integer.

import protobuf from 'protobufjs/light.js';
import { ONNX_SCHEMA } from './schema.ts';
import { describeValue } from '../ir/print.ts';
import { typedKind } from '../ir/types.ts';

/** An ONNX file that cannot be read, or a model we refuse; the message says what and where. */
export class OnnxError extends Error {
  override name = 'OnnxError';
}
/** An op, attribute or dtype the importer does not support (or refuses, rather than compute something else). */
export class UnsupportedError extends OnnxError {
  override name = 'UnsupportedError';
}

const root = protobuf.Root.fromJSON(ONNX_SCHEMA);
const ModelProto = root.lookupType('onnx.ModelProto');
const TensorProto = root.lookupType('onnx.TensorProto');

/** TensorProto.DataType, the names ONNX gives them. */
export const ONNX_DTYPES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING', 9: 'BOOL',
  10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
  17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4', 23: 'FLOAT4E2M1',
  24: 'FLOAT8E8M0', 25: 'UINT2', 26: 'INT2',
};
export const dtypeName = (t: number): string => ONNX_DTYPES[t] ?? `data type ${t}`;
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11, UINT32: 12 } as const;

/** A tensor's values as JavaScript numbers (int64 exactly when |v| < 2^53, else the nearest double). */
export interface OnnxTensor {
  name: string;
  dtype: number;
  dims: number[];
  data: Float32Array | Float64Array | Int32Array | Uint8Array | number[];
}

export type OnnxAttr =
  | { kind: 'float'; value: number } | { kind: 'int'; value: number } | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: OnnxTensor } | { kind: 'graph' }
  | { kind: 'floats'; value: number[] } | { kind: 'ints'; value: number[] } | { kind: 'strings'; value: string[] };

export interface OnnxNode { name: string; opType: string; domain: string; inputs: string[]; outputs: string[]; attrs: Map<string, OnnxAttr> }
/** A dimension: a size, a symbolic name (dim_param), or unknown. */
export type OnnxDim = number | string | undefined;
export interface OnnxValueInfo { name: string; dtype: number; dims: OnnxDim[] | undefined }
export interface OnnxGraph { name: string; nodes: OnnxNode[]; initializers: OnnxTensor[]; inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[] }
export interface OnnxModel { irVersion: number; producer: string; opsets: Map<string, number>; graph: OnnxGraph }

type Msg = Record<string, unknown>;
type LongLike = { low: number; high: number; unsigned: boolean; toNumber(): number };

/** An int64 field's value as a number; values past 2^53 (INT64_MAX as a Slice end) round, which callers clamp. */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'low' in v) return (v as LongLike).toNumber();
  return 0;
}
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const ELEM_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 11: 8, 12: 4, 13: 8 };

function rawValues(dtype: number, raw: Uint8Array, count: number, where: string): OnnxTensor['data'] {
  const size = ELEM_BYTES[dtype];
  if (size === undefined) throw new UnsupportedError(`${where}: raw data of type ${dtypeName(dtype)} is not supported`);
  if (raw.length !== count * size) throw new OnnxError(`${where}: raw_data has ${raw.length} bytes, expected ${count} × ${size} for its dims`);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case DT.FLOAT: { const out = new Float32Array(count); for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true); return out; }
    case DT.DOUBLE: { const out = new Float64Array(count); for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true); return out; }
    case DT.INT64: return Array.from({ length: count }, (_, i) => Number(dv.getBigInt64(i * 8, true)));
    case 13: return Array.from({ length: count }, (_, i) => Number(dv.getBigUint64(i * 8, true)));
    case DT.INT32: { const out = new Int32Array(count); for (let i = 0; i < count; i++) out[i] = dv.getInt32(i * 4, true); return out; }
    case DT.UINT32: return Array.from({ length: count }, (_, i) => dv.getUint32(i * 4, true));
    case DT.INT16: return Array.from({ length: count }, (_, i) => dv.getInt16(i * 2, true));
    case DT.UINT16: return Array.from({ length: count }, (_, i) => dv.getUint16(i * 2, true));
    case DT.INT8: return Array.from({ length: count }, (_, i) => dv.getInt8(i));
    case DT.BOOL: return Uint8Array.from(raw, (b) => (b ? 1 : 0));
    default: return Uint8Array.from(raw);
  }
}

function tensorOf(m: Msg, where: string): OnnxTensor {
  const name = (m.name as string | undefined) ?? '';
  const at = `${where}${name ? ` '${name}'` : ''}`;
  const dtype = (m.data_type as number | undefined) ?? 0;
  const dims = arr(m.dims).map(num);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new OnnxError(`${at}: bad dims [${dims.join(', ')}]`);
  if (m.data_location === 1) throw new OnnxError(`${at}: external data is not supported (save the model with its weights inside the .onnx file)`);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = m.raw_data as Uint8Array | undefined;
  let data: OnnxTensor['data'];
  if (raw && raw.length) data = rawValues(dtype, raw, count, at);
  else if (dtype === DT.FLOAT) data = Float32Array.from(arr(m.float_data) as number[]);
  else if (dtype === DT.DOUBLE) data = Float64Array.from(arr(m.double_data) as number[]);
  else if (dtype === DT.INT64) data = arr(m.int64_data).map(num);
  else if (dtype === 13 || dtype === DT.UINT32) data = arr(m.uint64_data).map(num);
  else if (dtype === DT.BOOL) data = Uint8Array.from(arr(m.int32_data) as number[], (b) => (b ? 1 : 0));
  else if ([DT.INT32, DT.INT16, DT.INT8, DT.UINT16, DT.UINT8].includes(dtype as 6)) data = Int32Array.from(arr(m.int32_data) as number[]);
  else if (count === 0) data = [];
  else throw new UnsupportedError(`${at}: tensors of type ${dtypeName(dtype)} are not supported`);
  if (data.length !== count) throw new OnnxError(`${at}: has ${data.length} values for dims [${dims.join(', ')}] (${count})`);
  return { name, dtype, dims, data };
}

function attrOf(a: Msg, where: string): OnnxAttr {
  const name = a.name as string;
  // AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, GRAPH 5, FLOATS 6, INTS 7, STRINGS 8.
  switch (a.type as number) {
    case 1: return { kind: 'float', value: (a.f as number | undefined) ?? 0 };
    case 2: return { kind: 'int', value: num(a.i) };
    // A field the file leaves out reads as protobufjs's default (an empty array for bytes, null for a message).
    case 3: return { kind: 'string', value: a.s instanceof Uint8Array ? new TextDecoder().decode(a.s) : '' };
    case 4:
      if (!a.t) throw new OnnxError(`${where} attribute '${name}': of type TENSOR but holds no tensor (a damaged file?)`);
      return { kind: 'tensor', value: tensorOf(a.t as Msg, `${where} attribute '${name}'`) };
    case 5: return { kind: 'graph' };
    case 6: return { kind: 'floats', value: arr(a.floats) as number[] };
    case 7: return { kind: 'ints', value: arr(a.ints).map(num) };
    case 8: return { kind: 'strings', value: arr(a.strings).map((s) => new TextDecoder().decode(s as Uint8Array)) };
    default: return { kind: 'graph' };
  }
}

function valueInfo(v: Msg): OnnxValueInfo {
  const t = (v.type as Msg | undefined)?.tensor_type as Msg | undefined;
  const shape = t?.shape as Msg | undefined;
  const dims = shape ? arr(shape.dim).map((d): OnnxDim => {
    const m = d as Msg;
    // Decoded fields are own properties; the prototype holds proto2's defaults.
    if (Object.hasOwn(m, 'dim_value')) return num(m.dim_value);
    return Object.hasOwn(m, 'dim_param') ? (m.dim_param as string) || undefined : undefined;
  }) : undefined;
  return { name: v.name as string, dtype: (t?.elem_type as number | undefined) ?? 0, dims };
}

function graphOf(g: Msg): OnnxGraph {
  return {
    name: (g.name as string | undefined) ?? '',
    nodes: arr(g.node).map((x, i) => {
      const n = x as Msg;
      const name = (n.name as string | undefined) || `#${i}`;
      const where = `node '${name}' (${n.op_type as string})`;
      return {
        name, opType: n.op_type as string, domain: (n.domain as string | undefined) ?? '',
        inputs: arr(n.input) as string[], outputs: arr(n.output) as string[],
        attrs: new Map(arr(n.attribute).map((a) => [(a as Msg).name as string, attrOf(a as Msg, where)])),
      };
    }),
    initializers: arr(g.initializer).map((t) => tensorOf(t as Msg, 'initializer')),
    inputs: arr(g.input).map((v) => valueInfo(v as Msg)),
    outputs: arr(g.output).map((v) => valueInfo(v as Msg)),
  };
}


function decode(type: protobuf.Type, bytes: Uint8Array, what: string): Msg {
  // Bytes from another realm were refused as "got Uint8Array": read through a view of this realm.
  if (!(bytes instanceof Uint8Array) && typedKind.call(bytes) === 'Uint8Array') { const b = bytes as Uint8Array; bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength); }
  if (!(bytes instanceof Uint8Array)) {
    const hint = (bytes as unknown) instanceof ArrayBuffer ? ' (wrap it: new Uint8Array(buffer))' : typeof bytes === 'string' ? ' (a path? pass readFileSync(path))' : '';
    throw new OnnxError(`${what}: expected the file's bytes as a Uint8Array, got ${describeValue(bytes)}${hint}`);
  }
  try { return type.decode(bytes) as unknown as Msg; } catch (e) {
    throw new OnnxError(`${what}: not a valid protobuf ${type.name} (${(e as Error).message})`);
  }
}

/** Decodes an ONNX model file (ModelProto). */
export function readOnnxModel(bytes: Uint8Array): OnnxModel {
  const m = decode(ModelProto, bytes, 'onnx');
  if (!m.graph) throw new OnnxError('onnx: the file has no graph (is it an ONNX model?)');
  const opsets = new Map<string, number>();
  for (const o of arr(m.opset_import)) {
    const d = ((o as Msg).domain as string | undefined) ?? '';
    opsets.set(d === 'ai.onnx' ? '' : d, num((o as Msg).version));
  }
  return { irVersion: num(m.ir_version), producer: (m.producer_name as string | undefined) ?? '', opsets, graph: graphOf(m.graph as Msg) };
}

/** Decodes a serialized TensorProto (the backend tests' input_N.pb / output_N.pb). */
export function readOnnxTensor(bytes: Uint8Array): OnnxTensor {
  return tensorOf(decode(TensorProto, bytes, 'onnx tensor'), 'tensor');
}
