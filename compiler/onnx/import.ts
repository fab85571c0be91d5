// ONNX → the IR the DSL produces. Each ONNX node is translated by ops.ts through the DSL's
// Tensor operations (so shapes are checked as they are recorded, as for a traced model).
// Values known at import time (initializers, Constant, Shape of a static shape and whatever is
// computed only from those) stay host values and are folded through the reference semantics,
// so PyTorch's Shape → Gather → Concat → Reshape chains become plain reshapes. With a size
// kept symbolic those chains compute size values ([batch, 4]: ctx.ts) that Reshape, Expand,
// ConstantOfShape, Range and Slice turn into the DSL's dim-aware operations.

import { makeGraph, node as mkNode, type EmptyEdge, type Graph, type Node } from '../ir/node.ts';
import { verify } from '../ir/verify.ts';
import { RESERVED_SIZE, SIZE_NAME } from '../ir/dims.ts';
import { fmtShape, MAX_NAME, numel, type DType, type TensorType } from '../ir/types.ts';
import { ModelDefinitionError, record, popScope, pushScope, Tensor, withTrace } from '../dsl/tensor.ts';
import { OnnxError, readOnnxModel, type OnnxModel, type OnnxTensor } from './proto.ts';
import { Ctx, emptyVal, fmtSizes, foldTensor, host, irDtype, isEmptyVal, isHost, isSizeVal, symbolicSizeOf, toTensor, UnsupportedError, type AnyVal } from './ctx.ts';
import { OPS } from './ops.ts';
import { EMPTY_OPS } from './ops/empty.ts';

export { OnnxError };
export { NeedsConstantError, UnsupportedError } from './ctx.ts';

export interface ImportOptions {
  /**
   * Symbolic dimensions (dim_param): a fixed size (`{ batch: 1 }`), or `{ max: N }` to keep the
   * size symbolic (any size 1..N at run time; see the DSL's sizes chosen at run time), with
   * `min: M` (`{ min: 3, max: N }`) when it is never below M (a kernel of 3 over it). A symbolic
   * size is supported through the ops of SYMBOLIC_OK (elementwise, MatMul/Gemm, Softmax,
   * LayerNormalization, Transpose, …, and a CNN's batch: Conv, pools, normalisations, Resize,
   * Concat/Slice/Pad on other axes, …); any other op on it, or a symbolic size on an axis the op
   * cannot take, is refused, naming the size.
   */
  dims?: Record<string, number | { max: number; min?: number }>;
  /** Full shapes of some inputs, overriding the file's. */
  shapes?: Record<string, number[]>;
  /** Graph inputs to bind to constant values (they stop being inputs), e.g. weights a file keeps as inputs. */
  constants?: Record<string, OnnxTensor>;
  /** The model's name (default: the graph's name, or 'model'). */
  name?: string;
}

export interface Imported {
  name: string;
  graph: Graph;
  /** The decoded file (opsets, producer). */
  model: OnnxModel;
}

/** An input's type: fixed sizes, or symbolic ones kept as dims with their bounds. */
function inputType(name: string, dtype: DType, dims: (number | string | undefined)[] | undefined, opts: ImportOptions, least: Record<string, number>): TensorType {
  const given = opts.shapes?.[name];
  if (given) {
    if (!Array.isArray(given) || given.some((d) => !Number.isInteger(d) || d < 0)) throw new OnnxError(`importOnnx: shapes['${name}'] must be an array of sizes (integers ≥ 0), got ${JSON.stringify(given)}`);
    // The override fills in what the file leaves open; it may not contradict what the file fixes.
    if (dims) {
      const axis = dims.length !== given.length ? -1 : dims.findIndex((d, i) => typeof d === 'number' && d > 0 && d !== given[i]);
      if (dims.length !== given.length || axis >= 0) {
        throw new OnnxError(`importOnnx: shapes['${name}'] is [${given.join(', ')}], but the file declares [${dims.map((d) => d ?? '?').join(', ')}] (${axis < 0 ? `rank ${dims.length}` : `axis ${axis} is ${dims[axis]}`})`);
      }
    }
    return { dtype, shape: [...given] };
  }
  if (!dims) throw new OnnxError(`onnx: input '${name}' has no shape in the file; give it with { shapes: { '${name}': [...] } }`);
  const max: Record<string, number> = {}, min: Record<string, number> = {};
  const sym: Array<number | string> = dims.map((d, i) => {
    if (typeof d === 'number') return d; // 0 too: an empty input (ctx.ts EmptyVal)
    if (typeof d === 'string') {
      const v = opts.dims?.[d];
      if (v === undefined) throw new OnnxError(`onnx: input '${name}' axis ${i} is the symbolic dimension '${d}'; give its size with { dims: { ${JSON.stringify(d)}: N } } (or { max: N } to keep it symbolic)`);
      if (typeof v === 'object' && v !== null) {
        const extra = Object.keys(v).find((k) => k !== 'max' && k !== 'min');
        if (extra !== undefined) throw new OnnxError(`onnx: dims.${d} has the unknown key '${extra.slice(0, 40)}'; a symbolic size takes only { max: N } or { min: M, max: N } (sizes run from M, 1 unless given, to N)`);
        if (!SIZE_NAME.test(d)) throw new OnnxError(`onnx: dimension '${d}' cannot stay symbolic (a size name is a letter or _ then letters, digits or _); give it a fixed size`);
        if (RESERVED_SIZE.test(d)) throw new OnnxError(`onnx: dimension '${d}' cannot stay symbolic under that name (reserved: the compiler names floors of sizes so while it checks shapes); give it a fixed size`);
        if (!Number.isInteger(v.max) || v.max < 2 || v.max > 2 ** 30) throw new OnnxError(`onnx: dims.${d}.max must be an integer from 2 to 2^30, got ${typeof v.max === 'string' ? JSON.stringify(v.max) : String(v.max)}`);
        if (v.min !== undefined && (!Number.isInteger(v.min) || v.min < 1 || v.min > v.max)) throw new OnnxError(`onnx: dims.${d}.min must be an integer from 1 to dims.${d}.max (${v.max}), got ${typeof v.min === 'string' ? JSON.stringify(v.min) : String(v.min)}`);
        max[d] = v.max;
        if (least[d] !== undefined) min[d] = least[d]!;
        return d;
      }
      if (!Number.isInteger(v) || v < 1) throw new OnnxError(`onnx: dims.${d} must be a positive integer or { max: N }, got ${JSON.stringify(v)}`);
      return v;
    }
    throw new OnnxError(`onnx: input '${name}' axis ${i} has no size; give the input's shape with { shapes: { '${name}': [...] } }`);
  });
  const shape = sym.map((d) => (typeof d === 'string' ? max[d]! : d));
  return Object.keys(max).length ? { dtype, shape, dims: sym, max, ...(Object.keys(min).length ? { min } : {}) } : { dtype, shape };
}

/**
 * A symbolic batch and lengths through convolutional networks. Each translator refuses a symbolic
 * size on an axis it cannot take, naming the axis (ops/common.ts fixedAxes): 1-D and 2-D
 * convolutions and pools take it on the batch and the spatial axes (each window checked by
 * F.windowsDim), 3-D ones only on the batch; the Batch/Instance/GroupNormalizations on every axis
 * but the channels (axis 1); Pad not on the axis it grows; Resize keeps it
 * at scale 1 or by sizes that name it; Flatten and Dropout take it on any axis. (Concat, Split, Slice, Squeeze, Unsqueeze
 * and the reductions are among the shape computations below.)
 */
const SYMBOLIC_CNN = ['Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool',
  'BatchNormalization', 'InstanceNormalization', 'GroupNormalization', 'Dropout', 'Flatten', 'Pad', 'Resize',
  'CastLike', 'Not', 'And', 'Or', 'Xor', 'Equal'];
/** Ops that follow symbolic sizes through the DSL's dim-aware operations. */
const SYMBOLIC_OK = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Relu', 'Tanh', 'Sigmoid', 'Exp', 'Log', 'Sqrt', 'Erf',
  'Neg', 'Abs', 'Reciprocal', 'Gelu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Softplus', 'Softsign', 'HardSigmoid', 'HardSwish', 'Mish', 'Swish',
  'Clip', 'Softmax', 'LogSoftmax', 'Cast', 'Identity', 'MatMul', 'Gemm', 'LayerNormalization', 'Transpose', 'Where',
  'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Floor', 'Ceil', 'Round', 'Sign', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan',
  'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Tile', 'RMSNormalization', 'Einsum',
  'TopK', 'RotaryEmbedding', 'DepthToSpace', 'SpaceToDepth', 'GatherElements', 'OneHot', 'Mod', ...SYMBOLIC_CNN,
  'GridSample', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor', 'BitwiseNot', 'NegativeLogLikelihoodLoss', 'SoftmaxCrossEntropyLoss',
  'NonZero', 'Unique', 'Compress']); // (the last three refuse themselves at every size: ops/shapes.ts dataDependentSize)
/**
 * Shape computations and the layers PyTorch exports around them (ops/sizes.ts, ops/shapes.ts,
 * ops/recurrent.ts): Shape/Size give size values; Gather/Slice/Concat/(Un)squeeze/Reshape and
 * Add/Sub/Mul/Div (above) compute on them; Reshape, Expand, ConstantOfShape, Range and Slice
 * take them as dims. Each refuses, naming the op and size, what it cannot express. The reductions,
 * ArgMax/ArgMin and CumSum take a symbolic size on any axis (ops/reductions.ts).
 */
const SYMBOLIC_SHAPES = new Set(['Shape', 'Size', 'Gather', 'Slice', 'Concat', 'Unsqueeze', 'Squeeze', 'Reshape', 'Expand', 'ConstantOfShape',
  'Range', 'Split', 'Trilu', 'RNN', 'GRU', 'LSTM', 'ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceSumSquare', 'ReduceL1', 'ReduceL2',
  'ReduceLogSum', 'ReduceLogSumExp', 'ArgMax', 'ArgMin', 'CumSum', 'AffineGrid']);
/** Ops that take a size value (ops/sizes.ts) but not yet a tensor of a symbolic size. */
const SIZE_VALUES_ONLY = new Set(['ReduceProd']);

const OPTION_KEYS = ['dims', 'shapes', 'constants', 'name'];

/** Reads an ONNX model and translates it to an IR graph (entry `run`), ready for compileGraph. */
export function importOnnx(bytes: Uint8Array, opts: ImportOptions = {}): Imported {
  if (typeof opts !== 'object' || opts === null) throw new OnnxError('importOnnx: options must be an object');
  for (const k of Object.keys(opts)) if (!OPTION_KEYS.includes(k)) throw new OnnxError(`importOnnx: unknown option '${k}' (options: ${OPTION_KEYS.join(', ')})`);
  // dims: 5 read as no dims (the error asked for the dims given); name: 5 became the model's name.
  const shown = (v: unknown) => (Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeof v === 'object' ? 'an object' : String(v));
  for (const k of ['dims', 'shapes', 'constants'] as const) {
    const v = opts[k];
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) throw new OnnxError(`importOnnx: option ${k} must be an object by name, got ${shown(v)}`);
  }
  if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name.length === 0 || opts.name.length > MAX_NAME)) throw new OnnxError(`importOnnx: option name must be a string of 1 to ${MAX_NAME} characters, got ${shown(opts.name)}`);
  // A constant that is not an OnnxTensor (a bare Float32Array) failed later as an unsupported element type at some node.
  for (const [k, c] of Object.entries(opts.constants ?? {})) {
    const at = `importOnnx: constants['${k.slice(0, 60)}']`, t = c as Partial<OnnxTensor> | null;
    const data = typeof t === 'object' && t !== null && !ArrayBuffer.isView(t) ? t.data : undefined;
    if (typeof t !== 'object' || t === null || ArrayBuffer.isView(t) || !Number.isInteger(t.dtype) || !Array.isArray(t.dims) || !t.dims.every((d) => Number.isInteger(d) && d >= 0)
      || !(Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView)))) {
      throw new OnnxError(`${at} must be an ONNX tensor { dtype, dims, data } (dtype an ONNX data type number such as 1 for float, dims a list of sizes, data a typed array or numbers), got ${ArrayBuffer.isView(t) ? `${t.constructor.name}(${(t as unknown as { length: number }).length})` : shown(t)}`);
    }
    const n = t.dims!.reduce((a, b) => a * b, 1);
    if ((data as ArrayLike<number>).length !== n) throw new OnnxError(`${at}: dims [${t.dims!.join(', ')}] hold ${n} values, its data has ${(data as ArrayLike<number>).length}`);
  }
  const model = readOnnxModel(bytes);
  const opset = model.opsets.get('') ?? 1;
  const g = model.graph;
  // The bounds of the sizes kept symbolic, for constants sliced to a size (Range, Trilu).
  const bounds = Object.fromEntries(Object.entries(opts.dims ?? {}).flatMap(([k, v]) => (typeof v === 'object' && v !== null ? [[k, v.max]] : [])));
  // Their declared least values above 1 (a minimum of 1 is the default, kept out of the types); inputType checks them.
  const least = Object.fromEntries(Object.entries(opts.dims ?? {}).flatMap(([k, v]) => (typeof v === 'object' && v !== null && typeof v.min === 'number' && v.min > 1 ? [[k, v.min]] : [])));
  const { result: graph } = withTrace(() => {
    const vals = new Map<string, AnyVal>();
    for (const t of g.initializers) vals.set(t.name, host(t.dtype, t.dims, t.data));
    const inputs: Node[] = [];
    // Zero-size inputs and outputs are no nodes (ctx.ts EmptyVal): the graph lists them apart.
    const empty: { inputs: EmptyEdge[]; outputs: EmptyEdge[] } = { inputs: [], outputs: [] };
    for (const vi of g.inputs) {
      if (vals.has(vi.name) && !opts.constants?.[vi.name]) continue; // an initializer listed as an input (IR < 4): a constant
      const c = opts.constants?.[vi.name];
      if (c) { vals.set(vi.name, host(c.dtype, c.dims, c.data)); continue; }
      const type = inputType(vi.name, irDtype(vi.dtype, `input '${vi.name}'`), vi.dims, opts, least);
      if (type.shape.includes(0)) {
        if (type.dims) throw new UnsupportedError(`onnx: input '${vi.name}' [${type.dims.join(', ')}] is empty (a 0) and has a symbolic size; an empty input needs fixed sizes`);
        empty.inputs.push({ name: vi.name, dtype: type.dtype, shape: type.shape, at: inputs.length + empty.inputs.length });
        vals.set(vi.name, emptyVal(type.dtype, [...type.shape], `graph input '${vi.name}'`));
        continue;
      }
      const n = mkNode('input', [], type, { name: vi.name }, vi.name);
      inputs.push(n);
      vals.set(vi.name, new Tensor(n));
    }
    for (const k of Object.keys(opts.constants ?? {})) if (!g.inputs.some((i) => i.name === k)) throw new OnnxError(`importOnnx: constants names '${k}', which is not an input of the graph (inputs: ${g.inputs.map((i) => i.name).join(', ')})`);
    // Sizes for names the graph does not have would be ignored: a misspelt input or dimension.
    const names = g.inputs.map((vi) => vi.name), fed = names.filter((name) => vals.get(name) instanceof Tensor && (vals.get(name) as Tensor).node.op === 'input');
    for (const k of Object.keys(opts.shapes ?? {})) if (!names.includes(k)) throw new OnnxError(`importOnnx: shapes names '${k}', which is not an input of the graph (inputs: ${names.join(', ') || 'none'})`);
    const symbolic = new Set(g.inputs.filter((vi) => fed.includes(vi.name) && !opts.shapes?.[vi.name]).flatMap((vi) => (vi.dims ?? []).filter((d): d is string => typeof d === 'string')));
    for (const k of Object.keys(opts.dims ?? {})) if (!symbolic.has(k)) throw new OnnxError(`importOnnx: dims names '${k}', which is not a symbolic dimension of the graph's inputs (${symbolic.size ? `symbolic: ${[...symbolic].join(', ')}` : 'it has none'})`);
    for (const n of g.nodes) {
      const domain = n.domain === 'ai.onnx' ? '' : n.domain;
      const ctx = new Ctx(n, model.opsets.get(domain) ?? opset, n.inputs.map((name) => {
        if (name === '') return undefined;
        const v = vals.get(name);
        if (!v) throw new OnnxError(`onnx: node '${n.name}' (${n.opType}) reads '${name}', which no earlier node, input or initializer defines`);
        return v;
      }));
      const tr = domain === '' ? OPS[n.opType] : undefined;
      if (!tr) throw new UnsupportedError(`${ctx.where}: operator ${domain ? `${domain}.` : ''}${n.opType} is not supported`);
      const symIn = n.inputs.map((name) => vals.get(name)).find((v) => symbolicSizeOf(v) !== undefined && !(SIZE_VALUES_ONLY.has(n.opType) && isSizeVal(v)));
      if (symIn && !SYMBOLIC_OK.has(n.opType) && !SYMBOLIC_SHAPES.has(n.opType)) {
        const size = symbolicSizeOf(symIn)!;
        throw new UnsupportedError(`${ctx.where}: ${n.opType} on ${isSizeVal(symIn) ? `the shape value ${fmtSizes(symIn)}, computed from` : 'a tensor of'} the symbolic size '${size}' is not supported yet; give it a fixed size with { dims: { ${JSON.stringify(size)}: N } }`);
      }
      pushScope(`${n.opType} '${n.name}'`);
      let outs: (AnyVal | undefined)[];
      try {
        const out = (n.inputs.some((name) => isEmptyVal(vals.get(name))) ? EMPTY_OPS[n.opType] ?? tr : tr)(ctx);
        ctx.unheard();
        outs = Array.isArray(out) ? out : [out];
        // Everything computed from compile-time values is one too (so Identity/Cast chains keep folding);
        // folding raises what the op would at run time (an integer division by zero) as this node's error.
        if (ctx.allConst()) outs = outs.map((v) => (v && !isHost(v) && !isSizeVal(v) && !isEmptyVal(v) ? foldTensor(v) ?? v : v));
        // A zero-size tensor made of an empty constant (Add of a [0] initializer) is empty: its dims say all.
        outs = outs.map((v, i) => (v instanceof Tensor && !v.node.type.dims && v.maxShape.includes(0) ? emptyVal(v.dtype, [...v.maxShape], `output ${i} ('${n.outputs[i] ?? ''}') of ${ctx.where}`) : v));
      } catch (e) {
        if (e instanceof ModelDefinitionError) throw new OnnxError(`${ctx.where}: ${e.message}`);
        if (e instanceof RangeError || e instanceof TypeError) throw new OnnxError(`${ctx.where}: ${e.message}`);
        throw e;
      } finally { popScope(); }
      n.outputs.forEach((name, i) => {
        if (name === '') return;
        const v = outs[i];
        if (!v) throw new UnsupportedError(`${ctx.where}: output ${i} ('${name}') is not supported`);
        vals.set(name, v);
      });
    }
    const outputs = g.outputs.flatMap((o, at) => {
      const v = vals.get(o.name);
      if (!v) throw new OnnxError(`onnx: graph output '${o.name}' is not computed by any node`);
      if (isSizeVal(v)) throw new UnsupportedError(`onnx: graph output '${o.name}' is the shape value ${fmtSizes(v)}, computed from the symbolic size '${symbolicSizeOf(v)!}'; an output that is a size is not supported; give it a fixed size with { dims: { ${JSON.stringify(symbolicSizeOf(v)!)}: N } }`);
      if (isEmptyVal(v) || (isHost(v) && numel(v.dims) === 0)) {
        const dtype = isEmptyVal(v) ? v.dtype : irDtype(v.dtype, `output '${o.name}'`), size = symbolicSizeOf(v);
        if (size !== undefined) throw new UnsupportedError(`onnx: graph output '${o.name}' is an empty tensor ${fmtShape(v.dims)} (${isEmptyVal(v) ? v.origin : 'a constant'}) with the symbolic size '${size}'; an empty output needs fixed sizes; give it one with { dims: { ${JSON.stringify(size)}: N } }`);
        empty.outputs.push({ name: o.name, dtype, shape: [...v.dims] as number[], at });
        return [];
      }
      const t = toTensor(v, `output '${o.name}'`);
      // An output that is an input (Identity) gets its own buffer.
      return [{ name: o.name, node: t.node.op === 'input' ? record('copy', [t]).node : t.node }];
    });
    const graph = makeGraph(inputs, outputs);
    return empty.inputs.length || empty.outputs.length ? { ...graph, empty } : graph;
  }, bounds, least);
  verify(graph);
  return { name: opts.name ?? (g.name || 'model'), graph, model };
}
