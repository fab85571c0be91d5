// Compiled wasm against the reference interpreter, op by op and model by model, for odd
// sizes, with all passes and with the optional ones disabled (fused equals unfused), on
// every instruction set the host runs.
import { describe, expect, test } from 'vitest';
import { F, nn, traceModel, cat, type Tensor } from '../compiler/dsl/index.ts';
import { constant } from '../compiler/dsl/tensor.ts';
import { checkGraph, traced } from './helpers/e2e.ts';

const UNFUSED = ['constant-folding', 'dce', 'cse', 'epilogue-fusion', 'elementwise-fusion', 'memory-planning'];
const both = async (g: ReturnType<typeof traced>, tol?: number) => {
  const fused = await checkGraph(g, { tol });
  const unfused = await checkGraph(g, { tol, disablePasses: UNFUSED });
  return { fused, unfused };
};

describe('MLP sizes (GEMM and GEMV paths, odd sizes)', () => {
  for (const [m, k, n] of [[1, 1, 1], [1, 3, 5], [3, 5, 17], [5, 17, 33], [17, 33, 9], [2, 64, 100], [1, 300, 129]] as const) {
    test(`Linear(${k}, ${n}) + GELU → Linear(${n}, 3), batch ${m}`, async () => {
      const mod = new nn.Sequential(new nn.Linear(k, n), new nn.GELU(), new nn.Linear(n, 3), new nn.Tanh());
      const { fused, unfused } = await both(traceModel({ name: 'mlp', module: mod, inputs: { x: [m, k] } }));
      expect(fused.graph.nodes.filter((x) => x.op === 'gemm').map((x) => x.attrs.act)).toEqual(['gelu', 'tanh']);
      expect(unfused.graph.nodes.some((x) => x.op === 'gemm')).toBe(false);
    });
  }
});

describe('CNN ops', () => {
  const cases: Array<[string, nn.Module, number[]]> = [
    ['conv 3x3 pad 1 + relu', new nn.Sequential(new nn.Conv2d(3, 5, 3, { padding: 1 }), new nn.ReLU()), [2, 3, 9, 7]],
    ['conv stride 2 pad 1', new nn.Conv2d(3, 8, 3, { stride: 2, padding: 1 }), [1, 3, 17, 17]],
    ['conv dilation 2, no bias', new nn.Conv2d(2, 3, 3, { dilation: 2, bias: false }), [1, 2, 11, 9]],
    ['conv 5x5 17 channels', new nn.Conv2d(17, 9, 5, { padding: 2 }), [1, 17, 6, 6]],
    ['grouped conv (3 groups) + relu', new nn.Sequential(new nn.Conv2d(6, 9, 3, { padding: 1, groups: 3 }), new nn.ReLU()), [2, 6, 7, 5]],
    ['depthwise conv stride 2', new nn.Conv2d(8, 8, 3, { stride: 2, padding: 1, groups: 8 }), [1, 8, 9, 9]],
    ['maxpool 3 stride 2 pad 1', new nn.MaxPool2d(3, { stride: 2, padding: 1 }), [2, 3, 9, 10]],
    ['avgpool 3 stride 2 pad 1 (count_include_pad)', new nn.AvgPool2d(3, { stride: 2, padding: 1 }), [2, 3, 9, 10]],
    ['avgpool pad, count_include_pad=false', new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }), [1, 2, 7, 7]],
    ['avgpool 2', new nn.AvgPool2d(2), [1, 4, 9, 9]],
  ];
  for (const [name, module, shape] of cases) test(name, async () => { await both(traceModel({ name, module, inputs: { x: shape } })); });
});

describe('tensor ops', () => {
  const ops: Array<[string, (i: Record<string, Tensor>) => Tensor, Record<string, number[]>]> = [
    ['broadcast chain with scalars', ({ x, y }) => x!.mul(y!).add(0.5).sigmoid().sub(x!.exp().mul(0.25)).div(y!.abs().add(1)), { x: [3, 5, 7], y: [5, 1] }],
    ['unary zoo', ({ x }) => x!.tanh().add(x!.abs().sqrt()).add(x!.neg().relu()).add(x!.erf()).add(x!.abs().add(1).log()).add(x!.abs().add(0.5).rsqrt()), { x: [2, 33] }],
    ['maximum/minimum/pow', ({ x, y }) => x!.maximum(y!).add(x!.minimum(y!)).add(x!.abs().pow(y!.abs())), { x: [4, 9], y: [4, 9] }],
    ['softmax last axis', ({ x }) => x!.softmax(-1), { x: [3, 17] }],
    ['softmax middle axis', ({ x }) => x!.softmax(1), { x: [2, 5, 3] }],
    ['logsoftmax', ({ x }) => x!.logSoftmax(-1), { x: [4, 10] }],
    ['sum/mean/max over axes', ({ x }) => x!.sum(-1).add(x!.mean(-1)).add(x!.max(-1)), { x: [3, 4, 9] }],
    ['mean over H,W (keepdim)', ({ x }) => x!.mean([2, 3], true).mul(x!), { x: [2, 3, 5, 5] }],
    ['sum over non-adjacent axes', ({ x }) => x!.sum([0, 2]), { x: [3, 4, 5] }],
    ['transpose 3d', ({ x }) => x!.permute(2, 0, 1).relu(), { x: [3, 4, 5] }],
    ['slice with step, select', ({ x }) => x!.slice(1, 1, 7, 2).add(x!.select(1, 0).unsqueeze(1)), { x: [2, 8, 3] }],
    ['concat', ({ x, y }) => cat([x!, y!, x!], 1), { x: [2, 3, 4], y: [2, 1, 4] }],
    ['batched matmul with broadcast', ({ x, y }) => x!.matmul(y!), { x: [2, 3, 5, 7], y: [3, 7, 6] }],
    ['matmul by transposed runtime operand', ({ x, y }) => x!.matmul(y!.mT).softmax(-1), { x: [4, 8], y: [6, 8] }],
    ['output is an input and a reshape', ({ x }) => x!.reshape(6, 2), { x: [3, 4] }],
  ];
  for (const [name, fn, inputs] of ops) test(name, async () => { await both(traced(fn, inputs)); });

  test('argmax, gather, where and casts', async () => {
    const g = traced(({ x, idx }) => {
      const table = constant(Float32Array.from({ length: 30 }, (_, i) => Math.sin(i)), [10, 3], 'f32', 'table');
      const rows = F.embedding(idx!, table);
      const am = x!.argmax(-1);
      const mask = constant(Uint8Array.of(1, 0, 1), [3], 'bool', 'mask');
      return { rows: F.whereOp(mask, rows, 0), am, amf: am.float(), picked: F.embedding(am, table) };
    }, { x: [4, 10], idx: { shape: [2, 5], dtype: 'i32' } });
    const { fused } = await both(g);
    expect(fused.outputs.am).toBeInstanceOf(Int32Array);
  });
});
