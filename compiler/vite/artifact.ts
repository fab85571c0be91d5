// Compiles a model file's definition for the Vite plugin. The plugin loads this module through
// the same Vite module loader as the model file, so both share one copy of the DSL (tracing
// state and `Module` identity live in module scope).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { basename } from 'node:path';
import { compileGraph, compileModel, type CompileOptions } from '../driver/compile.ts';
import { importOnnx, type ImportOptions } from '../onnx/import.ts';
import { Module } from '../dsl/module.ts';
import type { ModelDefinition } from '../dsl/trace.ts';
import { readSafetensors, stateDictFrom } from '../weights/safetensors.ts';

export interface Artifact { name: string; bytes: Uint8Array; weights?: string }

/** Builds the artifact of `exports.default` of the model file `file`; weights resolve relative to it. */
export async function buildArtifact(exports: Record<string, unknown>, file: string, options: CompileOptions = {}): Promise<Artifact> {
  const def = exports.default as ModelDefinition | undefined;
  if (!def || typeof def !== 'object' || !def.module || !def.inputs) {
    throw new Error(`the default export must be defineModel({ name, module, inputs, ... }) or defineGPT(...), found ${def === undefined ? 'no default export' : typeof def}`);
  }
  if (!(def.module instanceof Module)) {
    throw new Error('the model is built with a different copy of simdflow than the Vite plugin; import nn/defineModel from the same simdflow package as simdflow/vite');
  }
  const weights = def.weights ? resolve(dirname(file), def.weights) : undefined;
  if (weights) def.module.loadStateDict(stateDictFrom(readSafetensors(readFileSync(weights), weights)));
  const { bytes } = await compileModel({ ...def, weights: undefined }, options); // loaded above
  return { name: def.name, bytes, weights };
}

/** Builds the artifact of an .onnx file (its weights are inside it). */
export async function buildOnnxArtifact(file: string, options: CompileOptions = {}, onnx: ImportOptions = {}): Promise<Artifact> {
  const name = onnx.name ?? basename(file).replace(/\.onnx$/i, '');
  const { graph } = importOnnx(readFileSync(file), { ...onnx, name });
  const { bytes } = await compileGraph(graph, { name, ...options });
  return { name, bytes };
}
