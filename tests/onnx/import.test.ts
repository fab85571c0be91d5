// The ONNX front end: PyTorch exports (tests/fixtures/onnx, made by scripts/onnx-fixtures.py)
// import, compile in one batch and match PyTorch's outputs; bad files and unsupported ops fail
// with errors naming the node, op and attribute.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import { compileEntries } from '../../compiler/driver/compile.ts';
import { OnnxGraph } from '../../bench/onnx.ts';
import { importOnnx, OnnxError, UnsupportedError } from '../../compiler/onnx/import.ts';
import { readOnnxTensor } from '../../compiler/onnx/proto.ts';
import { compareOutput } from '../../compiler/conformance/onnx.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { printGraph } from '../../compiler/ir/print.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';

const DIR = join(import.meta.dirname, '../fixtures/onnx');
const fixture = (name: string) => {
  const d = join(DIR, name), ds = join(d, 'test_data_set_0');
  const pb = (k: string) => readdirSync(ds).filter((f) => f.startsWith(k)).sort().map((f) => readOnnxTensor(readFileSync(join(ds, f))));
  return { bytes: readFileSync(join(d, 'model.onnx')), inputs: pb('input_'), outputs: pb('output_') };
};

describe('importOnnx on PyTorch exports', () => {
  test('mlp, cnn (Conv, MaxPool, Pad + AveragePool, Gemm, LogSoftmax) and a dynamic batch compile in one artifact and match PyTorch', async () => {
    const cases = [
      { name: 'mlp', opts: {} },
      { name: 'cnn', opts: {} },
      { name: 'mlp_dynamic_batch', opts: { dims: { batch: 2 } } },
    ].map((c) => ({ ...c, ...fixture(c.name) }));
    const entries = cases.map((c) => ({ name: c.name.replace(/_/g, ''), graph: importOnnx(c.bytes, c.opts).graph }));
    // The same file with its batch left symbolic (1..4 at run time).
    const sym = importOnnx(fixture('mlp_dynamic_batch').bytes, { dims: { batch: { max: 4 } } }).graph;
    expect(sym.inputs[0]!.type).toEqual({ dtype: 'f32', shape: [4, 8], dims: ['batch', 8], max: { batch: 4 } });
    const compiled = await compileEntries([...entries, { name: 'mlpsym', graph: sym }], [], { isas: TEST_ISAS });
    for (const isa of TEST_ISAS) {
      const model = await loadModelBytes(compiled.bytes, { isa });
      cases.forEach((c, i) => {
        const feeds = { [c.inputs[0]!.name]: Float32Array.from(c.inputs[0]!.data as Float32Array) };
        const out = model.call(entries[i]!.name, feeds);
        const ref = interpret(entries[i]!.graph, feeds);
        const o = compiled.manifest.entries[entries[i]!.name]!.outputs[0]!;
        expect(compareOutput(o.name, out[o.name]!, o.shape, o.dtype, c.outputs[0]!), `${c.name} on ${isa}`).toBeUndefined();
        expect(compareOutput(o.name, ref[o.name]!, o.shape, o.dtype, c.outputs[0]!), `${c.name} reference`).toBeUndefined();
      });
      const { inputs: [x], outputs: [y] } = fixture('mlp_dynamic_batch');
      const two = model.call('mlpsym', { x: { data: Float32Array.from(x!.data as Float32Array), shape: [2, 8] } }).y!;
      expect(compareOutput('y', two, [2, 3], 'f32', y!), `symbolic batch 2 on ${isa}`).toBeUndefined();
      const one = model.call('mlpsym', { x: { data: Float32Array.from(x!.data as Float32Array).slice(0, 8), shape: [1, 8] } }).y!;
      expect(compareOutput('y', one, [1, 3], 'f32', { ...y!, dims: [1, 3], data: (y!.data as Float32Array).slice(0, 3) }), `symbolic batch 1 on ${isa}`).toBeUndefined();
    }
  }, 120_000);

  test('a symbolic dimension without a size is an error naming it', () => {
    expect(() => importOnnx(fixture('mlp_dynamic_batch').bytes)).toThrow(/input 'x' axis 0 is the symbolic dimension 'batch'; give its size with \{ dims: \{ "batch": N \} \}/);
    expect(() => importOnnx(fixture('mlp_dynamic_batch').bytes, { dims: { batch: 0 } })).toThrow(/dims.batch must be a positive integer/);
    // A size for a name the graph does not have was ignored (a misspelt dimension or input).
    expect(() => importOnnx(fixture('mlp_dynamic_batch').bytes, { dims: { batch: 2, btach: 3 } })).toThrow("importOnnx: dims names 'btach', which is not a symbolic dimension of the graph's inputs (symbolic: batch)");
    expect(() => importOnnx(fixture('mlp').bytes, { dims: { batch: 2 } })).toThrow("importOnnx: dims names 'batch', which is not a symbolic dimension of the graph's inputs (it has none)");
    expect(() => importOnnx(fixture('mlp_dynamic_batch').bytes, { dims: { batch: 2 }, shapes: { y: [1, 8] } })).toThrow("importOnnx: shapes names 'y', which is not an input of the graph (inputs: x)");
    // shapes fills in what the file leaves open (here the batch); it may not contradict the rank or a fixed size.
    expect(importOnnx(fixture('mlp_dynamic_batch').bytes, { shapes: { x: [3, 8] } }).graph.inputs[0]!.type.shape).toEqual([3, 8]);
    expect(() => importOnnx(fixture('mlp_dynamic_batch').bytes, { shapes: { x: [3, 9] } })).toThrow("importOnnx: shapes['x'] is [3, 9], but the file declares [batch, 8] (axis 1 is 8)");
    expect(() => importOnnx(fixture('mlp_dynamic_batch').bytes, { shapes: { x: [48] } })).toThrow("importOnnx: shapes['x'] is [48], but the file declares [batch, 8] (rank 2)");
    // A bound object takes max and, optionally, min (a key it does not know was once ignored).
    expect(importOnnx(fixture('mlp_dynamic_batch').bytes, { dims: { batch: { max: 4, min: 2 } } }).graph.inputs[0]!.type).toMatchObject({ dims: ['batch', 8], max: { batch: 4 }, min: { batch: 2 } });
    expect(() => importOnnx(fixture('mlp_dynamic_batch').bytes, { dims: { batch: { max: 4, mni: 2 } as never } })).toThrow("onnx: dims.batch has the unknown key 'mni'; a symbolic size takes only { max: N } or { min: M, max: N } (sizes run from M, 1 unless given, to N)");
  });

  test('a symbolic size needs a bound of at least 2 (ops that cannot follow one: tests/onnx/sizes.test.ts)', () => {
    expect(() => importOnnx(fixture('mlp_dynamic_batch').bytes, { dims: { batch: { max: 1 } } })).toThrow(/dims.batch.max must be an integer from 2 to 2\^30/);
  });

  test('bad bytes and bad options are clear errors', () => {
    expect(() => importOnnx(new Uint8Array([1, 2, 3, 4]))).toThrow(OnnxError);
    expect(() => importOnnx('model.onnx' as unknown as Uint8Array)).toThrow(`onnx: expected the file's bytes as a Uint8Array, got "model.onnx" (a path? pass readFileSync(path))`);
    // Said 'got object' for any object: name it, and how to pass an ArrayBuffer (fetch's arrayBuffer()).
    const mlp = Uint8Array.from(fixture('mlp').bytes);
    expect(() => importOnnx(mlp.buffer as never)).toThrow("onnx: expected the file's bytes as a Uint8Array, got ArrayBuffer (wrap it: new Uint8Array(buffer))");
    expect(() => importOnnx(new DataView(mlp.buffer) as never)).toThrow("onnx: expected the file's bytes as a Uint8Array, got DataView");
    expect(importOnnx(new Uint8Array(mlp.buffer)).graph.nodes.length).toBeGreaterThan(0);
    // Bytes from another realm (vm, jsdom, an iframe) were refused as "got Uint8Array".
    const foreign = runInNewContext(`new Uint8Array(${mlp.length})`) as Uint8Array;
    foreign.set(mlp);
    expect(foreign instanceof Uint8Array).toBe(false);
    expect(printGraph(importOnnx(foreign).graph)).toBe(printGraph(importOnnx(mlp).graph));
    // An attribute whose type field says STRING or TENSOR but whose value is another field (a damaged
    // file) read protobufjs's defaults: raw TypeErrors from TextDecoder and from null.name.
    const retyped = (alpha: string | { f: number }, from: number, to: number) => {
      const g = new OnnxGraph();
      g.input('x', [2]);
      g.name(g.op1('LeakyRelu', ['x'], { alpha }), 'y');
      g.output('y', [2]);
      const b = g.finish('m', 13);
      const at = b.findIndex((_, i) => b[i] === 0xa0 && b[i + 1] === 0x01 && b[i + 2] === from); // AttributeProto.type (field 20)
      b[at + 2] = to;
      return b;
    };
    expect(() => importOnnx(retyped({ f: 0.5 }, 1, 4))).toThrow("node 'LeakyRelu_0' (LeakyRelu) attribute 'alpha': of type TENSOR but holds no tensor (a damaged file?)");
    expect(() => importOnnx(retyped('abc', 3, 4))).toThrow("attribute 'alpha': of type TENSOR but holds no tensor");
    expect(() => importOnnx(retyped({ f: 0.5 }, 1, 3))).toThrow("node 'LeakyRelu_0' (LeakyRelu, opset 13): attribute 'alpha' must be float, got string");
    expect(() => importOnnx(fixture('mlp').bytes, { dim: {} } as never)).toThrow(/unknown option 'dim'/);
    // dims: 5 was read as no dims (the error then asked for the dims); name: 5 became the model's name.
    const dyn = fixture('mlp_dynamic_batch').bytes;
    for (const [k, v, shown] of [['dims', 5, '5'], ['dims', null, 'null'], ['shapes', [1], 'an array'], ['constants', 'x', '"x"']] as const) {
      expect(() => importOnnx(dyn, { [k]: v } as never)).toThrow(`importOnnx: option ${k} must be an object by name, got ${shown}`);
    }
    for (const name of [5, '', 'a'.repeat(201)]) expect(() => importOnnx(dyn, { dims: { batch: 1 }, name } as never)).toThrow('importOnnx: option name must be a string of 1 to 200 characters, got ');
    // A constant that is not an ONNX tensor (a bare typed array) failed at the first node reading it,
    // as 'element type data type undefined is not supported'; a max given as a string showed as a number.
    const input = importOnnx(dyn, { dims: { batch: 1 } }).graph.inputs[0]!.label!;
    for (const bad of [new Float32Array(4), [1, 2], { dtype: 1, dims: [2], data: 'ab' }]) {
      expect(() => importOnnx(dyn, { dims: { batch: 1 }, constants: { [input]: bad } } as never)).toThrow(`importOnnx: constants['${input}'] must be an ONNX tensor { dtype, dims, data } (dtype an ONNX data type number such as 1 for float, dims a list of sizes, data a typed array or numbers), got `);
    }
    expect(() => importOnnx(dyn, { dims: { batch: 1 }, constants: { [input]: { name: input, dtype: 1, dims: [2, 3], data: new Float32Array(5) } } })).toThrow(`importOnnx: constants['${input}']: dims [2, 3] hold 6 values, its data has 5`);
    expect(() => importOnnx(dyn, { dims: { batch: { max: '8' } } } as never)).toThrow('onnx: dims.batch.max must be an integer from 2 to 2^30, got "8"');
  });

  test('an unsupported op names the node, op and opset', () => {
    const bytes = readFileSync(join(import.meta.dirname, '../fixtures/onnx-node-tests/test_tensorscatter/model.onnx'));
    expect(() => importOnnx(bytes)).toThrow(UnsupportedError);
    expect(() => importOnnx(bytes)).toThrow(/node '#0' \(TensorScatter, opset \d+\): operator TensorScatter is not supported/);
  });
});
