// nn.BatchNorm1d/2d/3d at inference against PyTorch 1.13 (tests/fixtures/torch-extra/batchnorm,
// made by make_batchnorm.py): running statistics from three training batches, affine=False,
// track_running_stats=False (the batch's statistics), NaN and ±Inf inputs; the state_dict's I64
// num_batches_tracked loads. Compiled (every test ISA) and the reference interpreter, one compile.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, F, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, writeSafetensors, type Tensor } from '../compiler/index.ts';
import { loadModelBytes } from '../runtime/model.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'batchnorm');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `batchnorm/${f}`);

class Net extends Module {
  conv = new nn.Conv2d(3, 6, 3, { padding: 1 });
  bn2 = new nn.BatchNorm2d(6, 1e-3, 0.3);
  bn1 = new nn.BatchNorm1d(5);
  bn_plain = new nn.BatchNorm1d(4, 1e-5, 0.1, { affine: false });
  bn_batch = new nn.BatchNorm2d(6, 1e-5, 0.1, { trackRunningStats: false });
  bn3 = new nn.BatchNorm3d(2, 1e-5, 0.5);
  forward(): never { throw new Error('unused'); }
}
const NAMES = ['x', 'v', 'w', 'u', 'z'] as const;

test('BatchNorm1d/2d/3d match PyTorch (running stats, affine=False, batch stats, NaN/Inf); the I64 num_batches_tracked loads', async () => {
  const net = new Net();
  const sd = stateDictFrom(read('weights.safetensors'));
  expect(sd.get('bn2.num_batches_tracked')).toMatchObject({ shape: [], dtype: 'I64' });
  net.loadStateDict(sd);
  expect(Array.from(net.bn1.running_var!.data)).toEqual(Array.from(sd.get('bn1.running_var')!.data));
  const io = read('io.safetensors');
  const input = (n: string) => io.get(`input.${n}`)!.data as Float32Array;
  const def = defineModel({
    name: 'batchnorm', module: net,
    inputs: { x: [2, 3, 6, 5], v: [4, 5], w: [3, 5, 7], u: [3, 4, 6], z: [2, 2, 3, 2, 2] },
    forward: (m: Net, i: Record<string, Tensor>) => {
      const c = m.conv.call(i.x!);
      return { cnn: m.bn2.call(c).relu(), v: m.bn1.call(i.v!), w: m.bn1.call(i.w!), u: m.bn_plain.call(i.u!), batch: m.bn_batch.call(c), z: m.bn3.call(i.z!) };
    },
  });
  const feeds = Object.fromEntries(NAMES.map((n) => [n, input(n)]));
  const ref = interpret(traceModel(def), feeds);
  const model = await loadModelBytes((await compileModel(def, { isas: TEST_ISAS })).bytes);
  const out = model.run(feeds);
  for (const name of ['cnn', 'v', 'w', 'u', 'batch', 'z']) {
    const want = io.get(`output.${name}`)!.data as Float32Array;
    expectTorch(out[name] as Float32Array, want, `compiled ${name}`);
    expectTorch(ref[name] as Float32Array, want, `reference ${name}`);
  }
  // The NaN and ±Inf of v went through as PyTorch has them: NaN stays NaN, ±Inf scale by w/σ.
  expect(out.v!.filter((x) => Number.isNaN(x)).length).toBe(1);
  model.dispose();
});

test('BatchNorm: hand-computed values, its parameters by PyTorch name, and every misuse refused clearly', () => {
  // y = (x − mean) / sqrt(var + eps) · w + b with var 4, eps 0, w 3, b 1, mean 2: x = 6 gives 7.
  const bn = new nn.BatchNorm1d(1, 0);
  expect(bn.namedParameters().map(([k]) => k)).toEqual(['weight', 'bias', 'running_mean', 'running_var']);
  expect(new nn.BatchNorm2d(3, 1e-5, 0.1, { affine: false, trackRunningStats: false }).namedParameters()).toEqual([]);
  bn.loadStateDict({ weight: { shape: [1], data: [3] }, bias: { shape: [1], data: [1] }, running_mean: { shape: [1], data: [2] }, running_var: { shape: [1], data: [4] } });
  const g = traceModel(defineModel({ name: 'bn', module: bn, inputs: { x: [3, 1] } }));
  expect(Array.from(interpret(g, { x: new Float32Array([6, 2, -2]) }).y as Float32Array)).toEqual([7, 1, -5]);
  // Batch statistics by hand: channel values 1, 3 → mean 2, variance 1 → −1, 1.
  const batch = new nn.BatchNorm1d(1, 0, 0.1, { affine: false, trackRunningStats: false });
  const gb = traceModel(defineModel({ name: 'bnb', module: batch, inputs: { x: [2, 1] } }));
  expect(Array.from(interpret(gb, { x: new Float32Array([1, 3]) }).y as Float32Array)).toEqual([-1, 1]);

  expect(() => new nn.BatchNorm2d(0)).toThrow(/BatchNorm2d: num_features must be a positive integer, got 0/);
  expect(() => new nn.BatchNorm2d(4, { affine: false } as never)).toThrow(/BatchNorm2d: eps must be a non-negative number, got \{"affine":false\} \(options go fourth/);
  expect(() => new nn.BatchNorm2d(4, 1e-5, 2)).toThrow(/BatchNorm2d: momentum must be a number in \[0, 1\] or null, got 2/);
  expect(() => new nn.BatchNorm2d(4, 1e-5, null, { affine: 'yes' as never })).toThrow(/BatchNorm2d: option affine must be true or false, got "yes"/);
  expect(() => new nn.BatchNorm1d(4, 1e-5, 0.1, { trackRunningStat: false } as never)).toThrow(/unknown option 'trackRunningStat'/);
  const tr = (m: Module, shape: number[]) => traceModel(defineModel({ name: 't', module: m, inputs: { x: shape } }));
  expect(() => tr(new nn.BatchNorm2d(4), [2, 4, 5])).toThrow(/BatchNorm2d: expected 4-D input, got \[2, 4, 5\]/);
  expect(() => tr(new nn.BatchNorm1d(4), [2, 4, 5, 5])).toThrow(/BatchNorm1d: expected 2-D or 3-D input, got \[2, 4, 5, 5\]/);
  expect(() => tr(new nn.BatchNorm2d(4), [2, 3, 5, 5])).toThrow(/BatchNorm2d: input \[2, 3, 5, 5\] has 3 channels \(dim 1\), num_features is 4/);
  expect(() => tr(new nn.BatchNorm1d(4, 1e-5, 0.1, { trackRunningStats: false }), [1, 4])).toThrow(/batch_norm: the batch's statistics need more than 1 value per channel, input \[1, 4\] has 1/);
  expect(() => traceModel(defineModel({ name: 'b', module: new nn.BatchNorm1d(4, 1e-5, 0.1, { trackRunningStats: false }), inputs: { x: { shape: ['B', 4], max: { B: 8 } } } })))
    .toThrow(/batch_norm: the batch's statistics need more than 1 value per channel, input \[B, 4\] has 1 when its run-time sizes are at their least \(a run-time size must work for every value from its min, 1 unless declared, to its bound\)/);
  const f = (fn: (x: Tensor) => Tensor) => traceModel(defineModel({ name: 'f', module: new nn.Identity(), inputs: { x: [2, 3] }, forward: (_m: Module, i: Record<string, Tensor>) => fn(i.x!) }));
  expect(() => f((x) => F.batchNorm(x, undefined, undefined))).toThrow(/batch_norm: running_mean and running_var are needed when not training/);
  expect(() => f((x) => F.batchNorm(x, x.mean(0), x.mean(0), undefined, undefined, { training: true }))).toThrow(/batch_norm: training with running statistics would update them/);
  expect(() => f((x) => F.batchNorm(x, x.mean(1), x.mean(1)))).toThrow(/batch_norm: running_mean must be f32 \[3\] for input \[2, 3\], got f32 \[2\]/);
  // Not tensors, not floats, a run-time channel count: named, never a TypeError or an integer model computed in floats.
  expect(() => f(() => F.batchNorm(null as never, undefined, undefined, undefined, undefined, { training: true }))).toThrow(/batch_norm: input must be a tensor, got null/);
  expect(() => f((x) => F.batchNorm(x, new Float32Array(3) as never, x.mean(0)))).toThrow(/batch_norm: running_mean must be a tensor, got Float32Array/);
  expect(() => f((x) => F.batchNorm(x, x.mean(0), x.mean(0), 2 as never))).toThrow(/batch_norm: weight must be a tensor, got 2/);
  expect(() => f((x) => F.batchNorm(x.cast('i32'), x.mean(0), x.mean(0)))).toThrow(/batch_norm: input must be f32, got i32\[2, 3\]/);
  expect(() => f((x) => F.batchNorm(x, x.mean(0), x.mean(0), undefined, undefined, { momentum: '0.1' as never }))).toThrow(/batch_norm: momentum must be a number in \[0, 1\], got "0.1"/);
  expect(() => f((x) => F.batchNorm(x, x.mean(0), x.mean(0), undefined, undefined, { eps: '1e-5' as never }))).toThrow(/batch_norm: eps must be a non-negative number, got "1e-5"/);
  expect(() => new nn.BatchNorm2d(4, '1e-5' as never)).toThrow(/BatchNorm2d: eps must be a non-negative number, got "1e-5"/);
  expect(() => traceModel(defineModel({ name: 't', module: new nn.BatchNorm1d(4), inputs: { x: { shape: [2, 'C', 9], max: { C: 4 } } } })))
    .toThrow(/BatchNorm1d: the channels \(dim 1\) of input \[2, C, 9\] are the run-time size C; num_features is 4/);
  expect(() => traceModel(defineModel({ name: 't', module: new nn.BatchNorm1d(4), inputs: { x: { shape: [2, 4], dtype: 'bool' } } }))).toThrow(/batch_norm: input must be f32, got bool\[2, 4\]/);

  // Loading: num_batches_tracked is optional and must be a scalar; integer data for a parameter is refused by name.
  const two = new nn.BatchNorm1d(2);
  const p = (n: number) => ({ shape: [n], data: new Float32Array(n) });
  two.loadStateDict({ weight: p(2), bias: p(2), running_mean: p(2), running_var: p(2) });
  expect(() => two.loadStateDict({ weight: p(2), bias: p(2), running_mean: p(2), running_var: p(2), num_batches_tracked: { shape: [1], data: new Int32Array(1), dtype: 'I64' } }))
    .toThrow(/mis-shaped: num_batches_tracked: expected \[\], found \[1\]/);
  expect(() => two.loadStateDict({ weight: p(2), bias: { shape: [2], data: new Int32Array(2), dtype: 'I64' }, running_mean: p(2), running_var: p(2) }))
    .toThrow(/not floats \(parameters are F32, F64, F16 or BF16\): bias is I64/);
  expect(() => new nn.BatchNorm1d(2, 1e-5, 0.1, { trackRunningStats: false }).loadStateDict({ weight: p(2), bias: p(2), num_batches_tracked: { shape: [], data: [0] } }))
    .toThrow(/unexpected: num_batches_tracked/);
  // A dtype naming integers is refused for a parameter whatever the data's array (number[] loaded as floats before);
  // a dtype that is not a string, and a key that is not, are named; a refused load leaves the parameters as they were.
  const before = Array.from(two.weight!.data);
  expect(() => two.loadStateDict({ weight: { shape: [2], data: [9, 9], dtype: 'I64' }, bias: p(2), running_mean: p(2), running_var: p(2) }))
    .toThrow(/not floats \(parameters are F32, F64, F16 or BF16\): weight is I64/);
  expect(() => two.loadStateDict({ weight: p(2), bias: p(2), running_mean: p(2), running_var: p(2), num_batches_tracked: { shape: [], data: [1], dtype: 64 as never } }))
    .toThrow(/num_batches_tracked: expected \{ shape, data: Float32Array \}, got dtype 64 \(a dtype, if given, names the file's type/);
  expect(() => two.loadStateDict(new Map<never, never>([[5 as never, p(2) as never]]))).toThrow(/a key 5: a state_dict's keys are parameter names, strings/);
  expect(Array.from(two.weight!.data)).toEqual(before);
  // A float num_batches_tracked loads (torch's copy_ casts it), as does the counter of a nested BatchNorm by its full name.
  two.loadStateDict({ weight: p(2), bias: p(2), running_mean: p(2), running_var: p(2), num_batches_tracked: { shape: [], data: new Float32Array([3]) } });
  const seq = new nn.Sequential(new nn.Linear(2, 2), new nn.BatchNorm1d(2));
  const sdSeq = Object.fromEntries(seq.namedParameters().map(([k, q]) => [k, { shape: q.shape, data: new Float32Array(q.data.length) }]));
  seq.loadStateDict({ ...sdSeq, '1.num_batches_tracked': { shape: [], data: new Int32Array(1), dtype: 'I64' } });
  expect(() => seq.loadStateDict({ ...sdSeq, '0.num_batches_tracked': { shape: [], data: new Int32Array(1), dtype: 'I64' } })).toThrow(/unexpected: 0.num_batches_tracked/);
  // Through the file format as a PyTorch state_dict has it.
  const file = writeSafetensors({ weight: { dtype: 'F32', shape: [2], data: new Float32Array(2) }, bias: { dtype: 'F32', shape: [2], data: new Float32Array(2) },
    running_mean: { dtype: 'F32', shape: [2], data: new Float32Array(2) }, running_var: { dtype: 'F32', shape: [2], data: new Float32Array([1, 1]) },
    num_batches_tracked: { dtype: 'I64', shape: [], data: new BigInt64Array([7n]) as never } });
  two.loadStateDict(stateDictFrom(readSafetensors(file)));
});
