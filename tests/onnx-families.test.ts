// Every PyTorch conformance family, exported by torch.onnx (tests/fixtures/onnx-torch, written
// offline by its export.py), imports, compiles and matches PyTorch's outputs within the cases'
// rule (|got − want| ≤ 1e-4 + 1e-4·|want|); and after the passes the imported graph runs the same
// kernels as the DSL build of the same case (gemm with the same epilogues, layernorm, fused
// attention in the same layout, recurrent layers). The dynamic-axes exports also import with
// batch and seq kept symbolic and run at several sizes (PyTorch's outputs at two more sizes in
// each case's sizes.safetensors, written by sizes.py), and after the passes run the kernels of
// the same file imported at fixed sizes (the recognition passes match by dims: attention fused,
// transposes cancelled, layernorm and gelu in place). All models compile as one module.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { wasmTarget } from '../compiler/codegen/target.ts';
import { BUILDERS, type CaseSpec } from '../compiler/conformance/cases.ts';
import { compare } from '../compiler/conformance/run.ts';
import { compileEntries, type Compiled } from '../compiler/driver/compile.ts';
import { traceModel } from '../compiler/dsl/trace.ts';
import type { Graph, Node } from '../compiler/ir/node.ts';
import { importOnnx } from '../compiler/onnx/import.ts';
import { readOnnxModel } from '../compiler/onnx/proto.ts';
import { runPasses } from '../compiler/passes/manager.ts';
import { readSafetensors, type SafeTensor } from '../compiler/weights/safetensors.ts';
import { loadModelBytes, type Model } from '../runtime/model.ts';
import type { Isa } from '../runtime/format.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { onnxModel } from '../bench/peers/ort-models.ts';
import { buildWorkload } from '../bench/workloads.ts';

const ROOT = join(import.meta.dirname, 'fixtures', 'onnx-torch');
const TORCH = join(import.meta.dirname, 'fixtures', 'torch');
const CASES = readdirSync(ROOT).filter((d) => existsSync(join(ROOT, d, 'model.onnx'))).sort();

/**
 * Dynamic exports imported with their sizes symbolic up to BOUNDS.
 */
const SYMBOLIC = ['mlp', 'cnn_strided', 'rnn_n_to_n', 'gru', 'mha_self', 'encoder_layer_preln_gelu', 'tiny_gpt'];
const BOUNDS: Record<string, number> = { batch: 6, seq: 12 };

interface Variant { name: string; file: string; entry: string; io: Map<string, SafeTensor>; symbolic?: boolean }
const VARIANTS: Variant[] = CASES.flatMap((c) => ['model.onnx', 'model.dynamic.onnx']
  .filter((f) => existsSync(join(ROOT, c, f)))
  .flatMap((file) => {
    const v = { name: c, file, entry: `${c}_${file.includes('dynamic') ? 'dynamic' : 'static'}`, io: readSafetensors(readFileSync(join(ROOT, c, 'io.safetensors'))) };
    return file.includes('dynamic') && SYMBOLIC.includes(c) ? [v, { ...v, entry: `${c}_symbolic`, symbolic: true }] : [v];
  }));

const inputsOf = (v: Variant) => [...v.io].filter(([k]) => k.startsWith('input.')).map(([k, t]) => [k.slice(6), t] as const);
const outputsOf = (v: Variant) => [...v.io].filter(([k]) => k.startsWith('output.')).map(([k, t]) => [k.slice(7), t] as const);

/** The import of one variant: a dynamic model gets the fixture's input shapes, or keeps its sizes symbolic. */
function importVariant(v: Variant): Graph {
  const bytes = readFileSync(join(ROOT, v.name, v.file));
  if (v.symbolic) {
    const names = new Set(readOnnxModel(bytes).graph.inputs.flatMap((i) => (i.dims ?? []).filter((d): d is string => typeof d === 'string')));
    return importOnnx(bytes, { dims: Object.fromEntries([...names].map((n) => [n, { max: BOUNDS[n]! }])) }).graph;
  }
  const shapes = Object.fromEntries(inputsOf(v).map(([k, t]) => [k, t.shape]));
  return importOnnx(bytes, v.file.includes('dynamic') ? { shapes } : {}).graph;
}

/** The stored sizes' io and sizes.py's, as [label, inputs, outputs]. */
function sizedCases(v: Variant): Array<[string, Array<readonly [string, SafeTensor]>, Array<readonly [string, SafeTensor]>]> {
  const more = readSafetensors(readFileSync(join(ROOT, v.name, 'sizes.safetensors')));
  const at = (prefix: string) => [...more].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t] as const);
  const tags = [...new Set([...more.keys()].map((k) => k.split('.')[0]!))].sort();
  return [['stored', inputsOf(v), outputsOf(v)], ...tags.map((t) => [t, at(`${t}.input.`), at(`${t}.output.`)] as [string, Array<readonly [string, SafeTensor]>, Array<readonly [string, SafeTensor]>])];
}

let built: Promise<{ compiled: Compiled; failed: Map<string, Error>; models: Map<Isa, Promise<Model>> }> | undefined;
/** Imports every variant and compiles them all as one module (a variant that fails to import fails its own tests). */
const build = () => (built ??= (async () => {
  const failed = new Map<string, Error>(), entries: Array<{ name: string; graph: Graph }> = [];
  for (const v of VARIANTS) {
    try { entries.push({ name: v.entry, graph: importVariant(v) }); } catch (e) { failed.set(v.entry, e as Error); }
  }
  const compiled = await compileEntries(entries, [], { isas: TEST_ISAS });
  return { compiled, failed, models: new Map<Isa, Promise<Model>>() };
})());
async function compiledEntry(entry: string) {
  const b = await build(), e = b.failed.get(entry);
  if (e) throw e;
  return b;
}

/** Kernel-level ops of a graph after the passes, with what distinguishes their kernels. */
function kernels(g: Graph): string[] {
  const out: string[] = [];
  for (const n of g.nodes) {
    if (n.op === 'gemm') out.push(`gemm act=${String(n.attrs.act)}`);
    else if (n.op === 'attention') out.push(`attention ${String(n.attrs.layout)}${n.attrs.causal ? ' causal' : ''}${n.attrs.mask ? ' mask' : ''}`);
    else if (['layernorm', 'conv2d', 'maxpool2d', 'avgpool2d', 'lstm_seq', 'gru_seq', 'rnn_seq', 'softmax', 'matmul'].includes(n.op)) out.push(n.op);
  }
  return out.sort();
}

/** Families whose imported graph differs from the DSL's, and why (each still matches PyTorch). */
const KNOWN_EXTRA: Record<string, string> = {
  // ONNX's LSTM/RNN output is [T, directions, B, H]: the importer transposes it to batch-first
  lstm_bidirectional: 'transpose', rnn_n_to_1: 'transpose',
  // the head-averaged attention weights are an output, so the scores are materialised (as in the
  // DSL), and the export keeps PyTorch's seq-first transposes around the projections
  mha_self: 'transpose', mha_cross: 'transpose',
};

/**
 * Where a symbolic import's kernel sequence differs from the fixed-size import's, and why (each
 * still matches PyTorch at three sizes): `extra` kernels it runs besides, `fewerTransposes` when
 * it runs the same kernels with fewer transposes.
 */
const SYMBOLIC_DIFFERENCES: Record<string, { why: string; extra?: string[]; fewerTransposes?: true }> = {
  tiny_gpt: { extra: ['slice', 'gather'], why: 'positions of a run-time length are arange(bound)[:seq], gathered as the DSL does; at fixed sizes the position rows fold to a constant' },
  // the head-averaged weights are an output, so attention stays unfused, as at fixed sizes
  mha_self: {
    extra: ['expand'],
    fewerTransposes: true,
    why: 'the additive mask\'s zeros are expanded to [4*batch, 1, seq] at run time (a folded constant at fixed sizes); q and v heads are read straight off the projection as [batch, seq, 4, 8], a transpose the dims analysis of view chains finds (passes/views.ts) and the fixed sizes\' element-by-element search, which tries only the chain\'s own shapes, does not',
  },
};

describe('ONNX exports of the PyTorch families', () => {
  for (const v of VARIANTS.filter((x) => !x.symbolic)) {
    test(`${v.name}/${v.file} matches PyTorch within 1e-4`, async () => {
      const { compiled, models } = await compiledEntry(v.entry);
      for (const isa of TEST_ISAS) {
        if (!models.has(isa)) models.set(isa, loadModelBytes(compiled.bytes, { isa }));
        const model = await models.get(isa)!;
        const out = model.call(v.entry, Object.fromEntries(inputsOf(v).map(([k, t]) => [k, t.data])));
        for (const [name, want] of outputsOf(v)) {
          const got = out[name];
          expect(got, `${isa}: output ${name}`).toBeDefined();
          const { maxErr, bad } = compare(got!, want.data, 1e-4, 1e-4);
          expect(bad, `${isa} ${name}: element ${bad} got ${got![bad]}, want ${want.data[bad]} (max err ${maxErr})`).toBe(-1);
        }
      }
    });
  }

  for (const v of VARIANTS.filter((x) => x.symbolic)) {
    test(`${v.name}/${v.file} with symbolic sizes (≤ ${JSON.stringify(BOUNDS)}) matches PyTorch at three sizes of one artifact`, async () => {
      const { compiled, models } = await compiledEntry(v.entry);
      const cases = sizedCases(v);
      for (const isa of TEST_ISAS) {
        if (!models.has(isa)) models.set(isa, loadModelBytes(compiled.bytes, { isa }));
        const model = await models.get(isa)!;
        const seen = new Set<string>();
        for (const [label, ins, outs] of cases) {
          const out = model.call(v.entry, Object.fromEntries(ins.map(([k, t]) => [k, { data: t.data, shape: t.shape }])));
          seen.add(JSON.stringify(model.sizes));
          for (const [name, want] of outs) {
            expect(model.outputShapes[name], `${isa} ${label}: shape of ${name}`).toEqual(want.shape);
            const { maxErr, bad } = compare(out[name]!, want.data, 1e-4, 1e-4);
            expect(bad, `${isa} ${label} (${JSON.stringify(model.sizes)}) ${name}: element ${bad} got ${out[name]![bad]}, want ${want.data[bad]} (max err ${maxErr})`).toBe(-1);
          }
        }
        expect(seen.size).toBe(3);
        // A batch above its bound is refused by the runtime, naming it.
        const big = cases[0]![1].map(([k, t]) => [k, { data: t.data, shape: t.shape.map((d, i) => (i === (k === 'h0' ? 1 : 0) ? BOUNDS.batch! + 1 : d)) }] as const);
        expect(() => model.call(v.entry, Object.fromEntries(big))).toThrow(`is size 'batch', which must be an integer in [1, ${BOUNDS.batch}]`);
      }
    });
  }

  for (const v of VARIANTS.filter((x) => x.symbolic)) {
    const known = SYMBOLIC_DIFFERENCES[v.name];
    test(`${v.name}: the symbolic import runs the fixed-size import's kernels after the passes${known ? ` (${[...(known.extra ? [`plus ${known.extra.join(', ')}`] : []), ...(known.fewerTransposes ? ['fewer transposes'] : [])].join(', ')})` : ''}`, async () => {
      const { compiled } = await compiledEntry(v.entry);
      await compiledEntry(`${v.name}_dynamic`);
      const sym = kernelSequence(compiled.graphs[v.entry]!), fixed = kernelSequence(compiled.graphs[`${v.name}_dynamic`]!);
      if (!known) { expect(sym).toEqual(fixed); return; }
      expect(sym, `${v.name} is listed in SYMBOLIC_DIFFERENCES but runs the fixed import's kernels`).not.toEqual(fixed);
      const rest = [...sym];
      for (const k of known.extra ?? []) {
        expect(rest, `extra ${k}`).toContain(k);
        rest.splice(rest.indexOf(k), 1);
      }
      const isT = (k: string) => k.startsWith('transpose');
      if (!known.fewerTransposes) { expect(rest).toEqual(fixed); return; }
      expect(rest.filter((k) => !isT(k))).toEqual(fixed.filter((k) => !isT(k)));
      expect(rest.filter(isT).length).toBeLessThan(fixed.filter(isT).length);
    });
  }

  for (const name of CASES) {
    test(`${name}: the imported graph runs the DSL build's kernels`, async () => {
      const { compiled } = await compiledEntry(`${name}_static`);
      const imported = compiled.graphs[`${name}_static`]!;
      const spec = JSON.parse(readFileSync(join(TORCH, name, 'case.json'), 'utf8')) as CaseSpec;
      const { extra: _, ...def } = BUILDERS[name]!(spec);
      const dsl = runPasses(traceModel(def), { target: wasmTarget });
      expect(kernels(imported)).toEqual(kernels(dsl));
      // no decomposed LayerNorm or GELU is left over, fused into elementwise loops or not
      const math = imported.nodes.map((n) => (n.op === 'elementwise' ? JSON.stringify(n.attrs.expr) : n.op)).join(' ');
      expect(math).not.toMatch(/erf|pow|sqrt/);
      const count = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op).length;
      expect(count(imported, 'mean')).toBeLessThanOrEqual(count(dsl, 'mean')); // mha: ONNX sums the heads' weights and divides
      const transposes = imported.nodes.filter((n) => n.op === 'transpose').length;
      if (!(name in KNOWN_EXTRA)) expect(transposes).toBeLessThanOrEqual(dsl.nodes.filter((n) => n.op === 'transpose').length);
    });
  }
});

/** where(true, x, x): how the importer spells ONNX's Expand at fixed sizes (over named sizes it is `expand`). */
const isExpand = (n: Node) => n.op === 'where' && n.inputs[1] === n.inputs[2] && n.inputs[0]!.op === 'const' && (n.inputs[0]!.attrs.data as Uint8Array).every((b) => b === 1);

/** The kernels a graph runs, in order, with what selects each kernel (shapes aside: [B·L, E] and [B, L, E] are one buffer). */
function kernelSequence(g: Graph): string[] {
  const keys = ['act', 'heads', 'layout', 'causal', 'mask', 'scale'];
  return g.nodes.filter((n) => !['input', 'const', 'reshape', 'copy'].includes(n.op)).map((n) => isExpand(n) ? 'expand' :
    [n.op, ...keys.filter((k) => n.attrs[k] !== undefined && n.attrs[k] !== false).map((k) => `${k}=${String(n.attrs[k])}`),
      n.op === 'elementwise' ? JSON.stringify(n.attrs.expr) : ''].join(' ').trim());
}

describe('the bench workloads imported from their ONNX files (bench/peers/ort-models.ts)', () => {
  // gpt_forward stands for the GPT workloads: the ONNX file is a plain forward, the DSL's prefill/decode add a KV cache
  for (const name of ['gemm512', 'mlp_b1', 'mlp_b64', 'lstm', 'gru', 'transformer', 'gpt_forward']) {
    test(`${name} compiles to the DSL build's kernel sequence`, () => {
      const wl = buildWorkload(name);
      const dsl = runPasses(traceModel(wl.def), { target: wasmTarget });
      const imported = runPasses(importOnnx(onnxModel(wl)).graph, { target: wasmTarget });
      expect(kernelSequence(imported)).toEqual(kernelSequence(dsl));
    });
  }
});
