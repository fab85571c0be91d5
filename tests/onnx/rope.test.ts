// RoPE as PyTorch 1.13 exports it (tests/fixtures/torch-extra/rope/rope.onnx, opset 17, dynamic
// batch and seq; make_rope.py): Range over Shape, Cast, Mul, Concat, Cos, Sin, Slice, Neg on run-time
// tensors, imported with { dims: { batch: 3, seq: 64 } (max) }, compiled once and checked against
// PyTorch at 1 × 1 through the bounds, compiled and in the reference. Sin/Cos of compile-time
// values fold on the host through the same definition.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { OnnxGraph } from '../../bench/onnx.ts';
import { compileGraph, readSafetensors } from '../../compiler/index.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';
import { expectTorch } from '../helpers/torch.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'torch-extra', 'rope');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'rope/io.safetensors');
const SIZES: Array<[number, number]> = JSON.parse(readFileSync(join(FIX, 'case.json'), 'utf8')).sizes;

test("PyTorch's RoPE export with dynamic batch and seq matches PyTorch at every size, compiled and in the reference", async () => {
  const { graph, model } = importOnnx(readFileSync(join(FIX, 'rope.onnx')), { dims: { batch: { max: 3 }, seq: { max: 64 } } });
  const ops = new Set(model.graph.nodes.map((n) => n.opType));
  for (const op of ['Range', 'Cos', 'Sin', 'Neg', 'Slice', 'Concat']) expect(ops.has(op), op).toBe(true);
  expect(graph.nodes.some((n) => n.op === 'sin') && graph.nodes.some((n) => n.op === 'cos')).toBe(true); // run-time, not folded
  const { bytes } = await compileGraph(graph, { name: 'rope', isas: TEST_ISAS });
  const models = await Promise.all(TEST_ISAS.map((isa) => loadModelBytes(bytes, { isa })));
  expect(SIZES.map(([b, t]) => b * t)).toContain(1);
  expect(SIZES).toContainEqual([3, 64]);
  SIZES.forEach(([batch, seq], k) => {
    const q = io.get(`size${k}.input.q`)!;
    const want = (n: string) => io.get(`size${k}.output.${n}`)!.data as Float32Array;
    const ref = interpret(graph, { q: q.data as Float32Array }, undefined, { batch, seq });
    for (const n of ['y', 'cos', 'sin']) expectTorch(ref[n] as Float32Array, want(n), `reference ${n} at ${batch}×${seq}`);
    models.forEach((m, i) => {
      const out = m.run({ q: { data: q.data as Float32Array, shape: q.shape } });
      expect(m.outputShapes.y, `${batch}×${seq}`).toEqual([batch, seq, 2, 8]);
      for (const n of ['y', 'cos', 'sin']) expectTorch(out[n] as Float32Array, want(n), `${TEST_ISAS[i]} ${n} at ${batch}×${seq}`);
    });
  });
  for (const m of models) m.dispose();
});

test('Sin and Cos of compile-time values fold (no kernel), with the reference definition', () => {
  const g = new OnnxGraph();
  g.input('x', [4]);
  const c = g.init('c', [4], Float32Array.of(-0, 1e10, 3.5, Number.NaN));
  g.name(g.op1('Add', ['x', g.op1('Sin', [g.op1('Cos', [c])])]), 'y');
  g.name(g.op1('Sin', ['x']), 's');
  g.output('y', [4]); g.output('s', [4]);
  const { graph } = importOnnx(g.finish('fold', 17));
  expect(graph.nodes.filter((n) => n.op === 'sin').length).toBe(1);   // only Sin(x)
  expect(graph.nodes.some((n) => n.op === 'cos')).toBe(false);
  const x = Float32Array.of(1, 2, -0, 4);
  const out = interpret(graph, { x });
  const f = Math.fround;
  expect(Array.from(out.y!)).toEqual([-0, 1e10, 3.5, Number.NaN].map((v, i) => f(x[i]! + f(Math.sin(f(Math.cos(v)))))));
  expect(Object.is(out.s![2], -0)).toBe(true);
});
