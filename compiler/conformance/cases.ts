// How each PyTorch conformance case is built in the DSL, by case name. A builder gets the
// case's config and input specs and returns the model definition to compile; its input and
// output names are the case's own.

import type { ModelDefinition } from '../dsl/trace.ts';
import { nn } from '../dsl/index.ts';
import type { DType } from '../ir/types.ts';
import type { Tensor } from '../dsl/tensor.ts';

export interface CaseSpec {
  name: string;
  module: string | null;
  config?: Record<string, unknown>;
  inputs: Record<string, { shape: number[]; dtype: 'F32' | 'I32' | 'BOOL' }>;
  outputs: Record<string, { shape: number[]; dtype: 'F32' | 'I32' | 'BOOL' }>;
  tolerance: { atol: number; rtol: number };
}

export const DTYPES: Record<string, DType> = { F32: 'f32', I32: 'i32', BOOL: 'bool' };
export const inputSpecs = (c: CaseSpec) =>
  Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, { shape: v.shape, dtype: DTYPES[v.dtype]! }]));

export type Builder = (c: CaseSpec) => ModelDefinition;
const num = (c: CaseSpec, k: string): number => {
  const v = c.config?.[k];
  if (typeof v !== 'number') throw new Error(`case ${c.name}: config.${k} must be a number, got ${JSON.stringify(v)}`);
  return v;
};

export const BUILDERS: Record<string, Builder> = {
  mlp: (c) => {
    const dims = c.config!.dims as number[];
    const layers: nn.Module[] = [];
    dims.slice(1).forEach((d, i) => {
      layers.push(new nn.Linear(dims[i]!, d));
      if (i < dims.length - 2) layers.push(i % 2 === 0 ? new nn.ReLU() : new nn.Tanh());
    });
    layers.push(new nn.Softmax(-1));
    return { name: c.name, module: new nn.Sequential(...layers), inputs: inputSpecs(c) };
  },
  cnn_lenet: (c) => {
    const [c1, c2] = c.config!.channels as [number, number];
    const [, cin, h, w] = c.inputs.x!.shape as [number, number, number, number];
    const flat = c2 * (Math.floor((Math.floor(h / 2) - 4) / 2)) * (Math.floor((Math.floor(w / 2) - 4) / 2));
    const module = new nn.Sequential(
      new nn.Conv2d(cin, c1, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(c1, c2, 5), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(),
      new nn.Linear(flat, 120), new nn.ReLU(), new nn.Linear(120, 84), new nn.ReLU(), new nn.Linear(84, 10));
    return { name: c.name, module, inputs: inputSpecs(c) };
  },
  cnn_strided: (c) => {
    const [cin, cout] = c.config!.channels as [number, number];
    class Strided extends nn.Module {
      features = new nn.Sequential(new nn.Conv2d(cin, cout, 3, { stride: 2, padding: 1 }), new nn.ReLU(), new nn.AvgPool2d(2),
        new nn.Conv2d(cout, cout, 3, { padding: 1 }), new nn.Sigmoid());
      head = new nn.Linear(cout, c.outputs.y!.shape[1]!);
      forward(x: Tensor): Tensor { return this.head.call(this.features.call(x).mean([2, 3])); }
    }
    return { name: c.name, module: new Strided(), inputs: inputSpecs(c) };
  },
};

export const isSupported = (name: string): boolean => name in BUILDERS;
export { num as configNumber };
