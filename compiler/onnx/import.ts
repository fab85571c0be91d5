// ONNX → the IR the DSL produces. Each ONNX node is translated by ops.ts through the DSL's
// Tensor operations (so shapes are checked as they are recorded, as for a traced model).
// Values known at import time (initializers, Constant, Shape of a static shape and whatever is
// computed only from those) stay host values and are folded through the reference semantics,
// so PyTorch's Shape → Gather → Concat → Reshape chains become plain reshapes.

import { makeGraph, node as mkNode, type Graph, type Node } from '../ir/node.ts';
import { verify } from '../ir/verify.ts';
import { ModelDefinitionError, record, popScope, pushScope, Tensor, withTrace } from '../dsl/tensor.ts';
import { OnnxError, readOnnxModel, type OnnxModel, type OnnxTensor } from './proto.ts';
import { Ctx, foldTensor, host, irDtype, isHost, toTensor, UnsupportedError, type Val } from './ctx.ts';
import { OPS } from './ops.ts';

export { OnnxError };
export { NeedsConstantError, UnsupportedError } from './ctx.ts';

export interface ImportOptions {
  /** Sizes of symbolic dimensions (dim_param), e.g. { batch: 1, seq: 16 }. */
  dims?: Record<string, number>;
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

function inputShape(name: string, dims: (number | string | undefined)[] | undefined, opts: ImportOptions): number[] {
  const given = opts.shapes?.[name];
  if (given) return given;
  if (!dims) throw new OnnxError(`onnx: input '${name}' has no shape in the file; give it with { shapes: { '${name}': [...] } }`);
  return dims.map((d, i) => {
    if (typeof d === 'number' && d > 0) return d;
    if (typeof d === 'string') {
      const v = opts.dims?.[d];
      if (v === undefined) throw new OnnxError(`onnx: input '${name}' axis ${i} is the symbolic dimension '${d}'; give its size with { dims: { ${JSON.stringify(d)}: N } }`);
      if (!Number.isInteger(v) || v < 1) throw new OnnxError(`onnx: dims.${d} must be a positive integer, got ${String(v)}`);
      return v;
    }
    throw new OnnxError(`onnx: input '${name}' axis ${i} has no size; give the input's shape with { shapes: { '${name}': [...] } }`);
  });
}

const OPTION_KEYS = ['dims', 'shapes', 'constants', 'name'];

/** Reads an ONNX model and translates it to an IR graph (entry `run`), ready for compileGraph. */
export function importOnnx(bytes: Uint8Array, opts: ImportOptions = {}): Imported {
  if (typeof opts !== 'object' || opts === null) throw new OnnxError('importOnnx: options must be an object');
  for (const k of Object.keys(opts)) if (!OPTION_KEYS.includes(k)) throw new OnnxError(`importOnnx: unknown option '${k}' (options: ${OPTION_KEYS.join(', ')})`);
  const model = readOnnxModel(bytes);
  const opset = model.opsets.get('') ?? 1;
  const g = model.graph;
  const { result: graph } = withTrace(() => {
    const vals = new Map<string, Val>();
    for (const t of g.initializers) vals.set(t.name, host(t.dtype, t.dims, t.data));
    const inputs: Node[] = [];
    for (const vi of g.inputs) {
      if (vals.has(vi.name) && !opts.constants?.[vi.name]) continue; // an initializer listed as an input (IR < 4): a constant
      const c = opts.constants?.[vi.name];
      if (c) { vals.set(vi.name, host(c.dtype, c.dims, c.data)); continue; }
      const dtype = irDtype(vi.dtype, `input '${vi.name}'`);
      const shape = inputShape(vi.name, vi.dims, opts);
      const n = mkNode('input', [], { dtype, shape }, { name: vi.name }, vi.name);
      inputs.push(n);
      vals.set(vi.name, new Tensor(n));
    }
    for (const k of Object.keys(opts.constants ?? {})) if (!g.inputs.some((i) => i.name === k)) throw new OnnxError(`importOnnx: constants names '${k}', which is not an input of the graph (inputs: ${g.inputs.map((i) => i.name).join(', ')})`);
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
      pushScope(`${n.opType} '${n.name}'`);
      let out: Val | (Val | undefined)[];
      try { out = tr(ctx); } catch (e) {
        if (e instanceof ModelDefinitionError) throw new OnnxError(`${ctx.where}: ${e.message}`);
        if (e instanceof RangeError || e instanceof TypeError) throw new OnnxError(`${ctx.where}: ${e.message}`);
        throw e;
      } finally { popScope(); }
      let outs = Array.isArray(out) ? out : [out];
      // Everything computed from compile-time values is one too (so Identity/Cast chains keep folding).
      if (ctx.allConst()) outs = outs.map((v) => (v && !isHost(v) ? foldTensor(v) ?? v : v));
      n.outputs.forEach((name, i) => {
        if (name === '') return;
        const v = outs[i];
        if (!v) throw new UnsupportedError(`${ctx.where}: output ${i} ('${name}') is not supported`);
        vals.set(name, v);
      });
    }
    const outputs = g.outputs.map((o) => {
      const v = vals.get(o.name);
      if (!v) throw new OnnxError(`onnx: graph output '${o.name}' is not computed by any node`);
      const t = toTensor(v, `output '${o.name}'`);
      // An output that is an input (Identity) gets its own buffer.
      return { name: o.name, node: t.node.op === 'input' ? record('copy', [t]).node : t.node };
    });
    return makeGraph(inputs, outputs);
  });
  verify(graph);
  return { name: opts.name ?? (g.name || 'model'), graph, model };
}
