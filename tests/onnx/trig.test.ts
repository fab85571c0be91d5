// ONNX's Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh and Atanh at run time: PyTorch 1.13's
// opset-14 export (tests/fixtures/torch-extra/trig/trig.onnx, by make_trig.py; the length of `a` its
// dynamic axis n) imported with n fixed (the reference) and kept symbolic (bound 67; compiled),
// against PyTorch's outputs at n = 67 and 10; all nine of an initializer fold at import (no kernel)
// to the reference's value; integer inputs are refused by name. One artifact.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { DT, OnnxGraph } from '../../bench/onnx.ts';
import { compileEntries, type Compiled } from '../../compiler/driver/compile.ts';
import { readSafetensors } from '../../compiler/index.ts';
import { importOnnx } from '../../compiler/onnx/import.ts';
import { interpret } from '../../compiler/reference/interpret.ts';
import type { Graph } from '../../compiler/ir/node.ts';
import { loadModelBytes } from '../../runtime/model.ts';
import { TEST_ISAS } from '../helpers/isa.ts';
import { expectTorch } from '../helpers/torch.ts';
import { TRIG_EXTRA } from '../helpers/trig.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'torch-extra', 'trig');
const io = readSafetensors(readFileSync(join(FIX, 'io.safetensors')), 'trig/io.safetensors');
const a = io.get('input.a')!.data as Float32Array;
const FNS = Object.keys(TRIG_EXTRA) as Array<keyof typeof TRIG_EXTRA>;
const OUTS = [...FNS, 'fused', 'consts'];
const ONNX_NAME = (f: string) => f[0]!.toUpperCase() + f.slice(1);

// ---- Tan … Atanh of initializers: folded ----------------------------------------------------

const C = Float32Array.of(0.5, -0.25, 0.875, -0), CH = Float32Array.of(1.5, 2, 1, 10);   // CH ≥ 1 for Acosh
function foldGraph(): Graph {
  const g = new OnnxGraph();
  g.input('x', [4]);
  const c = g.init('c', [4], C), ch = g.init('ch', [4], CH);
  for (const f of FNS) { g.name(g.op1('Mul', ['x', g.op1(ONNX_NAME(f), [f === 'acosh' ? ch : c])]), f); g.output(f, [4]); }
  return importOnnx(g.finish('fold', 14)).graph;
}

let trigModel: ReturnType<typeof importOnnx>['model'], trigFixed: Graph, trigSym: Graph, folds: Graph, compiled: Compiled;
beforeAll(async () => {
  const bytes = readFileSync(join(FIX, 'trig.onnx'));
  ({ graph: trigFixed, model: trigModel } = importOnnx(bytes, { dims: { n: a.length } }));
  trigSym = importOnnx(bytes, { dims: { n: { max: a.length } } }).graph;
  folds = foldGraph();
  compiled = await compileEntries([{ name: 'sym', graph: trigSym }, { name: 'folds', graph: folds }], [], { name: 'trig', isas: TEST_ISAS });
});

const bits = (v: ArrayLike<number>) => Array.from(v, (x) => (Number.isNaN(x) ? 'NaN' : Object.is(x, -0) ? '-0' : x));

test("PyTorch's export of tan … atanh matches PyTorch at n = 67 and 10 (n fixed in the reference, symbolic compiled and in the reference); Acosh/Atan of its buffer fold", async () => {
  // One IR node per ONNX node of each function, but Acosh and Atan of the buffer k: folded.
  for (const f of FNS) {
    const inFile = trigModel.graph.nodes.filter((n) => n.opType === ONNX_NAME(f)).length;
    expect(trigFixed.nodes.filter((n) => n.op === f).length, f).toBe(inFile - (f === 'acosh' || f === 'atan' ? 1 : 0));
  }
  const want = (k: string, n: number) => (io.get(`output.${k}`)!.data as Float32Array).subarray(0, n);
  const check = (got: Record<string, ArrayLike<number>>, n: number, what: string) => {
    for (const k of OUTS) expectTorch(Float32Array.from(got[k]!), want(k, n), `${what} ${k} at n = ${n}`, { zeroSign: k !== 'fused' && k !== 'consts' });
  };
  check(interpret(trigFixed, { a }), a.length, 'reference');
  for (const n of [a.length, 10]) check(interpret(trigSym, { a: a.slice(0, n) }, undefined, { n }), n, 'reference (symbolic)');
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(compiled.bytes, { isa });
    for (const n of [a.length, 10]) check(m.call('sym', { a: { data: a.slice(0, n), shape: [n] } }), n, `${isa} (symbolic)`);
    m.dispose();
  }
});

test('Tan … Atanh of initializers fold at import (no kernel) to the reference definition', async () => {
  for (const f of FNS) expect(folds.nodes.some((n) => n.op === f), f).toBe(false);
  const x = Float32Array.of(1, -2, 3, 4);
  const want = (f: keyof typeof TRIG_EXTRA) => Array.from(f === 'acosh' ? CH : C, (v, i) => Math.fround(x[i]! * Math.fround(TRIG_EXTRA[f](v))));
  const ref = interpret(folds, { x });
  for (const f of FNS) expect(bits(ref[f]!), f).toEqual(bits(want(f)));
  for (const isa of TEST_ISAS) {
    const m = await loadModelBytes(compiled.bytes, { isa });
    const out = m.call('folds', { x });
    for (const f of FNS) expect(bits(out[f]!), `${isa} ${f}`).toEqual(bits(want(f)));
    m.dispose();
  }
});

test('the functions of integer tensors are refused by name (ONNX allows only floats)', () => {
  for (const f of FNS) {
    const g = new OnnxGraph();
    g.input('a', [3], DT.INT64);
    g.name(g.op1(ONNX_NAME(f), ['a']), 'y'); g.output('y', [3], DT.INT64);
    expect(() => importOnnx(g.finish('bad', 14)), f).toThrow(new RegExp(`\\(${ONNX_NAME(f)}, opset 14\\): X of type int64/int32 is not supported`));
  }
});
