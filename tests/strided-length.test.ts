// Strided windows over lengths chosen at run time, against PyTorch 1.13
// (tests/fixtures/torch-extra/strided_length, made by make_strided_length.py): MaxPool1d(2),
// AvgPool1d(3, stride 2) and Conv1d(4, 6, 3, stride 2, padding 1) → ReLU → MaxPool1d(2) → mean →
// Linear over x [B, 4, T], and MaxPool2d(2) over img [N, 2, H, 10]. Their lengths are floors of
// the sizes ('floor(T/2)', ir/dims.ts); one artifact runs at odd and even lengths and the least
// ones, on 1 and 2 threads (bit-identical) and in the reference interpreter.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { compileModel, defineModel, interpret, Module, nn, readSafetensors, stateDictFrom, traceModel, type Tensor } from '../compiler/index.ts';
import { code } from '../compiler/codegen/loops.ts';
import { trace } from '../compiler/dsl/trace.ts';
import { checkSimulatedSizes } from '../compiler/fuzz/run.ts';
import { addDims, canonDim, evalDim, floorDim, growsWithSizes, leastDim, mulDims, sizeNames, windowsOf } from '../compiler/ir/dims.ts';
import { evalDim as evalRuntimeDim, namesOf } from '../runtime/dims.ts';
import { loadModelBytes } from '../runtime/model.ts';
import '../runtime/node.ts';
import { TEST_ISAS } from './helpers/isa.ts';
import { expectTorch } from './helpers/torch.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'torch-extra', 'strided_length');
const read = (f: string) => readSafetensors(readFileSync(join(FIX, f)), `strided_length/${f}`);

class StridedNet extends Module {
  pool = new nn.MaxPool1d(2);
  avg = new nn.AvgPool1d(3, { stride: 2 });
  conv = new nn.Conv1d(4, 6, 3, { stride: 2, padding: 1 });
  fc = new nn.Linear(6, 3);
  pool2d = new nn.MaxPool2d(2);
  forward(x: Tensor, img: Tensor): Record<string, Tensor> {
    const feat = this.pool.call(this.conv.call(x).relu());
    return { max: this.pool.call(x), avg: this.avg.call(x), conv: this.conv.call(x), feat, logits: this.fc.call(feat.mean(-1)), img: this.pool2d.call(img) };
  }
}

const CASES = [[2, 4, 1, 2], [1, 7, 2, 5], [2, 13, 1, 9], [1, 16, 2, 3]] as const; // B, T, N, H

test('strided pools and a strided conv over T in [4, 16] and H in [2, 9] match PyTorch at odd, even and least lengths from one artifact', async () => {
  const net = new StridedNet();
  net.loadStateDict(stateDictFrom(read('weights.safetensors')));
  const io = read('io.safetensors');
  const def = defineModel({
    name: 'strided_length', module: net,
    inputs: { x: { shape: ['B', 4, 'T'], max: { B: 2, T: 16 }, min: { T: 4 } }, img: { shape: ['N', 2, 'H', 10], max: { N: 2, H: 9 }, min: { H: 2 } } },
    forward: (m: StridedNet, i: Record<string, Tensor>) => m.forward(i.x!, i.img!),
  });
  const g = traceModel(def);
  expect(Object.fromEntries(g.outputs.map((o) => [o.name, o.node.type.dims]))).toEqual({
    max: ['B', 4, 'floor(T/2)'], avg: ['B', 4, 'floor((T+1)/2)-1'], conv: ['B', 6, 'floor((T+1)/2)'], feat: ['B', 6, 'floor((T+1)/4)'], logits: ['B', 3], img: ['N', 2, 'floor(H/2)', 5],
  });
  const { bytes, manifest } = await compileModel(def, { isas: TEST_ISAS });
  expect(manifest.entries.run).toMatchObject({ sizes: { B: 2, T: 16, N: 2, H: 9 }, min: { T: 4, H: 2 } });
  const one = await loadModelBytes(bytes), two = await loadModelBytes(bytes, { threads: 2, threadPolicy: 'always' });
  const floor = Math.floor;
  for (const [B, T, N, H] of CASES) {
    const x = io.get(`input.x_t${T}`)!, img = io.get(`input.img_t${T}`)!;
    const feeds = { x: { data: x.data as Float32Array, shape: x.shape }, img: { data: img.data as Float32Array, shape: img.shape } };
    const ref = interpret(g, feeds);
    const out = one.run(feeds), out2 = two.run(feeds);
    expect(one.outputShapes).toEqual({ max: [B, 4, floor(T / 2)], avg: [B, 4, floor((T - 3) / 2) + 1], conv: [B, 6, floor((T + 1) / 2)], feat: [B, 6, floor((T + 1) / 4)], logits: [B, 3], img: [N, 2, floor(H / 2), 5] });
    for (const name of ['max', 'avg', 'conv', 'feat', 'logits', 'img']) {
      const want = io.get(`output.${name}_t${T}`)!;
      expect(want.shape).toEqual(one.outputShapes[name]);
      expectTorch(out[name] as Float32Array, want.data as Float32Array, `compiled ${name} at T=${T}, H=${H}`);
      expectTorch(ref[name] as Float32Array, want.data as Float32Array, `reference ${name} at T=${T}, H=${H}`);
      expect(Array.from(out2[name] as Float32Array), `2 threads ${name} at T=${T}`).toEqual(Array.from(out[name] as Float32Array));
    }
  }
  one.dispose(); two.dispose();
});

test('a strided window still needs the length to fit at its least size, and names the minimum to declare', () => {
  const tr = (min: Record<string, number>) => traceModel(defineModel({
    name: 't', module: new nn.AvgPool1d(3, { stride: 2 }), inputs: { x: { shape: ['B', 4, 'T'], max: { B: 2, T: 16 }, min } },
  })).outputs[0]!.node.type.dims;
  expect(tr({ T: 3 })).toEqual(['B', 4, 'floor((T+1)/2)-1']);
  expect(() => tr({ T: 2 })).toThrow(/avg_pool1d: the window 3 spans 3 cells, so dim 2 of input \[B, 4, T\] must be at least 3 long, but 'T' is chosen at run time and may be as small as 2 \(declared minimum T ≥ 2\)/);
});

test('floor dims: one spelling for one construction, exact at every size against floor division, in the compiler, the runtime and as AssemblyScript', () => {
  // ⌊P/k⌋ = Q + ⌊R/k⌋ with R's coefficients in [0, k): R ≥ 0, so i32 truncation floors it.
  expect(windowsOf('T', 0, 0, 2, 2)).toBe('floor(T/2)');
  expect(windowsOf('T', 1, 1, 3, 2)).toBe('floor((T+1)/2)');
  expect(windowsOf('2*T', 0, 0, 3, 2)).toBe('T-1'); // a stride that divides the run-time part: a polynomial, as before
  expect(windowsOf(windowsOf('T', 0, 0, 2, 2), 0, 0, 3, 2)).toBe('floor((T+2)/4)-1'); // a nested floor folds: ⌊(⌊S/m⌋ + c)/k⌋ = ⌊(S + c·m)/(m·k)⌋
  expect(floorDim('2*B*T+4', 4)).toBe('floor((B*T)/2)+1'); // the common factor of R and k divided out
  expect(floorDim('-T', 2)).toBe('-T+floor(T/2)');
  expect(growsWithSizes('-T+floor(T/2)')).toBe(false);
  expect(canonDim('floor( (T + 1) / 2 )')).toBe('floor((T+1)/2)');
  expect(mulDims('floor(T/2)', 'B')).toBe('B*floor(T/2)');
  expect(addDims('floor(T/2)', 'floor(T/2)')).toBe('2*floor(T/2)');
  expect(sizeNames('B*floor((T+1)/4)')).toEqual(['B', 'T']);
  expect(leastDim('floor((T+1)/4)', { T: 3 })).toBe(1);
  expect(code('B*floor((T+1)/4)-B')).toBe('(size_B*((size_T+1)/4)-size_B)');
  const ref = (n: number, b: number, a: number, e: number, st: number) => Math.floor((n + b + a - e) / st) + 1;
  for (const [b, a, e, st] of [[0, 0, 2, 2], [1, 1, 3, 2], [0, 0, 3, 3], [2, 2, 5, 4], [0, 1, 4, 3]] as const) {
    const once = windowsOf('T', b, a, e, st), twice = windowsOf(once, 0, 0, 2, 2), dims = [once, twice, mulDims(twice, 'B')];
    for (const d of dims) expect(namesOf(d), String(d)).toEqual(sizeNames(d));
    for (let T = e - b - a + 2; T <= 40; T++) for (const B of [1, 3]) {
      const want = [ref(T, b, a, e, st), ref(ref(T, b, a, e, st), 0, 0, 2, 2), B * ref(ref(T, b, a, e, st), 0, 0, 2, 2)];
      dims.forEach((d, i) => {
        expect(evalDim(d, { T, B }), `${String(d)} at T=${T}`).toBe(want[i]);
        expect(evalRuntimeDim(d, { T, B }), `runtime ${String(d)} at T=${T}`).toBe(want[i]);
      });
    }
  }
  for (const bad of ['floor(T/0)', 'floor(T)', 'floor((T/2)', 'T+', 'floor(T/2']) {
    expect(namesOf(bad), bad).toBeUndefined();
    expect(() => canonDim(bad), bad).toThrow(/dims: '.*' is not/);
  }
});

test('plans made at the bounds hold the strided windows\' values dense at every actual size (memory-level simulator)', () => {
  const net = new StridedNet();
  const g = trace(((i: Record<string, Tensor>) => net.forward(i.x!, i.img!)) as never, {
    x: { shape: ['B', 4, 'T'], max: { B: 2, T: 16 }, min: { T: 4 } }, img: { shape: ['N', 2, 'H', 10], max: { N: 2, H: 9 }, min: { H: 2 } },
  });
  const seeded = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.731 + seed));
  expect(checkSimulatedSizes(g, CASES.map(([B, T, N, H]) => ({ B, T, N, H })), (s) => ({ x: seeded(s.B! * 4 * s.T!, s.T!), img: seeded(s.N! * 2 * s.H! * 10, s.H!) }))).toEqual([]);
});

test('a flatten over a strided length feeding a Linear is refused naming the run-time feature count, unless the floor is one size over [min, max]', () => {
  const tr = (max: number, min: number) => traceModel(defineModel({
    name: 't', module: new nn.Linear(16, 3), inputs: { x: { shape: ['B', 4, 'T'], max: { B: 2, T: max }, min: { T: min } } },
    forward: (m: nn.Linear, { x }: Record<string, Tensor>) => m.call(new nn.MaxPool1d(2).call(x!).flatten(1)),
  })).outputs[0]!.node.type.dims;
  expect(() => tr(16, 4)).toThrow("linear: input [B, 4*floor(T/2)] has '4*floor(T/2)' features, a count chosen at run time (32 at the bounds), but weight [3, 16] expects a fixed 16; pool the length away (a mean or max over it) or give it a fixed size in module");
  // 16 features at the bound but 8 at T = 4: the shape checker's probes refuse it.
  expect(() => tr(8, 4)).toThrow(/matmul: inner dimensions differ: \[1, 8\] \(k=8\) · \[16, 3\] \(k=16\)/);
  expect(tr(9, 8)).toEqual(['B', 3]); // floor(T/2) = 4 at T = 8 and 9, as in PyTorch
});

test('a crop to a multiple of a floor is known to fit (k·⌊R/k⌋ ≤ R, and 2·⌊T/4⌋ ≤ ⌊T/2⌋ two pools down): the reference equals the fixed-size model at T from 4 to 11; one longer is refused', () => {
  // The decoder of a two-level U-Net over any length: each skip cropped to the upsampled length.
  const fwd = (extra: number) => ({ x }: Record<string, Tensor>) => {
    const p1 = new nn.MaxPool1d(2).call(x!), p2 = new nn.MaxPool1d(2).call(p1);
    const up = (t: Tensor) => t.unsqueeze(-1).expand(t.dims[0]!, 2, t.dims[2]!, 2, t.bounds).reshape(t.dims[0]!, 2, mulDims(2, t.dims[2]!));
    const d2 = p1.slice(2, 0, addDims(mulDims(2, p2.dim(2)), extra)).add(up(p2)); // [B, 2, 2·⌊T/4⌋]
    return { y: x!.slice(2, 0, mulDims(2, p1.dim(2))).add(up(p1)), z: x!.slice(2, 0, mulDims(4, p2.dim(2))).add(up(d2)) };
  };
  const g = trace(fwd(0), { x: { shape: ['B', 2, 'T'], max: { B: 2, T: 11 }, min: { T: 4 } } });
  expect(g.outputs.map((o) => o.node.type.dims)).toEqual([['B', 2, '2*floor(T/2)'], ['B', 2, '4*floor(T/4)']]);
  for (let T = 4; T <= 11; T++) {
    const B = 1 + (T % 2), x = Float32Array.from({ length: B * 2 * T }, (_, i) => Math.sin(i * 0.7) * 3);
    const want = interpret(trace(fwd(0), { x: [B, 2, T] }), { x });
    const got = interpret(g, { x: { data: x, shape: [B, 2, T] } as never });
    for (const k of ['y', 'z']) expect(Array.from(got[k] as Float32Array), `${k} at T = ${T}`).toEqual(Array.from(want[k] as Float32Array));
  }
  expect(() => trace(fwd(1), { x: { shape: ['B', 2, 'T'], max: { B: 2, T: 11 }, min: { T: 4 } } })).toThrow(
    'slice: range 0:3:1 is invalid for axis 2 of [1, 2, 2] — with B=1, T=4, floor(T/2)=2, floor(T/4)=1 (inputs f32[B, 2, floor(T/2)]); a symbolic size must work for every value from its declared minimum (T ≥ 4, floor(T/2) ≥ 2, floor(T/4) ≥ 1) to its bound');
});
