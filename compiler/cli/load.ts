// Loads a model file (default export: a ModelDefinition) and, if any, its weights.

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModelDefinition } from '../dsl/trace.ts';
import { readSafetensors, stateDictFrom } from '../weights/safetensors.ts';

export async function loadDefinition(file: string, weights?: string): Promise<ModelDefinition> {
  const mod = await import(pathToFileURL(resolve(file)).href) as { default?: ModelDefinition };
  const def = mod.default;
  if (!def || !def.module || !def.inputs) throw new Error(`${file}: the default export must be defineModel({ name, module, inputs, ... })`);
  const w = weights ?? (def.weights ? join(dirname(resolve(file)), def.weights) : undefined);
  if (w) def.module.loadStateDict(stateDictFrom(readSafetensors(readFileSync(w), w)));
  // Loaded: compileModel refuses a definition whose `weights` nobody read.
  return { ...def, weights: undefined };
}

