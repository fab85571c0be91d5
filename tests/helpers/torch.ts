// Comparing an output with PyTorch's: NaN and ±Inf exactly where PyTorch has them (compare() fails
// on them), the rest within 1e-5 absolute or relative; with `zeroSign`, −0 exactly where PyTorch has it.
import { expect } from 'vitest';
import { compare } from '../../compiler/conformance/run.ts';
import { compileModel, interpret, traceModel, type ModelDefinition } from '../../compiler/index.ts';
import type { SafeTensor } from '../../compiler/weights/safetensors.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import '../../runtime/node.ts';
import { TEST_ISAS } from './isa.ts';

export function expectTorch(got: Float32Array, want: Float32Array, name: string, opts: { zeroSign?: boolean } = {}): void {
  expect(got.length, name).toBe(want.length);
  const special = Array.from(want, (v) => !Number.isFinite(v) || (opts.zeroSign === true && Object.is(v, -0)));
  expect(Array.from(got).filter((_, j) => special[j]), name).toEqual(Array.from(want).filter((_, j) => special[j]));
  const { bad, maxErr } = compare(got.filter((_, j) => !special[j]), want.filter((_, j) => !special[j]), 1e-5, 1e-5);
  expect(bad, `${name}: max err ${maxErr}`).toBe(-1);
}

/**
 * A fixture case (make_*.py's io.safetensors: input.NAME, output.NAME) against a model definition
 * whose outputs carry the same names: every output of the file, compiled on the test ISAs (and on
 * `threads` threads, bit-identical to one) and in the reference interpreter, matches PyTorch's by
 * expectTorch (or exactly, with `exact`). Returns the outputs checked.
 */
export async function expectTorchCase(def: ModelDefinition, io: Map<string, SafeTensor>, opts: { exact?: boolean; threads?: number } = {}): Promise<string[]> {
  const feeds = Object.fromEntries([...io.keys()].filter((k) => k.startsWith('input.')).map((k) => [k.slice(6), io.get(k)!.data as Float32Array]));
  const ref = interpret(traceModel(def), feeds);
  const bytes = (await compileModel(def, { isas: TEST_ISAS })).bytes;
  const models = [await loadModelBytes(bytes), ...(opts.threads ? [await loadModelBytes(bytes, { threads: opts.threads, threadPolicy: 'always' })] : [])];
  const [out, ...more] = models.map((m) => m.run(feeds));
  const names = [...io.keys()].filter((k) => k.startsWith('output.')).map((k) => k.slice(7));
  for (const name of names) {
    const want = io.get(`output.${name}`)!.data as Float32Array;
    for (const [got, where] of [[out![name], 'compiled'], [ref[name], 'reference']] as const) {
      if (opts.exact) expect(Array.from(got as Float32Array), `${where} ${name}`).toEqual(Array.from(want));
      else expectTorch(got as Float32Array, want, `${where} ${name}`);
    }
    for (const o of more) expect(Array.from(o[name] as Float32Array), `${opts.threads} threads ${name}`).toEqual(Array.from(out![name] as Float32Array));
  }
  for (const m of models) m.dispose();
  return names;
}

/**
 * One artifact over sizes chosen at run time, run at the fixture's size (input.X) and at dyn.a and
 * dyn.b (or at `prefixes`): compiled on 1 and 2 threads (bit-identical) and the reference, against
 * PyTorch. `feed` gives an input's run-time shape from PyTorch's (the same bytes). Returns each
 * output's dims.
 */
export async function expectTorchRunTime(def: ModelDefinition, io: Map<string, SafeTensor>, feed: (name: string, shape: number[]) => number[] = (_n, s) => s,
  prefixes = ['', 'dyn.a.', 'dyn.b.']): Promise<Record<string, unknown>> {
  const g = traceModel(def);
  const bytes = (await compileModel(def, { isas: TEST_ISAS })).bytes;
  const one = await loadModelBytes(bytes), two = await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' });
  for (const prefix of prefixes) {
    const feeds = Object.fromEntries([...io.keys()].filter((k) => k.startsWith(`${prefix}input.`)).map((k) => {
      const t = io.get(k)!, name = k.slice(prefix.length + 6);
      return [name, { data: t.data as Float32Array, shape: feed(name, t.shape) }];
    }));
    const ref = interpret(g, feeds), out = one.run(feeds), out2 = two.run(feeds);
    const names = [...io.keys()].filter((k) => k.startsWith(`${prefix}output.`));
    expect(names.length).toBeGreaterThan(0);
    for (const k of names) {
      const name = k.slice(prefix.length + 7), want = io.get(k)!, at = `${name} at ${JSON.stringify(Object.values(feeds).map((f) => f.shape))}`;
      expect(one.outputShapes[name], at).toEqual(want.shape);
      expectTorch(out[name] as Float32Array, want.data as Float32Array, `compiled ${at}`);
      expectTorch(ref[name] as Float32Array, want.data as Float32Array, `reference ${at}`);
      expect(Array.from(out2[name] as Float32Array), `2 threads ${at}`).toEqual(Array.from(out[name] as Float32Array));
    }
  }
  one.dispose(); two.dispose();
  return Object.fromEntries(g.outputs.map((o) => [o.name, o.node.type.dims]));
}

/**
 * A fixture case over one size chosen at run time, in make_handmade_*.py's `short_` convention:
 * the full inputs give output.NAME; the first `short` entries along `axis[name]` of each input named
 * there give output.short_NAME (inputs listed in `fixed` are then input.short_NAME, such as a batch's
 * lengths). Compiled on the test ISAs, on 1 and 2 threads (bit-identical), and in the reference
 * interpreter, against PyTorch.
 */
export async function expectTorchShort(def: ModelDefinition, io: Map<string, SafeTensor>, o: { axis: Record<string, number>; short: number; fixed?: string[] }): Promise<void> {
  const { bytes, traced: g } = await compileModel(def, { isas: TEST_ISAS });
  const models = [await loadModelBytes(bytes), await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' })];
  const names = [...io.keys()].filter((k) => k.startsWith('output.') && !k.startsWith('output.short_')).map((k) => k.slice(7));
  expect(names.length).toBeGreaterThan(0);
  type Feed = { data: Float32Array | Int32Array | Uint8Array; shape: number[] };
  const cut = (name: string, t: SafeTensor): Feed => {
    const data = t.data as Float32Array | Int32Array, shape = [...t.shape], ax = o.axis[name];
    if (ax === undefined) return { data, shape };
    const inner = shape.slice(ax + 1).reduce((a, b) => a * b, 1), n = shape[ax]!;
    return { data: data.filter((_, j) => Math.floor(j / inner) % n < o.short) as typeof data, shape: shape.map((s, i) => (i === ax ? o.short : s)) };
  };
  for (const short of [false, true]) {
    const inputs = [...io.keys()].filter((k) => k.startsWith('input.') && !k.startsWith('input.short_')).map((k) => k.slice(6));
    const feeds: Record<string, Feed> = Object.fromEntries(inputs.map((name) => [name,
      !short ? { data: io.get(`input.${name}`)!.data as Float32Array, shape: [...io.get(`input.${name}`)!.shape] }
        : o.fixed?.includes(name) ? { data: io.get(`input.short_${name}`)!.data as Int32Array, shape: [...io.get(`input.short_${name}`)!.shape] }
        : cut(name, io.get(`input.${name}`)!)]));
    const at = JSON.stringify(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.shape])));
    const ref = interpret(g, feeds), outs = models.map((m) => m.run(feeds));
    for (const n of names) {
      const want = io.get(`output.${short ? 'short_' : ''}${n}`)!.data as Float32Array;
      expectTorch(Float32Array.from(outs[0]![n] as Float32Array), Float32Array.from(want), `compiled ${n} at ${at}`);
      expectTorch(Float32Array.from(ref[n] as Float32Array), Float32Array.from(want), `reference ${n} at ${at}`);
      expect(Array.from(outs[1]![n] as Float32Array), `2 threads ${n} at ${at}`).toEqual(Array.from(outs[0]![n] as Float32Array));
    }
  }
  for (const m of models) m.dispose();
}
