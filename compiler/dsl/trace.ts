// From a model definition to an IR graph: run forward() on symbolic inputs and record.

import { makeGraph, node, type Graph, type GraphOutput } from '../ir/node.ts';
import { verify } from '../ir/verify.ts';
import type { DType } from '../ir/types.ts';
import type { Module } from './module.ts';
import { ModelDefinitionError, Tensor, withTrace } from './tensor.ts';

export interface InputSpec { shape: number[]; dtype?: DType }
export type InputSpecs = Record<string, InputSpec | number[]>;
export type TraceResult = Tensor | Tensor[] | Record<string, Tensor>;

const spec = (s: InputSpec | number[]): Required<InputSpec> =>
  Array.isArray(s) ? { shape: s, dtype: 'f32' } : { shape: s.shape, dtype: s.dtype ?? 'f32' };

/**
 * Traces `fn` on symbolic inputs. A single returned tensor is named `y`; an array is named
 * by `outputNames` (or y0, y1, …); a record is named by its keys.
 */
export function trace(fn: (inputs: Record<string, Tensor>) => TraceResult, inputs: InputSpecs, outputNames?: string[]): Graph {
  const { result: { ins, outs } } = withTrace(() => {
    const ins = Object.entries(inputs).map(([name, s]) => {
      const { shape, dtype } = spec(s);
      if (shape.some((d) => !Number.isInteger(d) || d < 1)) throw new ModelDefinitionError(`input '${name}': shape [${shape}] must be positive integers`);
      return node('input', [], { dtype, shape: [...shape] }, { name }, name);
    });
    const res = fn(Object.fromEntries(ins.map((n) => [n.label!, new Tensor(n)])));
    return { ins, outs: nameOutputs(res, outputNames) };
  });
  const g = makeGraph(ins, outs);
  verify(g);
  return g;
}

function nameOutputs(res: TraceResult, names?: string[]): GraphOutput[] {
  if (res instanceof Tensor) return [{ name: names?.[0] ?? 'y', node: res.node }];
  if (Array.isArray(res)) {
    if (names && names.length !== res.length) throw new ModelDefinitionError(`forward returned ${res.length} tensors but ${names.length} output names were given`);
    return res.map((t, i) => ({ name: names?.[i] ?? `y${i}`, node: t.node }));
  }
  return Object.entries(res).map(([name, t]) => {
    if (!(t instanceof Tensor)) throw new ModelDefinitionError(`output '${name}' is not a tensor`);
    return { name, node: t.node };
  });
}

/** A model as the CLI and `npm start` see it: a module, its input specs and how to call it. */
export interface ModelDefinition<M extends Module = Module> {
  name: string;
  description?: string;
  module: M;
  inputs: InputSpecs;
  /** Defaults to `module.call(...inputs in declaration order)`. */
  forward?: (m: M, inputs: Record<string, Tensor>) => TraceResult;
  outputNames?: string[];
  /** A safetensors state_dict, relative to the model file. */
  weights?: string;
}

export function defineModel<M extends Module>(def: ModelDefinition<M>): ModelDefinition<M> {
  return def;
}

export function traceModel(def: ModelDefinition): Graph {
  def.module.assignPaths('');
  const fwd = def.forward ?? ((m: Module, ins: Record<string, Tensor>) =>
    (m as Module & { call(...a: Tensor[]): TraceResult }).call(...Object.values(ins)));
  return trace((ins) => fwd(def.module, ins), def.inputs, def.outputNames);
}
